import { jest } from '@jest/globals';
import pg from 'pg';
import { api, connect, emitAck, registerUser, type ClientSocket } from '../support/client.js';
import { clusterForFile } from './support/cluster.js';

jest.setTimeout(180_000);

const SOCKETS = 200;
const MESSAGES = 300;
/** ~16 KiB bodies: the whole backlog is about 4.7 MiB. */
const BODY_CHARS = 16_000;
const ACK_MAX = 262_144; // SUBSCRIBE_ACK_MAX_BYTES, the default
/**
 * The replica's heap bound: V8's old space capped here, so a replica that
 * needed more would abort (out of memory) rather than merely grow. Without the
 * byte bound the same storm (one 4.7 MiB ack per socket) killed a replica
 * capped at 128 MiB; an uncapped one peaked near 580 MiB.
 */
const HEAP_MB = 128;

// The subscribe ack is bounded in bytes (CONTRACT §1): a reconnect storm behind
// a backlog of large bodies is answered page by page, each ack within the bound.
describe('a reconnect storm behind a backlog of large bodies', () => {
  const ctx = clusterForFile(1, { NODE_OPTIONS: `--max-old-space-size=${HEAP_MB}` });

  it(`${SOCKETS} sockets resubscribe from 0 behind ${MESSAGES} bodies of 16 KiB: each gets every message once, in order, in acks of at most ${ACK_MAX} bytes of messages, and the replica's heap stays within ${HEAP_MB} MiB`, async () => {
    const [r1] = ctx.cluster.replicas;
    const call = api(r1.url);
    const alice = await registerUser(call, 'storm');
    const channelId = (await call('POST', '/api/channels', { name: `storm${Date.now()}` }, alice.token)).body.id as string;
    const db = new pg.Client({ connectionString: ctx.cluster.db.url });
    await db.connect();
    await db.query(
      `INSERT INTO messages (id, channel_id, seq, author_id, body)
       SELECT gen_random_uuid(), $1, g, $2, to_jsonb(g || repeat('x', $3)) FROM generate_series(1, $4) g`,
      [channelId, alice.id, BODY_CHARS, MESSAGES],
    );
    await db.query('UPDATE channels SET last_seq = $2 WHERE id = $1', [channelId, MESSAGES]);
    await db.end();

    const sockets: ClientSocket[] = [];
    for (let i = 0; i < SOCKETS; i++) sockets.push(await connect(r1.url, alice.token));

    const oversized: number[] = [];
    let unavailable = 0;
    let acks = 0;
    const catchUp = async (s: ClientSocket): Promise<number[]> => {
      const seqs: number[] = [];
      for (let since = 0; ;) {
        const ack = await emitAck(s, 'channel:subscribe', { channelId, sinceSeq: since });
        // The client library's rule: a storm may find the pool full; ask again a second later.
        if (!ack.ok && ack.error.code === 'UNAVAILABLE') {
          unavailable++;
          await new Promise((r) => setTimeout(r, 1_000));
          continue;
        }
        if (!ack.ok) throw new Error(JSON.stringify(ack.error));
        acks++;
        // Bodies are ASCII strings: their JSON is their length plus quotes; the rest of a message is under 320 bytes.
        const bytes = ack.missed.reduce((n: number, m: { body: string }) => n + m.body.length + 2 + 320, 0);
        if (bytes > ACK_MAX) oversized.push(bytes);
        seqs.push(...ack.missed.map((m: { seq: number }) => m.seq));
        if (!ack.hasMore) return seqs;
        since = ack.head;
      }
    };
    const started = Date.now();
    const results = await Promise.all(sockets.map(catchUp)).catch((e: Error) => e);
    const tookMs = Date.now() - started;
    // A replica that ran out of heap drops every socket: say that rather than "socket has been disconnected".
    expect(r1.alive).toBe(true);
    expect(r1.log).not.toMatch(/heap out of memory/i);
    if (results instanceof Error) throw results;
    sockets.forEach((s) => s.close());

    const expected = Array.from({ length: MESSAGES }, (_, i) => i + 1);
    const wrong = results.filter((seqs) => JSON.stringify(seqs) !== JSON.stringify(expected)).length;
    console.log(`storm: ${SOCKETS} sockets caught up in ${tookMs} ms with ${acks} acks (${unavailable} UNAVAILABLE retried)`);
    expect(wrong).toBe(0);
    expect(oversized).toEqual([]);
  });
});
