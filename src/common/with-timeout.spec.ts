import { jest } from '@jest/globals';
import { withTimeout } from './with-timeout.js';

describe('withTimeout', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('answers with the work when it settles first, and leaves no timer behind', async () => {
    await expect(withTimeout(Promise.resolve('done'), 1_000, 'late')).resolves.toBe('done');
    expect(jest.getTimerCount()).toBe(0);
  });

  it('answers `late` once the time is up, and a rejection of the work after that is handled', async () => {
    let reject!: (e: Error) => void;
    const work = new Promise<string>((_, r) => (reject = r));
    const answer = withTimeout(work, 1_000, 'late');
    await jest.advanceTimersByTimeAsync(1_000);
    await expect(answer).resolves.toBe('late');
    reject(new Error('after the deadline'));
    await jest.advanceTimersByTimeAsync(0);
    expect(jest.getTimerCount()).toBe(0);
  });

  it("passes the work's own rejection through when it comes first", async () => {
    await expect(withTimeout(Promise.reject(new Error('refused')), 1_000, 'late')).rejects.toThrow('refused');
  });
});
