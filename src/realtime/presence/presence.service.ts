import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../../config/config.js';
import type { UserRef } from '../../events/dto.js';
import type { PresenceReader } from '../../events/ports.js';
import { LOGGER, type JsonLogger } from '../../logging/logger.js';
import { Background, type Loop } from '../../metrics/background.js';
import { MetricsService } from '../../metrics/metrics.service.js';
import type { Redis } from 'ioredis';
import { type OneOrMany, add, has, members, remove } from './one-or-many.js';
import { type PresenceChange, PresenceStore, parsePresenceFrame } from './presence-store.js';

/** Emits to this replica's sockets attached to the channel, except the user's own. */
export type PresenceListener = (event: 'presence:joined' | 'presence:left', channelId: string, user: UserRef) => void;

interface Entry {
  user: UserRef;
  /** Its socket ids here; undefined once the last has left (the grace may still run). */
  sockets: OneOrMany<string> | undefined;
  leaving?: NodeJS.Timeout;
}

interface View {
  users: Map<string, UserRef>;
  /** Changes that arrived while the view was being read; replayed over what was read. */
  pending?: PresenceChange[];
}

/** A replica reconnects to Redis within 1 s (redis-clients.ts) and re-asserts on reconnecting or at its next heartbeat. */
const RECONNECT_MS = 1_000;
const MARGIN_MS = 500;

/**
 * Who is in which channel, owned end to end here.
 *
 * Locally by socket: a user's last socket leaving starts a grace; one of theirs
 * joining within it cancels the leave. Cluster-wide through leases in Redis
 * (PresenceStore), whose scripts publish each first join and last leave.
 *
 * For each channel with subscribers here, a view of who is online cluster-wide;
 * this replica's sockets hear exactly the changes of that view. It is fed by the
 * published changes (one order for all replicas), by local changes while Redis
 * is unreachable, and re-read whenever it may have missed something (Redis back,
 * or this replica found itself reaped): then the difference is announced, so
 * the sockets converge on the truth without false or missing events.
 */
