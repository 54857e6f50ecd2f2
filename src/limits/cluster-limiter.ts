import type { Redis } from 'ioredis';
import { type RateLimiterAbstract, RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { Rate } from '../config/config.js';

/** How long Redis is left alone after it failed or was too slow, before it is tried again. */
const RETRY_REDIS_MS = 1_000;
/**
 * Blocks remembered at once, at most: each is a key refused in its current
 * window (an address, a user). Past it, a new block is not remembered and its
 * key is asked about in Redis as before: dearer, never wrong.
 */
const MAX_BLOCKS = 100_000;

/** Where a verdict came from: the cluster-wide count, this replica's count, or this replica's memory of a refusal. */
export type Store = 'redis' | 'local' | 'memory';

export interface Verdict {
  allowed: boolean;
  /** When the caller may try again (0 when allowed). */
  retryAfterMs: number;
  /** Points spent in the current window, this call's included. */
  spent: number;
  /** When the current window ends (or a block lapses). */
  resetMs: number;
  /** Where the count was kept: cluster-wide, this replica's only, or (a refusal) this replica's memory of an earlier one. */
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
  /** Key → when its refusal lapses (ms since the epoch); only with `rememberBlocks`. */
  private readonly blocks = new Map<string, number>();
  private remembered = 0;

  /**
   * `rememberBlocks`: for a limit whose only use is to refuse. A key refused
   * once stays refused until its window ends, so the replica answers its
   * further calls from memory (store `memory`) without a round trip to Redis
   * or spending a point: a flood of refused calls then costs neither Redis
   * round trips nor waits on Redis. Not for counts read for their own sake
   * (login failures grow a backoff with every one).
   */
  constructor(
    readonly name: string,
    readonly rate: Rate,
    redis: Redis | undefined,
    private readonly timeoutMs: number,
    private readonly rememberBlocks = false,
  ) {
    const opts = { keyPrefix: `crosswire:rl:${name}`, points: rate.points, duration: rate.seconds };
    this.local = new RateLimiterMemory(opts);
    if (redis) this.shared = new RateLimiterRedis({ ...opts, storeClient: redis, rejectIfRedisNotReady: true });
  }

  async consume(key: string, points = 1): Promise<Verdict> {
    const blocked = this.blockedFor(key);
    if (blocked > 0) return { allowed: false, retryAfterMs: blocked, spent: this.rate.points + points, resetMs: blocked, store: 'memory' };
    const v = await this.run((l) => l.consume(key, points));
    if (!v.allowed && this.rememberBlocks) this.remember(key, v.retryAfterMs);
    return v;
  }

  /** How long `key` stays refused, as this replica remembers it (0: not known to be blocked). Synchronous and free. */
  blockedFor(key: string): number {
    const until = this.blocks.get(key);
    if (until === undefined) return 0;
    const left = until - Date.now();
    if (left > 0) return left;
    this.blocks.delete(key);
    return 0;
  }

  private remember(key: string, ms: number): void {
    // Lapsed blocks of keys never seen again are swept now and then, so the map holds about the blocks in force.
    if (this.blocks.size >= MAX_BLOCKS || ++this.remembered % 1024 === 0) {
      const now = Date.now();
      for (const [k, until] of this.blocks) if (until <= now) this.blocks.delete(k);
      if (this.blocks.size >= MAX_BLOCKS) return;
    }
    this.blocks.set(key, Date.now() + ms);
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
    this.blocks.delete(key);
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
