import { describe, expect, it } from '@jest/globals';
import { ChannelSeqTracker, PerPublisherSeq, PublisherSeqTracker } from './storm-seq.js';

describe('ChannelSeqTracker (hub: each client seq only increases)', () => {
  it('counts a live delivery below one held as out of order, a repeat as a duplicate', () => {
    const t = new ChannelSeqTracker(10);
    for (const s of [11, 13, 12, 13, 9]) t.take(s, true);
    expect({ ooo: t.ooo, dups: t.dups, contiguous: t.contiguous, maxSeen: t.maxSeen }).toEqual({ ooo: 1, dups: 2, contiguous: 13, maxSeen: 13 });
  });

  it('does not count history paged in to fill a gap as out of order', () => {
    const t = new ChannelSeqTracker(0);
    for (const s of [1, 4, 5]) t.take(s, true);
    expect(t.missingUpTo(6)).toBe(3);
    for (const s of [2, 3]) t.take(s, false);
    expect({ ooo: t.ooo, dups: t.dups, contiguous: t.contiguous, missing: t.missingUpTo(6) }).toEqual({ ooo: 0, dups: 0, contiguous: 5, missing: 1 });
  });
});

describe('PublisherSeqTracker (baseline: one publisher’s send order)', () => {
  it('counts duplicates, out of order and what was never received', () => {
    const t = new PublisherSeqTracker();
    for (const n of [0, 1, 3, 2, 3, 5]) t.take(n);
    expect({ ooo: t.ooo, dups: t.dups, contiguous: t.contiguous, maxSeen: t.maxSeen, gapless: t.gapless }).toEqual({ ooo: 1, dups: 1, contiguous: 3, maxSeen: 5, gapless: false });
    expect(t.missing([0, 1, 2, 3, 4, 5, 6])).toBe(2);
  });
});

describe('PerPublisherSeq (order per (client, publisher))', () => {
  it('interleaved publishers are not out of order; each one’s own reversal is', () => {
    const c = new PerPublisherSeq();
    // a and b each in order, interleaved: a naive single index would see 5 > 0 and count b's 0, 1 as out of order.
    for (const [p, n] of [
      ['a', 5],
      ['b', 0],
      ['a', 6],
      ['b', 1],
    ] as const)
      c.take(p, n, 0);
    expect({ ooo: c.ooo, dups: c.dups }).toEqual({ ooo: 0, dups: 0 });
    c.take('b', 0, 0);
    c.take('a', 4, 0);
    expect({ ooo: c.ooo, dups: c.dups }).toEqual({ ooo: 1, dups: 1 });
  });

  it('catches up at the first delivery after coming back with no gap, never while a gap stays', () => {
    const c = new PerPublisherSeq();
    c.take('a', 0, 1);
    c.back(10);
    c.take('a', 2, 11);
    expect(c.caughtUpAt).toBeUndefined();
    c.take('a', 1, 12);
    expect(c.caughtUpAt).toBe(12);
    expect(c.missing('a', [0, 1, 2, 3])).toBe(1);
    expect(c.missing('z', [0, 1])).toBe(2);
  });
});
