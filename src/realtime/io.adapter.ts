import type { INestApplicationContext } from '@nestjs/common';
import { IoAdapter } from '@nestjs/platform-socket.io';
import type { Server, ServerOptions } from 'socket.io';
import type { AppConfig } from '../config/config.js';
import { originAllowed } from './origin.js';

/** Socket.IO server options that depend on configuration (decorators are static). */
export class CrosswireIoAdapter extends IoAdapter {
  constructor(
    app: INestApplicationContext,
    private readonly config: AppConfig,
  ) {
    super(app);
  }

  override createIOServer(port: number, options?: ServerOptions): Server {
    const allowList = this.config.CORS_ORIGINS;
    return super.createIOServer(port, {
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
  }
}
