import { Inject, Module, type OnModuleInit } from '@nestjs/common';
import { AuthModule } from '../../auth/auth.module.js';
import { ChannelsModule } from '../../channels/channels.module.js';
import { EventsModule } from '../../events/events.module.js';
import { BROADCASTER, type Broadcaster, FANOUT_HEALTH, type FanoutHealth, type Port } from '../../events/ports.js';
import { FaultsModule } from '../../faults/faults.module.js';
import { LimitsModule } from '../../limits/limits.module.js';
import { MessagesModule } from '../../messages/messages.module.js';
import { RedisModule } from '../../redis/redis.module.js';
import { PresenceModule } from '../presence/presence.module.js';
import { PresenceService } from '../presence/presence.service.js';
import { TransportModule } from '../transport/transport.module.js';
import { SocketServer } from '../transport/socket-server.js';
import { RealtimeBroadcaster } from './broadcaster.js';
import { ChannelBus } from './channel-bus.js';
import { DeliveryService } from './delivery.service.js';
import { FanoutHealthService } from './fanout-health.service.js';
import { ReconcilerService } from './reconciler.service.js';
import { SubscriptionService } from './subscription.service.js';
import { SubscriptionsGateway } from './subscriptions.gateway.js';

/**
 * Messages and access, end to end: the channels' bus, one ordered stream per
 * channel, the subscription protocol, the tick, the fan-out canary. It puts
 * sockets in and out of channels through transport's SocketServer, and
 * joins users to presence; it binds the BROADCASTER and FANOUT_HEALTH ports.
 */
@Module({
  imports: [TransportModule, PresenceModule, AuthModule, ChannelsModule, MessagesModule, LimitsModule, RedisModule, FaultsModule, EventsModule],
  providers: [ChannelBus, DeliveryService, SubscriptionService, ReconcilerService, FanoutHealthService, SubscriptionsGateway],
})
export class DeliveryModule implements OnModuleInit {
  constructor(
    @Inject(BROADCASTER) private readonly broadcaster: Port<Broadcaster>,
    @Inject(FANOUT_HEALTH) private readonly fanoutHealth: Port<FanoutHealth>,
    private readonly bus: ChannelBus,
    private readonly delivery: DeliveryService,
    private readonly subscriptions: SubscriptionService,
    private readonly fanout: FanoutHealthService,
    private readonly presence: PresenceService,
    private readonly sockets: SocketServer,
  ) {}

  onModuleInit() {
    this.broadcaster.bind(new RealtimeBroadcaster(this.delivery, this.subscriptions, this.sockets, this.bus));
    this.fanoutHealth.bind(this.fanout);
    // Each frame to the protocol it belongs to, in the bus's one order (ChannelBus).
    this.bus.listen({
      message: (m) => this.delivery.offer(m, 'live'),
      echo: (channelId, seq) => this.delivery.echo(channelId, seq),
      // Typing never goes to the typist's own sockets.
      typing: (channelId, user) => this.sockets.toChannel(channelId, 'typing', { channelId, user }, this.presence.socketsOf(channelId, user.id), true),
      presence: (channelId, payload) => this.presence.applyFrame(channelId, payload),
      revoked: (channelId, userIds, reason) => this.subscriptions.revokeHere(channelId, userIds, reason),
      madePrivate: (channelId, memberIds) => this.subscriptions.privateHere(channelId, memberIds),
      deleted: (channelId) => this.subscriptions.deletedHere(channelId),
      sessionsRevoked: (userId, version) => this.sockets.endSessions(userId, version),
    });
  }
}
