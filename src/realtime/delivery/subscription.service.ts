import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { ChannelsService } from '../../channels/channels.service.js';
import { badRequest, notFound } from '../../common/errors.js';
import { withTimeout } from '../../common/with-timeout.js';
import { toAppError, unavailable } from '../../common/unavailable.js';
import { APP_CONFIG, type AppConfig, type FaultSwitches } from '../../config/config.js';
import type { ChannelDto, MessageDto, UserRef } from '../../events/dto.js';
import { type RemovedReason, type SubscribeResult, channelRoom } from '../../events/events.js';
import type { TypedSocket } from '../../events/sockets.js';
import { FAULTS } from '../../faults/faults.module.js';
import { LOGGER, type JsonLogger } from '../../logging/logger.js';
import { MessagesService } from '../../messages/messages.service.js';
import { LimitsService } from '../../limits/limits.service.js';
import { MetricsService } from '../../metrics/metrics.service.js';
import { ChannelBus } from './channel-bus.js';
import type { ChannelStream, Collector } from './channel-stream.js';
import { DeliveryService } from './delivery.service.js';
import { PresenceService } from '../presence/presence.service.js';
import { SocketServer } from '../transport/socket-server.js';

/** A channel tracked here (its stream and presence view) while subscriptions or subscribes in progress hold it. */
interface Tracking {
  refs: number;
  ready: Promise<void>;
  /** The `epoch` when its topic was confirmed: an access check made before then may have missed a revocation. */
  readyAt: number;
  stream?: ChannelStream;
  /** The room's name, one string for all its sockets. */
  room: string;
}

/** A socket's subscription: access checked, presence joined; attached while it gets live messages. */
interface Sub {
  socket: TypedSocket;
  channelId: string;
  attached: boolean;
  tracking: Tracking;
}

type Notice = RemovedReason | 'deleted';

/** One subscribe from its arrival to its ack: it holds a slot of the socket's cap, and a revocation marks it. */
interface Pending {
  socket: TypedSocket;
  channelId: string;
  /** Whether it holds a slot of the cap (a subscribe over the cap holds none: it is about to be refused). */
  slot: boolean;
  revoked?: Notice;
}

/** A stream reads what it lacks every HOLDBACK_MS; past this, Postgres is taken to be unreachable. */
const REACH_TIMEOUT_MS = 10_000;
/** At most this many messages in one ack's `missed`. */
const MISSED_MAX = 500;

/**
 * The subscription protocol, end to end: subscribe, unsubscribe, disconnect
 * and eviction, serialized per (socket, channel), the socket's state checked
 * after every await. A subscribe reads the missed messages while the stream
 * collects what it emits meanwhile, then in one synchronous step acks
 * (sinceSeq, head] and attaches the socket: live delivery continues at
 * head + 1, with nothing skipped or repeated.
 *
 * Revocations take effect synchronously, at the point of the bus's order
 * (ChannelBus) where they arrive: attached sockets leave the room at once,
 * and a subscribe in progress is marked and answered NOT_FOUND, so neither
 * gets a message published after the revocation was answered.
 */
@Injectable()
export class SubscriptionService implements OnModuleInit {
  /** Per socket its subscription, or a map of them by channel once it has two. */
  private readonly bySocket = new Map<string, Sub | Map<string, Sub>>();
  private readonly byChannel = new Map<string, Map<string, Sub>>();
  /** Subscribes in progress, per channel (for revocations) and per socket (for the cap). */
  private readonly pendingByChannel = new Map<string, Set<Pending>>();
  private readonly pendingBySocket = new Map<string, Set<Pending>>();
  private readonly tracking = new Map<string, Tracking>();
  private readonly queues = new Map<string, Promise<void>>();
  /** Counts topic confirmations, to order them against access checks (Tracking.readyAt). */
  private epoch = 0;

  constructor(
    private readonly channels: ChannelsService,
    private readonly messages: MessagesService,
    private readonly delivery: DeliveryService,
    private readonly presence: PresenceService,
    private readonly bus: ChannelBus,
    private readonly sockets: SocketServer,
    private readonly metrics: MetricsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(FAULTS) private readonly faults: FaultSwitches,
    @Inject(LOGGER) private readonly logger: JsonLogger,
    private readonly limits: LimitsService,
  ) {}

