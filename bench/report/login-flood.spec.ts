import { describe, expect, it } from '@jest/globals';
import type { FloodPhaseSummary, LoginFloodSummary } from '../scenarios/login-flood.js';
import { judgePhase } from './login-flood.js';

const phase = (f: Partial<FloodPhaseSummary> = {}): FloodPhaseSummary => ({
  mode: 'open',
  rate: 1000,
  clients: null,
  primed: { attempts: 32, statuses: { 401: 30, 429: 2 } },
  sent: 20_000,
  sentPerS: 1000,
  skipped: 0,
  statuses: { 429: 20_000 },
  refusedPerS: 1000,
  offShape: 0,
  firstOffShape: null,
  refusalP50Ms: 3,
  refusalP99Ms: 20,
  refusalMaxMs: 40,
  refusedByStore: { memory: 20_000 },
  deliveryP99Ms: 60,
  deliveryP50Ms: 8,
  deliverySamples: 20_000,
  lost: 0,
  hubCpuMsPerRefusal: 0.2,
  hubCoreShare: 0.45,
  hubLoopDelayMaxMs: 30,
  hubLoopDelayP99Ms: 12,
  generatorCoreShare: 0.2,
  otherLoad: 0,
  elapsedMs: 20_000,
  ...f,
});
const summary = (quietP99: number | null, p: FloodPhaseSummary): LoginFloodSummary => ({
  rule: '',
  subscribers: 20,
  publishRate: 50,
  quiet: { p99Ms: quietP99, p50Ms: 5, samples: 20_000, hubCoreShare: 0.2 },
  open: p,
  closed: p,
  limits: {},
});

describe('login-flood verdicts: p99_flood ≤ 5 × p99_quiet + 50 ms', () => {
  it('passes at the bound and fails just past it', () => {
    expect(judgePhase(summary(12, phase({ deliveryP99Ms: 110 })), phase({ deliveryP99Ms: 110 }))).toEqual({ boundMs: 110, pass: true, why: [] });
    expect(judgePhase(summary(12, phase()), phase({ deliveryP99Ms: 110.1 })).pass).toBe(false);
  });

  it('does not judge a flood that was not what it says: the generator short of the rate, or answers that were not refusals', () => {
    const short = judgePhase(summary(12, phase()), phase({ sentPerS: 700 }));
    expect(short.pass).toBeNull();
    expect(short.why[0]).toMatch(/^not judged: the generator sent 700 of the 1,000/);
    expect(judgePhase(summary(12, phase()), phase({ statuses: { 429: 900, 401: 100 } })).pass).toBeNull();
    expect(judgePhase(summary(null, phase()), phase()).pass).toBeNull();
  });

  it("fails a refusal outside CONTRACT §4 or a lost delivery, however fast; unanswered requests are the hub's failure, still judged", () => {
    expect(judgePhase(summary(12, phase()), phase({ offShape: 3, firstOffShape: 'no X-Request-Id' })).pass).toBe(false);
    expect(judgePhase(summary(12, phase()), phase({ lost: 1 })).pass).toBe(false);
    const slow = judgePhase(summary(12, phase()), phase({ statuses: { 429: 15_000, timeout: 5_000 }, deliveryP99Ms: 3_000 }));
    expect(slow).toEqual({ boundMs: 110, pass: false, why: ['5,000 requests never answered (timeouts, reset connections)'] });
  });
});
