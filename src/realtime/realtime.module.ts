import { Module, type OnModuleInit } from '@nestjs/common';
import { DeliveryModule } from './delivery/delivery.module.js';
import { PresenceModule } from './presence/presence.module.js';
import { PresenceService } from './presence/presence.service.js';
import { TransportModule } from './transport/transport.module.js';
import { SocketServer } from './transport/socket-server.js';

/**
 * Everything that touches Socket.IO, in three protocols with one-way edges:
 * transport (the server, connections) ← delivery (bus, streams, subscriptions,
 * tick) → presence (leases, views). Here presence's changes are handed to the
 * channels' sockets. No feature imports realtime/: it binds the ports they
 * call (events/) at start-up.
 */
@Module({ imports: [TransportModule, PresenceModule, DeliveryModule] })
export class RealtimeModule implements OnModuleInit {
  constructor(
    private readonly presence: PresenceService,
    private readonly sockets: SocketServer,
  ) {}

  onModuleInit() {
    // Presence is never announced to the user's own sockets.
    this.presence.onPresenceChange((event, channelId, user) => this.sockets.toChannel(channelId, event, { channelId, user }, this.presence.socketsOf(channelId, user.id)));
  }
}
