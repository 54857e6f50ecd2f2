import { type ChildProcess, spawn } from 'node:child_process';
import { Redis } from 'ioredis';
import { freePort } from '../../test/support/free-port.js';
import { loadConfig } from '../config/config.js';
import { JsonLogger } from '../logging/logger.js';
import { PresenceStore } from './presence-store.js';
import { PresenceService } from './presence.service.js';

// Medium tier against a real redis-server (installed by the test command).
describe('PresenceStore (Lua leases on a real Redis)', () => {
  let server: ChildProcess;
  let redis: Redis;
  let port: number;
  const alice = { id: 'u-alice', username: 'alice' };

  beforeAll(async () => {
    port = await freePort();
    server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'ignore'] });
    await new Promise<void>((ok) => server.stdout!.on('data', (d) => String(d).includes('Ready to accept') && ok()));
    redis = new Redis(port, '127.0.0.1');
  });
  afterAll(async () => {
    redis.disconnect();
    server.kill('SIGKILL');
  });
  beforeEach(() => redis.flushall());

  it('reports first-in and last-out across instances, exactly once each', async () => {
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
  });

  it('finds an instance dead when its heartbeat is older than the TTL, and reaps it once', async () => {
    const live = new PresenceStore(redis, 'live');
    const dead = new PresenceStore(redis, 'dead');
    const other = new PresenceStore(redis, 'other');
    const bob = { id: 'u-bob', username: 'bob' };
    await dead.join('c1', alice);
    await dead.join('c1', bob);
    await live.join('c1', bob);
    await live.heartbeat(60_000);
    await dead.heartbeat(60_000, 0); // a goodbye with no grace: lapsed at once
    expect(await live.deadInstances(60_000)).toEqual(['dead']);
    const [first, second] = await Promise.all([live.reap('dead'), other.reap('dead')]);
    expect([...first, ...second]).toEqual([{ channelId: 'c1', user: alice }]);
    expect(await live.online('c1')).toEqual([bob]);
    expect(await live.deadInstances(60_000)).toEqual([]);
  });

  it('forgets a deleted channel entirely', async () => {
    const a = new PresenceStore(redis, 'a');
    await a.join('c1', alice);
    await a.forget('c1');
    expect(await a.online('c1')).toEqual([]);
    expect(await a.join('c1', alice)).toBe(true);
  });

  it('a leave that happened while Redis was unreachable (data kept) is released when it comes back', async () => {
    const conn = new Redis(port, '127.0.0.1', { lazyConnect: true });
    await conn.connect();
    const presence = new PresenceService(loadConfig({ LEASE_TTL_MS: '60000' }), new JsonLogger('t', 'silent'));
    const events: string[] = [];
    const joined = new Promise<void>((ok) =>
      presence.onEmit((event, channelId, user, scope) => {
        events.push(`${event} ${user.username} ${scope}`);
        if (event === 'presence:joined') ok();
      }),
    );
    presence.useStore(new PresenceStore(conn, 'inst-p'), (fn) => conn.on('ready', fn));
    presence.join('c1', alice, 's1');
    await joined;
    const ended = new Promise((r) => conn.once('end', r));
    conn.disconnect();
    await ended;
    presence.leave('c1', alice.id, 's1', 0);
    expect(await new PresenceStore(redis, 'reader').online('c1')).toEqual([alice]);
    const released = new Promise<void>((ok) => presence.onEmit((event, _c, user, scope) => (events.push(`${event} ${user.username} ${scope}`), ok())));
    await conn.connect();
    await released;
    expect(await new PresenceStore(redis, 'reader').online('c1')).toEqual([]);
    expect(events).toEqual(['presence:joined alice cluster', 'presence:left alice local', 'presence:left alice cluster']);
    presence.onModuleDestroy();
    conn.disconnect();
  });
});
