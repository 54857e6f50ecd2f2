import type { ScenarioResult, StepResult } from '../scenarios/context.js';
import { judgeTargets } from './targets.js';

/** A fan-out ladder step as the scenario records it: 500 subscribers, `replicas`, `rate` msg/s. */
function step(side: 'hub' | 'baseline', replicas: number, rate: number, f: { perS: number; p99: number; lost?: number; lagMs?: number }): StepResult {
  return {
    name: `${side} 500 subs × ${replicas} replica(s) @ ${rate} msg/s`,
    side,
    params: { subscribers: 500, replicas, rate },
    durationS: 6,
    latency: { p50Ms: f.p99 / 3, p95Ms: f.p99 / 2, p99Ms: f.p99, samples: 100_000 } as StepResult['latency'],
    offeredPerS: rate * 500,
    delivered: f.perS * 6,
    deliveredPerS: f.perS,
    lost: f.lost ?? 0,
    dups: 0,
    ooo: 0,
    sustained: null,
    saturated: 'machine',
    cpu: { processes: [{ name: 'gen1', kind: 'generator', cpuMs: 1000, core: 0.3 }], machineBusy: 0.95 } as StepResult['cpu'],
    metrics: { generatorLagP99Ms: f.lagMs ?? 30, publishErrors: 0, publishSkipped: 0 },
    notes: [],
  };
}

const twoReplicas = (steps: StepResult[]) => {
  const fanout = { id: 'fanout', title: 'Fan-out', durationS: 0, steps, summary: {}, notes: [] } satisfies ScenarioResult;
  return judgeTargets({ fanout }).find((v) => v.id === 'fanout-2')!;
};

// The run of 2026-12-01 03:03 (bench/results/2026-12-01T03-03-17-504Z.json), two replicas on a saturated machine.
const AT_200 = [step('baseline', 2, 200, { perS: 99_250, p99: 156 }), step('hub', 2, 200, { perS: 97_850, p99: 313 })];

describe('the two-replica fan-out target', () => {
  it('reads the ratio at the next rate when both sides kept up at 200 msg/s by the ladder’s rule (nothing lost, p99 < 1 s), even if a late tail left the window under 98% of the offered load', () => {
    const v = twoReplicas([...AT_200, step('baseline', 2, 400, { perS: 160_869, p99: 2_179 }), step('hub', 2, 400, { perS: 152_625, p99: 2_392 })]);
    expect(v.pass).toBe(true);
    expect(v.measured).toContain('at 400 msg/s: hub 152625/s vs baseline 160869/s, 0.95×');
  });

  it('fails when, where the servers saturate, the hub delivers under 0.7× the baseline', () => {
    const v = twoReplicas([...AT_200, step('baseline', 2, 400, { perS: 160_000, p99: 2_000 }), step('hub', 2, 400, { perS: 100_000, p99: 3_000 })]);
    expect(v.pass).toBe(false);
  });

  it('does not judge when a generator fell behind at the rate above (event-loop lag p99 over 100 ms)', () => {
    const v = twoReplicas([...AT_200, step('baseline', 2, 400, { perS: 160_000, p99: 2_000, lagMs: 250 }), step('hub', 2, 400, { perS: 150_000, p99: 2_400 })]);
    expect(v.pass).toBeNull();
  });

  it('judges at 200 msg/s itself when the hub lost messages there (it fell behind, every generator kept up)', () => {
    const v = twoReplicas([step('baseline', 2, 200, { perS: 99_900, p99: 100 }), step('hub', 2, 200, { perS: 60_000, p99: 900, lost: 5 })]);
    expect(v.pass).toBe(false);
    expect(v.measured).toBe('hub 60000/s vs baseline 99900/s at 200 msg/s: 0.6×');
  });
});

describe('the one-replica fan-out target', () => {
  const judge = (sustain: object) => {
    const fanout = { id: 'fanout', title: 'Fan-out', durationS: 0, steps: [], summary: { '500x1': { sustain } }, notes: [] } satisfies ScenarioResult;
    return judgeTargets({ fanout }).find((v) => v.id === 'fanout-1')!;
  };
  const probes = (hub: number | null, baseline: number | null, ratio: number | null) => ({
    rule: 'rule',
    windowS: 20,
    hub: { highestSustainedRate: hub },
    baseline: { highestSustainedRate: baseline },
    capacityRatio: hub && baseline ? hub / baseline : null,
    ratioAtBaselineCapacity: ratio,
  });
  // The run of 2026-12-07 22:30: the baseline sustained 240 msg/s, the hub 220.
  it('reads the ratio at the highest rate the baseline sustained, from the recorded probes', () => {
    const v = judge(probes(220, 240, 0.985));
    expect(v.pass).toBe(true);
    expect(v.measured).toContain('at 240 msg/s');
  });
  it('fails under 0.8× there', () => expect(judge(probes(160, 240, 0.7)).pass).toBe(false));
  it('does not judge when the baseline sustained no probed rate', () => expect(judge(probes(null, null, null)).pass).toBeNull());
});
