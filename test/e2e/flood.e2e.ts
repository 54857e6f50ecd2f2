import { describe, expect, it, jest } from '@jest/globals';
import { hubForFile, registerUser } from './support/hub.js';
import { until } from '../support/wait.js';

jest.setTimeout(60_000);

// The default limits, as deployed (RATE_REST_PER_USER 300/5s): a small, fixed flood, as CI can afford.
const t = hubForFile({ RATE_LIMITS: 'on' });
const FLOOD = 1_000;
const CONCURRENCY = 40;
const [POINTS, WINDOW_MS] = [300, 5_000];

describe('a small flood under the default limits', () => {
  it('gets 429s in the error shape and no 5xx, other users are served throughout, and the flooder is served again within 5 s of stopping', async () => {
    const [flooder, other] = [await registerUser(t.call, 'flooder'), await registerUser(t.call, 'bystander')];
    const statuses = new Map<number, number>();
    const shapes = new Set<string>();
    const bystander: number[] = [];
    let sent = 0;
    const first = Date.now();
    let last = first;
    const worker = async () => {
      for (let i = sent++; i < FLOOD; i = sent++) {
        last = Date.now();
        const res = await t.call('GET', '/api/me', undefined, flooder.token);
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        if (res.status === 429) shapes.add(`${res.body.code} ${typeof res.body.retryAfterMs} ${res.headers.get('retry-after') !== null}`);
        if (i % 100 === 0) bystander.push((await t.call('GET', '/api/me', undefined, other.token)).status);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    const stopped = Date.now();

    // The limit is a fixed window: a flood slowed past one window (a loaded CI
    // machine) opens the next with POINTS more; within one window exactly POINTS pass.
    const windows = Math.floor((last - first + 100) / WINDOW_MS) + 1; // + the requests’ own transit
    const served = statuses.get(200) ?? 0;
    expect(served).toBeGreaterThanOrEqual(POINTS);
    expect(served).toBeLessThanOrEqual(POINTS * windows);
    expect(statuses.get(429)).toBe(FLOOD - served);
    expect([...statuses.keys()].sort()).toEqual([200, 429]);
    expect([...shapes]).toEqual(['RATE_LIMITED number true']);
    expect(bystander.length).toBeGreaterThan(0);
    expect(bystander).toEqual(bystander.map(() => 200));
    await until('the flooder is served again', async () => (await t.call('GET', '/api/me', undefined, flooder.token)).status === 200, 10_000, 200);
    expect(Date.now() - stopped).toBeLessThanOrEqual(5_000);
  });
});
