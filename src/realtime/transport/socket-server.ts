import { Injectable } from '@nestjs/common';
import { MetricsService } from '../../metrics/metrics.service.js';
import { type ServerEvent, type ServerEventPayload, type SessionEnd, channelRoom } from '../../events/events.js';
import type { TypedServer, TypedSocket } from '../../events/sockets.js';

/**
 * This replica's Socket.IO server, once the gateway has it. The realtime
 * services reach sockets through this alone.
 */
@Injectable()
export class SocketServer {
  private server?: TypedServer;
  private readonly disconnectListeners: Array<(socket: TypedSocket) => void> = [];

  constructor(private readonly metrics: MetricsService) {}

  attach(io: TypedServer) {
    this.server = io;
  }

  /** Called for every socket that disconnects (transport has no idea what the protocols above hold for it). */
  onDisconnect(listener: (socket: TypedSocket) => void): void {
    this.disconnectListeners.push(listener);
  }

  disconnected(socket: TypedSocket): void {
    for (const listener of this.disconnectListeners) listener(socket);
  }

  get io(): TypedServer | undefined {
    return this.server;
  }

  /**
   * To this replica's sockets attached to the channel but those in `except`
   * (socket ids); `volatile`: dropped for a socket that cannot take it now.
   */
  toChannel<E extends ServerEvent>(channelId: string, event: E, payload: ServerEventPayload<E>, except: string[] = [], volatile = false) {
    const local = this.server?.local;
    const room = (volatile ? local?.volatile : local)?.to(channelRoom(channelId));
    if (!room) return;
    const target = except.length ? room.except(except) : room;
    (target.emit as (ev: string, p: unknown) => boolean)(event, payload);
  }

  /** Sockets attached to the channel here. */
  roomSize(channelId: string): number {
    return this.server?.of('/').adapter.rooms.get(channelRoom(channelId))?.size ?? 0;
  }

  /**
   * Sessions ended for good: the user's sockets here opened with a token
   * older than `version` are told why, then disconnected (final for clients).
   */
  endSessions(userId: string, version: number): void {
    for (const socket of this.server?.of('/').sockets.values() ?? []) {
      if (socket.data.user?.id === userId && socket.data.tokenVersion < version) this.endSession(socket, 'revoked');
    }
  }

  /** Final for the client (CONTRACT §5): it is told why before the server disconnect. */
  endSession(socket: TypedSocket, reason: SessionEnd): void {
    this.metrics.sessionsEnded.inc({ reason });
    socket.emit('session:revoked', { reason });
    socket.disconnect(true);
  }

  /** [userId, tokenVersion] of every socket here, one by one (a caller may yield between them). */
  *sessions(): Generator<[string, number]> {
    for (const { data } of this.server?.of('/').sockets.values() ?? []) if (data.user) yield [data.user.id, data.tokenVersion];
  }

  /**
   * Closes the socket's transport, not its session: the client sees
   * `transport close`, reconnects by itself and resumes with sinceSeq
   * (CONTRACT §5), as after a lost connection.
   */
  closeTransport(socket: TypedSocket): void {
    socket.conn.close();
  }

  socket(id: string): TypedSocket | undefined {
    return this.server?.of('/').sockets.get(id);
  }

  /**
   * Drain: closes this replica's transports in paced batches over `overMs`, so
   * their clients reconnect to other replicas without a stampede.
   */
  async disconnectAll(overMs: number, batches = 10): Promise<void> {
    const sockets = [...(this.server?.of('/').sockets.values() ?? [])];
    const size = Math.max(1, Math.ceil(sockets.length / batches));
    for (let i = 0; i < sockets.length; i += size) {
      // Close the transport rather than `disconnect()`: clients treat "io server
      // disconnect" as final, but reconnect by themselves after "transport close".
      for (const s of sockets.slice(i, i + size)) s.conn.close();
      if (i + size < sockets.length) await new Promise((r) => setTimeout(r, overMs / batches));
    }
  }
}

/** Keeps, per user, the oldest token version seen. */
export function addOldest(oldest: Map<string, number>, [userId, version]: [string, number]): void {
  const seen = oldest.get(userId);
  if (seen === undefined || version < seen) oldest.set(userId, version);
}
