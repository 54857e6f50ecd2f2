import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import type { PresenceReader } from '../events/broadcaster.js';
import type { UserRef } from '../events/dto.js';
import { LOGGER, type JsonLogger } from '../logging/logger.js';
import type { PresenceStore } from './presence-store.js';

/** `cluster`: through the adapter to every replica; `local`: this replica's sockets only. */
export type PresenceEmit = (event: 'presence:joined' | 'presence:left', channelId: string, user: UserRef, scope: 'cluster' | 'local') => void;

interface Entry {
  user: UserRef;
  sockets: Set<string>;
  leaving?: NodeJS.Timeout;
}

/**
 * Who is in which channel. Locally by socket; cluster-wide through leases in
 * Redis (PresenceStore) when there is one. A user's last socket leaving here
 * starts a grace period; a socket of theirs joining within it cancels the
 * leave, so a reconnect does not flap. While Redis is away, answers and events
 * come from this replica alone; the leases are re-asserted when it returns.
 */
@Injectable()
export class PresenceService implements PresenceReader, OnModuleDestroy {
  private readonly channels = new Map<string, Map<string, Entry>>();
  private emit: PresenceEmit = () => {};
  private store?: PresenceStore;
  private timers: NodeJS.Timeout[] = [];

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) private readonly logger: JsonLogger,
  ) {}

  onEmit(emit: PresenceEmit) {
    this.emit = emit;
  }

  /** Switches to cluster-wide presence: heartbeat, reaper, and re-assertion on reconnect. */
  useStore(store: PresenceStore, onRedisReady: (fn: () => void) => void) {
    this.store = store;
    const ttl = this.config.LEASE_TTL_MS;
    const every = (ms: number, fn: () => Promise<void>) => {
      const t = setInterval(() => void fn().catch(() => undefined), ms);
      t.unref();
      this.timers.push(t);
    };
    every(Math.max(100, Math.floor(ttl / 4)), () => store.heartbeat(ttl));
    every(Math.min(1_000, Math.max(100, Math.floor(ttl / 4))), () => this.reapDead());
    onRedisReady(() => void this.reassert().catch((e: unknown) => this.logger.event('warn', 'presence re-assert failed', { err: String(e) })));
  }

  join(channelId: string, user: UserRef, socketId: string): void {
    let users = this.channels.get(channelId);
    if (!users) this.channels.set(channelId, (users = new Map()));
    const entry = users.get(user.id);
    if (entry) {
      clearTimeout(entry.leaving);
      entry.leaving = undefined;
      entry.sockets.add(socketId);
      return;
    }
    users.set(user.id, { user, sockets: new Set([socketId]) });
    if (!this.store?.ready) return this.emit('presence:joined', channelId, user, 'local');
    this.store.join(channelId, user).then(
      (first) => first && this.emit('presence:joined', channelId, user, 'cluster'),
      () => this.emit('presence:joined', channelId, user, 'local'),
    );
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
      if (!this.store?.ready) return this.emit('presence:left', channelId, entry.user, 'local');
      this.store.leave(channelId, userId).then(
        (left) => left && this.emit('presence:left', channelId, entry.user, 'cluster'),
        () => this.emit('presence:left', channelId, entry.user, 'local'),
      );
    };
    if (graceMs <= 0) finish();
    else entry.leaving = setTimeout(finish, graceMs).unref();
  }

  /** A deleted channel: drop its presence without announcing anything. */
  forget(channelId: string): void {
    for (const entry of this.channels.get(channelId)?.values() ?? []) clearTimeout(entry.leaving);
    this.channels.delete(channelId);
    void this.store?.forget(channelId).catch(() => undefined);
  }

  async online(channelId: string): Promise<UserRef[]> {
    if (this.store?.ready) {
      try {
        return await this.store.online(channelId);
      } catch {
        /* Redis went away mid-call: answer from this replica */
      }
    }
    return [...(this.channels.get(channelId)?.values() ?? [])].map((e) => e.user);
  }

  /**
   * On shutdown: let this instance's leases lapse after the grace instead of
   * the full TTL, so users who do not come back on another replica leave soon.
   */
  async goodbye(): Promise<void> {
    await this.store?.heartbeat(this.config.LEASE_TTL_MS, this.config.PRESENCE_GRACE_MS).catch(() => undefined);
  }

  /**
   * Redis is back: make its view of this instance match the local one. Joins
   * are re-asserted silently (Redis may have restarted empty); leases for users
   * who left here while Redis was unreachable (it may have kept its data) are
   * released, announcing `presence:left` where that was their last.
   */
  private async reassert() {
    const store = this.store;
    if (!store) return;
    await store.heartbeat(this.config.LEASE_TTL_MS);
    for (const [channelId, users] of this.channels) {
      for (const entry of users.values()) await store.join(channelId, entry.user);
    }
    for (const { channelId, userId } of await store.entries()) {
      if (this.channels.get(channelId)?.has(userId)) continue;
      const left = await store.leave(channelId, userId);
      if (left) this.emit('presence:left', channelId, left, 'cluster');
    }
  }

  private async reapDead() {
    const store = this.store;
    if (!store?.ready) return;
    for (const dead of await store.deadInstances(this.config.LEASE_TTL_MS)) {
      const left = await store.reap(dead);
      for (const { channelId, user } of left) this.emit('presence:left', channelId, user, 'cluster');
      if (left.length) this.logger.event('info', 'reaped a dead instance', { instance: dead, left: left.length });
    }
  }

  onModuleDestroy() {
    this.timers.forEach(clearInterval);
    for (const id of [...this.channels.keys()]) {
      for (const entry of this.channels.get(id)!.values()) clearTimeout(entry.leaving);
    }
    this.channels.clear();
  }
}
