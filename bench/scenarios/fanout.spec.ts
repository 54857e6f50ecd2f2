import { describe, expect, it } from '@jest/globals';
import type { StepResult } from './context.js';
import { deliveredOfAcked, firstReceipts } from './delivery.js';
import { deliveredRatio, hubStages, ladderLimits, probeRates } from './fanout.js';

/** A step with only what the functions read. */
const stepAt = (rate: number, ok: boolean, metrics: StepResult['metrics'] = {}): StepResult =>
  ({
    params: { rate },
    lost: ok ? 0 : 5,
    latency: { p50Ms: 5, p99Ms: ok ? 20 : 1500 },
    metrics: { publishErrors: 0, publishSkipped: 0, ...metrics },
  }) as unknown as StepResult;

describe('deliveredRatio', () => {
  it('compares deliveries of acknowledged messages, late ones included, not what arrived inside the window', () => {
    expect(deliveredRatio(stepAt(400, false, { deliveredOfAcked: 870 }), stepAt(400, true, { deliveredOfAcked: 1000 }))).toBe(0.87);
    expect(deliveredRatio(stepAt(400, false, { deliveredOfAcked: 870 }), stepAt(400, true, { deliveredOfAcked: 0 }))).toBeNull();
  });
});

describe('deliveredOfAcked', () => {
  it('counts, per acknowledged message, the subscribers that got it, at most all of them; unacknowledged ones do not count', () => {
    // Message 0: all 3; message 1: 2 of 3; message 2: not acknowledged (refused), its stray deliveries not counted; message 3: a duplicate count capped.
    expect(deliveredOfAcked([3, 2, 3, 4], [0, 1, 3], 3)).toBe(8);
  });
});

describe('firstReceipts', () => {
  it('takes the earliest receipt of each message over the subscriber jobs, -1 where none got it', () => {
    expect(
      firstReceipts([
        [5, -1, 9],
        [3, -1, 12, 7],
      ]),
    ).toEqual([3, -1, 9, 7]);
  });
});

describe('ladderLimits and probeRates', () => {
  it('the highest kept-up rate below the first failed one, whatever order the steps ran in', () => {
    expect(ladderLimits([stepAt(200, true), stepAt(50, true), stepAt(300, false), stepAt(100, true)])).toEqual({ highestKeptUp: 200, firstFailed: 300 });
    expect(ladderLimits([stepAt(50, false)])).toEqual({ highestKeptUp: null, firstFailed: 50 });
    expect(ladderLimits([stepAt(50, true)])).toEqual({ highestKeptUp: 50, firstFailed: null });
  });

  it('probes from the highest kept-up rate in +10% steps, never at or above the rate that already failed', () => {
    expect(probeRates(200, 300, [0, 0.1, 0.2])).toEqual([200, 220, 240]);
    expect(probeRates(200, 230, [0, 0.1, 0.2])).toEqual([200, 220]);
    expect(probeRates(200, null, [0])).toEqual([200]);
  });
});

describe('hubStages', () => {
  const text = (count: number, sum: number, le5: number, lagCount: number, lagSum: number) =>
    [
      `crosswire_publish_duration_seconds_bucket{le="0.005"} ${le5}`,
      `crosswire_publish_duration_seconds_bucket{le="0.01"} ${count}`,
      `crosswire_publish_duration_seconds_bucket{le="+Inf"} ${count}`,
      `crosswire_publish_duration_seconds_sum ${sum}`,
      `crosswire_publish_duration_seconds_count ${count}`,
      `crosswire_delivery_lag_seconds_bucket{path="live",le="0.025"} ${lagCount}`,
      `crosswire_delivery_lag_seconds_bucket{path="live",le="+Inf"} ${lagCount}`,
      `crosswire_delivery_lag_seconds_sum{path="live"} ${lagSum}`,
      `crosswire_delivery_lag_seconds_count{path="live"} ${lagCount}`,
    ].join('\n');

  it('reads what the step added to the hub’s histograms: means, and the p99 the buckets support', () => {
    const before = text(100, 0.5, 100, 10, 0.1);
    const after = text(200, 1.3, 150, 30, 0.5);
    expect(hubStages(before, after)).toEqual({ hubStoreMeanMs: 8, hubStoreP99Bound: '≤ 10 ms', hubStoredToEmitMeanMs: 20, hubStoredToEmitP99Bound: '≤ 25 ms' });
  });

  it('is empty when a replica did not answer', () => {
    expect(hubStages(null, text(1, 1, 1, 1, 1)).hubStoreMeanMs).toBeNull();
  });
});
