import { type INestApplicationContext, Logger } from '@nestjs/common';
import type { MessageMappingProperties } from '@nestjs/websockets';
import { IoAdapter } from '@nestjs/platform-socket.io';
import { type Observable, isObservable, lastValueFrom } from 'rxjs';
import { createAdapter } from '@socket.io/redis-adapter';
import type { Server, ServerOptions, Socket } from 'socket.io';
import type { AppConfig } from '../config/config.js';
import { originAllowed } from './origin.js';
import type { RedisClients } from '../redis/redis-clients.js';

const DISCONNECTS = Symbol('disconnect callbacks');

type Handler = Pick<MessageMappingProperties, 'message' | 'callback'> & { isAckHandledManually?: boolean };

/**
 * Socket.IO server options that depend on configuration (decorators are
 * static), the Redis adapter, and a lighter binding of gateway handlers.
 */
export class CrosswireIoAdapter extends IoAdapter {
  private readonly log = new Logger('CrosswireIoAdapter');

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

  /**
   * Nest's version builds an rxjs pipeline per handler per socket, several
   * kilobytes each on an idle connection; one listener per event that awaits
   * the handler and answers the ack does the same work.
   */
  /** One `disconnect` listener per socket for every gateway, instead of one each. */
  override bindClientDisconnect(socket: Socket, callback: (reason: string) => void): void {
    const holder = socket as Socket & { [DISCONNECTS]?: Array<(reason: string) => void> };
    const callbacks = holder[DISCONNECTS];
    if (callbacks) return void callbacks.push(callback);
    holder[DISCONNECTS] = [callback];
    socket.once('disconnect', (reason: string) => {
      for (const cb of holder[DISCONNECTS]!) cb(reason);
    });
  }

  override bindMessageHandlers(socket: Socket, handlers: Handler[]): void {
    for (const { message, callback, isAckHandledManually } of handlers) {
      socket.on(String(message), (...args: unknown[]) => {
        // As rxjs' fromEvent hands them to Nest: one argument alone, several as an array.
        const { data, ack } = this.mapPayload(args.length > 1 ? args : args[0]) as { data: unknown; ack?: (answer: unknown) => void };
        void this.handle(socket, callback, data, ack, isAckHandledManually);
      });
    }
  }

  private async handle(socket: Socket, callback: Handler['callback'], data: unknown, ack: ((answer: unknown) => void) | undefined, manual?: boolean) {
    try {
      let result: unknown = await callback(data, ack);
      if (isObservable(result)) result = await lastValueFrom(result as Observable<unknown>, { defaultValue: undefined });
      if (result === undefined || result === null || !socket.connected) return;
      const reply = result as { event?: string; data?: unknown };
      if (reply.event) socket.emit(reply.event, reply.data);
      else if (!manual && typeof ack === 'function') ack(result);
    } catch (err) {
      // Gateways' filters turn failures into negative acks; what reaches here is a bug.
      this.log.error(err);
    }
  }
}
