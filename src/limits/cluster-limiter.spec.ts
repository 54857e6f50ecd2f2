import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { ClusterLimiter } from './cluster-limiter.js';

// Without Redis the limiter counts on this replica (store "local"); what is under test is what it remembers.
const rate = { points: 2, seconds: 60 };

describe('ClusterLimiter: refusals remembered until the window ends', () => {
  afterEach(() => {
    jest.useRealTimers();
  });

  it('with rememberBlocks, a key refused once is refused from memory (store "memory") without spending, until its window ends', async () => {
    jest.useFakeTimers({ now: 1_000_000 });
    const l = new ClusterLimiter('spec', rate, undefined, 50, true);
    expect((await l.consume('a')).allowed).toBe(true);
    expect((await l.consume('a')).allowed).toBe(true);
    const first = await l.consume('a');
    expect(first).toMatchObject({ allowed: false, store: 'local' });
    expect(first.retryAfterMs).toBeGreaterThan(59_000);
    expect(l.blockedFor('a')).toBe(first.retryAfterMs);
    jest.advanceTimersByTime(10_000);
    const again = await l.consume('a');
    expect(again).toMatchObject({ allowed: false, store: 'memory', retryAfterMs: first.retryAfterMs - 10_000 });
    expect(l.blockedFor('b')).toBe(0);
    expect((await l.consume('b')).allowed).toBe(true);
    jest.advanceTimersByTime(first.retryAfterMs - 10_000);
    expect(l.blockedFor('a')).toBe(0);
    expect(await l.consume('a')).toMatchObject({ allowed: true, store: 'local', spent: 1 });
  });

  it('reset() forgets a remembered refusal', async () => {
    const l = new ClusterLimiter('spec', rate, undefined, 50, true);
    for (let i = 0; i < 3; i++) await l.consume('a');
    expect(l.blockedFor('a')).toBeGreaterThan(0);
    await l.reset('a');
    expect(l.blockedFor('a')).toBe(0);
    expect(await l.consume('a')).toMatchObject({ allowed: true, store: 'local', spent: 1 });
  });

  it('without rememberBlocks every call is counted (login failures grow a backoff with each one)', async () => {
    const l = new ClusterLimiter('spec', rate, undefined, 50);
    const spent: number[] = [];
    for (let i = 0; i < 5; i++) {
      const v = await l.consume('a');
      expect(v.store).toBe('local');
      spent.push(v.spent);
    }
    expect(spent).toEqual([1, 2, 3, 4, 5]);
    expect(l.blockedFor('a')).toBe(0);
  });
});
