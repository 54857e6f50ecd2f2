import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import type { PresenceReader } from '../events/broadcaster.js';
import type { UserRef } from '../events/dto.js';

export type PresenceEmit = (event: 'presence:joined' | 'presence:left', channelId: string, user: UserRef) => void;

interface Entry {
  user: UserRef;
  sockets: Set<string>;
  leaving?: NodeJS.Timeout;
}

/**
 * Who is in which channel on this replica, by socket. A user's last socket
 * leaving starts a grace period; a socket of theirs joining within it cancels
 * the leave, so a reconnect does not flap joined/left.
 */
@Injectable()
export class PresenceService implements PresenceReader, OnModuleDestroy {
  private readonly channels = new Map<string, Map<string, Entry>>();
  private emit: PresenceEmit = () => {};

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  onEmit(emit: PresenceEmit) {
    this.emit = emit;
  }

  join(channelId: string, user: UserRef, socketId: string): void {
    let users = this.channels.get(channelId);
    if (!users) this.channels.set(channelId, (users = new Map()));
    const entry = users.get(user.id);
    if (!entry) {
      users.set(user.id, { user, sockets: new Set([socketId]) });
      this.emit('presence:joined', channelId, user);
      return;
    }
    clearTimeout(entry.leaving);
    entry.leaving = undefined;
    entry.sockets.add(socketId);
  }

  /** `graceMs` 0 for a revocation: the user is gone at once. */
  leave(channelId: string, userId: string, socketId: string, graceMs = this.config.PRESENCE_GRACE_MS): void {
    const entry = this.channels.get(channelId)?.get(userId);
    if (!entry || !entry.sockets.delete(socketId) || entry.sockets.size > 0) return;
    clearTimeout(entry.leaving);
    const finish = () => {
      const users = this.channels.get(channelId);
      if (users?.get(userId) !== entry || entry.sockets.size > 0) return;
      users.delete(userId);
      if (users.size === 0) this.channels.delete(channelId);
      this.emit('presence:left', channelId, entry.user);
    };
    if (graceMs <= 0) finish();
    else entry.leaving = setTimeout(finish, graceMs).unref();
  }

  /** A deleted channel: drop its presence without announcing anything. */
  forget(channelId: string): void {
    for (const entry of this.channels.get(channelId)?.values() ?? []) clearTimeout(entry.leaving);
    this.channels.delete(channelId);
  }

  async online(channelId: string): Promise<UserRef[]> {
    return [...(this.channels.get(channelId)?.values() ?? [])].map((e) => e.user);
  }

  onModuleDestroy() {
    for (const id of [...this.channels.keys()]) this.forget(id);
  }
}
