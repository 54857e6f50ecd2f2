import { Inject, type OnModuleDestroy } from '@nestjs/common';
import { type OnGatewayConnection, type OnGatewayDisconnect, type OnGatewayInit, WebSocketGateway } from '@nestjs/websockets';
import type { IncomingMessage } from 'node:http';
import { AuthService } from '../../auth/auth.service.js';
import { clientIpResolver } from '../../common/client-ip.js';
import { toAppError } from '../../common/unavailable.js';
import { APP_CONFIG, type AppConfig } from '../../config/config.js';
import { HandshakeRefusal, SessionEnd } from '../../events/close-reasons.js';
import type { TypedServer, TypedSocket } from '../../events/sockets.js';
import { LimitsService } from '../../limits/limits.service.js';
import { LOGGER, type JsonLogger } from '../../logging/logger.js';
import { MetricsService } from '../../metrics/metrics.service.js';
import { Expiries } from './expiries.js';
import { originAllowed } from './origin.js';
import { SocketServer } from './socket-server.js';

/** Connection lifecycle: the handshake's checks, `session`, token expiry; hands the server to SocketServer. */
@WebSocketGateway()
export class ConnectionGateway implements OnGatewayInit, OnGatewayConnection, OnGatewayDisconnect, OnModuleDestroy {
  private readonly expiries = new Expiries((socket) => this.sockets.endSession(socket, SessionEnd.Expired));
  private readonly clientIp: (req: IncomingMessage) => string;

  constructor(
    private readonly auth: AuthService,
    private readonly sockets: SocketServer,
    private readonly metrics: MetricsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) private readonly logger: JsonLogger,
    private readonly limits: LimitsService,
  ) {
    this.clientIp = clientIpResolver(config.TRUSTED_PROXIES);
  }

  afterInit(io: TypedServer) {
    this.sockets.attach(io);
    io.use((socket, next) => {
      const reject = (reason: HandshakeRefusal, data?: object) => {
        this.metrics.handshakeRejections.inc({ reason });
        next(Object.assign(new Error(reason), data ? { data } : {}));
      };
      const { origin, host } = socket.handshake.headers;
      if (!originAllowed(origin, host, this.config.CORS_ORIGINS)) return reject(HandshakeRefusal.OriginNotAllowed);
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
          if (err.code === 'RATE_LIMITED') return reject(HandshakeRefusal.RateLimited, { code: err.code, retryAfterMs: err.retryAfterMs });
          reject(err.code === 'UNAUTHORIZED' ? HandshakeRefusal.Unauthorized : err.code === 'UNAVAILABLE' ? HandshakeRefusal.Unavailable : HandshakeRefusal.Internal);
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
    this.logger.event('debug', 'socket connected', { component: 'transport', socketId: socket.id, userId: user.id });
  }

  /** What the socket held goes (SocketServer.onDisconnect); subscribes still in progress see `connected` false and stop. */
  handleDisconnect(socket: TypedSocket) {
    this.metrics.socketsOpen.dec();
    this.expiries.remove(socket, socket.data.tokenExp);
    this.sockets.disconnected(socket);
    this.logger.event('debug', 'socket disconnected', { component: 'transport', socketId: socket.id });
  }

  onModuleDestroy() {
    this.expiries.stop();
  }
}
