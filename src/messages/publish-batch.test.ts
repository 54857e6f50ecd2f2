import pg from 'pg';
import { createTestDatabase, type TestDatabase } from '../../test/support/database.js';
import { AppError } from '../common/errors.js';
import { type Published, commitBatch } from './publish-batch.js';

// Medium tier: group commit against a real Postgres (fsync on).
describe('commitBatch (group commit of one channel)', () => {
  let db: TestDatabase;
  let pool: pg.Pool;
  const alice = { id: '', username: 'alice' };
  const bob = { id: '', username: 'bob' };

  beforeAll(async () => {
    db = await createTestDatabase();
    pool = new pg.Pool({ connectionString: db.url, max: 8 });
    for (const u of [alice, bob]) {
      u.id = (await pool.query<{ id: string }>(`INSERT INTO users (id, username, password_hash) VALUES (gen_random_uuid(), $1, 'x') RETURNING id`, [u.username])).rows[0].id;
    }
  });
  afterAll(async () => {
    await pool.end();
    await db.drop();
  });

  const channel = async (visibility: 'public' | 'private' = 'public') => {
    const { id } = (
      await pool.query<{ id: string }>(`INSERT INTO channels (id, name, visibility, owner_id) VALUES (gen_random_uuid(), $1, $2, $3) RETURNING id`, [
        `c${Math.random().toString(36).slice(2, 10)}`,
        visibility,
        alice.id,
      ])
    ).rows[0];
    await pool.query(`INSERT INTO memberships (channel_id, user_id, role) VALUES ($1, $2, 'owner')`, [id, alice.id]);
    return id;
  };
  const lastSeq = async (id: string) => Number((await pool.query('SELECT last_seq FROM channels WHERE id = $1', [id])).rows[0].last_seq);
  const code = (o: Published | Error) => (o instanceof AppError ? o.code : o instanceof Error ? o.message : o.created ? `created ${o.message.seq}` : `replay ${o.message.seq}`);

  it('decides each publish on its own in one transaction: new, replayed (stored or earlier in the batch), conflicting, refused', async () => {
    const ch = await channel('private');
    const [first] = await commitBatch(pool, ch, [{ input: { body: { a: 1 }, clientMsgId: 'k1' }, user: alice }]);
    expect(code(first)).toBe('created 1');
    const out = await commitBatch(pool, ch, [
      { input: { body: 'plain' }, user: alice },
      { input: { body: { a: 1 }, clientMsgId: 'k1' }, user: alice }, // replay of the stored seq 1
      { input: { body: 'x', clientMsgId: 'k2' }, user: alice },
      { input: { body: 'x', clientMsgId: 'k2' }, user: alice }, // replay of the one above
      { input: { body: 'y', clientMsgId: 'k2' }, user: alice }, // same id, other body
      { input: { body: 'not a member' }, user: bob },
      { input: { body: null }, user: alice },
    ]);
    expect(out.map(code)).toEqual(['created 2', 'replay 1', 'created 3', 'replay 3', 'CONFLICT', 'NOT_FOUND', 'created 4']);
    expect(await lastSeq(ch)).toBe(4);
    const stored = (await pool.query('SELECT seq::int, body, client_msg_id FROM messages WHERE channel_id = $1 ORDER BY seq', [ch])).rows;
    expect(stored).toEqual([
      { seq: 1, body: { a: 1 }, client_msg_id: 'k1' },
      { seq: 2, body: 'plain', client_msg_id: null },
      { seq: 3, body: 'x', client_msg_id: 'k2' },
      { seq: 4, body: null, client_msg_id: null },
    ]);
    expect((out[0] as Published).message).toEqual({ id: expect.any(String), channelId: ch, seq: 2, authorId: alice.id, body: 'plain', clientMsgId: null, createdAt: expect.any(String) });
  });

  it('a later request replaying a stored falsy body (null, with false, 0 and "" as controls) is a replay, not a conflict', async () => {
    const ch = await channel();
    const bodies = [null, false, 0, ''];
    const first = await commitBatch(
      pool,
      ch,
      bodies.map((body, i) => ({ input: { body, clientMsgId: `falsy${i}` }, user: alice })),
    );
    expect(first.map(code)).toEqual(['created 1', 'created 2', 'created 3', 'created 4']);
    // Each in a batch of its own, as a client retrying the request would.
    const again = await Promise.all(bodies.map((body, i) => commitBatch(pool, ch, [{ input: { body, clientMsgId: `falsy${i}` }, user: alice }])));
    expect(again.flat().map(code)).toEqual(['replay 1', 'replay 2', 'replay 3', 'replay 4']);
    expect(again.flat().map((o) => (o as Published).message.body)).toEqual(bodies);
    expect(await lastSeq(ch)).toBe(4);
  });

  it('a channel that does not exist refuses the whole batch, storing nothing', async () => {
    const out = await commitBatch(pool, '00000000-0000-4000-8000-000000000000', [
      { input: { body: 1 }, user: alice },
      { input: { body: 2 }, user: bob },
    ]);
    expect(out.map(code)).toEqual(['NOT_FOUND', 'NOT_FOUND']);
  });

  it('batches from two pools (two replicas) racing on one channel: seqs gap-free, and no reader ever sees a seq before a lower one', async () => {
    const ch = await channel();
    const other = new pg.Pool({ connectionString: db.url, max: 8 });
    let stop = false;
    const holes: string[] = [];
    // Every snapshot a reader takes must hold 1..max with nothing missing.
    const reader = (async () => {
      while (!stop) {
        const { rows } = await pool.query<{ n: string; max: string | null }>('SELECT count(*) AS n, max(seq) AS max FROM messages WHERE channel_id = $1', [ch]);
        if (Number(rows[0].n) !== Number(rows[0].max ?? 0)) holes.push(`${rows[0].n} rows, max ${rows[0].max}`);
      }
    })();
    const write = (p: pg.Pool, who: typeof alice, tag: string) =>
      Promise.all(
        Array.from({ length: 20 }, (_, b) =>
          commitBatch(
            p,
            ch,
            Array.from({ length: 1 + (b % 7) }, (_, i) => ({ input: { body: `${tag}${b}.${i}`, clientMsgId: `${tag}${b}.${i}` }, user: who })),
          ),
        ),
      );
    const results = (await Promise.all([write(pool, alice, 'a'), write(other, bob, 'b')])).flat(2);
    stop = true;
    await reader;
    await other.end();
    const seqs = results.map((o) => (o as Published).message.seq).sort((a, b) => a - b);
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
    expect(await lastSeq(ch)).toBe(seqs.length);
    expect(holes).toEqual([]);
  });
});