  /**
   * `reply` is called with the ack's content at the instant the socket is
   * attached, before any live message. The socket's cap is reserved here,
   * before any await, so concurrent subscribes cannot overrun it; its other
   * limits are checked in turn with the socket's steps on the channel, so an
   * unsubscribe sent after the subscribe is still answered after it.
   */
  subscribe(socket: TypedSocket, channelId: string, sinceSeq: number | undefined, reply: (r: SubscribeResult) => void): Promise<void> {
    const slots = this.slotsUsed(socket, channelId);
    const pending: Pending = { socket, channelId, slot: slots < this.config.SUBSCRIPTIONS_PER_SOCKET };
    this.addPending(pending);
    const step = async () => {
      this.limits.subscribeAttempt((socket.data.quota ??= {}), slots);
      await this.doSubscribe(pending, sinceSeq, reply);
    };
    return this.serialize(socket, channelId, step).finally(() => this.removePending(pending));
  }

  unsubscribe(socket: TypedSocket, channelId: string): Promise<void> {
    return this.serialize(socket, channelId, async () => {
      const sub = this.get(socket, channelId);
      if (sub) this.end(sub);
    });
  }

  onModuleInit() {
    this.sockets.onDisconnect((socket) => this.disconnected(socket));
  }

  /** A socket gone: its subscriptions end; subscribes in progress see it gone and stop. */
  disconnected(socket: TypedSocket): void {
    for (const sub of this.subsOf(socket)) this.end(sub);
  }

  isSubscribed(socket: TypedSocket, channelId: string): boolean {
    return !!this.get(socket, channelId);
  }

  /** Users with a subscription here. */
  usersHere(channelId: string): string[] {
    const users = new Set<string>();
    for (const sub of this.byChannel.get(channelId)?.values() ?? []) users.add(sub.socket.data.user.id);
    return [...users];
  }

  /** Volatile, to the channel's sockets on every replica with some, not the sender's own; needs a subscription or access. */
  async typing(socket: TypedSocket, channelId: string): Promise<void> {
    const user = socket.data.user;
    // Before anything that costs: typing is volatile, so over the limit it is simply not sent.
    if (!this.limits.typing((socket.data.quota ??= {}))) return;
    if (!this.isSubscribed(socket, channelId)) {
      const allowed = await this.channels.canRead(channelId, user).then(
        () => true,
        () => false,
      );
      if (!allowed) return;
    }
    this.sockets.toChannel(channelId, 'typing', { channelId, user }, this.presence.socketsOf(channelId, user.id), true);
    this.bus.publishTyping(channelId, user);
  }

  revokeHere(channelId: string, userIds: string[], reason: RemovedReason): void {
    const users = new Set(userIds);
    this.evict(channelId, (u) => users.has(u), reason);
  }

  privateHere(channelId: string, memberIds: string[]): void {
    const members = new Set(memberIds);
    this.evict(channelId, (u) => !members.has(u), 'private');
  }

  /** Presence goes silently first, so no `presence:left` precedes `channel:deleted`. */
  deletedHere(channelId: string): void {
    this.presence.forget(channelId);
    const t = this.tracking.get(channelId);
    if (t) {
      this.tracking.delete(channelId);
      // Subscribes waiting on the stream fail NOT_FOUND; catch-up reads are discarded.
      this.delivery.untrack(channelId, t.stream);
      this.bus.leave(channelId);
    }
    this.evict(channelId, () => true, 'deleted');
  }

