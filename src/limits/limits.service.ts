import { Inject, Injectable } from '@nestjs/common';
import { rateLimited } from '../common/errors.js';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { REDIS_CLIENTS } from '../redis/redis.provider.js';
import type { RedisClients } from '../redis/redis-clients.js';
import { ClusterLimiter, type Verdict } from './cluster-limiter.js';
import { type SocketQuota, Window } from './socket-quota.js';

/** The longest a login backoff grows to. */
const MAX_BACKOFF_S = 15 * 60;
/** What RATE_AUTH_PER_IP counts, in its refusals' message. */
export const SIGN_IN_ATTEMPTS = 'sign-in attempts from this address';

/**
 * Every abuse limit (SECURITY.md) in one place, for both doors. The per-user,
 * per-address and per-account ones are counted cluster-wide (N replicas do
 * not multiply them) and fall back to per-replica counts while Redis is away;
 * the per-socket ones live where the socket does. Over a limit a call throws
 * RATE_LIMITED with when to retry. With RATE_LIMITS=off every check passes.
 */
@Injectable()
export class LimitsService {
  private readonly on: boolean;
  private readonly rest: ClusterLimiter;
  private readonly publishes: ClusterLimiter;
  private readonly connectsByIp: ClusterLimiter;
  private readonly connectsByUser: ClusterLimiter;
  private readonly authByIp: ClusterLimiter;
  /** Wrong passwords per account and address, counted over an hour; past the threshold each one adds a backoff. */
  private readonly loginFails: ClusterLimiter;
  /** Wrong passwords per account from everywhere. */
  private readonly accountFails: ClusterLimiter;
  /** Backoffs and lockouts in force: a blocked key is refused until it lapses. */
  private readonly lockouts: ClusterLimiter;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(REDIS_CLIENTS) redis: RedisClients | null,
    private readonly metrics: MetricsService,
  ) {
    this.on = config.RATE_LIMITS;
    const limiter = (name: string, rate: AppConfig['RATE_REST_PER_USER'], rememberBlocks = false) => new ClusterLimiter(name, rate, redis?.pub, config.RATE_LIMIT_TIMEOUT_MS, rememberBlocks);
    // These only refuse: once over, a key is refused from memory until its window ends.
    this.rest = limiter('rest', config.RATE_REST_PER_USER, true);
    this.publishes = limiter('publish', config.RATE_PUBLISH_PER_USER, true);
    this.connectsByIp = limiter('connect-ip', config.RATE_CONNECT_PER_IP, true);
    this.connectsByUser = limiter('connect-user', config.RATE_CONNECT_PER_USER, true);
    this.authByIp = limiter('auth-ip', config.RATE_AUTH_PER_IP, true);
    this.loginFails = limiter('login-fails', { points: config.LOGIN_FAILS_BEFORE_BACKOFF, seconds: 3_600 });
    this.accountFails = limiter('account-fails', config.RATE_LOGIN_FAILS_PER_ACCOUNT);
    this.lockouts = limiter('lockout', { points: 1, seconds: 1 });
  }

  restCall(userId: string): Promise<void> {
    return this.take(this.rest, userId, 'rest', 'requests');
  }

  publish(userId: string): Promise<void> {
    return this.take(this.publishes, userId, 'publish', 'messages');
  }

  connectFrom(ip: string): Promise<void> {
    return this.take(this.connectsByIp, ip, 'connect_ip', 'connections from this address');
  }

  connectAs(userId: string): Promise<void> {
    return this.take(this.connectsByUser, userId, 'connect_user', 'connections for this user');
  }

  /** Registration and login, every attempt, by address. */
  authAttempt(ip: string): Promise<void> {
    return this.take(this.authByIp, ip, 'auth_ip', SIGN_IN_ATTEMPTS);
  }

  /**
   * A sign-in from an address this replica already refused in the current
   * window of RATE_AUTH_PER_IP: how long until it may try again, counted as a
   * refusal (store `memory`); 0 when it is not known to be over. Synchronous,
   * no Redis: for the sign-in gate, which answers before the body is read.
   */
  blockedSignIn(ip: string): number {
    if (!this.on) return 0;
    const ms = this.authByIp.blockedFor(ip);
    if (ms > 0) this.metrics.rateLimited.inc({ limit: 'auth_ip', store: 'memory' });
    return ms;
  }

  /** How much longer `ip` stays over RATE_AUTH_PER_IP as this replica knows it, without counting anything. */
  signInBlockLeft(ip: string): number {
    return this.on ? this.authByIp.blockedFor(ip) : 0;
  }

  /** Before a password is even hashed: refused while this account and address, or the account, waits out a backoff. */
  async beforeLogin(username: string, ip: string): Promise<void> {
    if (!this.on) return;
    for (const [key, limit] of [
      [pairKey(username, ip), 'login_backoff'],
      [`account:${username}`, 'login_account'],
    ] as const) {
      const v = await this.lockouts.peek(key);
      if (!v.allowed) this.refuse(limit, v, 'wrong passwords');
    }
  }

  /** A wrong password: from LOGIN_FAILS_BEFORE_BACKOFF on, the next try waits 1 s, 2 s, 4 s … (at most 15 min). */
  async loginFailed(username: string, ip: string): Promise<void> {
    if (!this.on) return;
    const pair = await this.loginFails.consume(pairKey(username, ip));
    const over = pair.spent - this.config.LOGIN_FAILS_BEFORE_BACKOFF;
    if (over >= 0) await this.lockouts.block(pairKey(username, ip), Math.min(2 ** over, MAX_BACKOFF_S));
    const account = await this.accountFails.consume(`account:${username}`);
    if (account.spent >= this.config.RATE_LOGIN_FAILS_PER_ACCOUNT.points) {
      await this.lockouts.block(`account:${username}`, Math.max(1, Math.ceil(account.resetMs / 1000)));
    }
  }

  /** The right password clears this address's failures for the account (not the account's total). */
  async loginSucceeded(username: string, ip: string): Promise<void> {
    if (this.on) await this.loginFails.reset(pairKey(username, ip));
  }

  /** Per socket, on this replica: `held` subscriptions already, and the subscribe rate (`quota` lives on the socket). */
  subscribeAttempt(quota: SocketQuota, held: number): void {
    if (!this.on) return;
    const cap = this.config.SUBSCRIPTIONS_PER_SOCKET;
    if (held >= cap) {
      this.metrics.rateLimited.inc({ limit: 'subscriptions', store: 'local' });
      throw rateLimited(`subscriptions on this socket (at most ${cap}); unsubscribe first`);
    }
    const wait = (quota.subscribe ??= new Window()).take(this.config.RATE_SUBSCRIBE_PER_SOCKET);
    if (wait > 0) this.refuse('subscribe', { allowed: false, retryAfterMs: wait, spent: 0, resetMs: wait, store: 'local' }, 'subscribes');
  }

  /** Typing over its limit is dropped without an answer (typing is never acked); true when it may go out. */
  typing(quota: SocketQuota): boolean {
    if (!this.on) return true;
    const allowed = (quota.typing ??= new Window()).take(this.config.RATE_TYPING_PER_SOCKET) === 0;
    if (!allowed) this.metrics.rateLimited.inc({ limit: 'typing', store: 'local' });
    return allowed;
  }

  private async take(limiter: ClusterLimiter, key: string, limit: string, what: string): Promise<void> {
    if (!this.on) return;
    const v = await limiter.consume(key);
    if (!v.allowed) this.refuse(limit, v, what);
  }

  private refuse(limit: string, v: Verdict, what: string): never {
    this.metrics.rateLimited.inc({ limit, store: v.store });
    throw rateLimited(what, v.retryAfterMs);
  }
}

const pairKey = (username: string, ip: string) => `${username}|${ip}`;
