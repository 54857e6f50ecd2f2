import type { MessageDto } from '../events/dto.js';
import type { RemovedReason } from '../events/events.js';
import type { Broadcaster } from '../events/ports.js';
import type { DeliveryService } from './delivery.service.js';
import type { SocketServer } from './socket-server.js';
import type { SubscriptionService } from './subscription.service.js';

/**
 * What services call (bound to the BROADCASTER port at start-up): each change
 * applied to this replica's sockets, then sent to the other replicas, which
 * apply it to theirs.
 */
export class RealtimeBroadcaster implements Broadcaster {
  constructor(
    private readonly delivery: DeliveryService,
    private readonly subscriptions: SubscriptionService,
    private readonly sockets: SocketServer,
  ) {}

  messageCreated(message: MessageDto): void {
    this.delivery.publish(message);
  }

  accessRevoked(channelId: string, userIds: string[], reason: RemovedReason): void {
    this.subscriptions.revokeHere(channelId, userIds, reason);
    this.sockets.toOthers('x:revoke', channelId, userIds, reason);
  }

  channelMadePrivate(channelId: string, memberIds: string[]): void {
    this.subscriptions.privateHere(channelId, memberIds);
    this.sockets.toOthers('x:private', channelId, memberIds);
  }

  channelDeleted(channelId: string): void {
    this.subscriptions.deletedHere(channelId);
    this.sockets.toOthers('x:deleted', channelId);
  }

  sessionsRevoked(userId: string, version: number): void {
    this.sockets.endSessions(userId, version);
    this.sockets.toOthers('x:sessions', userId, version);
  }
}
