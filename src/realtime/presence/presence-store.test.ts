import { Redis } from 'ioredis';
import { freePort } from '../../../test/support/free-port.js';
import { RedisProcess } from '../../../test/support/redis.js';
import { NO_FAULTS, loadConfig } from '../../config/config.js';
import { JsonLogger } from '../../logging/logger.js';
import { Background } from '../../metrics/background.js';
import { MetricsService } from '../../metrics/metrics.service.js';
import { ChannelBus } from '../delivery/channel-bus.js';
import { PresenceStore } from './presence-store.js';
import type { RedisClients } from '../../redis/redis-clients.js';
import { PresenceService } from './presence.service.js';

// Medium tier against a real redis-server (installed by the test command).
describe('PresenceStore (Lua leases on a real Redis)', () => {
  const server = { redis: undefined as unknown as RedisProcess };
  let redis: Redis;
  let listener: Redis;
  let published: string[];
  const alice = { id: 'u-alice', username: 'alice' };
  const bob = { id: 'u-bob', username: 'bob' };

  beforeAll(async () => {
    server.redis = new RedisProcess(await freePort());
    await server.redis.start();
    redis = new Redis(server.redis.url);
    listener = new Redis(server.redis.url);
    await listener.psubscribe('crosswire:ch:*');
    listener.on('pmessage', (_p: string, topic: string, text: string) => published.push(`${topic.slice('crosswire:ch:'.length)} ${text}`));
  });
  afterAll(async () => {
    redis.disconnect();
    listener.disconnect();
    await server.redis.stop();
  });
  beforeEach(async () => {
    await redis.flushall();
    published = [];
  });

  /** Everything published so far has arrived once a PING on the same connection answers. */
  const settled = async () => {
    const probe = new Redis(server.redis.url);
    await probe.publish('crosswire:ch:probe', 'probe');
    probe.disconnect();
    await new Promise<void>((ok) => {
      const check = () => (published.includes('probe probe') ? ok() : setTimeout(check, 5));
      check();
    });
    return published.filter((p) => p !== 'probe probe');
  };

  it('reports and publishes first-in and last-out across instances, exactly once each', async () => {
    const a = new PresenceStore(redis, 'inst-a');
    const b = new PresenceStore(redis, 'inst-b');
    expect(await a.join('c1', alice)).toBe(true);
    expect(await b.join('c1', alice)).toBe(false);
    expect(await a.join('c1', alice)).toBe(false);
    expect(await a.online('c1')).toEqual([alice]);
    expect(await a.leave('c1', alice.id)).toBeNull();
    expect(await a.leave('c1', alice.id)).toBeNull();
    expect(await b.leave('c1', alice.id)).toEqual(alice);
    expect(await b.online('c1')).toEqual([]);
    expect(await settled()).toEqual(['c1 p|-|j|u-alice|alice', 'c1 p|-|l|u-alice|alice']);
  });

  it('finds an instance dead when its heartbeat is older than the TTL, and reaps it once in one pipeline', async () => {
    const live = new PresenceStore(redis, 'live');
    const dead = new PresenceStore(redis, 'dead');
    const other = new PresenceStore(redis, 'other');
    await dead.join('c1', alice);
    await dead.join('c1', bob);
    await live.join('c1', bob);
    expect(await live.heartbeat(60_000)).toBe(false); // registered by its join
    expect(await new PresenceStore(redis, 'idle').heartbeat(60_000)).toBe(true); // never registered
    await dead.heartbeat(60_000, 0); // a goodbye with no grace: lapsed at once
    expect(await live.deadInstances(60_000)).toEqual(['dead']);
    const [first, second] = await Promise.all([live.reap('dead'), other.reap('dead')]);
    expect([...first, ...second]).toEqual([{ channelId: 'c1', user: alice }]);
    expect(await live.online('c1')).toEqual([bob]);
    expect(await live.deadInstances(60_000)).toEqual([]);
    expect(await dead.heartbeat(60_000)).toBe(true); // the reaped instance finds itself gone
    expect((await settled()).filter((p) => p.includes('|l|'))).toEqual(['c1 p|-|l|u-alice|alice']);
  });

  it('an instance that holds a lease is registered at once, so it can be reaped even if it dies before its first heartbeat', async () => {
    const early = new PresenceStore(redis, 'early');
    const other = new PresenceStore(redis, 'other');
    await early.join('c1', alice);
    expect(await other.deadInstances(0)).toEqual(['early']);
    expect(await other.deadInstances(60_000)).toEqual([]);
    expect(await other.reap('early')).toEqual([{ channelId: 'c1', user: alice }]);
  });

  it('forgets a deleted channel entirely, publishing nothing', async () => {
    const a = new PresenceStore(redis, 'a');
    await a.join('c1', alice);
    await a.join('c1', bob);
    await a.forget('c1');
    expect(await a.online('c1')).toEqual([]);
    expect(await a.leave('c1', alice.id)).toBeNull();
    expect(await a.join('c1', alice)).toBe(true);
    expect(await settled()).toEqual(['c1 p|-|j|u-alice|alice', 'c1 p|-|j|u-bob|bob', 'c1 p|-|j|u-alice|alice']);
  });

  it('re-asserts an instance to exactly what it holds: missing leases added, stale ones released', async () => {
    const a = new PresenceStore(redis, 'a');
    await a.join('c1', alice);
    await a.join('c2', alice);
    await a.reassert([
      { channelId: 'c1', user: alice },
      { channelId: 'c1', user: bob },
    ]);
    expect(
      (await a.onlineIn(['c1', 'c2']))
        .get('c1')
        ?.map((u) => u.id)
        .sort(),
    ).toEqual([alice.id, bob.id]);
    expect((await a.onlineIn(['c1', 'c2'])).get('c2')).toEqual([]);
  });
});

