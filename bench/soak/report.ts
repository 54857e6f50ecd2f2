// The soak's results: every sample, the slopes after the warm-up, and one
// chart (Vega-Lite, rendered to SVG like bench/report) where a leak shows as a
// line that keeps rising.
import type { TopLevelSpec } from 'vega-lite';
import { renderSvg } from '../report/charts.js';
import { type ReplicaSample, slope } from './sampler.js';

export interface LagSample {
  t: number;
  samples: number;
  p50Ms: number | null;
  p99Ms: number | null;
}

export interface SoakResults {
  version: 1;
  command: string;
  startedAt: string;
  durationS: number;
  options: Record<string, unknown>;
  /** Replicas never restarted: their slopes are the verdict. */
  measured: string[];
  restarted: string;
  restarts: Array<{ t: number; signal: string }>;
  replicaSamples: ReplicaSample[];
  deliveryLag: LagSample[];
  counters: { delivered: number; reconnects: number; published: number; publishRetries: number; violations: string[] };
  /** Per measured replica, after the warm-up: least-squares slopes per minute. */
  slopes: Record<string, { heapAfterGcBytesPerMin: number | null; rssBytesPerMin: number | null; handlesPerMin: number | null; samples: number }>;
}

export function computeSlopes(samples: ReplicaSample[], measured: string[], warmupS: number): SoakResults['slopes'] {
  const out: SoakResults['slopes'] = {};
  for (const name of measured) {
    const mine = samples.filter((s) => s.replica === name && s.t >= warmupS);
    const per = (pick: (s: ReplicaSample) => number | null) => {
      const pts = mine.filter((s) => pick(s) !== null).map((s) => ({ x: s.t / 60, y: pick(s)! }));
      return slope(pts);
    };
    out[name] = {
      heapAfterGcBytesPerMin: per((s) => s.heapAfterGcBytes),
      rssBytesPerMin: per((s) => s.rssBytes),
      handlesPerMin: per((s) => s.activeHandles),
      samples: mine.filter((s) => s.heapAfterGcBytes !== null).length,
    };
  }
  return out;
}

const MB = 1024 * 1024;

/** One facet per quantity over time, a line per replica; the warm-up's end is marked. */
export function soakChart(r: SoakResults, warmupS: number): TopLevelSpec {
  const rows: Array<{ t: number; what: string; series: string; v: number }> = [];
  const push = (t: number, what: string, series: string, v: number | null) => v !== null && rows.push({ t, what, series, v });
  for (const s of r.replicaSamples) {
    push(s.t, 'heap after forced GC, MB', s.replica, s.heapAfterGcBytes === null ? null : s.heapAfterGcBytes / MB);
    push(s.t, 'RSS, MB', s.replica, s.rssBytes === null ? null : s.rssBytes / MB);
    push(s.t, 'active handles', s.replica, s.activeHandles);
    push(s.t, 'event-loop lag p99, ms', s.replica, s.eventLoopLagP99Ms);
  }
  for (const l of r.deliveryLag) {
    push(l.t, 'delivery lag (stored → received), ms', 'p50', l.p50Ms);
    push(l.t, 'delivery lag (stored → received), ms', 'p99', l.p99Ms);
  }
  const restarts = r.restarts.map((x) => ({ t: x.t, label: x.signal }));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    background: 'white',
    title: `Soak: ${(r.durationS / 60).toFixed(1)} min, restarts of ${r.restarted} (dotted), warm-up until ${warmupS} s (dashed)`,
    data: { values: rows },
    facet: { row: { field: 'what', type: 'nominal', title: null, header: { labelAngle: 0, labelAlign: 'left', labelAnchor: 'start', labelOrient: 'top' } } },
    spec: {
      width: 520,
      height: 110,
      layer: [
        {
          mark: { type: 'line', point: { size: 12 } },
          encoding: {
            x: { field: 't', type: 'quantitative', title: 'seconds since start' },
            y: { field: 'v', type: 'quantitative', title: null, scale: { zero: false } },
            color: { field: 'series', type: 'nominal', title: null },
          },
        },
        { data: { values: [{ t: warmupS }] }, mark: { type: 'rule', strokeDash: [4, 3], color: '#888' }, encoding: { x: { field: 't', type: 'quantitative' } } },
        { data: { values: restarts }, mark: { type: 'rule', strokeDash: [1, 3], color: '#c33' }, encoding: { x: { field: 't', type: 'quantitative' } } },
      ],
    },
    resolve: { scale: { y: 'independent' } },
  } as unknown as TopLevelSpec;
}

export const renderSoakChart = (r: SoakResults, warmupS: number): Promise<string> => renderSvg(soakChart(r, warmupS));
