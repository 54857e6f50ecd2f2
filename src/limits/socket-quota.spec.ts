import { describe, expect, it } from '@jest/globals';
import { Window } from './socket-quota.js';

describe('Window (a per-socket fixed window)', () => {
  it('allows `points` calls per window, then answers how long until the window ends, then starts afresh', () => {
    const w = new Window();
    const rate = { points: 2, seconds: 5 };
    expect([w.take(rate, 1_000), w.take(rate, 1_500)]).toEqual([0, 0]);
    expect(w.take(rate, 2_000)).toBe(4_000);
    expect(w.take(rate, 5_999)).toBe(1);
    expect(w.take(rate, 6_000)).toBe(0);
  });
});
