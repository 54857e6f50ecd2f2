import { describe, expect, it } from '@jest/globals';
import type { ScenarioResult, StepResult } from '../scenarios/context.js';
import { scalingVerdict } from './rules/scaling.js';
import { judgeClaims, rule1, rule2, rule3, rule4, rule5, rule6, rule6Recorded, rule8, rule9, ruleCaching, scalingCpu, twoCores } from './claims.js';

describe('claim 1: per-connection state', () => {
  it('holds only when the state exists but a SIGKILLed replica cost nothing', () => expect(rule1({ heapKBPerConnection: 13.5, storm: { lost: 0, notBack: 0 } }).verdict).toBe('holds only'));
  it('holds when losing a replica lost messages', () => expect(rule1({ heapKBPerConnection: 13.5, storm: { lost: 3, notBack: 0 } }).verdict).toBe('holds'));
  it('holds on memory alone without the storm, and says so', () => {
    const j = rule1({ heapKBPerConnection: 13.5, storm: null });
    expect(j.verdict).toBe('holds');
    expect(j.condition).toMatch(/not measured/);
  });
  it('fails when an idle socket holds no heap to speak of', () => expect(rule1({ heapKBPerConnection: 0.4, storm: { lost: 0, notBack: 0 } }).verdict).toBe('fails'));
  it('is not measured without the idle scenario', () => expect(rule1({ heapKBPerConnection: null, storm: null }).verdict).toBe('not measured'));
});

describe('claim 2: who starts an exchange', () => {
  it('holds when push p99 < half the poll interval', () => expect(rule2({ pushP99Ms: 11.65, pollIntervalMs: 100 }).verdict).toBe('holds'));
  it('fails at half the poll interval or more', () => expect(rule2({ pushP99Ms: 50, pollIntervalMs: 100 }).verdict).toBe('fails'));
  it('is not measured without a p99', () => expect(rule2({ pushP99Ms: null, pollIntervalMs: 100 }).verdict).toBe('not measured'));
});

describe('claim 3: full duplex', () => {
  it('holds when a delivery arrived while the socket’s own publish was open', () => expect(rule3({ receivedWhileAwaitingAck: 1 }).verdict).toBe('holds'));
  it('fails when none did', () => expect(rule3({ receivedWhileAwaitingAck: 0 }).verdict).toBe('fails'));
  it('is not measured without the claims scenario', () => expect(rule3({ receivedWhileAwaitingAck: null }).verdict).toBe('not measured'));
});

describe('claim 4: overhead per message', () => {
  const f = { bodyBytes: 200, pushHigh: 478, pollHigh: 592, highRate: 100 };
  it('holds when polling costs more and push is within 10% of the body', () => expect(rule4({ ...f, pushLow: 215, pollLow: 40_000 }).verdict).toBe('holds'));
  it('holds only when polling costs more but push has overhead, saying how much', () => {
    const j = rule4({ ...f, pushLow: 628, pollLow: 40_226 });
    expect(j.verdict).toBe('holds only');
    expect(j.condition).toContain('3.14× the body');
    expect(j.condition).toContain('at 100 msg/s polling costs 1.24× push');
  });
  it('fails when polling costs no more than push', () => expect(rule4({ ...f, pushLow: 628, pollLow: 600 }).verdict).toBe('fails'));
  it('is not measured without the polling scenario', () => expect(rule4({ ...f, pushLow: null, pollLow: null }).verdict).toBe('not measured'));
});

describe('claim 5: connections per message', () => {
  it('holds when even keep-alive pollers open ≥ 2× push’s connections', () => expect(rule5({ keepAlive: 30, noKeepAlive: 1070, push: 12.7 }).verdict).toBe('holds'));
  it('holds only when only pollers without keep-alive do', () => expect(rule5({ keepAlive: 12.7, noKeepAlive: 1070.3, push: 12.7 }).verdict).toBe('holds only'));
  it('fails when neither does', () => expect(rule5({ keepAlive: 12.7, noKeepAlive: 20, push: 12.7 }).verdict).toBe('fails'));
  it('is not measured without the figures', () => expect(rule5({ keepAlive: null, noKeepAlive: 1070, push: 12.7 }).verdict).toBe('not measured'));
});

