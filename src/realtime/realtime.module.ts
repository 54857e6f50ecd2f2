import { Inject, Module, type OnModuleInit } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module.js';
import { ChannelsModule } from '../channels/channels.module.js';
import { EventsModule } from '../events/events.module.js';
import { FaultsModule } from '../faults/faults.module.js';
import { BROADCASTER, type Broadcaster, FANOUT_HEALTH, type FanoutHealth, PRESENCE_READER, type Port, type PresenceReader } from '../events/ports.js';
import { LimitsModule } from '../limits/limits.module.js';
import { MessagesModule } from '../messages/messages.module.js';
import { RealtimeBroadcaster } from './broadcaster.js';
import { ChannelBus } from './channel-bus.js';
import { DeliveryService } from './delivery.service.js';
import { FanoutHealthService } from './fanout-health.service.js';
import { PresenceService } from './presence.service.js';
import { RealtimeGateway } from './realtime.gateway.js';
import { ReconcilerService } from './reconciler.service.js';
import { RedisModule } from '../redis/redis.module.js';
import { SlowConsumers } from './slow-consumers.js';
import { SocketServer } from './socket-server.js';
import { SubscriptionService } from './subscription.service.js';
import { SubscriptionsGateway } from './subscriptions.gateway.js';

/**
 * Everything that touches Socket.IO. It imports the features it serves and
 * binds the ports they call (EventsModule) at start-up; no feature imports it.
 */
@Module({
  imports: [AuthModule, ChannelsModule, MessagesModule, EventsModule, RedisModule, LimitsModule, FaultsModule],
  providers: [
    SocketServer,
    ChannelBus,
    DeliveryService,
    PresenceService,
    SubscriptionService,
    ReconcilerService,
    FanoutHealthService,
    SlowConsumers,
    RealtimeGateway,
    SubscriptionsGateway,
  ],
  exports: [SocketServer, PresenceService],
})
export class RealtimeModule implements OnModuleInit {
  constructor(
    @Inject(BROADCASTER) private readonly broadcaster: Port<Broadcaster>,
    @Inject(PRESENCE_READER) private readonly presenceReader: Port<PresenceReader>,
    @Inject(FANOUT_HEALTH) private readonly fanoutHealth: Port<FanoutHealth>,
    private readonly delivery: DeliveryService,
    private readonly subscriptions: SubscriptionService,
    private readonly presence: PresenceService,
    private readonly sockets: SocketServer,
    private readonly fanout: FanoutHealthService,
    private readonly bus: ChannelBus,
  ) {}

  onModuleInit() {
    this.broadcaster.bind(new RealtimeBroadcaster(this.delivery, this.subscriptions, this.sockets, this.bus));
    this.presenceReader.bind(this.presence);
    this.fanoutHealth.bind(this.fanout);
  }
}
