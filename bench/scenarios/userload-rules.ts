// The rules the "users would ask next" scenarios and their report sections
// apply to measured figures: each ratio says whether it counts and why, each
// ladder says where it stopped and why. Pure functions (userload-rules.spec.ts).
import { type CountedSpread, countedSpread } from '../stats.js';
import type { StepResult } from './context.js';
import { keptUp } from './delivery.js';

/** Above this event-loop delay p99 (ms) a generator process counts as falling behind itself (as fanout.ts's GENERATOR_LAG_MS). */
export const GEN_LAG_MS = 100;
/** A process at or above this share of a core counts as saturated (context.ts's SATURATED_CORE). */
export const GEN_CORE = 0.85;
/** The connection-rate bound: a handshake (connect + subscribe) p99 above it ends the ladder. */
export const HANDSHAKE_BOUND_MS = 1000;
/** Open loop: more than this share of connects started over 100 ms late means the generator, not the server, set the pace. */
export const LATE_START_SHARE = 0.01;

export const ratio = (a: number | null | undefined, b: number | null | undefined, digits = 2): number | null =>
  a == null || b == null || b === 0 ? null : Math.round((a / b) * 10 ** digits) / 10 ** digits;

export interface RatioCall {
  ratio: number | null;
  counts: boolean;
  why: string;
}

/** Why the generators, not the servers, may have set the pace of a step (null: they did not). */
export function generatorBound(s: StepResult): string | null {
  const gens = s.cpu.processes.filter((p) => p.kind === 'generator');
  const busiest = gens.length ? Math.max(...gens.map((p) => p.core)) : 0;
  const lag = Number(s.metrics.generatorLagP99Ms ?? 0);
  if (busiest >= GEN_CORE) return `a generator of the ${s.side} side used ${Math.round(busiest * 100)}% of a core`;
  if (lag > GEN_LAG_MS) return `a generator of the ${s.side} side lagged (event-loop p99 ${lag} ms > ${GEN_LAG_MS} ms)`;
  return null;
}

/**
 * Latency and CPU per delivery compare only at equal work: the hub/baseline
 * ratio counts when both sides delivered the offered load (nothing lost, p99
 * < 1 s, no publish refused or skipped) and no generator set the pace.
 */
export function equalLoadRatio(hub: StepResult, base: StepResult, value: (s: StepResult) => number | null | undefined): RatioCall {
  const r = ratio(value(hub), value(base));
  const gen = generatorBound(hub) ?? generatorBound(base);
  if (gen) return { ratio: r, counts: false, why: `not at equal load: ${gen}` };
  const behind = [hub, base].filter((s) => !keptUp(s)).map((s) => s.side);
  if (behind.length) return { ratio: r, counts: false, why: `not at equal load: the ${behind.join(' and ')} fell behind` };
  if (r === null) return { ratio: r, counts: false, why: 'a figure is missing (a p99 needs 1,000 samples)' };
  return { ratio: r, counts: true, why: 'both delivered the offered load; no generator saturated' };
}

/** The rule equalLoadRatio applies, printed beside each ratio it yields. */
export const EQUAL_LOAD_RULE =
  'hub ÷ baseline at the same step; counts only when both sides delivered the offered load (nothing lost, p99 < 1 s, no publish refused or skipped) and no generator process used ≥ 85% of a core or lagged > 100 ms';

export interface SideBySide {
  key: string;
  p99: RatioCall;
  p50: RatioCall;
  /** Each server's own CPU (hub replicas or baseline servers, not Redis or Postgres) per 1,000 deliveries. */
  cpuPer1000: RatioCall;
}

/** Hub ÷ baseline of the paired steps' latency, own CPU per 1,000 deliveries and deliveries/s, each judged by EQUAL_LOAD_RULE. */
export function sideBySide(steps: StepResult[], key: (s: StepResult) => string): SideBySide[] {
  return pairs(steps, key).map(({ key: k, hub, base }) => ({
    key: k,
    p99: equalLoadRatio(hub, base, (s) => s.latency?.p99Ms),
    p50: equalLoadRatio(hub, base, (s) => s.latency?.p50Ms),
    cpuPer1000: equalLoadRatio(hub, base, (s) => s.metrics.sideCpuMsPer1000Deliveries as number | null),
  }));
}

