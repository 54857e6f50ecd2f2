import type { MessageDto } from '../../events/dto.js';
import type { RemovedReason } from '../../events/events.js';
import type { Broadcaster } from '../../events/ports.js';
import type { ChannelBus } from './channel-bus.js';
import type { DeliveryService } from './delivery.service.js';
import type { SocketServer } from '../transport/socket-server.js';
import type { SubscriptionService } from './subscription.service.js';

/**
 * What services call (bound to the BROADCASTER port at start-up): each change
 * applied to this replica's sockets at once, then published for the other
 * replicas on the bus, which apply it in the order Redis took it (ChannelBus).
 */
export class RealtimeBroadcaster implements Broadcaster {
  constructor(
    private readonly delivery: DeliveryService,
    private readonly subscriptions: SubscriptionService,
    private readonly sockets: SocketServer,
    private readonly bus: ChannelBus,
  ) {}

  messageCreated(message: MessageDto): void {
    this.delivery.publish(message);
  }

  accessRevoked(channelId: string, userIds: string[], reason: RemovedReason): Promise<void> {
    this.subscriptions.revokeHere(channelId, userIds, reason);
    return this.bus.publishRevoked(channelId, userIds, reason);
  }

  channelMadePrivate(channelId: string, memberIds: string[]): Promise<void> {
    this.subscriptions.privateHere(channelId, memberIds);
    return this.bus.publishMadePrivate(channelId, memberIds);
  }

  channelDeleted(channelId: string): Promise<void> {
    this.subscriptions.deletedHere(channelId);
    return this.bus.publishDeleted(channelId);
  }

  sessionsRevoked(userId: string, version: number): Promise<void> {
    this.sockets.endSessions(userId, version);
    return this.bus.publishSessionsRevoked(userId, version);
  }
}
