import { Redis, type RedisOptions } from 'ioredis';
import type { JsonLogger } from '../logging/logger.js';

// Commands the Socket.IO adapter fires without awaiting: during an outage their
// rejections would be unhandled, and Node 20 exits on an unhandled rejection.
const FIRE_AND_FORGET = new Set(['publish', 'spublish', 'subscribe', 'psubscribe', 'unsubscribe', 'punsubscribe', 'ssubscribe', 'sunsubscribe']);

/** A view of `client` whose fire-and-forget commands log their failure instead of rejecting. */
export function guarded(client: Redis, onError: (command: string, err: unknown) => void): Redis {
  return new Proxy(client, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof prop !== 'string' || typeof value !== 'function') return value;
      const method = value as (...args: unknown[]) => unknown;
      if (!FIRE_AND_FORGET.has(prop)) return method.bind(target);
      return (...args: unknown[]) => {
        try {
          const result = method.apply(target, args);
          return result instanceof Promise ? result.catch((err: unknown) => onError(prop, err)) : result;
        } catch (err) {
          onError(prop, err);
          return Promise.resolve(undefined);
        }
      };
    },
  });
}

export interface RedisClients {
  /** Publishes and runs commands; fails fast while Redis is away (no offline queue). */
  pub: Redis;
  /** The Socket.IO adapter's subscriber connection, and cache invalidations; queues subscriptions until connected. */
  sub: Redis;
  /** Subscriber connection of the per-channel topics (realtime/channel-bus.ts) and the fan-out canary. */
  bus: Redis;
  close(): Promise<void>;
}

/** `counted` hears every error (crosswire_background_errors_total{source="redis"}); the log only one per kind every 10 s. */
export function createRedisClients(url: string, logger: JsonLogger, counted: () => void = () => undefined): RedisClients {
  const last = new Map<string, number>();
  // One line per client and error kind every 10 s: an outage must not flood the log.
  const logError = (who: string) => (err: Error) => {
    counted();
    const key = `${who}:${err.message}`;
    if (Date.now() - (last.get(key) ?? 0) < 10_000) return;
    last.set(key, Date.now());
    logger.event('warn', 'redis error', { client: who, err: err.message });
  };
  const common: RedisOptions = {
    lazyConnect: false,
    connectTimeout: 2_000,
    retryStrategy: (times) => Math.min(100 * times, 1_000),
  };
  const pub = new Redis(url, { ...common, enableOfflineQueue: false, maxRetriesPerRequest: 1, connectionName: 'crosswire-pub' });
  const sub = new Redis(url, { ...common, enableOfflineQueue: true, maxRetriesPerRequest: null, connectionName: 'crosswire-sub' });
  const bus = new Redis(url, { ...common, enableOfflineQueue: true, maxRetriesPerRequest: null, connectionName: 'crosswire-bus' });
  pub.on('error', logError('pub'));
  sub.on('error', logError('sub'));
  bus.on('error', logError('bus'));
  const onGuardError = (command: string, err: unknown) => logError(`unawaited ${command}`)(err as Error);
  return {
    pub: guarded(pub, onGuardError),
    sub: guarded(sub, onGuardError),
    bus: guarded(bus, onGuardError),
    async close() {
      pub.disconnect();
      sub.disconnect();
      bus.disconnect();
    },
  };
}
