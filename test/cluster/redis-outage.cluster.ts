import { jest } from '@jest/globals';
import { api, connect, emitAck, registerUser, type ClientSocket } from '../support/client.js';
import { type Cluster, FAST_ENV, type Replica, startCluster, until } from './support/cluster.js';
import { Subscriber } from './support/subscriber.js';

jest.setTimeout(120_000);

// An outage longer than 30 s: unguarded, the Redis adapter's publishes during an
// outage end in rejections nobody handles (366 in 100 s with ioredis 6 defaults,
// measured here), and Node 20 exits on the first. A shorter outage may be over
// before any appears.
const OUTAGE_MS = 31_000;
const PUBLISH_EVERY_MS = 150;
const PRE_OUTAGE = 15; // messages before Redis is killed
const POST_RECOVERY = 15; // messages after /readyz is ok again
const RECONCILE_MS = Number(FAST_ENV.RECONCILE_MS);
// A message published on another replica while Redis is down reaches a local
// subscriber on the next reconciliation tick: at most one period plus the pass.
const TICK_BOUND_MS = 2 * RECONCILE_MS + 1_500;

interface Published {
  k: number;
  seq: number;
  replica: string;
  statuses: number[]; // every attempt, 0 = network error
  sentAt: number;
  ackedAt: number;
}

/**
 * Publishes over REST, round-robin across replicas, one message every
 * PUBLISH_EVERY_MS. Each message has its own clientMsgId, so a retry after a
 * lost answer can never store it twice.
 */
class Publisher {
  readonly results: Published[] = [];
  readonly failures: Array<{ k: number; statuses: number[] }> = [];
  private stopped = false;
  private readonly waiters = new Set<() => boolean>();
  private loop?: Promise<void>;

  constructor(
    private readonly replicas: Replica[],
    private readonly token: string,
    private readonly channelId: string,
    private readonly max = 600,
  ) {}

  start() {
    this.loop = (async () => {
      for (let k = 1; !this.stopped && k <= this.max; k++) {
        const began = Date.now();
        await this.publish(k);
        // Pacing, not synchronisation: the stream's rate.
        const rest = PUBLISH_EVERY_MS - (Date.now() - began);
        if (rest > 0 && !this.stopped) await new Promise((r) => setTimeout(r, rest));
      }
    })();
  }

  async stop() {
    this.stopped = true;
    await this.loop;
  }

  get lastSeq() {
    return Math.max(0, ...this.results.map((p) => p.seq));
  }