describe('claim 6: scales only vertically', () => {
  const narrow = { subscribed: 595, others: [7, 7] };
  const cpu = (two: number, three: number) => [
    { replicas: 1, ms: 10 },
    { replicas: 2, ms: two },
    { replicas: 3, ms: three },
  ];
  it('fails when CPU per delivery stays within ±15% and the bus reaches only subscribed replicas (horizontal)', () => expect(rule6({ cpuPer1000: cpu(11, 11.5), bus: narrow }).verdict).toBe('fails'));
  it('holds when CPU per delivery grows past 15% with N', () => {
    const j = rule6({ cpuPer1000: cpu(11.4, 11.7), bus: narrow });
    expect(j.verdict).toBe('holds');
    expect(j.condition).toContain('3 replicas +17%');
  });
  it('holds when every replica receives every message', () => expect(rule6({ cpuPer1000: cpu(10, 10), bus: { subscribed: 557, others: [553, 553] } }).verdict).toBe('holds'));
  it('is not measured when a part is absent and the other passes', () => {
    expect(rule6({ cpuPer1000: cpu(10, 10), bus: null }).verdict).toBe('not measured');
    expect(rule6({ cpuPer1000: [{ replicas: 1, ms: 10 }], bus: narrow }).verdict).toBe('not measured');
  });
  it('holds when a measured part fails though the other is absent', () => expect(rule6({ cpuPer1000: [], bus: { subscribed: 557, others: [553] } }).verdict).toBe('holds'));
});

describe('claim 6 from the verdict the scaling scenario recorded', () => {
  const check = (what: 'cpu' | 'bus', ok: boolean | null) => ({ replicas: 2, what, value: ok === null ? null : 1, limit: 'x', ok });
  it('maps horizontal to fails, not horizontal to holds, undecided to not measured', () => {
    expect(rule6Recorded(scalingVerdict([]))).toEqual(expect.objectContaining({ verdict: 'not measured' }));
    expect(rule6Recorded({ verdict: 'horizontal', rule: '', checks: [check('cpu', true), check('bus', true)] }).verdict).toBe('fails');
    expect(rule6Recorded({ verdict: 'not horizontal', rule: '', checks: [check('cpu', false), check('bus', true)] }).verdict).toBe('holds');
    expect(rule6Recorded({ verdict: 'undecided', rule: '', checks: [check('cpu', null)] }).verdict).toBe('not measured');
  });
  it('is what judgeClaims uses when the scaling summary has a verdict', () => {
    const verdict = scalingVerdict([
      { replicas: 1, hubCpuSecondsPer1000: 0.01 },
      { replicas: 2, hubCpuSecondsPer1000: 0.0105, busBytesWith: 600, busBytesWithout: 7 },
    ]);
    const scaling = { id: 'scaling', title: '', steps: [], summary: { verdict } } as unknown as ScenarioResult;
    expect(judgeClaims({ scaling }).find((c) => c.n === '6')?.verdict).toBe('fails');
  });
});

describe('claim 8: much faster', () => {
  const row = (rate: number, push: number | null, poll: number | null) => ({ rate, pushP50Ms: push, pollP50Ms: poll });
  it('holds when push p50 ≤ a fifth of the 100 ms poller’s at every rate', () => expect(rule8({ byRate: [row(1, 6, 54), row(100, 3.2, 53.9)] }).verdict).toBe('holds'));
  it('holds only at some rates, naming the others', () => {
    const j = rule8({ byRate: [row(1, 6, 54), row(100, 20, 53.9)] });
    expect(j.verdict).toBe('holds only');
    expect(j.condition).toContain('100 msg/s');
  });
  it('fails at no rate', () => expect(rule8({ byRate: [row(1, 30, 54)] }).verdict).toBe('fails'));
  it('is not measured without the polling scenario', () => expect(rule8({ byRate: [row(1, null, 54)] }).verdict).toBe('not measured'));
});

describe('claim 9: memory and buffers', () => {
  const bound = 2 * 1024 * 1024;
  it('holds only when a slow reader’s buffer stays within the bound and is cut there', () =>
    expect(rule9({ heapKBPerConnection: 13.5, buffer: { maxBufferedBytes: 2_000_000, bound, cut: true } }).verdict).toBe('holds only'));
  it('holds when the buffer grows past the bound', () => expect(rule9({ heapKBPerConnection: 13.5, buffer: { maxBufferedBytes: 3_000_000, bound, cut: true } }).verdict).toBe('holds'));
  it('holds only when a paused reader’s buffer did not grow', () => expect(rule9({ heapKBPerConnection: 13.5, buffer: { maxBufferedBytes: 0, bound, cut: false } }).verdict).toBe('holds only'));
  it('is not measured when the buffer part has no figure, though the memory part holds, and says so', () => {
    const j = rule9({ heapKBPerConnection: 13.5, buffer: null });
    expect(j.verdict).toBe('not measured');
    expect(j.condition).toMatch(/memory part holds/);
  });
  it('fails when an idle socket costs no memory', () => expect(rule9({ heapKBPerConnection: 0.2, buffer: null }).verdict).toBe('fails'));
  it('is not measured without the idle scenario', () => expect(rule9({ heapKBPerConnection: null, buffer: null }).verdict).toBe('not measured'));
});