  private async doSubscribe(pending: Pending, sinceSeq: number | undefined, reply: (r: SubscribeResult) => void) {
    const { socket, channelId } = pending;
    if (!socket.connected) return this.abandoned();
    const user = socket.data.user;
    const existing = this.get(socket, channelId);
    const checkedAt = this.epoch;
    const channel = await this.checkAccess(channelId, user, existing);
    if (this.faults.subscribeDelayMs > 0) {
      this.logger.event('info', 'fault: subscribe held', { channelId, ms: this.faults.subscribeDelayMs });
      await sleep(this.faults.subscribeDelayMs);
    }
    if (!socket.connected) return this.abandoned();
    this.refuseIfRevoked(pending);
    if (sinceSeq !== undefined && sinceSeq > channel.lastSeq) {
      throw badRequest('sinceSeq is ahead of the channel', [{ field: 'sinceSeq', reason: `must be at most the channel's lastSeq (${channel.lastSeq})` }]);
    }
    const tracking = existing?.tracking ?? (await this.hold(channelId));
    const stream = tracking.stream!;
    const wasAttached = !!existing?.attached;
    let settled = false;
    // While this subscribe reads, live messages go to the collector, not to the socket.
    if (existing && wasAttached) this.detach(existing);
    const budget = this.config.SUBSCRIBE_ACK_MAX_BYTES;
    // Kept: what the ack may carry (past sinceSeq), or everything if a failed renewal must replay it.
    const collector = stream.collect(budget, MISSED_MAX, wasAttached ? 0 : (sinceSeq ?? Infinity));
    try {
      // The topic was confirmed after the access check began: a revocation published in between
      // reached no frame here, but it is committed, so checking again sees it.
      if (tracking.readyAt > checkedAt) await this.checkAccess(channelId, user, existing);
      if (!socket.connected) return this.abandoned();
      this.refuseIfRevoked(pending);
      if (stream.isStopped) throw notFound('channel');
      const page = sinceSeq !== undefined && sinceSeq < collector.from ? await this.messages.missed(channelId, sinceSeq, collector.from, budget, MISSED_MAX) : { items: [], bytes: 0, hasMore: false };
      if (!socket.connected) return this.abandoned();
      this.refuseIfRevoked(pending);
      if (stream.isStopped) throw notFound('channel');
      if (!page.hasMore && sinceSeq !== undefined && stream.head < sinceSeq) await this.reached(stream, sinceSeq);
      if (!socket.connected) return this.abandoned();
      this.refuseIfRevoked(pending);
      // The seam, in one synchronous step: missed is (sinceSeq, head], live continues at head + 1.
      const cut = page.hasMore ? undefined : this.fit(collector, sinceSeq, stream.head, budget - page.bytes, MISSED_MAX - page.items.length, page.items.length === 0);
      const missed = cut ? [...page.items, ...cut.items] : page.items;
      const sub = existing ?? this.add(socket, channelId, tracking);
      settled = true;
      if (page.hasMore || cut?.hasMore) {
        // Not attached: the client asks again from the ack's head (or pages over REST first).
        // With nothing carried (all that was kept lay at or below sinceSeq), the client asks again from where it is.
        reply({ channel, presence: this.presenceFor(channelId, user), missed, hasMore: true, head: missed.at(-1)?.seq ?? sinceSeq! });
        return;
      }
      const head = stream.head;
      reply({ channel: { ...channel, lastSeq: Math.max(channel.lastSeq, head) }, presence: this.presenceFor(channelId, user), missed, hasMore: false, head });
      this.attach(sub);
    } finally {
      collector.stop();
      if (!settled && existing && wasAttached && socket.connected && this.get(socket, channelId) === existing) {
        // A failed re-subscribe keeps the subscription whole: what it collected, then live again.
        // Only a complete collection can be replayed; past the bound the socket is out of step: its
        // transport is closed, and the client resumes with sinceSeq as after any lost connection.
        if (collector.full) this.sockets.closeTransport(socket);
        else {
          for (const m of collector.items) socket.emit('message:created', m);
          this.attach(existing);
        }
      }
      if (!settled && !existing) this.release(channelId, tracking);
    }
  }

  /** Access, from Postgres every time; gone access ends a subscription being renewed (Postgres unreachable revokes nothing). */
  private async checkAccess(channelId: string, user: UserRef, existing: Sub | undefined): Promise<ChannelDto> {
    try {
      return await this.channels.get(channelId, user);
    } catch (e) {
      if (existing && existing.socket.connected && toAppError(e).code === 'NOT_FOUND') this.end(existing, 'removed', 0);
      throw e;
    }
  }

