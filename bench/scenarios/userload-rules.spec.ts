import type { StepResult } from './context.js';
import { capacityRatio, equalLoadRatio, type HandshakeStep, handshakeCall, highestKept, ladderTop, lostOf, presenceFigures, receiversPerChannel, spread } from './userload-rules.js';

function step(side: 'hub' | 'baseline', rate: number, f: { p99: number; lost?: number; errors?: number; genCore?: number; lagMs?: number; cpuPer1000?: number }): StepResult {
  return {
    name: `${side} @ ${rate}`,
    side,
    params: { rate },
    durationS: 6,
    latency: { p50Ms: f.p99 / 3, p95Ms: f.p99 / 2, p99Ms: f.p99, samples: 10_000 } as StepResult['latency'],
    offeredPerS: rate * 10,
    delivered: rate * 60,
    deliveredPerS: rate * 10,
    lost: f.lost ?? 0,
    dups: 0,
    ooo: 0,
    sustained: null,
    saturated: 'none',
    cpu: { processes: [{ name: 'gen1', kind: 'generator', cpuMs: 1000, core: f.genCore ?? 0.3 }], machineBusy: 0.5 } as StepResult['cpu'],
    metrics: { generatorLagP99Ms: f.lagMs ?? 20, publishErrors: f.errors ?? 0, publishSkipped: 0, sideCpuMsPer1000Deliveries: f.cpuPer1000 ?? 100 },
    notes: [],
  };
}

const hs = (rate: number, f: Partial<HandshakeStep> = {}): HandshakeStep => ({
  rate,
  connects: rate * 5,
  failed: 0,
  samples: 5000,
  p99Ms: 100,
  maxMs: 200,
  lateStarts: 0,
  generatorLagP99Ms: 10,
  generatorMaxCore: 0.3,
  ...f,
});

describe('per-channel delivery accounting', () => {
  it('splits n subscribers over C channels as client k on channel k mod C', () => {
    expect(receiversPerChannel(10_000, 1000)).toEqual(Array(1000).fill(10));
    expect(receiversPerChannel(7, 3)).toEqual([3, 2, 2]);
  });

  it('counts as lost what the subscribers of each message’s own channel lack, never what other channels have extra', () => {
    const receivers = [3, 2, 2];
    // n = 0..5 on channels 0,1,2,0,1,2; message 4 reached one of channel 1's two, message 3 two too many (duplicates are not negative loss).
    const counts = [3, 2, 2, 5, 1, 2];
    expect(lostOf([0, 1, 2, 3, 4, 5], counts, receivers)).toBe(1);
    // An acked message nobody got: all its channel's subscribers.
    expect(lostOf([6], counts, receivers)).toBe(3);
    // Unacked messages are not counted.
    expect(lostOf([], counts, receivers)).toBe(0);
  });
});

describe('the connection-rate crossing', () => {
  it('is the highest rate kept before the first step whose handshake p99 passed 1 s', () => {
    const r = highestKept([hs(200), hs(400, { p99Ms: 800 }), hs(700, { p99Ms: 1400 }), hs(1000, { p99Ms: 300 })]);
    expect(r.rate).toBe(400);
    expect(r.endedBy).toBe('700/s: p99 1400 ms > 1000 ms');
  });

  it('reads the max below 1,000 samples (never lower than the p99)', () => {
    expect(handshakeCall(hs(100, { samples: 500, p99Ms: 900, maxMs: 1200 }))).toEqual({ kept: false, judged: true, why: 'max (500 samples < 1,000) 1200 ms > 1000 ms' });
  });

  it('does not judge the server where the generator set the pace', () => {
    const late = handshakeCall(hs(2200, { connects: 11_000, lateStarts: 200, p99Ms: 2000 }));
    expect(late).toMatchObject({ kept: false, judged: false });
    expect(late.why).toContain('generator-bound');
    expect(handshakeCall(hs(2200, { generatorMaxCore: 0.9 })).judged).toBe(false);
  });

  it('ends the ladder at a failed handshake, and says when every rate was kept', () => {
    expect(highestKept([hs(200), hs(400, { failed: 3 })])).toEqual({ rate: 200, endedBy: '400/s: 3 of 2000 handshakes failed' });
    expect(highestKept([hs(200), hs(400)]).endedBy).toContain('above the ladder');
  });
});

describe('hub ÷ baseline at equal load', () => {
  it('counts only when both sides delivered the offered load and no generator saturated', () => {
    expect(equalLoadRatio(step('hub', 100, { p99: 50 }), step('baseline', 100, { p99: 10 }), (s) => s.latency?.p99Ms)).toEqual({
      ratio: 5,
      counts: true,
      why: 'both delivered the offered load; no generator saturated',
    });
    const lost = equalLoadRatio(step('hub', 100, { p99: 50, lost: 4 }), step('baseline', 100, { p99: 10 }), (s) => s.latency?.p99Ms);
    expect(lost.counts).toBe(false);
    expect(lost.why).toBe('not at equal load: the hub fell behind');
    expect(equalLoadRatio(step('hub', 100, { p99: 50 }), step('baseline', 100, { p99: 10, lagMs: 300 }), (s) => s.latency?.p99Ms).counts).toBe(false);
  });

  it('capacity ratios do not count where a side refused publishes', () => {
    expect(capacityRatio(step('hub', 0, { p99: 100 }), step('baseline', 0, { p99: 50 }), (s) => s.latency?.p99Ms)).toMatchObject({ ratio: 2, counts: true });
    expect(capacityRatio(step('hub', 0, { p99: 100, errors: 1 }), step('baseline', 0, { p99: 50 }), (s) => s.latency?.p99Ms).counts).toBe(false);
  });

  it('a ladder top is the last kept rate, exhausted only when every rate was kept', () => {
    const steps = [step('hub', 100, { p99: 50 }), step('hub', 300, { p99: 1200 }), step('baseline', 100, { p99: 5 }), step('baseline', 300, { p99: 9 })];
    expect(ladderTop(steps, 'hub')).toEqual({ rate: 100, exhausted: false, endedBy: '300 msg/s: p99 1200 ms ≥ 1 s' });
    expect(ladderTop(steps, 'baseline')).toEqual({ rate: 300, exhausted: true, endedBy: 'kept up at every rate tried' });
  });
});

describe('spread and presence figures', () => {
  it('min / median / max', () => {
    expect(spread([3, 1, 2, 10])).toEqual({ n: 4, min: 1, median: 2.5, max: 10 });
    expect(spread([])).toBeNull();
  });

  it('share of the room is 0.5 when each join is announced to every member already there', () => {
    // 4 clients joining one after another: the k-th hears the 3 − k joins after its own.
    expect(presenceFigures([3, 2, 1, 0])).toMatchObject({ clients: 4, total: 6, mean: 1.5, shareOfRoom: 0.5, max: 3 });
  });
});
