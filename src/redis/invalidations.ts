import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { withTimeout } from '../common/with-timeout.js';
import { REDIS_CLIENTS } from './redis.provider.js';
import type { RedisClients } from './redis-clients.js';

const CHANNEL = 'crosswire:invalidate';
/** Longest a change waits for Redis to take its invalidation before answering anyway. */
const PUBLISH_WAIT_MS = 100;

type Listener = (group: string) => void;

/**
 * "This changed, drop what you hold of it", to this replica at once and to
 * every other through Redis. A cache may be used only while `reliable`: with
 * Redis unreachable, or reconnected after missing messages, a replica cannot
 * know what changed elsewhere, so everything is dropped and caching pauses.
 */
@Injectable()
export class Invalidations implements OnModuleInit {
  private readonly listeners = new Map<string, Listener[]>();
  private readonly resets: Array<() => void> = [];

  constructor(@Inject(REDIS_CLIENTS) private readonly redis: RedisClients | null) {}

  onModuleInit() {
    const redis = this.redis;
    if (!redis) return;
    void redis.sub.subscribe(CHANNEL);
    redis.sub.on('message', (channel: string, text: string) => {
      if (channel !== CHANNEL) return;
      const sep = text.indexOf('|');
      for (const l of this.listeners.get(text.slice(0, sep)) ?? []) l(text.slice(sep + 1));
    });
    // Whatever was published while a connection was away is lost to this replica.
    for (const conn of [redis.pub, redis.sub]) conn.on('ready', () => this.resets.forEach((r) => r()));
  }

  get reliable(): boolean {
    return !this.redis || (this.redis.pub.status === 'ready' && this.redis.sub.status === 'ready');
  }

  on(kind: string, listener: Listener, reset: () => void): void {
    this.listeners.set(kind, [...(this.listeners.get(kind) ?? []), listener]);
    this.resets.push(reset);
  }

  /**
   * Resolves once Redis took the message (it is then already on its way to every other replica, ahead of
   * anything the caller answers next), or after PUBLISH_WAIT_MS: a slow Redis never stalls the request.
   */
  publish(kind: string, group: string): Promise<void> {
    for (const l of this.listeners.get(kind) ?? []) l(group);
    if (!this.redis) return Promise.resolve();
    // A lost message is bounded by the caches' TTL; while Redis is down nothing is cached.
    const sent = this.redis.pub.publish(CHANNEL, `${kind}|${group}`).then(
      () => undefined,
      () => undefined,
    );
    return withTimeout(sent, PUBLISH_WAIT_MS, undefined);
  }
}
