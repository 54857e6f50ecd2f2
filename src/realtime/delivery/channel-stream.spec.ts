import { jest } from '@jest/globals';
import fc from 'fast-check';
import type { MessageDto } from '../../events/dto.js';
import { ChannelStream, type DeliveryPath } from './channel-stream.js';

const HOLD_MS = 100;
const msg = (seq: number): MessageDto => ({ id: `m${seq}`, channelId: 'c', seq, authorId: 'a', body: seq, clientMsgId: null, createdAt: '' });

/** A stream over an in-memory log of committed messages 1..committed, recording what it emits and reads. */
function harness(opts: { committed: number; page?: number; failReads?: number } = { committed: 0 }) {
  const emitted: Array<{ seq: number; path: DeliveryPath }> = [];
  const reads: Array<[number, number]> = [];
  let failures = opts.failReads ?? 0;
  let gate: Promise<void> = Promise.resolve();
  const stats = { parked: 0, failed: 0 };
  const stream = new ChannelStream({
    read: async (after, upTo) => {
      reads.push([after, upTo]);
      await gate;
      if (failures > 0) {
        failures--;
        throw new Error('connection refused');
      }
      const last = Math.min(upTo, opts.committed, after + (opts.page ?? 500));
      return Array.from({ length: Math.max(0, last - after) }, (_, i) => msg(after + 1 + i));
    },
    emit: (m, path) => emitted.push({ seq: m.seq, path }),
    // Every message counts 100 bytes against a collector's bound.
    sizeOf: () => 100,
    holdMs: HOLD_MS,
    onParked: () => stats.parked++,
    onReadFailed: () => stats.failed++,
  });
  return {
    stream,
    emitted,
    reads,
    stats,
    seqs: () => emitted.map((e) => e.seq),
    /** Reads wait until the returned function is called. */
    holdReads() {
      let open!: () => void;
      gate = new Promise((r) => (open = r));
      return () => open();
    },
  };
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('ChannelStream', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('emits each seq once, in order, whatever order and however often seqs are offered', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 60 }).chain((n) =>
          fc.tuple(
            fc.constant(n),
            fc.shuffledSubarray(
              range(1, n).flatMap((s) => [s, s, s]),
              { minLength: 3 * n, maxLength: 3 * n },
            ),
          ),
        ),
        ([n, arrivals]) => {
          const h = harness({ committed: n });
          h.stream.start(0);
          for (const seq of arrivals) h.stream.offer(msg(seq), 'live');
          expect(h.seqs()).toEqual(range(1, n));
          expect(h.reads).toEqual([]);
          h.stream.stop();
        },
      ),
    );
  });

  it('in-order offers cost nothing: no timer, nothing parked', () => {
    const h = harness({ committed: 5 });
    h.stream.start(0);
    for (const seq of range(1, 5)) h.stream.offer(msg(seq), 'live');
    expect(jest.getTimerCount()).toBe(0);
    expect(h.stats.parked).toBe(0);
    expect(h.emitted.every((e) => e.path === 'live')).toBe(true);
  });

  it('fills seqs that never arrive from the log after the hold, then releases what was parked, in order', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 2, max: 40 }).chain((n) => fc.tuple(fc.constant(n), fc.subarray(range(1, n - 1)), fc.boolean())),
        async ([n, lost, shuffle]) => {
          const h = harness({ committed: n });
          h.stream.start(0);
          const arriving = range(1, n).filter((s) => !lost.includes(s));
          if (shuffle) arriving.reverse();
          for (const seq of arriving) h.stream.offer(msg(seq), 'live');
          await jest.advanceTimersByTimeAsync(HOLD_MS);
          expect(h.seqs()).toEqual(range(1, n));
          for (const seq of lost) expect(h.emitted.find((e) => e.seq === seq)?.path).toBe('holdback');
          if (lost.length > 0) expect(h.reads.length).toBeGreaterThan(0);
          expect(jest.getTimerCount()).toBe(0);
          h.stream.stop();
        },
      ),
      { numRuns: 50 },
    );
  });

  it('waits the hold before reading, and not at all when the missing seq arrives within it', async () => {
    const h = harness({ committed: 3 });
    h.stream.start(0);
    h.stream.offer(msg(2), 'live');
    await jest.advanceTimersByTimeAsync(HOLD_MS - 1);
    expect(h.seqs()).toEqual([]);
    h.stream.offer(msg(1), 'live');
    expect(h.seqs()).toEqual([1, 2]);
    await jest.advanceTimersByTimeAsync(HOLD_MS * 5);
    expect(h.reads).toEqual([]);
    expect(h.stats.parked).toBe(1);
  });

  it('a failed read keeps the hold and retries after another hold', async () => {
    const h = harness({ committed: 2, failReads: 1 });
    h.stream.start(0);
    h.stream.offer(msg(2), 'live');
    await jest.advanceTimersByTimeAsync(HOLD_MS);
    expect(h.stats.failed).toBe(1);
    expect(h.seqs()).toEqual([]);
    await jest.advanceTimersByTimeAsync(HOLD_MS);
    expect(h.seqs()).toEqual([1, 2]);
    expect(h.reads).toEqual([
      [0, 1],
      [0, 1],
    ]);
  });

  it('one read in flight per channel, and one that returns after the stream stopped is discarded', async () => {
    const h = harness({ committed: 5 });
    h.stream.start(0);
    const open = h.holdReads();
    h.stream.offer(msg(3), 'live');
    await jest.advanceTimersByTimeAsync(HOLD_MS);
    h.stream.offer(msg(5), 'live');
    h.stream.catchUp(5);
    await jest.advanceTimersByTimeAsync(HOLD_MS * 3);
    expect(h.reads).toEqual([[0, 2]]);
    h.stream.stop();
    open();
    await jest.advanceTimersByTimeAsync(HOLD_MS * 3);
    expect(h.seqs()).toEqual([]);
    expect(h.reads).toHaveLength(1);
  });

  it('the tick catches up at once, page by page, up to the head it saw', async () => {
    const h = harness({ committed: 7, page: 3 });
    h.stream.start(0);
    h.stream.catchUp(7);
    await jest.advanceTimersByTimeAsync(0);
    expect(h.seqs()).toEqual(range(1, 7));
    expect(h.emitted.every((e) => e.path === 'reconcile')).toBe(true);
    expect(h.reads).toEqual([
      [0, 7],
      [3, 7],
      [6, 7],
    ]);
  });

  it('keeps what was offered before it started above the head read, drops the rest', () => {
    const h = harness({ committed: 6 });
    h.stream.offer(msg(4), 'live');
    h.stream.offer(msg(6), 'live');
    h.stream.offer(msg(5), 'live');
    h.stream.start(4);
    expect(h.seqs()).toEqual([5, 6]);
    expect(h.stream.head).toBe(6);
  });

  it('a collector sees exactly what is emitted while it collects, from the head it started at', () => {
    const h = harness({ committed: 4 });
    h.stream.start(1);
    h.stream.offer(msg(2), 'live');
    const c = h.stream.collect(1_000, 10);
    h.stream.offer(msg(3), 'live');
    c.stop();
    h.stream.offer(msg(4), 'live');
    expect(c.from).toBe(2);
    expect(c.items.map((m) => m.seq)).toEqual([3]);
  });

  it('a collector keeps what lies above `after`, up to its bytes and its count (at least one), then says it is full', () => {
    const h = harness({ committed: 20 });
    h.stream.start(0);
    const bytes = h.stream.collect(250, 10, 2);
    const count = h.stream.collect(10_000, 3);
    const one = h.stream.collect(50, 10);
    for (let seq = 1; seq <= 8; seq++) h.stream.offer(msg(seq), 'live');
    expect([bytes.items.map((m) => m.seq), bytes.sizes, bytes.full]).toEqual([[3, 4], [100, 100], true]);
    expect([count.items.map((m) => m.seq), count.full]).toEqual([[1, 2, 3], true]);
    expect([one.items.map((m) => m.seq), one.full]).toEqual([[1], true]);
    const roomy = h.stream.collect(10_000, 10);
    h.stream.offer(msg(9), 'live');
    expect([roomy.items.map((m) => m.seq), roomy.full]).toEqual([[9], false]);
  });

  it('an own message waits for its echo however long, then passes in order; a lost echo is filled by the next seq, and a late one is dropped', async () => {
    const h = harness({ committed: 3 });
    h.stream.start(0);
    h.stream.expectEcho(msg(1));
    h.stream.expectEcho(msg(2));
    await jest.advanceTimersByTimeAsync(HOLD_MS * 10);
    expect(h.seqs()).toEqual([]);
    expect(h.reads).toEqual([]);
    h.stream.echo(1);
    expect(h.seqs()).toEqual([1]);
    // 2's echo never comes (a lost frame): 3 arriving from the bus parks, and the hold-back reads 2.
    h.stream.offer(msg(3), 'live');
    await jest.advanceTimersByTimeAsync(HOLD_MS);
    expect(h.emitted).toEqual([
      { seq: 1, path: 'live' },
      { seq: 2, path: 'holdback' },
      { seq: 3, path: 'live' },
    ]);
    h.stream.echo(2);
    expect(h.seqs()).toEqual([1, 2, 3]);
  });

  it('reached(seq) resolves once seq is emitted, reading it if it does not come, and rejects when the stream stops', async () => {
    const h = harness({ committed: 3 });
    h.stream.start(0);
    const two = h.stream.reached(2);
    await jest.advanceTimersByTimeAsync(HOLD_MS);
    await expect(two).resolves.toBeUndefined();
    expect(h.seqs()).toEqual([1, 2]);
    const four = h.stream.reached(4);
    h.stream.stop();
    await expect(four).rejects.toThrow('stream stopped');
  });
});
