import type { INestApplicationContext } from '@nestjs/common';
import { IoAdapter } from '@nestjs/platform-socket.io';
import { createAdapter } from '@socket.io/redis-adapter';
import type { Server, ServerOptions } from 'socket.io';
import type { AppConfig } from '../config/config.js';
import { originAllowed } from './origin.js';
import type { RedisClients } from '../redis/redis-clients.js';

/** Socket.IO server options that depend on configuration (decorators are static), and the Redis adapter. */
export class CrosswireIoAdapter extends IoAdapter {
  constructor(
    app: INestApplicationContext,
    private readonly config: AppConfig,
    private readonly redis: RedisClients | null,
  ) {
    super(app);
  }

  override createIOServer(port: number, options?: ServerOptions): Server {
    const allowList = this.config.CORS_ORIGINS;
    const server: Server = super.createIOServer(port, {
      ...options,
      path: '/socket.io',
      maxHttpBufferSize: this.config.SOCKET_MAX_BYTES,
      pingInterval: 25_000,
      pingTimeout: 20_000,
      // CORS headers only for allowed origins; the handshake middleware gives
      // the others a clear `origin not allowed`.
      cors: {
        credentials: true,
        origin: (origin: string | undefined, cb: (err: Error | null, allow: boolean) => void) =>
          cb(null, !allowList || originAllowed(origin, undefined, allowList)),
      },
    } as ServerOptions);
    // SPEC: every HTTP response carries X-Replica-Id, Socket.IO's polling ones included.
    const stamp = (headers: Record<string, string>) => (headers['X-Replica-Id'] = this.config.REPLICA_ID);
    server.engine.on('initial_headers', stamp);
    server.engine.on('headers', stamp);
    if (this.redis) server.adapter(createAdapter(this.redis.pub, this.redis.sub, { key: 'crosswire' }));
    return server;
  }
}
