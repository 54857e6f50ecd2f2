// Latencies go into HDR histograms (microseconds, 3 significant digits) in the
// generator processes, travel as compressed base64, and are merged here.
import * as hdr from 'hdr-histogram-js';

/** Below this many samples a p99 says little: it is not reported (SPEC of issue 7). */
export const MIN_SAMPLES_FOR_P99 = 1000;

export type Histogram = hdr.Histogram;

export function newHistogram(): Histogram {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 3 });
}

/** Records a latency given in milliseconds (clamped into the histogram's range). */
export function recordMs(h: Histogram, ms: number): void {
  h.recordValue(Math.min(3_600_000_000, Math.max(1, Math.round(ms * 1000))));
}

export const encode = (h: Histogram): string => hdr.encodeIntoCompressedBase64(h);

export function merge(encoded: Array<string | undefined>): Histogram {
  const total = newHistogram();
  for (const e of encoded) if (e) total.add(hdr.decodeFromCompressedBase64(e));
  return total;
}

export interface LatencySummary {
  samples: number;
  p50Ms: number | null;
  p95Ms?: number | null;
  p99Ms: number | null;
  maxMs: number | null;
  /** Set when p99 is left out for want of samples. */
  note?: string;
}

export function summarize(h: Histogram): LatencySummary {
  const n = h.totalCount;
  const ms = (us: number) => Math.round(us / 10) / 100;
  if (n === 0) return { samples: 0, p50Ms: null, p99Ms: null, maxMs: null, note: 'no samples' };
  const enough = n >= MIN_SAMPLES_FOR_P99;
  return {
    samples: n,
    p50Ms: ms(h.getValueAtPercentile(50)),
    p95Ms: ms(h.getValueAtPercentile(95)),
    p99Ms: enough ? ms(h.getValueAtPercentile(99)) : null,
    maxMs: ms(h.maxValue),
    ...(enough ? {} : { note: `p99 not reported: ${n} samples (< ${MIN_SAMPLES_FOR_P99})` }),
  };
}

/** Wall clock with sub-millisecond resolution, comparable across processes on one machine. */
export const nowMs = (): number => performance.timeOrigin + performance.now();
