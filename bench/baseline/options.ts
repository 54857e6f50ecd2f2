// The baseline's pinned Socket.IO options: what a user would run instead of
// the hub (plain socket.io 4 + @socket.io/redis-adapter on ioredis). The
// engine options equal the hub's (src/realtime/io.adapter.ts) so the
// comparison is of the work, not of a setting; the report prints them.
import type { ServerOptions } from 'socket.io';

export const BASELINE_SERVER_OPTIONS = {
  path: '/socket.io',
  transports: ['polling', 'websocket'],
  pingInterval: 25_000,
  pingTimeout: 20_000,
  maxHttpBufferSize: 100_000,
  perMessageDeflate: false,
  httpCompression: true,
  serveClient: false,
  cors: { origin: true, credentials: true },
} satisfies Partial<ServerOptions>;

/** `createAdapter(pub, sub, BASELINE_ADAPTER_OPTIONS)`: classic PUBLISH/PSUBSCRIBE, as the hub uses. */
export const BASELINE_ADAPTER_OPTIONS = { key: 'baseline' };

/** ioredis options of both baseline connections: the library defaults, named here so the report shows them. */
export const BASELINE_REDIS_OPTIONS = { lazyConnect: false, maxRetriesPerRequest: 20 };

/**
 * socket.io's own ways to scale out, one per baseline server start
 * (BASELINE_VARIANT=… in the environment, or `--variant …`):
 * - classic: PUBLISH to one channel per namespace; every server receives every broadcast (the default).
 * - sharded: `createShardedAdapter(pub, sub, { subscriptionMode: 'dynamic' })`, Redis 7 SSUBSCRIBE with
 *   one shard channel per public room, subscribed when the room is created on that server and dropped
 *   when it empties: a server without members of a room receives none of its broadcasts, as the hub's
 *   per-channel bus.
 * - streams: @socket.io/redis-streams-adapter (XADD to one stream, every server XREADs it) with
 *   socket.io's connection state recovery: a client back within the window gets the packets it missed.
 */
export const BASELINE_VARIANTS = ['classic', 'sharded', 'streams'] as const;
export type BaselineVariant = (typeof BASELINE_VARIANTS)[number];
export const DEFAULT_BASELINE_VARIANT: BaselineVariant = 'classic';

/** `createShardedAdapter(pub, sub, BASELINE_SHARDED_OPTIONS)` (@socket.io/redis-adapter 8.3). */
export const BASELINE_SHARDED_OPTIONS = { channelPrefix: 'baseline', subscriptionMode: 'dynamic' } as const;

/** `createAdapter(redis, BASELINE_STREAMS_OPTIONS)` (@socket.io/redis-streams-adapter): the package defaults, named so the report shows them. */
export const BASELINE_STREAMS_OPTIONS = { streamName: 'baseline', maxLen: 10_000, readCount: 100, blockTimeInMs: 5000 };

/** socket.io's `connectionStateRecovery` of the streams variant: the library defaults (2 minutes, middlewares skipped on recovery). */
export const BASELINE_RECOVERY_OPTIONS = { maxDisconnectionDuration: 120_000, skipMiddlewares: true };

/** Every variant's settings, for the results and the report. */
export const BASELINE_VARIANT_SETTINGS: Record<BaselineVariant, { adapter: string; options: object; connectionStateRecovery: object | null }> = {
  classic: { adapter: '@socket.io/redis-adapter createAdapter', options: BASELINE_ADAPTER_OPTIONS, connectionStateRecovery: null },
  sharded: { adapter: '@socket.io/redis-adapter createShardedAdapter', options: BASELINE_SHARDED_OPTIONS, connectionStateRecovery: null },
  streams: { adapter: '@socket.io/redis-streams-adapter createAdapter', options: BASELINE_STREAMS_OPTIONS, connectionStateRecovery: BASELINE_RECOVERY_OPTIONS },
};

/** The variant named by `--variant X` in argv, else BASELINE_VARIANT, else classic; anything else is refused. */
export function baselineVariant(argv: string[], env: NodeJS.ProcessEnv): BaselineVariant {
  const i = argv.indexOf('--variant');
  const v = i >= 0 ? argv[i + 1] : (env.BASELINE_VARIANT ?? DEFAULT_BASELINE_VARIANT);
  if (!(BASELINE_VARIANTS as readonly string[]).includes(v ?? '')) throw new Error(`baseline variant ${String(v)}: one of ${BASELINE_VARIANTS.join(', ')}`);
  return v as BaselineVariant;
}
