import { describe, expect, it } from '@jest/globals';
import type { ScenarioResult, StepResult } from '../scenarios/context.js';
import { equalLoad, equalLoadText, saturatedRatioText, userComparisonsText } from './headline.js';
import type { Results } from './results.js';
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

describe('the sentence on the comparisons users ask next', () => {
  const sc = (id: string, summary: Record<string, unknown>): ScenarioResult => ({ id, title: id, durationS: 1, steps: [], summary, notes: [] });
  const row = (variant: string, perRoomBus: boolean | null, share: number | null, p99: number) => ({
    variant,
    rate: 50,
    subscribers: 500,
    perRoomBus,
    idleToMemberBusShare: share,
    p99Ms: spreadOf([p99]),
  });
  const results = (scenarios: Record<string, ScenarioResult>) => ({ scenarios }) as unknown as Results;

  it('quotes each part straight from its summary', () => {
    const text = userComparisonsText(
      results({
        variants: sc('variants', { rows: [row('hub', true, 0.01, 30), row('classic', false, 1, 12), row('sharded', true, 0.02, 14), row('streams', false, 0.98, 15)] }),
        storm: sc('storm', { lost: 0, baselines: { classic: { lost: 120 }, streams: { lost: 3 } } }),
        'connect-rate': sc('connect-rate', { hubHighestKept: { rate: 400 }, baselineHighestKept: { rate: 2200 } }),
        'idle-15k': sc('idle-15k', { connections: 15000, heapRatio: 1.19 }),
        'big-room': sc('big-room', { subscribers: 5000, hub: { allSubscribedS: 558.6, connected: 4395 }, baseline: { allSubscribedS: 12.8 } }),
      }),
    );
    expect(text).toBe(
      'Next to socket.io: socket.io’s own scale options at equal load (50 msg/s to 500): per-room bus for hub and sharded, not for classic and streams (idle ÷ member server bus bytes: hub 0.01, classic 1, sharded 0.02, streams 0.98; p99 ms: hub 30, classic 12, sharded 14, streams 15); messages lost when a replica is SIGKILLed: hub 0, classic 120, streams 3; connects + subscribes kept with a handshake p99 ≤ 1 s: hub 400/s, baseline 2,200/s; heap per idle socket at 15,000 on one server: hub 1.19× the baseline’s; 5,000 subscribers in one room: all subscribed in 558.6 s on the hub (4,395 of 5,000 connected) against 12.8 s on the baseline.',
    );
  });

  it('leaves out the parts the run lacks, and is null with none', () => {
    expect(
      userComparisonsText(
        results({
          'connect-rate': sc('connect-rate', { hubHighestKept: { rate: null }, baselineHighestKept: { rate: 25 } }),
          'idle-15k': sc('idle-15k', { heapRatio: null }),
          storm: sc('storm', { lost: 0 }),
        }),
      ),
    ).toBe('Next to socket.io: connects + subscribes kept with a handshake p99 ≤ 1 s: hub none, baseline 25/s.');
    expect(userComparisonsText(results({ fanout: fanout([]) }))).toBeNull();
  });
});
