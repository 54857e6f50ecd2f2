import { jest } from '@jest/globals';
import { api, registerUser } from '../support/client.js';
import { ackedOutcome, expectedOutcome, spread } from './support/acked.js';
import { type Cluster, FAST_ENV, type Replica, startCluster, until } from './support/cluster.js';
import { type PublishedRecord, publishMany, storedMessages } from './support/publisher.js';
import { Subscriber } from './support/subscriber.js';

jest.setTimeout(120_000);

const PAUSE_MS = 20_000;
const EVERY_MS = 100;
const BEFORE = 20; // acknowledged before the pause
const TOTAL = BEFORE + PAUSE_MS / EVERY_MS + 40; // and some after it
// While Redis cannot carry fan-out, another replica's message reaches a
// subscriber by the reconciliation tick: a period plus the pass.
const TICK_BOUND_MS = 2 * Number(FAST_ENV.RECONCILE_MS) + 1_500;

interface Sample {
  replica: string;
  at: number;
  status: number;
  state: string;
}

/**
 * A stopped Redis is not a dead one: its TCP connections stay open and
 * nothing answers, so nothing fails fast. SIGSTOP for 20 s, then SIGCONT.
 */
describe('Redis paused (SIGSTOP) for 20 s under a stream, 3 replicas', () => {
  let cluster: Cluster;
  let replicas: Replica[];
  const subs: Subscriber[] = [];
  afterAll(async () => {
    subs.forEach((s) => s.close());
    if (cluster?.redis.child?.signalCode === null) cluster.redis.child.kill('SIGCONT');
    await cluster?.stop();
  });

  it("publishes stay 201, /readyz stays 200 (degraded while paused), subscribers get other replicas' messages within the tick bound, and after SIGCONT every acknowledged message is held once, in order, by every subscriber", async () => {
    cluster = await startCluster(3);
    replicas = cluster.replicas;
    const call = api(replicas[0].url);
    const writer = await registerUser(call, 'rp_w');
    const reader = await registerUser(call, 'rp_r');
    const channelId = (await call('POST', '/api/channels', { name: `redis-pause-${Date.now()}` }, writer.token)).body.id;
    for (const [i, r] of replicas.entries()) {
      for (let k = 0; k < 2; k++) {
        const order = () => [...replicas.slice(i), ...replicas.slice(0, i)].map((x) => x.url);
        const s = new Subscriber(order, reader.token, channelId);
        await s.start();
        expect(s.replicas).toEqual([r.id]);
        subs.push(s);
      }
    }

    const acked: PublishedRecord[] = [];
    const samples: Sample[] = [];
    let pausedAt = 0;
    let resumedAt = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        for (const r of replicas) {
          const res = await fetch(`${r.url}/readyz`, { signal: AbortSignal.timeout(2_000) })
            .then(async (x) => ({ status: x.status, state: (await x.json()).status }))
            .catch(() => ({ status: 0, state: 'no answer' }));
          samples.push({ replica: r.id, at: Date.now(), ...res });
        }
        await new Promise((r) => setTimeout(r, 250));
      }
    })();
    let resumed: Promise<void> | undefined;
    await publishMany({
      urls: () => replicas.map((r) => r.url),
      token: writer.token,
      channelId,
      count: TOTAL,
      concurrency: 2,
      everyMs: EVERY_MS,
      prefix: 'rp',
      onPublished: (p) => acked.push(p),
      onAcked: (n) => {
        if (n !== BEFORE) return;
        cluster.redis.child!.kill('SIGSTOP');
        pausedAt = Date.now();
        resumed = new Promise<void>((r) => setTimeout(r, PAUSE_MS)).then(() => {
          cluster.redis.child!.kill('SIGCONT');
          resumedAt = Date.now();
        });
      },
    });
    await resumed;
    const stored = await storedMessages(replicas[0].url, writer.token, channelId);
    await Promise.all(subs.map((s) => s.waitFor(stored.length, 20_000)));
    // Readiness is state, sampled: wait until every replica has been sampled ok after SIGCONT.
    const okAfter = (r: Replica) => samples.find((x) => x.replica === r.id && x.at > resumedAt && x.state === 'ok')?.at;
    await until('every replica sampled ok after SIGCONT', () => replicas.every((r) => okAfter(r) !== undefined), 15_000);
    sampling = false;
    await sampler;
    const okMs = replicas.map((r) => okAfter(r)! - resumedAt);

    // Nothing acknowledged lost, nothing twice, in order, on every subscriber.
    expect(ackedOutcome(acked, stored, subs)).toEqual(expectedOutcome(subs));
    expect(stored).toHaveLength(TOTAL);
    for (const r of replicas) expect({ replica: r.id, alive: r.alive }).toEqual({ replica: r.id, alive: true });

    // What publishers saw: 201 at the first attempt all along.
    const during = acked.filter((p) => p.sentAt >= pausedAt && p.ackedAt <= resumedAt);
    expect(during.length).toBeGreaterThan(PAUSE_MS / EVERY_MS / 2);
    expect(acked.filter((p) => p.statuses.join() !== '201')).toEqual([]);

    // What /readyz said: never 503; degraded while paused, ok again after.
    expect(samples.filter((x) => x.status !== 200)).toEqual([]);
    const degradedFrom = replicas.map((r) => samples.find((x) => x.replica === r.id && x.at > pausedAt && x.state === 'degraded')?.at ?? NaN);
    for (const at of degradedFrom) expect(at - pausedAt).toBeLessThan(5_000);
    for (const ms of okMs) expect(ms).toBeLessThan(10_000);

    // What subscribers saw while paused: every message, other replicas' included (read from Postgres
    // by the hold-back or the tick, since Redis carries nothing), within the tick bound.
    const lags = subs.flatMap((s) => during.filter((p) => p.ackedAt <= resumedAt - TICK_BOUND_MS).map((p) => (s.arrivedAt.get(p.seq) ?? Infinity) - p.ackedAt));
    const lag = spread(lags);
    expect(lag.max).toBeLessThan(TICK_BOUND_MS);
    const publishMs = spread(during.map((p) => p.ackedAt - p.sentAt));
    console.log(
      `redis pause: ${during.length} publishes during the pause, ack ms ${JSON.stringify(publishMs)}; ` +
        `delivery lag while paused ms ${JSON.stringify(lag)}; degraded after ${degradedFrom.map((at) => at - pausedAt).join('/')} ms; ` +
        `ok ${okMs.join('/')} ms after SIGCONT (sampled every ~0.5 s); ` +
        `reconnects ${subs.map((s) => s.reconnects).join(',')}`,
    );
  });
});