describe('PresenceService views on a real Redis', () => {
  let redis: RedisProcess;
  const clients: Redis[] = [];
  const services: PresenceService[] = [];
  const alice = { id: 'u-alice', username: 'alice' };
  const bob = { id: 'u-bob', username: 'bob' };
  const carol = { id: 'u-carol', username: 'carol' };

  beforeEach(async () => {
    redis = new RedisProcess(await freePort());
    await redis.start();
  });
  afterEach(async () => {
    services.splice(0).forEach((s) => s.onModuleDestroy());
    clients.splice(0).forEach((c) => c.disconnect());
    await redis.stop();
  });

  const connection = () => {
    const c = new Redis(redis.url, { retryStrategy: () => 50, enableOfflineQueue: false, maxRetriesPerRequest: 1 });
    c.on('error', () => undefined);
    clients.push(c);
    return c;
  };

  /** A replica's presence: its own connections, and the events its sockets of channel c1 would hear. */
  const replica = async (instance: string, storeFor?: (pub: Redis, instance: string) => PresenceStore) => {
    const logger = new JsonLogger('t', 'silent');
    const metrics = new MetricsService();
    const presence = new PresenceService(loadConfig({ LEASE_TTL_MS: '400', PRESENCE_GRACE_MS: '0' }), logger, new Background(metrics, logger), metrics);
    services.push(presence);
    const events: string[] = [];
    const waiters: Array<() => void> = [];
    presence.onPresenceChange((event, _channelId, user) => {
      events.push(`${event.slice('presence:'.length)} ${user.username}`);
      waiters.splice(0).forEach((w) => w());
    });
    const pub = connection();
    const topics = new Redis(redis.url, { retryStrategy: () => 50 });
    topics.on('error', () => undefined);
    clients.push(topics);
    await Promise.all([new Promise((r) => pub.once('ready', r)), new Promise((r) => topics.once('ready', r))]);
    presence.connect(pub, topics, instance, storeFor?.(pub, instance));
    // The channel's topic, as a replica with subscribers of c1 holds it.
    const bus = new ChannelBus({ pub, bus: topics } as unknown as RedisClients, instance, NO_FAULTS);
    const ignore = () => undefined;
    bus.listen({ message: ignore, echo: ignore, typing: ignore, revoked: ignore, madePrivate: ignore, deleted: ignore, sessionsRevoked: ignore, presence: (ch, p) => presence.applyFrame(ch, p) });
    await bus.join('c1');
    await presence.watch('c1');
    /** Resolves once `what` has been announced `times` times. */
    const until = (what: string, times = 1) =>
      new Promise<void>((ok) => {
        const check = () => (events.filter((e) => e === what).length >= times ? ok() : waiters.push(check));
        check();
      });
    /** Resolves once every frame published on c1's topic so far has been handled by this replica's bus. */
    const caughtUp = async () => {
      const nonce = `probe-${Math.random()}`;
      const seen = new Promise<void>((ok) => {
        const on = (_t: string, text: string) => text === nonce && (topics.off('message', on), ok());
        topics.on('message', on);
      });
      await pub.publish('crosswire:ch:c1', nonce);
      await seen;
    };
    return { presence, events, until, caughtUp };
  };

  it('a leave made while Redis was unreachable (data kept) is announced once, and released when Redis is back', async () => {
    const a = await replica('inst-a');
    a.presence.join('c1', alice, 's1');
    await a.until('joined alice');
    const pub = clients[0];
    const ended = new Promise((r) => pub.once('end', r));
    pub.disconnect();
    await ended;
    a.presence.leave('c1', alice.id, 's1', 0);
    expect(a.events).toEqual(['joined alice', 'left alice']);
    const reader = new PresenceStore(connection(), 'reader');
    await new Promise((r) => clients[clients.length - 1].once('ready', r));
    expect(await reader.online('c1')).toEqual([alice]);
    const released = new Promise<void>((ok) => {
      const check = async () => ((await reader.online('c1')).length === 0 ? ok() : setTimeout(() => void check(), 20));
      void check();
    });
    await pub.connect();
    await released;
    expect(a.events).toEqual(['joined alice', 'left alice']);
  });

  it('after Redis restarts empty, views announce exactly the users whose replica did not re-assert', async () => {
    const a = await replica('inst-a');
    const b = await replica('inst-b');
    a.presence.join('c1', alice, 's1');
    b.presence.join('c1', bob, 's2');
    // A replica that has crashed: its lease is in Redis, nobody backs it any more.
    const crashedConn = connection();
    await new Promise((r) => crashedConn.once('ready', r));
    await new PresenceStore(crashedConn, 'inst-crashed').join('c1', carol);
    crashedConn.disconnect();
    for (const r of [a, b]) for (const who of ['alice', 'bob', 'carol']) await r.until(`joined ${who}`);
    a.events.length = 0;
    b.events.length = 0;

    await redis.stop();
    await redis.start();
    await Promise.all([a.until('left carol'), b.until('left carol')]);
    expect(a.events).toEqual(['left carol']);
    expect(b.events).toEqual(['left carol']);
    expect(
      a.presence
        .list('c1')
        .map((u) => u.username)
        .sort(),
    ).toEqual(['alice', 'bob']);
  });

  it('a replica reaped while stalled re-asserts at its next heartbeat and is announced joined again', async () => {
    const a = await replica('inst-a');
    const b = await replica('inst-b');
    a.presence.join('c1', alice, 's1');
    await b.until('joined alice');
    // What a survivor does to a replica stalled past the TTL (reapDead), done here at once.
    const conn = connection();
    await new Promise((r) => conn.once('ready', r));
    expect(await new PresenceStore(conn, 'survivor').reap('inst-a')).toEqual([{ channelId: 'c1', user: alice }]);
    await b.until('left alice');
    await b.until('joined alice', 2);
    expect(b.events).toEqual(['joined alice', 'left alice', 'joined alice']);
  });

  it('a change that arrives while converge reads is applied over the read, not undone by it (a delayed read)', async () => {
    let readDone!: () => void;
    const read = new Promise<void>((r) => (readDone = r));
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    // converge's read completes, then is held: what arrives meanwhile is newer than what was read.
    const a = await replica(
      'inst-a',
      (pub, inst) =>
        new (class extends PresenceStore {
          override async onlineIn(ids: string[]) {
            const users = await super.onlineIn(ids);
            readDone();
            await gate;
            return users;
          }
        })(pub, inst),
    );
    a.presence.join('c1', alice, 's1');
    await a.until('joined alice');
    const converging = a.presence.converge();
    await read;
    const conn = connection();
    await new Promise((r) => conn.once('ready', r));
    expect(await new PresenceStore(conn, 'inst-b').join('c1', bob)).toBe(true);
    await a.caughtUp();
    release();
    await converging;
    expect(a.events).toEqual(['joined alice', 'joined bob']);
    expect(
      a.presence
        .list('c1')
        .map((u) => u.username)
        .sort(),
    ).toEqual(['alice', 'bob']);
  });
});
