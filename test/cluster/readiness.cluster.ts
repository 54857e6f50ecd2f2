import { jest } from '@jest/globals';
import { api, registerUser } from '../support/client.js';
import { type Cluster, startCluster, until } from './support/cluster.js';
import { Haproxy } from './support/haproxy.js';

jest.setTimeout(90_000);

describe('readiness: a stuck fan-out is 503 for that replica only, and the balancer never takes the whole cluster out', () => {
  let cluster: Cluster;
  const lb = new Haproxy();
  beforeAll(async () => {
    cluster = await startCluster(2);
    await lb.start(cluster.replicas);
  });
  afterAll(async () => {
    await lb.stop();
    await cluster.stop();
  });

  it('routes around a replica whose canary is lost while Redis answers; with no replica ready, routes to the live ones', async () => {
    const [stuck, healthy] = cluster.replicas;
    const user = await registerUser(api(lb.url), 'ready');
    await stuck.kill('SIGKILL');
    await stuck.start({ FAULTS: 'stall-fanout' });

    await until('the stuck replica reports fanout stuck', async () => (await api(stuck.url)('GET', '/readyz')).status === 503, 15_000);
    expect((await api(stuck.url)('GET', '/readyz')).body).toEqual({
      status: 'unready',
      checks: { postgres: 'ok', redis: 'ok', fanout: 'stuck', draining: false },
    });
    expect((await api(healthy.url)('GET', '/readyz')).body.status).toBe('ok');

    // Once HAProxy has seen it, every request goes to the healthy replica.
    const replicaOf = async () => (await api(lb.url)('GET', '/api/me', undefined, user.token)).headers.get('x-replica-id');
    await until('the balancer routes only to the ready replica', async () => {
      const ids = await Promise.all(Array.from({ length: 6 }, replicaOf));
      return ids.every((id) => id === healthy.id);
    });

    // A sticky cookie naming the not-ready replica is redispatched to a ready one.
    const sticky = await fetch(`${lb.url}/api/me`, { headers: { authorization: `Bearer ${user.token}`, cookie: `SRV=${stuck.id}` } });
    expect(sticky.status).toBe(200);
    expect(sticky.headers.get('x-replica-id')).toBe(healthy.id);
    expect(sticky.headers.get('set-cookie')).toMatch(new RegExp(`SRV=${healthy.id}`));

    // No replica ready at all: the live one still serves.
    await healthy.kill('SIGKILL');
    await until('the balancer falls back to the live replica', async () => (await replicaOf().catch(() => null)) === stuck.id);
    const me = await api(lb.url)('GET', '/api/me', undefined, user.token);
    expect(me.status).toBe(200);
    expect(me.body.id).toBe(user.id);
  });
});
