import { describe, expect, it } from '@jest/globals';
import type { ScenarioResult, StepResult } from '../scenarios/context.js';
import { equalLoad, equalLoadText, saturatedRatioText } from './headline.js';
import { spreadOf } from './spread.js';

function step(side: 'hub' | 'baseline', rate: number, p99Ms: number, cpuMs: number): StepResult {
  return {
    name: `${side} @ ${rate}`,
    side,
    params: { subscribers: 500, replicas: 1, rate },
    durationS: 10,
    latency: { samples: 1000, p50Ms: p99Ms / 2, p99Ms, maxMs: p99Ms * 2 },
    offeredPerS: rate * 500,
    delivered: 500_000,
    deliveredPerS: 50_000,
    lost: 0,
    dups: 0,
    ooo: 0,
    sustained: null,
    saturated: 'none',
    cpu: { processes: [{ name: `${side}1`, kind: side, cpuMs, core: 0.5 }], machineBusy: 0.5, otherLoad: 0, wallMs: 10_000 },
    metrics: { publishErrors: 0, published: 1000 },
    notes: [],
  };
}
const fanout = (steps: StepResult[], summary: Record<string, unknown> = {}): ScenarioResult => ({ id: 'fanout', title: 'fan-out', durationS: 1, steps, summary, notes: [] });

describe('the headline at equal load', () => {
  it('is computed from the ladder steps at 100 msg/s when the run recorded no equalLoad, each side’s own CPU per 1,000 deliveries', () => {
    const rows = equalLoad(fanout([step('hub', 100, 50, 6000), step('baseline', 100, 10, 5000), step('hub', 200, 80, 1)]));
    expect(rows).toHaveLength(1);
    expect(rows[0].hub.ownCpuMsPer1000).toBe(12);
    expect(equalLoadText(rows)).toContain('hub 25 / 50 ms against 5 / 10 ms (hub p99 5× the baseline’s)');
  });

  it('prefers the recorded equalLoad, with its spread and per-pair ratio', () => {
    const rows = equalLoad(
      fanout([], {
        '500x1': {
          subscribers: 500,
          replicas: 1,
          equalLoad: {
            rate: 100,
            subscribers: 500,
            repeats: 3,
            hub: { p50Ms: spreadOf([20, 28, 40]), p99Ms: spreadOf([40, 52, 70]) },
            baseline: { p50Ms: 5, p99Ms: 11 },
            p99Ratio: spreadOf([2.5, 4.8, 7.7]),
          },
        },
      }),
    );
    expect(equalLoadText(rows)).toContain('hub 28 (20–40, 3 runs) / 52 (40–70, 3 runs) ms against 5 / 11 ms (hub p99 4.8 (2.5–7.7, 3 runs)× the baseline’s)');
  });

  it('says nothing when neither side ran at that load', () => expect(equalLoadText(equalLoad(fanout([step('hub', 100, 50, 1)])))).toBeNull());

  it('reads the recorded saturated ratio with each side’s refused share', () => {
    const fo = fanout([], { '500x1': { subscribers: 500, replicas: 1, ratios: [], saturated: { rate: 400, ratio: spreadOf([0.86, 1.01, 1.04]), hubRefusedShare: 0.13, baselineRefusedShare: 0 } } });
    expect(saturatedRatioText(fo, 1)).toContain('1.01 (0.86–1.04, 3 runs)× the baseline’s deliveries of acknowledged messages, refusing 13% of its publishes (the baseline 0%)');
  });
});
