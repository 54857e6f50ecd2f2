import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import type { Broadcaster } from '../events/broadcaster.js';
import type { MessageDto, UserRef } from '../events/dto.js';
import {
  type ChannelSessions, type InterServerEvents, type RemovedReason, type TypedServer, type TypedSocket, channelRoom, userRoom,
} from '../events/events.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { DeliveryTracker } from './delivery-tracker.js';
import { PresenceService } from './presence.service.js';

/**
 * The one place that touches the Socket.IO server: fan-out for services
 * (Broadcaster) and room membership for gateways (ChannelSessions).
 *
 * Messages and revocations are applied locally and sent to the other replicas
 * with serverSideEmit, so every replica delivers to its own sockets and knows
 * what it delivered (the tracker the reconciliation tick works from).
 */
@Injectable()
export class RealtimeService implements Broadcaster, ChannelSessions {
  private io?: TypedServer;
  readonly tracker = new DeliveryTracker();

  constructor(
    private readonly presence: PresenceService,
    private readonly metrics: MetricsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    presence.onEmit((event, channelId, user, scope) => {
      const target = scope === 'cluster' ? this.io : this.io?.local;
      target?.to(channelRoom(channelId)).except(userRoom(user.id)).emit(event, { channelId, user });
    });
  }

  attach(io: TypedServer) {
    this.io = io;
    if (!this.config.REDIS_URL) return;
    io.on('x:message', (m) => this.deliver(m, 'live'));
    io.on('x:revoke', (channelId, userIds, reason) => this.revokeHere(channelId, userIds, reason));
    io.on('x:private', (channelId, memberIds) => this.privateHere(channelId, memberIds));
    io.on('x:deleted', (channelId) => this.deletedHere(channelId));
  }

  messageCreated(message: MessageDto): void {
    // Test-only fault (off by default): die after storing, before any fan-out.
    if (this.config.FAULT_EXIT_AFTER_STORE) process.exit(70);
    this.deliver(message, 'live');
    this.toOthers('x:message', message);
  }

  accessRevoked(channelId: string, userIds: string[], reason: RemovedReason): void {
    this.revokeHere(channelId, userIds, reason);
    this.toOthers('x:revoke', channelId, userIds, reason);
  }

  channelMadePrivate(channelId: string, memberIds: string[]): void {
    this.privateHere(channelId, memberIds);
    this.toOthers('x:private', channelId, memberIds);
  }

  channelDeleted(channelId: string): void {
    this.deletedHere(channelId);
    this.toOthers('x:deleted', channelId);
  }

  typing(channelId: string, user: UserRef): void {
    this.io?.to(channelRoom(channelId)).except(userRoom(user.id)).volatile.emit('typing', { channelId, user });
  }

  /** Emits to this replica's subscribers; the reconciliation path never repeats a seq. */
  deliver(message: MessageDto, path: 'live' | 'reconcile'): void {
    const fresh = this.tracker.record(message.channelId, message.seq);
    if (!fresh && path === 'reconcile') return;
    this.io?.local.to(channelRoom(message.channelId)).emit('message:created', message);
    this.metrics.deliveries.inc({ path });
  }

  revokeHere(channelId: string, userIds: string[], reason: RemovedReason) {
    const users = new Set(userIds);
    this.evict(channelId, (s) => users.has(s.data.user.id), (s) => s.emit('channel:removed', { channelId, reason }));
  }

  privateHere(channelId: string, memberIds: string[]) {
    const members = new Set(memberIds);
    this.evict(channelId, (s) => !members.has(s.data.user.id), (s) => s.emit('channel:removed', { channelId, reason: 'private' }));
  }

  deletedHere(channelId: string) {
    this.evict(channelId, () => true, (s) => s.emit('channel:deleted', { channelId }));
    this.presence.forget(channelId);
  }

  /** Users with sockets here subscribed to the channel. */
  localUsers(channelId: string): Set<string> {
    return new Set(this.localSockets(channelId).map((s) => s.data.user.id));
  }

  async join(socket: TypedSocket, channelId: string): Promise<void> {
    await socket.join(channelRoom(channelId));
    this.presence.join(channelId, socket.data.user, socket.id);
  }

  track(channelId: string, lastSeq: number): void {
    if (this.localSockets(channelId).length > 0) this.tracker.track(channelId, lastSeq);
  }

  leave(socket: TypedSocket, channelId: string, graceMs?: number): void {
    void socket.leave(channelRoom(channelId));
    this.presence.leave(channelId, socket.data.user.id, socket.id, graceMs);
    this.untrackIfEmpty(channelId);
  }

  isIn(socket: TypedSocket, channelId: string): boolean {
    return socket.rooms.has(channelRoom(channelId));
  }

  /** Called on `disconnecting`, while the socket is still in its rooms. */
  disconnected(socket: TypedSocket, rooms: Iterable<string>): void {
    for (const room of rooms) {
      if (!room.startsWith('channel:')) continue;
      const channelId = room.slice('channel:'.length);
      this.presence.leave(channelId, socket.data.user.id, socket.id);
      if (this.localSockets(channelId).every((s) => s.id === socket.id)) this.tracker.untrack(channelId);
    }
  }

  /**
   * Drain: disconnects this replica's sockets in paced batches over `overMs`,
   * so their clients reconnect to other replicas without a stampede.
   */
  async disconnectAll(overMs: number, batches = 10): Promise<void> {
    const sockets = [...(this.io?.of('/').sockets.values() ?? [])];
    const size = Math.max(1, Math.ceil(sockets.length / batches));
    for (let i = 0; i < sockets.length; i += size) {
      // Close the transport rather than `disconnect()`: clients treat "io server
      // disconnect" as final, but reconnect by themselves after "transport close".
      for (const s of sockets.slice(i, i + size)) s.conn.close();
      if (i + size < sockets.length) await new Promise((r) => setTimeout(r, overMs / batches));
    }
  }

  private untrackIfEmpty(channelId: string) {
    if (this.localSockets(channelId).length === 0) this.tracker.untrack(channelId);
  }

  private localSockets(channelId: string): TypedSocket[] {
    const nsp = this.io?.of('/');
    const ids = nsp?.adapter.rooms.get(channelRoom(channelId));
    if (!nsp || !ids) return [];
    return [...ids].map((id) => nsp.sockets.get(id)).filter((s): s is TypedSocket => !!s);
  }

  private toOthers<E extends keyof InterServerEvents>(event: E, ...args: Parameters<InterServerEvents[E]>) {
    if (!this.config.REDIS_URL || !this.io) return;
    // Errors are logged by the guarded Redis clients; a lost event is repaired by the tick.
    (this.io.serverSideEmit as (ev: string, ...a: unknown[]) => boolean)(event, ...args);
  }

  /** Local sockets only: each replica runs this for its own sockets. */
  private evict(channelId: string, which: (s: TypedSocket) => boolean, tell: (s: TypedSocket) => void) {
    for (const socket of this.localSockets(channelId)) {
      if (!which(socket)) continue;
      tell(socket);
      this.leave(socket, channelId, 0);
    }
  }
}