describe('caching', () => {
  const IMMUTABLE = 'private, max-age=86400, immutable';
  it('holds when both pages are cacheable', () => expect(ruleCaching({ latest: 'private, max-age=5', below: IMMUTABLE }).verdict).toBe('holds'));
  it('holds only for the page that can no longer change', () => expect(ruleCaching({ latest: 'private, no-cache', below: IMMUTABLE }).verdict).toBe('holds only'));
  it('fails when no page is cacheable', () => expect(ruleCaching({ latest: 'private, no-cache', below: 'private, max-age=0' }).verdict).toBe('fails'));
});

/** A scaling ladder step: `hubMs` of hub CPU for `delivered` deliveries. */
function ladder(replicas: number, rate: number, hubMs: number, delivered: number, kept = true): StepResult {
  return {
    name: `${replicas} replica(s) @ ${rate}`,
    side: 'hub',
    params: { scaling: true, replicas, rate, subscribers: 1000 },
    durationS: 6,
    latency: { samples: delivered, p50Ms: 10, p99Ms: kept ? 100 : 2000, maxMs: 200 },
    offeredPerS: rate * 1000,
    delivered,
    deliveredPerS: delivered / 6,
    lost: 0,
    dups: 0,
    ooo: 0,
    sustained: null,
    saturated: 'none',
    cpu: { processes: [{ name: 'hub1', kind: 'hub', cpuMs: hubMs, core: 0.5 }], machineBusy: 0.5, otherLoad: 0, wallMs: 6000 },
    metrics: { publishErrors: 0, publishSkipped: 0 },
    notes: [],
  };
}

describe('what a small machine can show about claim 6', () => {
  it('says replicas beyond the cores time-share them and throughput against N decides nothing', () => {
    expect(twoCores(2, false, 3)).toContain('3 replicas on 2 cores time-share them');
    expect(twoCores(2, false, 3)).toContain('not evidence either way');
  });
  it('shows throughput against N when each replica had a core of its own', () => expect(twoCores(8, true, 3)).toContain('pinned'));
});

describe('the figures claim 6 reads', () => {
  it('compares replica counts at the highest rate every count kept up, the median of repeats', () => {
    const steps = [ladder(1, 40, 400, 40_000), ladder(1, 80, 800, 80_000), ladder(2, 40, 440, 40_000), ladder(2, 80, 900, 80_000, false), ladder(2, 40, 480, 40_000), ladder(2, 40, 460, 40_000)];
    const got = scalingCpu(steps);
    expect(got.rate).toBe(40);
    expect(got.rows.map((x) => [x.replicas, x.ms, x.spread.min, x.spread.max])).toEqual([
      [1, 10, 10, 10],
      [2, 11.5, 11, 12],
    ]);
  });
});

describe('judgeClaims', () => {
  it('gives every claim a rule, and labels the ones no figure decides a design argument', () => {
    const claims = judgeClaims({});
    expect(claims.map((c) => c.n)).toEqual(['1', '2', '8', '3', '4', '5', '6', '7', '9', 'caching', 'security', 'fallback']);
    for (const c of claims) expect(c.rule.length).toBeGreaterThan(10);
    expect(claims.filter((c) => c.verdict === 'design argument').map((c) => c.n)).toEqual(['7', 'security']);
    expect(claims.filter((c) => c.verdict !== 'design argument').every((c) => c.verdict === 'not measured')).toBe(true);
  });

  it('reads the slow reader’s buffer from the claims scenario when the run has it', () => {
    const claims: ScenarioResult = {
      id: 'claims',
      title: 'claims',
      durationS: 1,
      steps: [],
      summary: { slowReader: { bound: 2_097_152, maxBufferedBytes: 2_000_000, cut: true, othersP99Ms: 20, othersP99MsQuiet: 15 } },
      notes: [],
    };
    const idle: ScenarioResult = {
      id: 'idle',
      title: 'idle',
      durationS: 1,
      steps: [],
      summary: { hub: { heapKBPerConnection: 13.5, rssKBPerConnection: 15 }, baseline: { heapKBPerConnection: 11 } },
      notes: [],
    };
    const nine = judgeClaims({ claims, idle }).find((c) => c.n === '9')!;
    expect(nine.verdict).toBe('holds only');
    expect(nine.measured).toContain('largest 1.9 MB against SOCKET_BUFFER_MAX_BYTES 2.0 MB');
  });
});
