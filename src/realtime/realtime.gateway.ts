import { Inject, type OnModuleDestroy } from '@nestjs/common';
import { type OnGatewayConnection, type OnGatewayDisconnect, type OnGatewayInit, WebSocketGateway } from '@nestjs/websockets';
import { AuthService } from '../auth/auth.service.js';
import type { IncomingMessage } from 'node:http';
import { clientIpResolver } from '../common/client-ip.js';
import { toAppError } from '../common/unavailable.js';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import type { TypedServer, TypedSocket } from '../events/sockets.js';
import { LimitsService } from '../limits/limits.service.js';
import { LOGGER, type JsonLogger } from '../logging/logger.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { ChannelBus } from './channel-bus.js';
import { DeliveryService } from './delivery.service.js';
import { Expiries } from './expiries.js';
import { originAllowed } from './origin.js';
import { PresenceService } from './presence.service.js';
import { ReconcilerService } from './reconciler.service.js';
import { INSTANCE_ID, REDIS_CLIENTS } from '../redis/redis.provider.js';
import type { RedisClients } from '../redis/redis-clients.js';
import { SocketServer } from './socket-server.js';
import { SubscriptionService } from './subscription.service.js';

/** Connection lifecycle: handshake checks, `session`, token expiry; wires the realtime services to the server. */
@WebSocketGateway()
export class RealtimeGateway implements OnGatewayInit, OnGatewayConnection, OnGatewayDisconnect, OnModuleDestroy {
  private readonly expiries = new Expiries((socket) => this.sockets.endSession(socket, 'expired'));
  private readonly clientIp: (req: IncomingMessage) => string;

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
    private readonly limits: LimitsService,
  ) {
    this.clientIp = clientIpResolver(config.TRUSTED_PROXIES);
  }

  afterInit(io: TypedServer) {
    this.sockets.attach(io);
    // Presence and typing never go to the user's own sockets.
    const others = (channelId: string, userId: string) => this.presence.socketsOf(channelId, userId);
    this.presence.onEmit((event, channelId, user) => this.sockets.toChannel(channelId, event, { channelId, user }, others(channelId, user.id)));
    this.bus.listen({
      message: (m) => this.delivery.offer(m, 'live'),
      echo: (channelId, seq) => this.delivery.echo(channelId, seq),
      typing: (channelId, user) => this.sockets.toChannel(channelId, 'typing', { channelId, user }, others(channelId, user.id), true),
      presence: (channelId, payload) => this.presence.applyFrame(channelId, payload),
      revoked: (channelId, userIds, reason) => this.subscriptions.revokeHere(channelId, userIds, reason),
      madePrivate: (channelId, memberIds) => this.subscriptions.privateHere(channelId, memberIds),
      deleted: (channelId) => this.subscriptions.deletedHere(channelId),
      sessionsRevoked: (userId, version) => this.sockets.endSessions(userId, version),
    });
    const redis = this.redis;
    if (redis) {
      this.presence.connect(redis.pub, redis.bus, this.instanceId);
      // The topics back: whatever was published while they were away is filled in now, not at the next tick.
      redis.bus.on('ready', () => void this.reconciler.runOnce());
    }
    io.use((socket, next) => {
      const reject = (reason: string, data?: object) => {
        this.metrics.handshakeRejections.inc({ reason });
        next(Object.assign(new Error(reason), data ? { data } : {}));
      };
      const { origin, host } = socket.handshake.headers;
      if (!originAllowed(origin, host, this.config.CORS_ORIGINS)) return reject('origin not allowed');
      const token = (socket.handshake.auth as { token?: unknown } | undefined)?.token;
      // The address limit comes before the token is even looked at: a flood of handshakes costs one counter each.
      const admit = async () => {
        await this.limits.connectFrom(this.clientIp(socket.request));
        const session = await this.auth.authenticate(token, true);
        await this.limits.connectAs(session.user.id);
        return session;
      };
      admit().then(
        ({ user, exp, version }) => {
          socket.data.user = user;
          socket.data.tokenExp = exp;
          socket.data.tokenVersion = version;
          // A bearer token kept in memory for the connection's life serves nobody.
          delete (socket.handshake.auth as { token?: unknown }).token;
          next();
        },
        (e: unknown) => {
          const err = toAppError(e);
          if (err.code === 'RATE_LIMITED') return reject('rate limited', { code: err.code, retryAfterMs: err.retryAfterMs });
          reject(err.code === 'UNAUTHORIZED' ? 'unauthorized' : err.code === 'UNAVAILABLE' ? 'unavailable' : 'internal error');
        },
      );
    });
  }

  handleConnection(socket: TypedSocket) {
    this.metrics.socketConnections.inc();
    this.metrics.socketsOpen.inc();
    const { user, tokenExp } = socket.data;
    socket.emit('session', { userId: user.id, replicaId: this.config.REPLICA_ID });
    this.expiries.add(socket, tokenExp);
    this.logger.event('debug', 'socket connected', { socketId: socket.id, userId: user.id });
  }

  /** Subscribes still in progress see the socket gone (`connected` is false by now) and stop. */
  handleDisconnect(socket: TypedSocket) {
    this.metrics.socketsOpen.dec();
    this.expiries.remove(socket, socket.data.tokenExp);
    this.subscriptions.disconnected(socket);
    this.logger.event('debug', 'socket disconnected', { socketId: socket.id });
  }

  onModuleDestroy() {
    this.expiries.stop();
  }
}
