import fc from 'fast-check';
import type { MessageDto } from '../src/events/dto.js';
import { ChannelFeed } from './feed.js';

const msg = (seq: number): MessageDto => ({ id: `m${seq}`, channelId: 'c', seq, authorId: 'a', body: seq, clientMsgId: null, createdAt: '' });
const range = (from: number, to: number) => Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);
const settle = () => new Promise((r) => setImmediate(r));

describe('ChannelFeed (client-side ordering, defensive)', () => {
  it('hands the app each seq once, in order, whatever arrives twice, early or not at all (filled from history)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 20 }).chain((since) =>
          fc.integer({ min: since + 1, max: since + 40 }).chain((last) =>
            fc.tuple(
              fc.constant(since),
              fc.constant(last),
              fc.shuffledSubarray(
                range(since - 3, last)
                  .filter((s) => s > 0)
                  .flatMap((s) => [s, s]),
              ),
            ),
          ),
        ),
        async ([since, last, arrivals]) => {
          const delivered: number[] = [];
          const feed = new ChannelFeed({ deliver: (m) => delivered.push(m.seq), fill: async (after) => range(after + 1, Math.min(after + 7, last)).map(msg) }, since);
          for (const seq of [...arrivals, last]) feed.accept(msg(seq));
          for (let i = 0; i < 20 && feed.highest !== last; i++) await settle();
          expect(delivered).toEqual(range(since + 1, last));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('a live-only subscription starts after the ack’s head', () => {
    const delivered: number[] = [];
    const feed = new ChannelFeed({ deliver: (m) => delivered.push(m.seq), fill: async () => [] });
    feed.startAt(7);
    feed.accept(msg(7));
    feed.accept(msg(8));
    expect(delivered).toEqual([8]);
    expect(feed.duplicates).toBe(1);
  });
});
