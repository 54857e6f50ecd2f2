import type { Server as HttpServer } from 'node:http';
import { type INestApplicationContext, Logger } from '@nestjs/common';
import type { MessageMappingProperties } from '@nestjs/websockets';
import { IoAdapter } from '@nestjs/platform-socket.io';
import { isObservable, lastValueFrom } from 'rxjs';
import { createAdapter } from '@socket.io/redis-adapter';
import type { Server, ServerOptions, Socket } from 'socket.io';
import type { AppConfig } from '../../config/config.js';
import { logContext } from '../../logging/logger.js';
import { shapeEngineResponses } from '../../common/raw-errors.js';
import { originAllowed } from './origin.js';
import type { RedisClients } from '../../redis/redis-clients.js';

type Handler = Pick<MessageMappingProperties, 'message' | 'callback'> & { isAckHandledManually?: boolean };

/** What the gateways bound on one socket. */
interface Own {
  handlers: Record<string, Handler['callback']>;
  disconnects: Array<(reason: string) => void>;
}
const OWN = Symbol('gateway bindings');
type Holder = Socket & { [OWN]?: Own };

function onDisconnect(this: Holder, reason: string) {
  for (const cb of this[OWN]!.disconnects) cb(reason);
}

/**
 * Socket.IO server options that depend on configuration (decorators are
 * static), the Redis adapter, and a lighter binding of gateway handlers.
 */
export class CrosswireIoAdapter extends IoAdapter {
  private readonly log = new Logger('CrosswireIoAdapter');
  /** One listener function per event, shared by every socket. */
  private readonly listeners = new Map<string, (this: Socket, ...args: unknown[]) => void>();

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
      // The handshake's own rule (CORS_ORIGINS, else the hub's own origin), decided per request since it needs the Host.
      cors: (req: { headers: { origin?: string; host?: string } }, cb: (err: Error | null, options: { origin: boolean; credentials: boolean }) => void) =>
        cb(null, { origin: originAllowed(req.headers.origin, req.headers.host, allowList), credentials: true }),
    } as ServerOptions);
    // Every HTTP answer of Socket.IO's carries X-Replica-Id and X-Request-Id; its refusals the error shape.
    // Nest types it `any`: the application's underlying Node HTTP server, when there is one.
    const httpServer = this.httpServer as HttpServer | undefined;
    if (httpServer) shapeEngineResponses(httpServer, '/socket.io/', this.config.REPLICA_ID);
    if (this.redis) server.adapter(createAdapter(this.redis.pub, this.redis.sub, { key: 'crosswire' }));
    return server;
  }

  // Nest binds, per socket, an rxjs pipeline for each handler and a
  // `disconnect` listener for each gateway: kilobytes on every idle
  // connection. Here each event has one listener function shared by every
  // socket (`this` is the socket), which finds that socket's handler in one
  // small table.

  override bindClientDisconnect(socket: Socket, callback: (reason: string) => void): void {
    const own = this.table(socket);
    if (own.disconnects.push(callback) === 1) socket.on('disconnect', onDisconnect);
  }

  override bindMessageHandlers(socket: Socket, handlers: Handler[]): void {
    const own = this.table(socket);
    for (const { message, callback, isAckHandledManually } of handlers) {
      const event = String(message);
      own.handlers[event] = callback;
      let listener = this.listeners.get(event);
      if (!listener) {
        const adapter = this;
        listener = function (this: Socket, ...args: unknown[]) {
          // As rxjs' fromEvent hands them to Nest: one argument alone, several as an array.
          const { data, ack } = adapter.mapPayload(args.length > 1 ? args : args[0]) as { data: unknown; ack?: (answer: unknown) => void };
          // Every log line of the work this event starts names its socket, as HTTP's name their request.
          logContext.run({ socketId: this.id }, () => void adapter.handle(this, (this as Holder)[OWN]!.handlers[event], data, ack, isAckHandledManually));
        };
        this.listeners.set(event, listener);
      }
      socket.on(event, listener);
    }
  }

  private table(socket: Socket): Own {
    const holder = socket as Holder;
    return (holder[OWN] ??= { handlers: {}, disconnects: [] });
  }

  private async handle(socket: Socket, callback: Handler['callback'], data: unknown, ack: ((answer: unknown) => void) | undefined, manual?: boolean) {
    try {
      let result: unknown = await callback(data, ack);
      if (isObservable(result)) result = await lastValueFrom(result, { defaultValue: undefined });
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
