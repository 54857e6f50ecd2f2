import { freePort } from '../../test/support/free-port.js';
import { RedisProcess } from '../../test/support/redis.js';
import { until } from '../../test/support/wait.js';
import { JsonLogger } from '../logging/logger.js';
import { CoherentCache } from './coherent-cache.js';
import { Invalidations } from './invalidations.js';
import { type RedisClients, createRedisClients } from './redis-clients.js';

// Medium tier: two replicas' caches on one real redis-server.
describe('CoherentCache across replicas (real Redis)', () => {
  let redis: RedisProcess;
  const clients: RedisClients[] = [];
  const caches: Array<CoherentCache<string>> = [];

  beforeAll(async () => {
    redis = new RedisProcess(await freePort());
    await redis.start();
  });
  afterAll(async () => {
    caches.forEach((c) => c.stop());
    await Promise.all(clients.map((c) => c.close()));
    await redis.stop();
  });

  /** A replica's cache over `source`, counting the loads that reached it. */
  const replica = async (source: Map<string, string>, ttlMs = 60_000) => {
    const conns = createRedisClients(redis.url, new JsonLogger('t', 'silent'));
    clients.push(conns);
    const bus = new Invalidations(conns);
    bus.onModuleInit();
    await until('connected', () => bus.reliable);
    const loads = { n: 0 };
    const cache = new CoherentCache<string>(bus, 'thing', ttlMs);
    caches.push(cache);
    const read = (key: string) => cache.get(key, '', async () => (loads.n++, source.get(key) ?? 'none'));
    return { cache, read, loads, conns, bus };
  };

  it('serves repeats from memory; a change made on one replica is dropped on the other too', async () => {
    const db = new Map([['k', 'v1']]);
    const a = await replica(db);
    const b = await replica(db);
    expect([await a.read('k'), await a.read('k'), await b.read('k')]).toEqual(['v1', 'v1', 'v1']);
    expect([a.loads.n, b.loads.n]).toEqual([1, 1]);
    db.set('k', 'v2');
    // Not awaited: this replica drops its copy at once; the publish to Redis never rejects (Invalidations.publish).
    void a.cache.invalidate('k');
    expect(await a.read('k')).toBe('v2');
    await until('b to drop its copy', async () => (await b.read('k')) === 'v2', 5_000, 10);
    expect(b.loads.n).toBeGreaterThanOrEqual(2);
  });

  it('forgets a group once all its entries expired, with no further access; a group not yet expired stays', async () => {
    const db = new Map([
      ['a', '1'],
      ['b', '2'],
    ]);
    const short = await replica(db, 300);
    const long = await replica(db);
    await short.read('a');
    await long.read('a');
    const t0 = Date.now();
    await until('the expired group to be swept', () => short.cache.size === 0, 5_000, 20);
    // Swept by the timer (at most a second after the expiry), not kept for the life of the process.
    expect(Date.now() - t0).toBeLessThan(2_500);
    expect(long.cache.size).toBe(1);
    expect(await short.read('a')).toBe('1');
    expect(short.loads.n).toBe(2);
  });

  it('a load that raced an invalidation is not kept', async () => {
    const db = new Map([['k', 'old']]);
    const a = await replica(db);
    let release!: () => void;
    const slow = a.cache.get('k', '', () => new Promise<string>((r) => (release = () => r('old'))));
    void a.cache.invalidate('k'); // dropped here at once, the publish never rejects: the load is still in flight
    release();
    expect(await slow).toBe('old');
    db.set('k', 'new');
    expect(await a.read('k')).toBe('new');
  });

  it('is bypassed while Redis is unreachable, and starts empty when it is back', async () => {
    const db = new Map([['k', 'v1']]);
    const a = await replica(db);
    await a.read('k');
    await redis.stop();
    await until('a to see Redis gone', () => !a.bus.reliable, 10_000, 20);
    const before = a.loads.n;
    expect([await a.read('k'), await a.read('k')]).toEqual(['v1', 'v1']);
    expect(a.loads.n).toBe(before + 2);
    db.set('k', 'changed while Redis was down');
    await redis.start();
    await until('a to see Redis back', () => a.bus.reliable, 10_000, 20);
    expect(await a.read('k')).toBe('changed while Redis was down');
  });
});