  /** Resolves once the stream satisfies `check` (re-evaluated on every acknowledged publish). */
  when(what: string, check: (all: Published[]) => boolean, ms: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const test = () => {
        if (!check(this.results)) return false;
        clearTimeout(timer);
        this.waiters.delete(test);
        resolve();
        return true;
      };
      const timer = setTimeout(() => {
        this.waiters.delete(test);
        reject(new Error(`publisher: timed out waiting for ${what} (${this.results.length} published)`));
      }, ms);
      if (!test()) this.waiters.add(test);
    });
  }

  private async publish(k: number) {
    const replica = this.replicas[k % this.replicas.length];
    const statuses: number[] = [];
    const sentAt = Date.now();
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        const res = await fetch(`${replica.url}/api/channels/${this.channelId}/messages`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${this.token}` },
          body: JSON.stringify({ body: { k, via: replica.id }, clientMsgId: `redis-outage-${k}` }),
          signal: AbortSignal.timeout(5_000),
        });
        statuses.push(res.status);
        const body: any = await res.json().catch(() => undefined);
        if (res.status === 201 || res.status === 200) {
          this.results.push({ k, seq: body.seq, replica: res.headers.get('x-replica-id') ?? '?', statuses, sentAt, ackedAt: Date.now() });
          for (const w of [...this.waiters]) w();
          return;
        }
      } catch {
        statuses.push(0);
      }
      await new Promise((r) => setTimeout(r, 100)); // back-off before a safe retry
    }
    this.failures.push({ k, statuses });
  }
}

/** A socket that never reconnects: records every message:created, in arrival order and with its arrival time. */
class RawReceiver {
  readonly held = new Map<number, { message: any; at: number }>();
  /** Every seq as it arrived, repeats included. */
  readonly order: number[] = [];
  disconnects: string[] = [];
  private readonly waiters = new Set<() => boolean>();

  constructor(
    readonly name: string,
    readonly replica: string,
    readonly socket: ClientSocket,
    channelId: string,
  ) {
    socket.on('message:created', (m: any) => {
      if (m.channelId !== channelId) return;
      this.order.push(m.seq);
      if (!this.held.has(m.seq)) this.held.set(m.seq, { message: m, at: Date.now() });
      for (const w of [...this.waiters]) w();
    });
    socket.on('disconnect', (reason) => this.disconnects.push(reason));
  }

  get contiguous(): number {
    let n = 0;
    while (this.held.has(n + 1)) n++;
    return n;
  }

  /** Resolves with the time at which every seq up to `seq` was held. */
  waitFor(seq: number, ms: number): Promise<number> {
    const heldAt = () => Math.max(0, ...[...Array(seq).keys()].map((i) => this.held.get(i + 1)!.at));
    return new Promise((resolve, reject) => {
      const test = () => {
        if (this.contiguous < seq) return false;
        clearTimeout(timer);
        this.waiters.delete(test);
        resolve(heldAt());
        return true;
      };
      const timer = setTimeout(() => {
        this.waiters.delete(test);
        reject(new Error(`${this.name}: holds ${this.contiguous}/${seq} contiguous (${this.held.size} total) after ${ms} ms`));
      }, ms);
      if (!test()) this.waiters.add(test);
    });
  }
}

async function readyz(url: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2_000) });
  return { status: res.status, body: await res.json() };
}

interface ReadySample {
  replica: string;
  at: number;
  status: number;
  body: any;
}

/** Samples /readyz on every replica until stopped (readiness is state: it has no event to await). */
function sampleReadiness(replicas: Replica[], everyMs = 300) {
  const samples: ReadySample[] = [];
  let on = true;
  const loop = (async () => {
    while (on) {
      for (const r of replicas) {
        const res = await readyz(r.url).catch((e: Error) => ({ status: 0, body: String(e) }));
        samples.push({ replica: r.id, at: Date.now(), ...res });
      }
      await new Promise((res) => setTimeout(res, everyMs));
    }
  })();
  return {
    samples,
    async stop() {
      on = false;
      await loop;
      return samples;
    },
  };
}

async function deliveries(url: string): Promise<{ live: number; reconcile: number }> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const read = (path: string) => Number(new RegExp(`^crosswire_messages_delivered_total\\{path="${path}"\\} (\\d+)`, 'm').exec(text)?.[1] ?? 0);
  return { live: read('live'), reconcile: read('reconcile') };
}

describe('Redis killed for over 30 s in the middle of a stream (3 replicas)', () => {
  let cluster: Cluster;
  let replicas: Replica[];
  let channelId: string;
  let publisher: Publisher;
  const subscribers: Array<{ sub: Subscriber; replica: string }> = [];
  const raws: RawReceiver[] = [];
  // Timeline (ms since epoch).
  let stoppedAt = 0;
  let restartAt = 0;
  let redisUpAt = 0;
  let outageLastSeq = 0;

  beforeAll(async () => {
    cluster = await startCluster(3);
    replicas = cluster.replicas;
    const call = api(replicas[0].url);
    const writer = await registerUser(call, 'rout_w');
    const reader = await registerUser(call, 'rout_r');
    channelId = (await call('POST', '/api/channels', { name: `redis-outage-${Date.now()}` }, writer.token)).body.id;
    // Per replica: one delivery-promise subscriber (the reader) and one raw
    // socket that never reconnects (the writer's own, which must get its own
    // messages too).
    for (const [i, r] of replicas.entries()) {
      const order = () => [...replicas.slice(i), ...replicas.slice(0, i)].filter((x) => x.alive).map((x) => x.url);
      const sub = new Subscriber(order, reader.token, channelId);
      await sub.start();
      expect(sub.replicas).toEqual([r.id]);
      subscribers.push({ sub, replica: r.id });
      const socket = await connect(r.url, writer.token);
      const raw = new RawReceiver(`raw@${r.id}`, r.id, socket, channelId);
      expect(await emitAck(socket, 'channel:subscribe', { channelId })).toMatchObject({ ok: true });
      raws.push(raw);
    }
    publisher = new Publisher(replicas, writer.token, channelId);
  });

  afterAll(async () => {
    await publisher?.stop();
    subscribers.forEach(({ sub }) => sub.close());
    raws.forEach((r) => r.socket.close());
    await cluster?.stop();
  });

  it("while Redis is down for over 30 s: no replica exits, /readyz is 200 degraded (redis down), publishes stay 201, and subscribers on every replica get other replicas' messages through the reconciliation tick", async () => {
    publisher.start();
    await publisher.when(`${PRE_OUTAGE} messages before the outage`, (all) => all.length >= PRE_OUTAGE, 15_000);
    // A healthy stream first.
    for (const r of raws) await r.waitFor(PRE_OUTAGE, 5_000);
    for (const r of replicas) expect((await readyz(r.url)).body.status).toBe('ok');
    const before = await Promise.all(replicas.map((r) => deliveries(r.url)));

    await cluster.redis.stop();
    stoppedAt = Date.now();
    const readiness = sampleReadiness(replicas);

    await until(
      'every replica reports 200 degraded with redis down',
      async () => {
        const all = await Promise.all(replicas.map((r) => readyz(r.url)));
        return all.every((x) => x.status === 200 && x.body.status === 'degraded' && x.body.checks.redis === 'down');
      },
      10_000,
    );
    const degradedAt = Date.now();

    // Mid-outage: everything acknowledged so far reaches every subscriber on
    // every replica within the tick bound, while Redis is still down.
    await publisher.when('15 s into the outage', (all) => all.some((p) => p.ackedAt >= stoppedAt + 15_000), 30_000);
    const midSeq = publisher.lastSeq;
    await Promise.all([...subscribers.map(({ sub }) => sub.waitFor(midSeq, TICK_BOUND_MS)), ...raws.map((r) => r.waitFor(midSeq, TICK_BOUND_MS))]);
    expect(cluster.redis.child!.signalCode).toBe('SIGKILL'); // still down

    await publisher.when(`${OUTAGE_MS} ms of outage`, (all) => all.some((p) => p.ackedAt >= stoppedAt + OUTAGE_MS), OUTAGE_MS + 15_000);
    const samples = await readiness.stop();
    const during = await Promise.all(replicas.map((r) => deliveries(r.url)));
    restartAt = Date.now();
    outageLastSeq = publisher.lastSeq;

    // No replica exited.
    for (const r of replicas) expect({ replica: r.id, alive: r.alive }).toEqual({ replica: r.id, alive: true });
    // Never 503 during the outage; once Redis was seen down, 200 degraded with
    // exactly redis (and so fan-out) down, until the end.
    expect(samples.length).toBeGreaterThan(3 * 20);
    expect(samples.filter((x) => x.status !== 200)).toEqual([]);
    for (const x of samples.filter((y) => y.at >= degradedAt)) {
      expect({ replica: x.replica, status: x.status, body: x.body }).toEqual({
        replica: x.replica,
        status: 200,
        body: { status: 'degraded', checks: { postgres: 'ok', redis: 'down', fanout: 'down', draining: false } },
      });
    }
    // Every publish made while Redis was down was 201 on its first attempt, on every replica.
    const outagePublishes = publisher.results.filter((p) => p.sentAt >= stoppedAt && p.ackedAt <= restartAt);
    expect(outagePublishes.length).toBeGreaterThanOrEqual(Math.floor(OUTAGE_MS / PUBLISH_EVERY_MS / 2));
    expect(publisher.failures).toEqual([]);
    expect(outagePublishes.filter((p) => p.statuses.join() !== '201')).toEqual([]);
    expect(new Set(outagePublishes.map((p) => p.replica))).toEqual(new Set(replicas.map((r) => r.id)));

    // Each never-dropped socket got every message published on another
    // replica during the outage, each within the tick bound: a steady trickle
    // all along, not a burst at the end.
    for (const raw of raws) {
      const fromOthers = outagePublishes.filter((p) => p.replica !== raw.replica && p.ackedAt <= restartAt - TICK_BOUND_MS);
      expect(fromOthers.length).toBeGreaterThan(30);
      const late = fromOthers.map((p) => ({ seq: p.seq, via: p.replica, lagMs: (raw.held.get(p.seq)?.at ?? Infinity) - p.ackedAt })).filter((x) => x.lagMs > TICK_BOUND_MS);
      expect({ socket: raw.name, late }).toEqual({ socket: raw.name, late: [] });
    }
    // And it was the reconciliation tick that delivered them, on every replica.
    for (const [i, r] of replicas.entries()) {
      expect({ replica: r.id, reconciledOver30: during[i].reconcile - before[i].reconcile > 30 }).toEqual({ replica: r.id, reconciledOver30: true });
    }
  });

  it("when Redis comes back on the same port: the outage's messages reach never-dropped sockets within 5 s, /readyz is ok again, and cross-replica fan-out goes through Redis again", async () => {
    expect(outageLastSeq).toBeGreaterThan(0);
    await cluster.redis.start();
    redisUpAt = Date.now();
    const heldAt = await Promise.all(raws.map((r) => r.waitFor(outageLastSeq, 5_000)));
    for (const [i, at] of heldAt.entries()) {
      expect({ socket: raws[i].name, within5s: at - redisUpAt <= 5_000 }).toEqual({ socket: raws[i].name, within5s: true });
    }
    await Promise.all(subscribers.map(({ sub }) => sub.waitFor(outageLastSeq, 5_000)));

    await until(
      'every replica reports 200 ok',
      async () => {
        const all = await Promise.all(replicas.map((r) => readyz(r.url)));
        return all.every((x) => x.status === 200 && x.body.status === 'ok');
      },
      15_000,
    );
    for (const r of replicas) {
      expect({ replica: r.id, ...(await readyz(r.url)) }).toEqual({
        replica: r.id,
        status: 200,
        body: { status: 'ok', checks: { postgres: 'ok', redis: 'ok', fanout: 'ok', draining: false } },
      });
    }

    // The rest of the stream, with Redis back.
    const okAt = Date.now();
    const before = await Promise.all(replicas.map((r) => deliveries(r.url)));
    const already = publisher.results.length;
    await publisher.when(`${POST_RECOVERY} messages after recovery`, (all) => all.length >= already + POST_RECOVERY, 20_000);
    await publisher.stop();
    const last = publisher.lastSeq;
    await Promise.all([...raws.map((r) => r.waitFor(last, 5_000)), ...subscribers.map(({ sub }) => sub.waitFor(last, 5_000))]);
    const after = await Promise.all(replicas.map((r) => deliveries(r.url)));
    // Live deliveries on every replica cover most of what was published after
    // recovery. Only a third (its own publishes) would mean the others'
    // arrive by the tick alone: the adapter did not resubscribe.
    const postRecovery = publisher.results.filter((p) => p.sentAt >= okAt).length;
    for (const [i, r] of replicas.entries()) {
      expect({ replica: r.id, mostlyLive: after[i].live - before[i].live >= Math.ceil(postRecovery * 0.66) }).toEqual({ replica: r.id, mostlyLive: true });
    }
    expect(publisher.failures).toEqual([]);
  });

  it('in the end every subscriber, never-dropped sockets included, holds exactly the stored seqs 1..N once, in seq order; no replica logged an unhandled rejection', async () => {
    expect(redisUpAt).toBeGreaterThan(0);
    const call = api(replicas[1].url);
    const token = (await registerUser(call, 'rout_c')).token;
    const n = (await call('GET', `/api/channels/${channelId}`, undefined, token)).body.lastSeq as number;
    const stored: any[] = [];
    while (stored.length < n) {
      const page = await call('GET', `/api/channels/${channelId}/messages?afterSeq=${stored.length}&limit=500`, undefined, token);
      expect(page.status).toBe(200);
      if (page.body.items.length === 0) break;
      stored.push(...page.body.items);
    }
    const oneToN = Array.from({ length: n }, (_, i) => i + 1);
    expect(stored.map((m) => m.seq)).toEqual(oneToN);
    // One stored message per publish, none burned or doubled by a retry.
    expect(n).toBe(publisher.results.length);
    expect(new Set(publisher.results.map((p) => p.seq)).size).toBe(n);
    expect(n).toBeGreaterThan(PRE_OUTAGE + POST_RECOVERY + 100);

    for (const { sub, replica } of subscribers) {
      // Nothing dropped its connection either: it never had to resubscribe.
      expect({ replica, reconnects: sub.reconnects, on: sub.replicas }).toEqual({ replica, reconnects: 0, on: [replica] });
      // Exactly once, in seq order, as received: nothing sorted or de-duplicated here.
      expect({ replica, violations: sub.violations, seqs: sub.received.map((m) => m.seq) }).toEqual({ replica, violations: [], seqs: oneToN });
      expect(sub.received).toEqual(stored);
    }
    for (const raw of raws) {
      expect({ socket: raw.name, disconnects: raw.disconnects, connected: raw.socket.connected }).toEqual({ socket: raw.name, disconnects: [], connected: true });
      expect({ socket: raw.name, arrived: raw.order }).toEqual({ socket: raw.name, arrived: oneToN });
      expect(oneToN.map((seq) => raw.held.get(seq)!.message)).toEqual(stored);
    }
    for (const r of replicas) {
      const unhandled = r.log.split('\n').filter((l) => /unhandled rejection/i.test(l));
      expect({ replica: r.id, alive: r.alive, unhandled: unhandled.length, first: unhandled[0]?.slice(0, 400) }).toEqual({
        replica: r.id,
        alive: true,
        unhandled: 0,
        first: undefined,
      });
    }
  });
});