  /** A revocation arrived while this subscribe was under way: it ended any subscription already; the subscribe is refused. */
  private refuseIfRevoked(pending: Pending) {
    if (pending.revoked) throw notFound('channel');
  }

  /**
   * What the stream emitted while the subscribe read, past sinceSeq, within
   * the bytes and count left (`atLeastOne`: the ack has no message yet, so
   * the first is kept whatever its size). hasMore when something past
   * sinceSeq, up to the stream's `head`, was left out.
   */
  private fit(collector: Collector, sinceSeq: number | undefined, head: number, bytesLeft: number, countLeft: number, atLeastOne: boolean): { items: MessageDto[]; hasMore: boolean } {
    if (sinceSeq === undefined) return { items: [], hasMore: false };
    // Items at or below sinceSeq are there only when a renewal kept everything (collect's `after`).
    const items: MessageDto[] = [];
    for (let i = 0; i < collector.items.length; i++) {
      const m = collector.items[i];
      if (m.seq <= sinceSeq) continue;
      const size = collector.sizes[i];
      if (items.length >= countLeft || (size > bytesLeft && !(atLeastOne && items.length === 0))) return { items, hasMore: true };
      items.push(m);
      bytesLeft -= size;
    }
    // A full collector dropped what came after its last item; that matters only if it lay past sinceSeq.
    return { items, hasMore: collector.full && head > sinceSeq };
  }

  /** The socket left mid-subscribe: nothing attached, nothing to ack; counted so it can be seen. */
  private abandoned(): void {
    this.metrics.socketEvents.inc({ event: 'channel:subscribe', outcome: 'abandoned' });
  }

  /** This replica's stream has yet to emit up to what the client holds: wait for it, boundedly. */
  private async reached(stream: ChannelStream, seq: number): Promise<void> {
    const reached = stream.reached(seq).then(
      () => true,
      () => Promise.reject(notFound('channel')),
    );
    if (!(await withTimeout(reached, REACH_TIMEOUT_MS, false))) throw unavailable('live delivery');
  }

  private presenceFor(channelId: string, user: UserRef): UserRef[] {
    const users = this.presence.list(channelId);
    return users.some((u) => u.id === user.id) ? users : [...users, user];
  }

  private async hold(channelId: string): Promise<Tracking> {
    let t = this.tracking.get(channelId);
    if (!t) {
      const created: Tracking = { refs: 0, ready: Promise.resolve(), readyAt: Infinity, room: channelRoom(channelId) };
      // The topic first: what is published after the head and the presence view are read must arrive here.
      created.ready = this.bus
        .join(channelId)
        .then(() => {
          created.readyAt = ++this.epoch;
          return Promise.all([this.delivery.track(channelId), this.presence.watch(channelId)]);
        })
        .then(([stream]) => {
          created.stream = stream;
        });
      created.ready.catch(() => {
        if (this.tracking.get(channelId) !== created) return;
        this.tracking.delete(channelId);
        this.presence.unwatch(channelId);
        this.bus.leave(channelId);
      });
      this.tracking.set(channelId, (t = created));
    }
    t.refs++;
    try {
      await t.ready;
    } catch (e) {
      t.refs--;
      throw e;
    }
    return t;
  }

  private release(channelId: string, t: Tracking) {
    if (--t.refs > 0 || this.tracking.get(channelId) !== t) return;
    this.tracking.delete(channelId);
    this.delivery.untrack(channelId, t.stream);
    this.presence.unwatch(channelId);
    this.bus.leave(channelId);
  }

  private add(socket: TypedSocket, channelId: string, tracking: Tracking): Sub {
    const sub: Sub = { socket, channelId, attached: false, tracking };
    const mine = this.bySocket.get(socket.id);
    if (!mine) this.bySocket.set(socket.id, sub);
    else if (mine instanceof Map) mine.set(channelId, sub);
    else
      this.bySocket.set(
        socket.id,
        new Map([
          [mine.channelId, mine],
          [channelId, sub],
        ]),
      );
    const theirs = this.byChannel.get(channelId) ?? new Map<string, Sub>();
    this.byChannel.set(channelId, theirs.set(socket.id, sub));
    this.presence.join(channelId, socket.data.user, socket.id);
    return sub;
  }

