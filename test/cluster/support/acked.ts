import type { PublishedRecord } from './publisher.js';
import type { Subscriber } from './subscriber.js';

/**
 * What the fault tests promise about acknowledged messages, as one value to
 * compare with toEqual: each acknowledged message stored once under the seq
 * and id it was acknowledged with, history exactly 1..N, and every subscriber
 * (which resumes with sinceSeq after any reconnect) holding exactly that
 * history once, in order, with no protocol violation.
 */
export function ackedOutcome(acked: PublishedRecord[], stored: Array<{ seq: number; id: string }>, subs: Subscriber[]) {
  const byId = new Map(stored.map((m) => [m.id, m.seq]));
  return {
    ackedNotStoredAsAcked: acked.filter((a) => byId.get(a.id) !== a.seq).map((a) => a.seq),
    ackedSeqsRepeated: acked.length - new Set(acked.map((a) => a.seq)).size,
    historyIsOneToN: stored.every((m, k) => m.seq === k + 1),
    subscribers: subs.map((s, k) => ({
      k,
      violations: s.violations,
      sameAsHistory: JSON.stringify(s.received.map((m) => m.id)) === JSON.stringify(stored.map((m) => m.id)),
    })),
  };
}

export function expectedOutcome(subs: Subscriber[]) {
  return {
    ackedNotStoredAsAcked: [],
    ackedSeqsRepeated: 0,
    historyIsOneToN: true,
    subscribers: subs.map((_, k) => ({ k, violations: [], sameAsHistory: true })),
  };
}

/** p50 and max of a list of numbers (ms), for the figures the tests print. */
export function spread(xs: number[]): { n: number; p50: number; max: number } {
  const s = [...xs].sort((a, b) => a - b);
  return { n: s.length, p50: s.length ? s[Math.floor(s.length / 2)] : NaN, max: s.length ? s[s.length - 1] : NaN };
}
