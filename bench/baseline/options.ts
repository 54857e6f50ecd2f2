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
