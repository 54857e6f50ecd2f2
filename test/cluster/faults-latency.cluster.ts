import { jest } from '@jest/globals';
import { CountingProxy } from '../../bench/proxy.js';
import { api, registerUser } from '../support/client.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { freePort } from '../support/free-port.js';
import { ackedOutcome, expectedOutcome, spread } from './support/acked.js';
import { type Cluster, RedisProcess, type Replica, startCluster } from './support/cluster.js';
import { type PublishedRecord, publishMany, storedMessages } from './support/publisher.js';
import { Subscriber } from './support/subscriber.js';

jest.setTimeout(150_000);

const LATENCY_MS = 200;
const PHASE = 30; // publishes acknowledged per phase: before, with, and after the latency

/**
 * Every replica reaches Redis and Postgres through a TCP proxy that can hold
 * each reply back (bench/proxy.ts), so 200 ms is added to every round trip
 * to both, on connections already open, then taken away again.
 */
describe('200 ms added to every round trip to Redis and to Postgres (3 replicas)', () => {
  let cluster: Cluster;
  let db: TestDatabase;
  let redis: RedisProcess;
  let redisProxy: CountingProxy;
  let pgProxy: CountingProxy;
  const subs: Subscriber[] = [];

  beforeAll(async () => {
    redis = new RedisProcess(await freePort());
    await redis.start();
    redisProxy = await new CountingProxy('redis', redis.port).start();
    db = await createTestDatabase();
    const target = new URL(db.url);
    pgProxy = await new CountingProxy('postgres', Number(target.port)).start();
    const viaProxy = new URL(db.url);
    viaProxy.port = String(pgProxy.port);
    // startCluster's own Redis stays unused: REDIS_URL points the replicas at the proxy.
    cluster = await startCluster(3, { REDIS_URL: `redis://127.0.0.1:${redisProxy.port}` }, { databaseUrl: viaProxy.toString() });
  });
  afterAll(async () => {
    subs.forEach((s) => s.close());
    await cluster?.stop();
    await redisProxy?.stop();
    await pgProxy?.stop();
    await redis?.stop();
    await db?.drop();
  });

  it('publishes stay 201 at the first attempt and slow by the added round trips, /readyz is never 503, and every acknowledged message reaches every subscriber once, in order', async () => {
    const replicas: Replica[] = cluster.replicas;
    const call = api(replicas[0].url);
    const writer = await registerUser(call, 'lat_w');
    const reader = await registerUser(call, 'lat_r');
    const channelId = (await call('POST', '/api/channels', { name: `latency-${Date.now()}` }, writer.token)).body.id;
    for (const [i, r] of replicas.entries()) {
      const s = new Subscriber(() => [...replicas.slice(i), ...replicas.slice(0, i)].map((x) => x.url), reader.token, channelId);
      await s.start();
      expect(s.replicas).toEqual([r.id]);
      subs.push(s);
    }

    const acked: PublishedRecord[] = [];
    const readiness: Array<{ status: number; state: string; checks: unknown }> = [];
    let onAt = 0;
    let offAt = 0;
    let sampling = false;
    let sampler: Promise<void> | undefined;
    await publishMany({
      urls: () => replicas.map((r) => r.url),
      token: writer.token,
      channelId,
      count: 3 * PHASE,
      concurrency: 3,
      everyMs: 50,
      prefix: 'lat',
      onPublished: (p) => acked.push(p),
      onAcked: (n) => {
        if (n === PHASE) {
          redisProxy.delayMs = pgProxy.delayMs = LATENCY_MS;
          onAt = Date.now();
          sampling = true;
          sampler = (async () => {
            while (sampling) {
              for (const r of replicas) {
                const res = await fetch(`${r.url}/readyz`, { signal: AbortSignal.timeout(5_000) });
                const body: any = await res.json();
                readiness.push({ status: res.status, state: body.status, checks: body.checks });
              }
              await new Promise((r) => setTimeout(r, 250));
            }
          })();
        }
        if (n === 2 * PHASE) {
          redisProxy.delayMs = pgProxy.delayMs = 0;
          offAt = Date.now();
          sampling = false;
        }
      },
    });
    await sampler;
    const stored = await storedMessages(replicas[0].url, writer.token, channelId);
    await Promise.all(subs.map((s) => s.waitFor(stored.length, 20_000)));

    expect(ackedOutcome(acked, stored, subs)).toEqual(expectedOutcome(subs));
    expect(stored).toHaveLength(3 * PHASE);
    expect(acked.filter((p) => p.statuses.join() !== '201')).toEqual([]);

    const before = acked.filter((p) => p.ackedAt < onAt);
    const during = acked.filter((p) => p.sentAt >= onAt && p.ackedAt <= offAt);
    const after = acked.filter((p) => p.sentAt >= offAt);
    const ackMs = (xs: PublishedRecord[]) => spread(xs.map((p) => p.ackedAt - p.sentAt));
    // Delivery lag: acknowledgement to arrival, on every subscriber (the publishing replica's included).
    const lagMs = (xs: PublishedRecord[]) => spread(xs.flatMap((p) => subs.map((s) => s.arrivedAt.get(p.seq)! - p.ackedAt)));
    expect(during.length).toBeGreaterThan(PHASE / 2);
    // A publish is several round trips to Postgres: each pays the added latency.
    expect(ackMs(during).p50).toBeGreaterThanOrEqual(LATENCY_MS * 2);
    expect(ackMs(during).max).toBeLessThan(15_000);
    expect(ackMs(after).p50).toBeLessThan(ackMs(during).p50);
    expect(lagMs(during).max).toBeLessThan(5_000);
    expect(readiness.length).toBeGreaterThan(6);
    expect(readiness.filter((x) => x.status !== 200)).toEqual([]);
    for (const r of replicas) expect({ replica: r.id, alive: r.alive }).toEqual({ replica: r.id, alive: true });
    const states = [...new Set(readiness.map((x) => JSON.stringify(x.checks)))];
    console.log(
      `latency: ack ms before ${JSON.stringify(ackMs(before))}, with +${LATENCY_MS} ms ${JSON.stringify(ackMs(during))}, after ${JSON.stringify(ackMs(after))}; ` +
        `delivery lag ms before ${JSON.stringify(lagMs(before))}, with ${JSON.stringify(lagMs(during))}, after ${JSON.stringify(lagMs(after))}; ` +
        `/readyz during: ${readiness.length} samples, states ${states.join(' | ')}; reconnects ${subs.map((s) => s.reconnects).join(',')}`,
    );
  });
});