@Injectable()
export class PresenceService implements PresenceReader, OnModuleDestroy {
  private readonly local = new Map<string, Map<string, Entry>>();
  private readonly views = new Map<string, View>();
  private emit: PresenceListener = () => {};
  private store?: PresenceStore;
  private loops: Loop[] = [];
  private convergeTimer?: NodeJS.Timeout;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) private readonly logger: JsonLogger,
    private readonly background: Background,
    private readonly metrics: MetricsService,
  ) {}

  /** Each change of a view, for that channel's sockets here (never the user's own: see socketsOf). */
  onPresenceChange(listener: PresenceListener) {
    this.emit = listener;
  }

  private get heartbeatMs() {
    return Math.max(100, Math.floor(this.config.LEASE_TTL_MS / 4));
  }

  /**
   * Switches to cluster-wide presence on Redis: leases with heartbeat and
   * reaper, and re-assertion and re-reading whenever Redis may have lost or
   * missed something. The published changes come in through applyChange
   * (ChannelBus).
   */
  connect(pub: Redis, bus: Redis, instanceId: string, store = new PresenceStore(pub, instanceId)) {
    this.store = store;
    pub.on('ready', () => this.reconnected());
    // Changes published while the topics' connection was away are lost to it.
    bus.on('ready', () => this.scheduleConverge());
    const ttl = this.config.LEASE_TTL_MS;
    this.loops.push(
      this.background.every('presence-heartbeat', this.heartbeatMs, async () => {
        if (store.ready && (await store.heartbeat(ttl))) this.reconnected();
      }),
      this.background.every('presence-reap', Math.min(1_000, this.heartbeatMs), () => this.reapDead()),
    );
    // The connection may have become ready before this listened for it.
    if (pub.status === 'ready') this.reconnected();
  }

  join(channelId: string, user: UserRef, socketId: string): void {
    let users = this.local.get(channelId);
    if (!users) this.local.set(channelId, (users = new Map<string, Entry>()));
    const entry = users.get(user.id);
    if (entry) {
      clearTimeout(entry.leaving);
      entry.leaving = undefined;
      entry.sockets = add(entry.sockets, socketId);
      return;
    }
    users.set(user.id, { user, sockets: socketId });
    const local = () => this.applyChange({ kind: 'joined', channelId, user });
    // On success the store publishes the change, which reaches every view, this one included.
    if (this.store?.ready) this.store.join(channelId, user).catch((e: unknown) => (this.background.failed('presence-lease', e, { channelId }), local()));
    else local();
  }

  /** `graceMs` 0 for a revocation: the user is gone at once. */
  leave(channelId: string, userId: string, socketId: string, graceMs = this.config.PRESENCE_GRACE_MS): void {
    const entry = this.local.get(channelId)?.get(userId);
    if (!entry || !has(entry.sockets, socketId)) return;
    entry.sockets = remove(entry.sockets, socketId);
    if (entry.sockets !== undefined) return;
    clearTimeout(entry.leaving);
    const finish = () => {
      const users = this.local.get(channelId);
      if (users?.get(userId) !== entry || entry.sockets !== undefined) return;
      users.delete(userId);
      if (users.size === 0) this.local.delete(channelId);
      const local = () => this.applyChange({ kind: 'left', channelId, user: entry.user });
      if (this.store?.ready) this.store.leave(channelId, userId).catch((e: unknown) => (this.background.failed('presence-lease', e, { channelId }), local()));
      else local();
    };
    if (graceMs <= 0) finish();
    else entry.leaving = setTimeout(finish, graceMs).unref();
  }

  /** Starts a channel's view (its first subscriber here); resolves once it is read. */
  async watch(channelId: string): Promise<void> {
    const view: View = { users: new Map(), pending: [] };
    this.views.set(channelId, view);
    let users = this.localUsers(channelId);
    if (this.store?.ready) users = await this.store.online(channelId).catch((e: unknown) => (this.background.failed('presence-read', e, { channelId }), users));
    if (this.views.get(channelId) !== view) return;
    view.users = new Map(users.map((u) => [u.id, u]));
    const pending = view.pending ?? [];
    view.pending = undefined;
    for (const c of pending) this.applyTo(view, c, false);
  }

  unwatch(channelId: string): void {
    this.views.delete(channelId);
  }

  /** The user's sockets here subscribed to the channel (those inside its grace included). */
  socketsOf(channelId: string, userId: string): string[] {
    return members(this.local.get(channelId)?.get(userId)?.sockets);
  }

  /** The view: who this replica's sockets of the channel have been told is online. */
  list(channelId: string): UserRef[] {
    return [...(this.views.get(channelId)?.users.values() ?? [])];
  }

  /** A presence frame from a channel's topic (published by the store's scripts). */
  applyFrame(channelId: string, payload: string): void {
    const change = parsePresenceFrame(channelId, payload);
    if (change) this.applyChange(change);
  }

  /** A change published by the store, or made here while it is unreachable. */
  applyChange(c: PresenceChange): void {
    const view = this.views.get(c.channelId);
    if (view) this.applyTo(view, c, true);
  }

  private applyTo(view: View, c: PresenceChange, announce: boolean) {
    if (view.pending) return void view.pending.push(c);
    if (c.kind === 'joined') {
      if (view.users.has(c.user.id)) return;
      view.users.set(c.user.id, c.user);
    } else if (!view.users.delete(c.user.id)) return;
    if (announce) this.emit(c.kind === 'joined' ? 'presence:joined' : 'presence:left', c.channelId, c.user);
  }

  /** A deleted channel: presence goes silently, here and in Redis. */
  forget(channelId: string): void {
    for (const entry of this.local.get(channelId)?.values() ?? []) clearTimeout(entry.leaving);
    this.local.delete(channelId);
    this.views.delete(channelId);
    void this.store?.forget(channelId).catch((e: unknown) => this.background.failed('presence-forget', e, { channelId }));
  }

  async online(channelId: string): Promise<UserRef[]> {
    if (this.store?.ready) {
      try {
        return await this.store.online(channelId);
      } catch {
        /* Redis went away mid-call: answer from this replica */
      }
    }
    return this.localUsers(channelId);
  }

  /**
   * Redis is reachable again, or dropped this instance (a restart, or a reap
   * while this replica was stalled): make its leases match the local sockets,
   * then re-read the views once every live replica has had the time to do the same.
   */
  reconnected(): void {
    const store = this.store;
    if (!store) return;
    const held = [...this.local].flatMap(([channelId, users]) => [...users.values()].map((e) => ({ channelId, user: e.user })));
    void store
      .heartbeat(this.config.LEASE_TTL_MS)
      .then(() => store.reassert(held))
      .then(() => this.scheduleConverge())
      .catch((e: unknown) => this.background.failed('presence-reassert', e));
  }

  /** Re-reads every view after the others had a heartbeat to re-assert, so nobody is announced gone who simply re-asserted late. */
  scheduleConverge(): void {
    if (this.convergeTimer) return;
    this.convergeTimer = setTimeout(
      () => {
        this.convergeTimer = undefined;
        void this.converge().catch((e: unknown) => this.background.failed('presence-converge', e));
      },
      this.heartbeatMs + RECONNECT_MS + MARGIN_MS,
    );
    this.convergeTimer.unref();
  }

  /**
   * Re-reads every view and announces the differences. Changes that arrive
   * while the read is out are held (as watch() does) and replayed over what
   * was read: applied at once, a change newer than the read would be undone
   * by it and announced backwards.
   */
  async converge(): Promise<void> {
    const store = this.store;
    if (!store?.ready) return;
    const reading = [...this.views].filter(([, v]) => !v.pending);
    if (reading.length === 0) return;
    for (const [, view] of reading) view.pending = [];
    let read: Map<string, UserRef[]> | undefined;
    try {
      read = await store.onlineIn(reading.map(([id]) => id));
    } finally {
      let changed = 0;
      for (const [channelId, view] of reading) {
        const held = view.pending ?? [];
        view.pending = undefined;
        if (this.views.get(channelId) !== view) continue;
        const users = read?.get(channelId);
        if (users) {
          const now = new Map(users.map((u) => [u.id, u]));
          for (const [id, user] of view.users) if (!now.has(id)) (changed++, this.applyTo(view, { kind: 'left', channelId, user }, true));
          for (const user of now.values()) if (!view.users.has(user.id)) (changed++, this.applyTo(view, { kind: 'joined', channelId, user }, true));
        }
        for (const c of held) this.applyTo(view, c, true);
      }
      if (changed) this.logger.event('info', 'presence converged', { component: 'presence', channels: reading.length, changes: changed });
    }
  }

  /**
   * On shutdown: let this instance's leases lapse after the grace instead of
   * the full TTL, so users who do not come back on another replica leave soon.
   */
  async goodbye(): Promise<void> {
    await this.store?.heartbeat(this.config.LEASE_TTL_MS, this.config.PRESENCE_GRACE_MS).catch((e: unknown) => this.background.failed('presence-goodbye', e));
  }

  private localUsers(channelId: string): UserRef[] {
    return [...(this.local.get(channelId)?.values() ?? [])].map((e) => e.user);
  }

  private async reapDead() {
    const store = this.store;
    if (!store?.ready) return;
    for (const dead of await store.deadInstances(this.config.LEASE_TTL_MS)) {
      // The store publishes each leave; views everywhere announce it.
      const reaped = await store.reapIfWon(dead);
      if (!reaped) continue;
      const { left } = reaped;
      this.metrics.presenceReaps.inc();
      this.metrics.presenceReapedLeaves.inc(left.length);
      if (left.length) this.logger.event('info', 'reaped a dead instance', { instance: dead, left: left.length });
    }
  }

  onModuleDestroy() {
    this.loops.forEach((l) => l.stop());
    clearTimeout(this.convergeTimer);
    for (const users of this.local.values()) for (const entry of users.values()) clearTimeout(entry.leaving);
    this.local.clear();
    this.views.clear();
  }
}