export const CAPACITY_RULE =
  'hub ÷ baseline of a closed-loop step (a fixed number of requests in flight, as fast as answered); counts when neither side refused a publish and no generator process used ≥ 85% of a core or lagged > 100 ms';

/** Closed-loop capacity (publishes/s, ack latency): CAPACITY_RULE. */
export function capacityRatio(hub: StepResult, base: StepResult, value: (s: StepResult) => number | null | undefined): RatioCall {
  const r = ratio(value(hub), value(base));
  const gen = generatorBound(hub) ?? generatorBound(base);
  if (gen) return { ratio: r, counts: false, why: `generator-bound: ${gen}` };
  const refused = [hub, base].filter((s) => Number(s.metrics.publishErrors ?? 0) > 0).map((s) => s.side);
  if (refused.length) return { ratio: r, counts: false, why: `the ${refused.join(' and ')} refused publishes` };
  if (r === null) return { ratio: r, counts: false, why: 'a figure is missing' };
  return { ratio: r, counts: true, why: 'no publish refused; no generator saturated' };
}

export const LADDER_RULE =
  'highest offered rate at which the side kept up (nothing lost, p99 < 1 s, no publish refused or skipped); exhausted = it kept up at every rate tried, so its limit lies above the ladder';

/** A side's highest kept-up rate of a rate ladder (its steps in rate order), by LADDER_RULE. */
export function ladderTop(steps: StepResult[], side: 'hub' | 'baseline'): { rate: number | null; exhausted: boolean; endedBy: string } {
  let rate: number | null = null;
  const mine = steps.filter((s) => s.side === side).sort((a, b) => Number(a.params.rate) - Number(b.params.rate));
  for (const s of mine) {
    if (!keptUp(s)) {
      const why =
        (s.lost ?? 0) > 0
          ? `${s.lost} deliveries lost`
          : Number(s.metrics.publishErrors) || Number(s.metrics.publishSkipped)
            ? 'publishes refused or skipped'
            : `p99 ${s.latency?.p99Ms ?? s.latency?.p50Ms} ms ≥ 1 s`;
      return { rate, exhausted: false, endedBy: `${String(s.params.rate)} msg/s: ${why}` };
    }
    rate = Number(s.params.rate);
  }
  return { rate, exhausted: mine.length > 0, endedBy: mine.length ? 'kept up at every rate tried' : 'no step' };
}

/** Hub and baseline steps paired by `key` (steps of one side without a partner are left out). */
export function pairs(steps: StepResult[], key: (s: StepResult) => string): Array<{ key: string; hub: StepResult; base: StepResult }> {
  const out: Array<{ key: string; hub: StepResult; base: StepResult }> = [];
  for (const h of steps.filter((s) => s.side === 'hub')) {
    const k = key(h);
    const b = steps.find((s) => s.side === 'baseline' && key(s) === k);
    if (b) out.push({ key: k, hub: h, base: b });
  }
  return out;
}

export interface HandshakeStep {
  rate: number;
  connects: number;
  failed: number;
  samples: number;
  p99Ms: number | null;
  maxMs: number | null;
  lateStarts: number;
  generatorLagP99Ms: number;
  generatorMaxCore: number;
}

export type HandshakeCall = { kept: boolean; judged: boolean; why: string };

/**
 * A connection-rate step is kept when every connect + subscribe succeeded and
 * the handshake p99 (the max below 1,000 samples: never lower than the p99) is
 * at most 1 s. A generator that started over 1% of its connects late, lagged
 * or saturated a core means the step judged the generator: not judged, and the
 * ladder stops there (a higher offered rate would not be offered either).
 */
