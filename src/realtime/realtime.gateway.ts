import { Inject } from '@nestjs/common';
import { type OnGatewayConnection, type OnGatewayDisconnect, type OnGatewayInit, WebSocketGateway } from '@nestjs/websockets';
import { AuthService } from '../auth/auth.service.js';
import { toAppError } from '../common/unavailable.js';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { userRoom } from '../events/events.js';
import type { TypedServer, TypedSocket } from '../events/sockets.js';
import { LOGGER, type JsonLogger } from '../logging/logger.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { ChannelBus } from './channel-bus.js';
import { DeliveryService } from './delivery.service.js';
import { originAllowed } from './origin.js';
import { PresenceService } from './presence.service.js';
import { ReconcilerService } from './reconciler.service.js';
import { INSTANCE_ID, REDIS_CLIENTS } from '../redis/redis.provider.js';
import type { RedisClients } from '../redis/redis-clients.js';
import { SocketServer } from './socket-server.js';
import { SubscriptionService } from './subscription.service.js';

const MAX_TIMER_MS = 2 ** 31 - 1;

/** Connection lifecycle: handshake checks, the user room, `session`, token expiry; wires the realtime services to the server. */
@WebSocketGateway()
export class RealtimeGateway implements OnGatewayInit, OnGatewayConnection, OnGatewayDisconnect {
  private readonly expiry = new WeakMap<TypedSocket, NodeJS.Timeout>();

  constructor(
    private readonly auth: AuthService,
    private readonly sockets: SocketServer,
    private readonly delivery: DeliveryService,
    private readonly bus: ChannelBus,
    private readonly subscriptions: SubscriptionService,
    private readonly presence: PresenceService,
    private readonly reconciler: ReconcilerService,
    private readonly metrics: MetricsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) private readonly logger: JsonLogger,
    @Inject(REDIS_CLIENTS) private readonly redis: RedisClients | null,
    @Inject(INSTANCE_ID) private readonly instanceId: string,
  ) {}

  afterInit(io: TypedServer) {
    this.sockets.attach(io, !!this.redis);
    this.subscriptions.listen();
    this.presence.onEmit((event, channelId, user) => this.sockets.toChannel(channelId, event, { channelId, user }, user.id));
    this.bus.listen({
      message: (m) => this.delivery.offer(m, 'live'),
      typing: (channelId, user) => this.sockets.toChannel(channelId, 'typing', { channelId, user }, user.id, true),
      presence: (change) => this.presence.applyChange(change),
    });
    const redis = this.redis;
    if (redis) {
      this.presence.connect(redis.pub, redis.bus, this.instanceId);
      // The topics back: whatever was published while they were away is filled in now, not at the next tick.
      redis.bus.on('ready', () => void this.reconciler.runOnce());
    }
    io.use((socket, next) => {
      const reject = (reason: string) => {
        this.metrics.handshakeRejections.inc({ reason });
        next(new Error(reason));
      };
      const { origin, host } = socket.handshake.headers;
      if (!originAllowed(origin, host, this.config.CORS_ORIGINS)) return reject('origin not allowed');
      const token = (socket.handshake.auth as { token?: unknown } | undefined)?.token;
      this.auth.authenticate(token).then(
        ({ user, exp }) => {
          socket.data.user = user;
          socket.data.tokenExp = exp;
          next();
        },
        (e: unknown) => {
          const { code } = toAppError(e);
          reject(code === 'UNAUTHORIZED' ? 'unauthorized' : code === 'UNAVAILABLE' ? 'unavailable' : 'internal error');
        },
      );
    });
  }

  handleConnection(socket: TypedSocket) {
    this.metrics.socketConnections.inc();
    this.metrics.socketsOpen.inc();
    const { user, tokenExp } = socket.data;
    void socket.join(userRoom(user.id));
    socket.emit('session', { userId: user.id, replicaId: this.config.REPLICA_ID });
    this.armExpiry(socket, tokenExp);
    // Still connected while `disconnecting` runs; subscribes in progress see it gone right after.
    socket.on('disconnecting', () => this.subscriptions.disconnected(socket));
    this.logger.event('debug', 'socket connected', { socketId: socket.id, userId: user.id });
  }

  /** Disconnects the socket when its token expires (timers cap near 24.8 days, so re-arm). */
  private armExpiry(socket: TypedSocket, exp: number) {
    const ms = exp * 1000 - Date.now();
    const timer = setTimeout(() => (ms > MAX_TIMER_MS ? this.armExpiry(socket, exp) : socket.disconnect(true)), Math.min(Math.max(ms, 0), MAX_TIMER_MS));
    this.expiry.set(socket, timer);
  }

  handleDisconnect(socket: TypedSocket) {
    this.metrics.socketsOpen.dec();
    clearTimeout(this.expiry.get(socket));
    this.logger.event('debug', 'socket disconnected', { socketId: socket.id });
  }
}