  private attach(sub: Sub) {
    sub.attached = true;
    void sub.socket.join(sub.tracking.room);
  }

  private detach(sub: Sub) {
    sub.attached = false;
    void sub.socket.leave(sub.tracking.room);
  }

  /** Ends a subscription; a notice is sent before the socket leaves the room, so nothing follows it. */
  private end(sub: Sub, notice?: Notice, graceMs?: number) {
    const { socket, channelId } = sub;
    if (this.get(socket, channelId) !== sub) return;
    const mine = this.bySocket.get(socket.id);
    if (mine instanceof Map) {
      mine.delete(channelId);
      if (mine.size === 1) this.bySocket.set(socket.id, mine.values().next().value!);
    } else this.bySocket.delete(socket.id);
    this.byChannel.get(channelId)?.delete(socket.id);
    if (this.byChannel.get(channelId)?.size === 0) this.byChannel.delete(channelId);
    if (notice === 'deleted') socket.emit('channel:deleted', { channelId });
    else if (notice) socket.emit('channel:removed', { channelId, reason: notice });
    if (sub.attached) this.detach(sub);
    this.presence.leave(channelId, socket.data.user.id, socket.id, graceMs);
    this.release(channelId, sub.tracking);
  }

  /**
   * At once, not queued behind the socket's steps: a frame that follows the
   * revocation on the bus may be emitted in the same tick. Subscriptions end;
   * subscribes in progress are marked (their ack will be NOT_FOUND).
   */
  private evict(channelId: string, which: (userId: string) => boolean, notice: Notice) {
    for (const p of this.pendingByChannel.get(channelId) ?? []) if (which(p.socket.data.user.id)) p.revoked ??= notice;
    for (const sub of [...(this.byChannel.get(channelId)?.values() ?? [])]) {
      if (which(sub.socket.data.user.id) && sub.socket.connected) this.end(sub, notice, 0);
    }
  }

  /** The slots of the socket's cap taken: its subscriptions, and subscribes in progress of other channels. */
  private slotsUsed(socket: TypedSocket, channelId: string): number {
    const held = new Set(this.subsOf(socket).map((s) => s.channelId));
    if (held.has(channelId)) return 0; // a resubscribe takes no new slot
    let used = held.size;
    const counted = new Set<string>();
    for (const p of this.pendingBySocket.get(socket.id) ?? []) {
      // Nor does a repeat of a subscribe in progress that holds one; a repeat of one over the cap is counted afresh.
      if (p.channelId === channelId && p.slot) return 0;
      if (p.slot && !held.has(p.channelId) && !counted.has(p.channelId)) (counted.add(p.channelId), used++);
    }
    return used;
  }

  private addPending(p: Pending) {
    for (const [map, key] of [
      [this.pendingByChannel, p.channelId],
      [this.pendingBySocket, p.socket.id],
    ] as const) {
      const set = map.get(key) ?? new Set<Pending>();
      map.set(key, set.add(p));
    }
  }

  private removePending(p: Pending) {
    for (const [map, key] of [
      [this.pendingByChannel, p.channelId],
      [this.pendingBySocket, p.socket.id],
    ] as const) {
      const set = map.get(key);
      if (set?.delete(p) && set.size === 0) map.delete(key);
    }
  }

  private subsOf(socket: TypedSocket): Sub[] {
    const mine = this.bySocket.get(socket.id);
    return mine instanceof Map ? [...mine.values()] : mine ? [mine] : [];
  }

  private get(socket: TypedSocket, channelId: string): Sub | undefined {
    const mine = this.bySocket.get(socket.id);
    return mine instanceof Map ? mine.get(channelId) : mine?.channelId === channelId ? mine : undefined;
  }

  private serialize(socket: TypedSocket, channelId: string, op: () => Promise<void>): Promise<void> {
    const key = `${socket.id}|${channelId}`;
    const run = (this.queues.get(key) ?? Promise.resolve()).then(op);
    const tail = run.catch(() => undefined);
    this.queues.set(key, tail);
    void tail.then(() => {
      if (this.queues.get(key) === tail) this.queues.delete(key);
    });
    return run;
  }
}
