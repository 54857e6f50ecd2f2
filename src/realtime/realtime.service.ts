import { Injectable } from '@nestjs/common';
import type { Broadcaster } from '../events/broadcaster.js';
import type { MessageDto, UserRef } from '../events/dto.js';
import { type ChannelSessions, type RemovedReason, type TypedServer, type TypedSocket, channelRoom, userRoom } from '../events/events.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { PresenceService } from './presence.service.js';

/**
 * The one place that touches the Socket.IO server: fan-out for services
 * (Broadcaster) and room membership for gateways (ChannelSessions).
 */
@Injectable()
export class RealtimeService implements Broadcaster, ChannelSessions {
  private io?: TypedServer;

  constructor(
    private readonly presence: PresenceService,
    private readonly metrics: MetricsService,
  ) {
    presence.onEmit((event, channelId, user) =>
      this.io?.to(channelRoom(channelId)).except(userRoom(user.id)).emit(event, { channelId, user }),
    );
  }

  attach(io: TypedServer) {
    this.io = io;
  }

  messageCreated(message: MessageDto): void {
    this.io?.to(channelRoom(message.channelId)).emit('message:created', message);
    this.metrics.deliveries.inc({ path: 'live' });
  }

  accessRevoked(channelId: string, userIds: string[], reason: RemovedReason): void {
    const users = new Set(userIds);
    this.evict(channelId, (s) => users.has(s.data.user.id), (s) => s.emit('channel:removed', { channelId, reason }));
  }

  channelMadePrivate(channelId: string, memberIds: string[]): void {
    const members = new Set(memberIds);
    this.evict(channelId, (s) => !members.has(s.data.user.id), (s) => s.emit('channel:removed', { channelId, reason: 'private' }));
  }

  channelDeleted(channelId: string): void {
    this.evict(channelId, () => true, (s) => s.emit('channel:deleted', { channelId }));
    this.presence.forget(channelId);
  }

  typing(channelId: string, user: UserRef): void {
    this.io?.to(channelRoom(channelId)).except(userRoom(user.id)).volatile.emit('typing', { channelId, user });
  }

  async join(socket: TypedSocket, channelId: string): Promise<void> {
    await socket.join(channelRoom(channelId));
    this.presence.join(channelId, socket.data.user, socket.id);
  }

  leave(socket: TypedSocket, channelId: string, graceMs?: number): void {
    void socket.leave(channelRoom(channelId));
    this.presence.leave(channelId, socket.data.user.id, socket.id, graceMs);
  }

  isIn(socket: TypedSocket, channelId: string): boolean {
    return socket.rooms.has(channelRoom(channelId));
  }

  /** A socket going away leaves every channel it was in (with the presence grace). */
  disconnected(socket: TypedSocket, rooms: Iterable<string>): void {
    for (const room of rooms) {
      if (room.startsWith('channel:')) this.presence.leave(room.slice('channel:'.length), socket.data.user.id, socket.id);
    }
  }

  /** Local sockets only: each replica runs this for its own sockets. */
  private evict(channelId: string, which: (s: TypedSocket) => boolean, tell: (s: TypedSocket) => void) {
    const io = this.io;
    const ids = io?.of('/').adapter.rooms.get(channelRoom(channelId));
    if (!io || !ids) return;
    for (const id of [...ids]) {
      const socket = io.of('/').sockets.get(id);
      if (!socket || !which(socket)) continue;
      tell(socket);
      this.leave(socket, channelId, 0);
    }
  }
}
