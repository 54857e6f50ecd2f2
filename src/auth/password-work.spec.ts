import { AppError } from '../common/errors.js';
import { loadConfig } from '../config/config.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { PasswordWork } from './password-work.js';

// Real scrypt; the calls below are all made in one tick, so which are queued
// and which are refused does not depend on how fast the machine hashes.
describe('PasswordWork (bounded hashing)', () => {
  const setup = (concurrency: number, queue: number) => {
    const metrics = new MetricsService();
    const work = new PasswordWork(loadConfig({ PASSWORD_CONCURRENCY: String(concurrency), PASSWORD_QUEUE: String(queue) }), metrics);
    const count = async (of: 'shed' | 'passwordWork', label: string, value: string) => (await metrics[of].get()).values.find((v) => (v.labels as Record<string, string>)[label] === value)?.value ?? 0;
    return { work, shed: () => count('shed', 'what', 'password'), derived: async () => ({ hash: await count('passwordWork', 'op', 'hash'), verify: await count('passwordWork', 'op', 'verify') }) };
  };

  it('runs CONCURRENCY at once, queues QUEUE more, refuses the rest UNAVAILABLE at once and counts them', async () => {
    const { work, shed } = setup(1, 2);
    const outcomes = await Promise.allSettled(Array.from({ length: 6 }, (_, i) => work.hash(`password-${i}`)));
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'rejected', 'rejected', 'rejected']);
    for (const o of outcomes.slice(3)) {
      const err = (o as PromiseRejectedResult).reason;
      expect(err).toBeInstanceOf(AppError);
      expect(err.code).toBe('UNAVAILABLE');
    }
    expect(await shed()).toBe(3);
  });

  it('frees its slots: after a refused burst, and after a malformed stored hash, the next calls run', async () => {
    const { work } = setup(1, 0);
    const burst = await Promise.allSettled([work.hash('password-a'), work.hash('password-b')]);
    expect(burst.map((o) => o.status)).toEqual(['fulfilled', 'rejected']);
    const stored = (burst[0] as PromiseFulfilledResult<string>).value;
    expect(await work.verify('password-a', stored)).toBe(true);
    expect(await work.verify('password-b', stored)).toBe(false);
    expect(await work.verify('password-a', 'not-a-hash')).toBe(false);
    expect(await work.verify('password-a', stored)).toBe(true);
  });

  it('counts each scrypt it runs by op; a malformed stored hash runs none', async () => {
    const { work, derived } = setup(1, 0);
    const stored = await work.hash('password-a');
    await work.verify('password-a', stored);
    await work.verify('password-b', stored);
    await work.verify('password-a', 'not-a-hash');
    expect(await derived()).toEqual({ hash: 1, verify: 2 });
  });
});
