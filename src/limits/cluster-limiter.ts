import type { Redis } from 'ioredis';
import { type RateLimiterAbstract, RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { Rate } from '../config/config.js';

/** How long Redis is left alone after it failed or was too slow, before it is tried again. */
const RETRY_REDIS_MS = 1_000;

export type Store = 'redis' | 'local';

export interface Verdict {
  allowed: boolean;
  /** When the caller may try again (0 when allowed). */
  retryAfterMs: number;
  /** Points spent in the current window, this call's included. */
  spent: number;
  /** When the current window ends (or a block lapses). */
  resetMs: number;
  /** Where the count was kept: cluster-wide, or this replica's only. */
  store: Store;
}

type Outcome = { over: boolean; res: RateLimiterRes } | null;

/**
 * One limit, counted cluster-wide in Redis (rate-limiter-flexible's atomic
 * script), with a per-replica twin of the same size: while Redis is away, or
 * answers slower than `timeoutMs`, the replica counts alone, so a paused Redis
 * never stalls a request and a limit never becomes none. After a failure
 * Redis is left alone for a second rather than queuing more calls on it.
 */
export class ClusterLimiter {
  private readonly shared?: RateLimiterRedis;
  private readonly local: RateLimiterMemory;
  private redisAfter = 0;

  constructor(
    readonly name: string,
    readonly rate: Rate,
    redis: Redis | undefined,
    private readonly timeoutMs: number,
  ) {
    const opts = { keyPrefix: `crosswire:rl:${name}`, points: rate.points, duration: rate.seconds };
    this.local = new RateLimiterMemory(opts);
    if (redis) this.shared = new RateLimiterRedis({ ...opts, storeClient: redis, rejectIfRedisNotReady: true });
  }

  consume(key: string, points = 1): Promise<Verdict> {
    return this.run((l) => l.consume(key, points));
  }

  /** The current state of `key` without spending anything (a key never seen is allowed, 0 spent). */
  peek(key: string): Promise<Verdict> {
    return this.run(async (l) => (await l.get(key)) ?? new RateLimiterRes(this.rate.points, 0, 0));
  }

  /** Refuses `key` for `seconds` from now, whatever was spent. */
  async block(key: string, seconds: number): Promise<void> {
    await this.run((l) => l.block(key, seconds));
  }

  /** Forgets `key` (e.g. a successful login clears its failures). */
  async reset(key: string): Promise<void> {
    await this.run(async (l) => {
      await l.delete(key);
      return new RateLimiterRes(this.rate.points, 0, 0);
    });
  }

  /** The call on Redis when it is usable and answers in time, otherwise on this replica's twin. */
  private async run(call: (l: RateLimiterAbstract) => Promise<RateLimiterRes>): Promise<Verdict> {
    if (this.shared && Date.now() >= this.redisAfter) {
      const outcome = await this.withTimeout(settle(call(this.shared)));
      if (outcome) return this.verdict(outcome, 'redis');
      this.redisAfter = Date.now() + RETRY_REDIS_MS;
    }
    const outcome = await settle(call(this.local));
    if (!outcome) throw new Error(`rate limiter ${this.name} failed in memory`);
    return this.verdict(outcome, 'local');
  }

  private verdict({ over, res }: NonNullable<Outcome>, store: Store): Verdict {
    // get() and block() resolve even for a key over its limit: what was spent says it.
    const blocked = over || res.consumedPoints > this.rate.points;
    return { allowed: !blocked, retryAfterMs: blocked ? Math.max(1, res.msBeforeNext) : 0, spent: res.consumedPoints, resetMs: res.msBeforeNext, store };
  }

  private withTimeout(answer: Promise<Outcome>): Promise<Outcome> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), this.timeoutMs)));
    return Promise.race([answer, late]).finally(() => clearTimeout(timer));
  }
}

/** rate-limiter-flexible rejects with a RateLimiterRes when over the limit, and with an Error when its store failed. */
function settle(call: Promise<RateLimiterRes>): Promise<Outcome> {
  return call.then(
    (res) => ({ over: false, res }),
    (e: unknown) => (e instanceof RateLimiterRes ? { over: true, res: e } : null),
  );
}
