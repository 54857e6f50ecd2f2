import { describe, expect, it, jest } from '@jest/globals';
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { type ClientSocket, api, emitAck, metricValue, registerUser } from '../support/client.js';
import { type Replica, clusterForFile } from './support/cluster.js';

jest.setTimeout(120_000);

const SAMPLES = 100;
const FLOODERS = 48;

/** Publish → delivered to another socket, one message at a time: milliseconds each. */
async function deliveryLatencies(from: ClientSocket, to: ClientSocket, channelId: string, tag: string): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    const body = `${tag}-${i}`;
    const t0 = performance.now();
    const seen = new Promise<void>((resolve) => {
      const on = (m: { body: unknown }) => {
        if (m.body !== body) return;
        to.off('message:created', on);
        resolve();
      };
      to.on('message:created', on);
    });
    const ack = await emitAck(from, 'message:publish', { channelId, body });
    if (!ack.ok) throw new Error(`publish: ${JSON.stringify(ack.error)}`);
    await seen;
    out.push(performance.now() - t0);
  }
  return out;
}

const p99 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.ceil(xs.length * 0.99) - 1];

describe('a flood of wrong-password logins does not starve message delivery', () => {
  // The limits are off here (FAST_ENV): what is under test is the bound on password hashing alone
  // (PASSWORD_CONCURRENCY, PASSWORD_QUEUE, at their defaults), as if the flood came from many addresses. The replica is
  // its own process, so the flooders' and the probe's work is not on its event loop.
  const ctx = clusterForFile(1);

  it(`with ${FLOODERS} concurrent wrong logins, delivery p99 stays within 5x its quiet value + 50 ms, and the flood gets only 401 or 503`, async () => {
    const url = ctx.cluster.replicas[0].url;
    const call = api(url);
    const [alice, bob] = [await registerUser(call, 'flood'), await registerUser(call, 'flood')];
    const channelId = (await call('POST', '/api/channels', { name: `flood-${Date.now()}` }, alice.token)).body.id;
    const a = (await ctx.subscribed(url, alice.token, channelId)).socket;
    const b = (await ctx.subscribed(url, bob.token, channelId)).socket;
    await deliveryLatencies(a, b, channelId, 'warm');
    const quiet = await deliveryLatencies(a, b, channelId, 'quiet');

    const statuses = new Map<number, number>();
    let flooding = true;
    const flooder = async (n: number) => {
      for (let i = 0; flooding; i++) {
        const res = await fetch(`${url}/api/auth/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ username: i % 2 ? alice.username : `nobody${n}`, password: `wrong-password-${i}` }),
        });
        await res.arrayBuffer();
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      }
    };
    const flood = Array.from({ length: FLOODERS }, (_, n) => flooder(n));
    let loaded: number[];
    try {
      loaded = await deliveryLatencies(a, b, channelId, 'flood');
    } finally {
      flooding = false;
      await Promise.all(flood);
    }

    const [q, f] = [p99(quiet), p99(loaded)];
    console.log(`delivery p99: quiet ${q.toFixed(1)} ms, under the login flood ${f.toFixed(1)} ms; flood answers ${JSON.stringify(Object.fromEntries(statuses))}`);
    expect(f).toBeLessThanOrEqual(5 * q + 50);
    expect([...statuses.keys()].every((s) => s === 401 || s === 503)).toBe(true);
    expect(statuses.get(401) ?? 0).toBeGreaterThan(0);
  });
});

describe('refused sign-ins from one address (limits on): Redis is asked until the address is refused, then no more', () => {
  const limited = clusterForFile(2, { RATE_LIMITS: 'on', TRUSTED_PROXIES: 'loopback', RATE_AUTH_PER_IP: '4/60s', AUTH_REFUSAL_DELAY_MS: '0' });
  const REFUSALS = 200;

  it(`counts cluster-wide in Redis up to each replica's first refusal, then answers ${REFUSALS} refusals from memory: the Redis count does not move, every one in the §4 shape`, async () => {
    const [r1, r2] = limited.cluster.replicas as [Replica, Replica];
    const ip = '198.51.100.77';
    const redis = new Redis(limited.cluster.redis.url);
    // rate-limiter-flexible's key: what Redis has counted for this address in the current window.
    const countedInRedis = async () => Number(await redis.get(`crosswire:rl:auth-ip:${ip}`));
    const attempt = (r: Replica) =>
      fetch(`${r.url}/api/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-forwarded-for': ip },
        body: JSON.stringify({ username: 'nobody', password: 'wrong-password' }),
      }).then(async (res) => ({
        status: res.status,
        headers: res.headers,
        body: await res.json(),
      }));
    const refusedBy = async (r: Replica) =>
      Object.fromEntries(await Promise.all(['redis', 'local', 'memory'].map(async (store) => [store, await metricValue(r.url, 'crosswire_rate_limited_total', { limit: 'auth_ip', store })])));
    try {
      for (let i = 0; i < 4; i++) expect((await attempt([r1, r2][i % 2])).status).toBe(401);
      expect(await countedInRedis()).toBe(4);
      expect((await attempt(r1)).status).toBe(429); // r1's first refusal: decided in Redis
      expect(await countedInRedis()).toBe(5);

      const answers = [];
      for (let i = 0; i < REFUSALS; i += 20) answers.push(...(await Promise.all(Array.from({ length: 20 }, () => attempt(r1)))));
      for (const a of answers) {
        expect(a.status).toBe(429);
        expect(a.body).toEqual({
          statusCode: 429,
          error: 'Too Many Requests',
          code: 'RATE_LIMITED',
          message: expect.stringMatching(/^too many sign-in attempts from this address; try again in \d+ s$/),
          retryAfterMs: expect.any(Number),
        });
        expect(Number(a.headers.get('retry-after'))).toBe(Math.ceil(a.body.retryAfterMs / 1000));
        expect(a.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
        expect(a.headers.get('x-replica-id')).toBe('r1');
      }
      expect(await countedInRedis()).toBe(5);
      expect(await refusedBy(r1)).toEqual({ redis: 1, local: 0, memory: REFUSALS });

      // r2 has not refused this address yet: it asks Redis, where the count is cluster-wide, then remembers.
      expect((await attempt(r2)).status).toBe(429);
      expect((await attempt(r2)).status).toBe(429);
      expect(await countedInRedis()).toBe(6);
      expect(await refusedBy(r2)).toEqual({ redis: 1, local: 0, memory: 1 });
    } finally {
      redis.disconnect();
    }
  });
});
