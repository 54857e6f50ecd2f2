import { jest } from '@jest/globals';
import { setTimeout as delay } from 'node:timers/promises';
import { api, metricValue, registerUser } from '../support/client.js';
import { clusterForFile } from './support/cluster.js';

jest.setTimeout(90_000);

const REST = 6;
const PUBLISH = 4; // under REST: a REST publish counts against both

describe('rate limits across replicas', () => {
  const ctx = clusterForFile(2, { RATE_LIMITS: 'on', RATE_REST_PER_USER: `${REST}/60s`, RATE_PUBLISH_PER_USER: `${PUBLISH}/60s`, RATE_AUTH_PER_IP: '1000/60s' });
  const replicas = () => ctx.cluster.replicas;
  const me = (url: string, token: string) => api(url)('GET', '/api/me', undefined, token);

  it("one user's publishes are counted once for the whole cluster (in Redis), not once per replica", async () => {
    const [r1, r2] = replicas();
    const owner = await registerUser(api(r1.url), 'rlown');
    const channelId = (await api(r1.url)('POST', '/api/channels', { name: `rl-${Date.now()}` }, owner.token)).body.id;
    const author = await registerUser(api(r1.url), 'rlpub');
    for (let i = 0; i < PUBLISH; i++) {
      const res = await api([r1, r2][i % 2].url)('POST', `/api/channels/${channelId}/messages`, { body: i }, author.token);
      expect(res.status).toBe(201);
    }
    for (const r of [r1, r2]) {
      const res = await api(r.url)('POST', `/api/channels/${channelId}/messages`, { body: 'over' }, author.token);
      expect(res.status).toBe(429);
      expect(res.body.code).toBe('RATE_LIMITED');
    }
    const counted = await Promise.all([r1, r2].map((r) => metricValue(r.url, 'crosswire_rate_limited_total', { limit: 'publish', store: 'redis' })));
    expect(counted).toEqual([1, 1]);
    const history = await api(r2.url)('GET', `/api/channels/${channelId}/messages`, undefined, owner.token);
    expect(history.body.lastSeq).toBe(PUBLISH);
  });

  it('with Redis paused (SIGSTOP), every call is still answered at once and limited per replica; resumed, the count is shared again', async () => {
    const [r1, r2] = replicas();
    const [during, after] = [await registerUser(api(r1.url), 'rlstop'), await registerUser(api(r1.url), 'rlcont')];
    const pid = ctx.cluster.redis.child!.pid!;
    process.kill(pid, 'SIGSTOP');
    try {
      for (const r of [r1, r2]) {
        for (let i = 0; i < REST; i++) {
          const t0 = Date.now();
          expect((await me(r.url, during.token)).status).toBe(200);
          expect(Date.now() - t0).toBeLessThan(1_000); // RATE_LIMIT_TIMEOUT_MS is 50: never Redis's pause
        }
        const t0 = Date.now();
        expect((await me(r.url, during.token)).status).toBe(429);
        expect(Date.now() - t0).toBeLessThan(1_000);
        expect(await metricValue(r.url, 'crosswire_rate_limited_total', { limit: 'rest', store: 'local' })).toBe(1);
      }
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    await delay(1_100); // a replica leaves a failed Redis alone for 1 s before trying it again
    for (let i = 0; i < REST; i++) expect((await me([r1, r2][i % 2].url, after.token)).status).toBe(200);
    expect((await me(r2.url, after.token)).status).toBe(429);
    expect(await metricValue(r2.url, 'crosswire_rate_limited_total', { limit: 'rest', store: 'redis' })).toBeGreaterThanOrEqual(1);
  });

  it('with Redis down, limits still hold on each replica (never none)', async () => {
    const [r1, r2] = replicas();
    const user = await registerUser(api(r1.url), 'rldown');
    await ctx.cluster.redis.stop();
    // Each replica counts on its own now: the full budget on each, and not one request more.
    for (const r of [r1, r2]) {
      for (let i = 0; i < REST; i++) expect([r.id, (await me(r.url, user.token)).status]).toEqual([r.id, 200]);
      const res = await me(r.url, user.token);
      expect([r.id, res.status]).toEqual([r.id, 429]);
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    }
  });
});
