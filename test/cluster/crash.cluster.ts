import { jest } from '@jest/globals';
import { api, registerUser } from '../support/client.js';
import { type Cluster, FAST_ENV, publishThroughDoomedReplica, startCluster } from './support/cluster.js';
import { Subscriber } from './support/subscriber.js';

jest.setTimeout(120_000);

describe('replica crashes keep the delivery promise', () => {
  let cluster: Cluster;
  const subscribers: Subscriber[] = [];
  beforeAll(async () => {
    cluster = await startCluster(3);
  });
  afterAll(async () => {
    subscribers.forEach((s) => s.close());
    await cluster.stop();
  });

  const liveUrls = () => cluster.replicas.filter((r) => r.alive).map((r) => r.url);

  it('SIGKILL a replica in the middle of a 500-message stream: every subscriber on every replica ends with every stored message once, in seq order', async () => {
    const [r1, r2, r3] = cluster.replicas;
    const user = await registerUser(api(r1.url), 'crash');
    const channelId = (await api(r1.url)('POST', '/api/channels', { name: `crash-${Date.now()}` }, user.token)).body.id;
    for (const r of [r1, r2, r3]) {
      for (let i = 0; i < 2; i++) {
        // Each starts on its own replica, then falls back to whichever is alive.
        const s = new Subscriber(() => [r.url, ...liveUrls()].filter((u, k, all) => all.indexOf(u) === k && (u !== r.url || r.alive)), user.token, channelId);
        subscribers.push(s);
        await s.start();
      }
    }

    const TOTAL = 500;
    let next = 0;
    let sent = 0;
    const publishOne = async (i: number) => {
      for (let attempt = 0; ; attempt++) {
        const urls = liveUrls();
        const url = urls[(i + attempt) % urls.length];
        try {
          const res = await api(url)('POST', `/api/channels/${channelId}/messages`, { body: { i }, clientMsgId: `m${i}` }, user.token);
          if (res.status === 201 || res.status === 200) return;
        } catch {
          /* the replica died under the request: retry elsewhere with the same clientMsgId */
        }
        if (attempt > 20) throw new Error(`message ${i} could not be published`);
      }
    };
    const worker = async () => {
      while (next < TOTAL) {
        const i = next++;
        await publishOne(i);
        if (++sent === 150) await r2.kill('SIGKILL');
      }
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
    expect(r2.alive).toBe(false);

    const lastSeq = (await api(r1.url)('GET', `/api/channels/${channelId}`, undefined, user.token)).body.lastSeq;
    expect(lastSeq).toBe(TOTAL);
    await Promise.all(subscribers.map((s) => s.waitFor(lastSeq, 20_000)));
    const stored = [];
    for (let after = 0; after < lastSeq; after += 500) {
      stored.push(...(await api(r1.url)('GET', `/api/channels/${channelId}/messages?afterSeq=${after}&limit=500`, undefined, user.token)).body.items);
    }
    for (const s of subscribers) {
      // As received, per connection checked against its ack: no gap, no repeat, nothing early.
      expect(s.violations).toEqual([]);
      expect(s.received.map((m) => m.seq)).toEqual(stored.map((m: any) => m.seq));
      expect(s.received.map((m) => m.id)).toEqual(stored.map((m: any) => m.id));
    }
    // The subscribers that sat on r2 moved elsewhere.
    const moved = subscribers.filter((s) => s.replicas[0] === 'r2');
    expect(moved).toHaveLength(2);
    for (const s of moved) expect(s.replicas.length).toBeGreaterThan(1);
  });

  it('a replica that exits right after storing, before publishing: the message still reaches everyone within RECONCILE_MS', async () => {
    const [r1, , r3] = cluster.replicas;
    const user = await registerUser(api(r1.url), 'fault');
    const channelId = (await api(r1.url)('POST', '/api/channels', { name: `fault-${Date.now()}` }, user.token)).body.id;
    const watchers = [new Subscriber(() => [r1.url], user.token, channelId), new Subscriber(() => [r3.url], user.token, channelId)];
    for (const w of watchers) {
      subscribers.push(w);
      await w.start();
    }
    await publishThroughDoomedReplica(cluster, user.token, channelId, 'orphan');
    const diedAt = Date.now();

    await Promise.all(watchers.map((w) => w.waitFor(1, Number(FAST_ENV.RECONCILE_MS) * 3)));
    const tookMs = Date.now() - diedAt;
    expect(tookMs).toBeLessThanOrEqual(Number(FAST_ENV.RECONCILE_MS) + 1_000);
    for (const w of watchers) expect({ violations: w.violations, bodies: w.received.map((m) => m.body) }).toEqual({ violations: [], bodies: ['orphan'] });
    expect(watchers.every((w) => w.reconnects === 0)).toBe(true);
  });
});