export function handshakeCall(s: HandshakeStep): HandshakeCall {
  if (s.lateStarts > LATE_START_SHARE * s.connects) return { kept: false, judged: false, why: `generator-bound: ${s.lateStarts} of ${s.connects} connects started > 100 ms late` };
  if (s.generatorLagP99Ms > GEN_LAG_MS) return { kept: false, judged: false, why: `generator-bound: event-loop p99 ${s.generatorLagP99Ms} ms` };
  if (s.generatorMaxCore >= GEN_CORE) return { kept: false, judged: false, why: `generator-bound: ${Math.round(s.generatorMaxCore * 100)}% of a core` };
  if (s.failed > 0) return { kept: false, judged: true, why: `${s.failed} of ${s.connects} handshakes failed` };
  const tail = s.samples >= 1000 ? s.p99Ms : s.maxMs;
  const what = s.samples >= 1000 ? 'p99' : `max (${s.samples} samples < 1,000)`;
  if (tail === null) return { kept: false, judged: false, why: 'no handshake completed' };
  if (tail > HANDSHAKE_BOUND_MS) return { kept: false, judged: true, why: `${what} ${tail} ms > ${HANDSHAKE_BOUND_MS} ms` };
  return { kept: true, judged: true, why: `${what} ${tail} ms ≤ ${HANDSHAKE_BOUND_MS} ms` };
}

/** What handshakeCall and highestKept apply, printed beside their answer. */
export const HANDSHAKE_RULE =
  'a rate is kept when every connect + subscribe succeeded and the handshake p99 (timed from each scheduled start; the max below 1,000 samples) is ≤ 1 s; the answer is the highest rate kept before the first that was not; a step where a generator started > 1% of its connects over 100 ms late, lagged > 100 ms or used ≥ 85% of a core judged the generator: it ends the ladder unjudged';

/** The ladder's answer: the highest rate kept before the first step that was not, and what ended it. */
export function highestKept(steps: HandshakeStep[]): { rate: number | null; endedBy: string } {
  let best: number | null = null;
  for (const s of [...steps].sort((a, b) => a.rate - b.rate)) {
    const c = handshakeCall(s);
    if (!c.kept) return { rate: best, endedBy: `${s.rate}/s: ${c.why}` };
    best = s.rate;
  }
  return { rate: best, endedBy: 'every rate tried was kept: the limit is above the ladder' };
}

/** min / median / max / n (bench/stats.ts). */
export type Spread = CountedSpread;
export const spread = countedSpread;

export interface PresenceFigures {
  clients: number;
  total: number;
  mean: number;
  p50: number;
  p99: number;
  max: number;
  /** mean ÷ (clients − 1): 0.5 when every join is announced to every member already there. */
  shareOfRoom: number;
}

/** From each client's count of presence events (ascending or not). */
export function presenceFigures(perClient: number[]): PresenceFigures | null {
  if (!perClient.length) return null;
  const s = [...perClient].sort((a, b) => a - b);
  const at = (p: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
  const total = s.reduce((a, b) => a + b, 0);
  const mean = total / s.length;
  return {
    clients: s.length,
    total,
    mean: Math.round(mean * 10) / 10,
    p50: at(50),
    p99: at(99),
    max: s[s.length - 1],
    shareOfRoom: s.length > 1 ? Math.round((mean / (s.length - 1)) * 1000) / 1000 : 0,
  };
}

/** KB per connection of a memory figure read before and after `n` connections. */
export const perConnectionKB = (before: number, after: number, n: number) => (n > 0 ? Math.round(((after - before) / n / 1024) * 100) / 100 : null);

/** How many of `n` subscribers, client k on channel k mod C, each channel gets. */
export function receiversPerChannel(n: number, channels: number): number[] {
  return Array.from({ length: channels }, (_, c) => Math.floor(n / channels) + (c < n % channels ? 1 : 0));
}

/** Message n goes to channelIds[n mod C] (the publisher's rule): lost = what its channel's subscribers lack of it. */
export function lostOf(ackedNs: number[], counts: number[], receivers: number[]): number {
  let lost = 0;
  for (const n of ackedNs) lost += Math.max(0, receivers[n % receivers.length] - (counts[n] ?? 0));
  return lost;
}
