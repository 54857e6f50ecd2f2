import { jest } from '@jest/globals';
import pg from 'pg';
import { api, metricValue, registerUser } from '../support/client.js';
import { type Cluster, publishThroughDoomedReplica, startCluster } from './support/cluster.js';
import { publishMany, storedMessages } from './support/publisher.js';
import { Subscriber } from './support/subscriber.js';

jest.setTimeout(180_000);

// The tick is pushed past the end of every test: what arrives, arrives live or
// through the hold-back, and nothing repairs an out-of-order or repeated seq.
const ENV = { RECONCILE_MS: '60000' };

describe('each connection gets each message exactly once, in seq order, with no gap (server-side ordering)', () => {
  let cluster: Cluster;
  const subscribers: Subscriber[] = [];
  beforeAll(async () => {
    cluster = await startCluster(3, ENV);
  });
  afterAll(async () => {
    subscribers.forEach((s) => s.close());
    await cluster.stop();
  });

  const urls = () => cluster.replicas.filter((r) => r.alive).map((r) => r.url);
  const newChannel = async () => {
    const user = await registerUser(api(urls()[0]), 'order');
    const channelId = (await api(urls()[0])('POST', '/api/channels', { name: `order-${Date.now()}-${Math.random().toString(36).slice(2, 6)}` }, user.token)).body.id;
    return { user, channelId };
  };
  /** A subscriber starting on replica `i`, falling back to the others. */
  const subscriber = (i: number, token: string, channelId: string) => {
    const s = new Subscriber(() => [...urls().slice(i % urls().length), ...urls().slice(0, i % urls().length)], token, channelId);
    subscribers.push(s);
    return s;
  };
  const expectExactlyOnceInOrder = (subs: Subscriber[], stored: any[]) => {
    for (const [k, s] of subs.entries()) {
      expect({ k, violations: s.violations }).toEqual({ k, violations: [] });
      expect({ k, seqs: s.received.map((m) => m.seq) }).toEqual({ k, seqs: stored.map((m) => m.seq) });
      expect(s.received.map((m) => m.id)).toEqual(stored.map((m) => m.id));
    }
  };

  it('publishers on every replica at once, subscribers on every replica dropping and resubscribing: per connection, missed then live with no gap, no repeat', async () => {
    const { user, channelId } = await newChannel();
    const subs: Subscriber[] = [];
    for (let i = 0; i < 9; i++) {
      const s = subscriber(i, user.token, channelId);
      await s.start();
      subs.push(s);
    }
    const TOTAL = 450;
    await publishMany({
      urls,
      token: user.token,
      channelId,
      count: TOTAL,
      concurrency: 6,
      prefix: 'a',
      onAcked: (n) => {
        // Every 50 messages one subscriber drops its connection and resubscribes from what it holds.
        if (n % 50 === 0) subs[(n / 50) % subs.length].socket?.disconnect();
      },
    });
    const stored = await storedMessages(urls()[0], user.token, channelId);
    expect(stored.map((m) => m.seq)).toEqual(Array.from({ length: TOTAL }, (_, i) => i + 1));
    await Promise.all(subs.map((s) => s.waitFor(TOTAL, 30_000)));
    expectExactlyOnceInOrder(subs, stored);
    expect(subs.reduce((n, s) => n + s.reconnects, 0)).toBeGreaterThanOrEqual(8);
    // Each connection's live part continued from its ack's head.
    expect(subs.flatMap((s) => s.connections).filter((c) => c.live > 0).length).toBeGreaterThan(9);
  });

  it('subscribing during a burst, from far enough back for hasMore: no live message before the ack, no gap at the seam', async () => {
    const { user, channelId } = await newChannel();
    // 1,200 messages already stored (written straight to Postgres, as a busy channel's history).
    const db = new pg.Client({ connectionString: cluster.db.url });
    await db.connect();
    await db.query(
      `WITH c AS (UPDATE channels SET last_seq = last_seq + $2 WHERE id = $1 RETURNING last_seq)
       INSERT INTO messages (id, channel_id, seq, author_id, body)
       SELECT gen_random_uuid(), $1, c.last_seq - $2 + g, $3, to_jsonb(g) FROM c, generate_series(1, $2) g`,
      [channelId, 1_200, user.id],
    );
    await db.end();
    const subs: Subscriber[] = [];
    const joining: Array<Promise<void>> = [];
    await publishMany({
      urls,
      token: user.token,
      channelId,
      count: 300,
      concurrency: 6,
      prefix: 'b',
      onAcked: (n) => {
        // Six subscribers join mid-burst, one per 40 messages, each from seq 0: three pages, then live.
        if (n % 40 === 0 && subs.length < 6) {
          const s = subscriber(subs.length, user.token, channelId);
          subs.push(s);
          joining.push(s.start());
        }
      },
    });
    await Promise.all(joining);
    const stored = await storedMessages(urls()[0], user.token, channelId);
    expect(stored).toHaveLength(1_500);
    await Promise.all(subs.map((s) => s.waitFor(1_500, 30_000)));
    expect(subs).toHaveLength(6);
    expectExactlyOnceInOrder(subs, stored);
    // Each joined with a page boundary (hasMore) and then attached mid-burst.
    for (const s of subs) expect(s.connections[0].sinceSeq).toBeGreaterThanOrEqual(1_000);
    expect(subs.filter((s) => s.connections[0].head < 1_500).length).toBeGreaterThan(0);
  });

  it('a publisher that dies after storing while a later seq is parked: the hold-back reads it from Postgres and delivers both in order', async () => {
    const [r1, r2] = cluster.replicas;
    const { user, channelId } = await newChannel();
    const watchers = [subscriber(0, user.token, channelId), subscriber(1, user.token, channelId)];
    for (const w of watchers) await w.start();
    const ok = await api(r2.url)('POST', `/api/channels/${channelId}/messages`, { body: 'first' }, user.token);
    expect(ok.status).toBe(201);
    await Promise.all(watchers.map((w) => w.waitFor(1, 10_000)));
    const holdbacksBefore = await metricValue(r1.url, 'crosswire_delivery_holdbacks_total');
    const filledBefore = await metricValue(r1.url, 'crosswire_messages_delivered_total', { path: 'holdback' });

    await publishThroughDoomedReplica(cluster, user.token, channelId, 'orphan');
    // Seq 3 goes out live from r2 and reaches r1 before seq 2 ever does: parked, then filled.
    expect((await api(r2.url)('POST', `/api/channels/${channelId}/messages`, { body: 'third' }, user.token)).status).toBe(201);

    await Promise.all(watchers.map((w) => w.waitFor(3, 10_000)));
    for (const w of watchers) {
      expect(w.violations).toEqual([]);
      expect(w.received.map((m) => [m.seq, m.body])).toEqual([
        [1, 'first'],
        [2, 'orphan'],
        [3, 'third'],
      ]);
      expect(w.reconnects).toBe(0);
    }
    expect(await metricValue(r1.url, 'crosswire_delivery_holdbacks_total')).toBeGreaterThan(holdbacksBefore);
    expect(await metricValue(r1.url, 'crosswire_messages_delivered_total', { path: 'holdback' })).toBeGreaterThan(filledBefore);
  });
});
