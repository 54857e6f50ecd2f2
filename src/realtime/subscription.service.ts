import { Inject, Injectable } from '@nestjs/common';
import { ChannelsService } from '../channels/channels.service.js';
import { badRequest, notFound } from '../common/errors.js';
import { toAppError, unavailable } from '../common/unavailable.js';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import type { ChannelDto, UserRef } from '../events/dto.js';
import { type RemovedReason, type SubscribeResult, channelRoom } from '../events/events.js';
import type { TypedSocket } from '../events/sockets.js';
import { MessagesService } from '../messages/messages.service.js';
import { LimitsService } from '../limits/limits.service.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { ChannelBus } from './channel-bus.js';
import type { ChannelStream } from './channel-stream.js';
import { DeliveryService } from './delivery.service.js';
import { PresenceService } from './presence.service.js';
import { SocketServer } from './socket-server.js';

/** A channel tracked here (its stream and presence view) while subscriptions or subscribes in progress hold it. */
interface Tracking {
  refs: number;
  ready: Promise<void>;
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

/** A stream reads what it lacks every HOLDBACK_MS; past this, Postgres is taken to be unreachable. */
const REACH_TIMEOUT_MS = 10_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The subscription protocol, end to end: subscribe, unsubscribe, disconnect
 * and eviction, serialized per (socket, channel), the socket's state checked
 * after every await. A subscribe reads the missed messages while the stream
 * collects what it emits meanwhile, then in one synchronous step acks
 * (sinceSeq, head] and attaches the socket: live delivery continues at
 * head + 1, with nothing skipped or repeated.
 */
@Injectable()
export class SubscriptionService {
  /** Per socket its subscription, or a map of them by channel once it has two. */
  private readonly bySocket = new Map<string, Sub | Map<string, Sub>>();
  private readonly byChannel = new Map<string, Map<string, Sub>>();
  /** Sockets with a subscribe in progress, per channel: an eviction must wait for them too. */
  private readonly inFlight = new Map<string, Map<string, TypedSocket>>();
  private readonly tracking = new Map<string, Tracking>();
  private readonly queues = new Map<string, Promise<void>>();

  constructor(
    private readonly channels: ChannelsService,
    private readonly messages: MessagesService,
    private readonly delivery: DeliveryService,
    private readonly presence: PresenceService,
    private readonly bus: ChannelBus,
    private readonly sockets: SocketServer,
    private readonly metrics: MetricsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly limits: LimitsService,
  ) {}

  /** Listens to the other replicas' revocations. */
  listen() {
    const io = this.sockets.io;
    io?.on('x:revoke', (channelId, userIds, reason) => this.revokeHere(channelId, userIds, reason));
    io?.on('x:private', (channelId, memberIds) => this.privateHere(channelId, memberIds));
    io?.on('x:deleted', (channelId) => this.deletedHere(channelId));
  }

  /** `reply` is called with the ack's content at the instant the socket is attached, before any live message. */
  subscribe(socket: TypedSocket, channelId: string, sinceSeq: number | undefined, reply: (r: SubscribeResult) => void): Promise<void> {
    const inFlight = this.inFlight.get(channelId) ?? new Map<string, TypedSocket>();
    this.inFlight.set(channelId, inFlight.set(socket.id, socket));
    // The limits are checked in turn with the socket's other steps on the channel, so an unsubscribe sent after still comes after.
    const step = async () => {
      const mine = this.bySocket.get(socket.id);
      this.limits.subscribeAttempt((socket.data.quota ??= {}), this.get(socket, channelId) ? 0 : mine instanceof Map ? mine.size : mine ? 1 : 0);
      await this.doSubscribe(socket, channelId, sinceSeq, reply);
    };
    return this.serialize(socket, channelId, step).finally(() => {
      inFlight.delete(socket.id);
      if (inFlight.size === 0 && this.inFlight.get(channelId) === inFlight) this.inFlight.delete(channelId);
    });
  }

  unsubscribe(socket: TypedSocket, channelId: string): Promise<void> {
    return this.serialize(socket, channelId, async () => {
      const sub = this.get(socket, channelId);
      if (sub) this.end(sub);
    });
  }

  /** Called on `disconnecting`: subscribes in progress see the socket gone and stop. */
  disconnected(socket: TypedSocket): void {
    const mine = this.bySocket.get(socket.id);
    for (const sub of mine instanceof Map ? [...mine.values()] : mine ? [mine] : []) this.end(sub);
  }

  isSubscribed(socket: TypedSocket, channelId: string): boolean {
    return !!this.get(socket, channelId);
  }

  /** Users with a subscription here. */
  localUsers(channelId: string): string[] {
    return [...new Set([...(this.byChannel.get(channelId)?.values() ?? [])].map((s) => s.socket.data.user.id))];
  }

  /** Volatile, to the channel's sockets on every replica with some, not the sender's own; needs a subscription or access. */
  async typing(socket: TypedSocket, channelId: string): Promise<void> {
    const user = socket.data.user;
    // Before anything that costs: typing is volatile, so over the limit it is simply not sent.
    if (!this.limits.typing((socket.data.quota ??= {}))) return;
    if (!this.isSubscribed(socket, channelId)) {
      const allowed = await this.channels.canRead(channelId, user).then(() => true, () => false);
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

  private async doSubscribe(socket: TypedSocket, channelId: string, sinceSeq: number | undefined, reply: (r: SubscribeResult) => void) {
    if (!socket.connected) return this.abandoned();
    const user = socket.data.user;
    const existing = this.get(socket, channelId);
    let channel: ChannelDto;
    try {
      channel = await this.channels.get(channelId, user);
    } catch (e) {
      // Access gone ends the subscription; Postgres unreachable revokes nothing.
      if (existing && socket.connected && toAppError(e).code === 'NOT_FOUND') this.end(existing, 'removed', 0);
      throw e;
    }
    if (this.config.FAULT_SUBSCRIBE_DELAY_MS > 0) await sleep(this.config.FAULT_SUBSCRIBE_DELAY_MS);
    if (!socket.connected) return this.abandoned();
    if (sinceSeq !== undefined && sinceSeq > channel.lastSeq) {
      throw badRequest('sinceSeq is ahead of the channel', [{ field: 'sinceSeq', reason: `must be at most the channel's lastSeq (${channel.lastSeq})` }]);
    }
    const tracking = existing?.tracking ?? (await this.hold(channelId));
    const stream = tracking.stream!;
    const wasAttached = !!existing?.attached;
    let settled = false;
    // While this subscribe reads, live messages go to the collector, not to the socket.
    if (existing && wasAttached) this.detach(existing);
    const collector = stream.collect();
    try {
      if (!socket.connected) return this.abandoned();
      if (stream.isStopped) throw notFound('channel');
      const page = sinceSeq !== undefined && sinceSeq < collector.from
        ? await this.messages.missed(channelId, sinceSeq, collector.from)
        : { items: [], hasMore: false };
      if (!socket.connected) return this.abandoned();
      if (stream.isStopped) throw notFound('channel');
      if (page.hasMore) {
        // Not attached: the client pages, then subscribes again from the page's end.
        if (!existing) this.add(socket, channelId, tracking);
        settled = true;
        reply({ channel, presence: this.presenceFor(channelId, user), missed: page.items, hasMore: true, head: page.items[page.items.length - 1].seq });
        return;
      }
      if (sinceSeq !== undefined && stream.head < sinceSeq) await this.reached(stream, sinceSeq);
      if (!socket.connected) return this.abandoned();
      // The seam, in one synchronous step: missed is (sinceSeq, head], live continues at head + 1.
      const head = stream.head;
      const missed = sinceSeq === undefined ? [] : [...page.items, ...collector.items.filter((m) => m.seq > sinceSeq)];
      const sub = existing ?? this.add(socket, channelId, tracking);
      settled = true;
      reply({ channel: { ...channel, lastSeq: Math.max(channel.lastSeq, head) }, presence: this.presenceFor(channelId, user), missed, hasMore: false, head });
      this.attach(sub);
    } finally {
      collector.stop();
      if (!settled && existing && wasAttached && socket.connected && this.get(socket, channelId) === existing) {
        // A failed re-subscribe keeps the subscription whole: what it collected, then live again.
        for (const m of collector.items) socket.emit('message:created', m);
        this.attach(existing);
      }
      if (!settled && !existing) this.release(channelId, tracking);
    }
  }

  /** The socket left mid-subscribe: nothing attached, nothing to ack; counted so it can be seen. */
  private abandoned(): void {
    this.metrics.socketEvents.inc({ event: 'channel:subscribe', outcome: 'abandoned' });
  }

  /** This replica's stream has yet to emit up to what the client holds: wait for it, boundedly. */
  private async reached(stream: ChannelStream, seq: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(unavailable('live delivery')), REACH_TIMEOUT_MS);
    });
    try {
      await Promise.race([stream.reached(seq).catch(() => Promise.reject(notFound('channel'))), late]);
    } finally {
      clearTimeout(timer);
    }
  }

  private presenceFor(channelId: string, user: UserRef): UserRef[] {
    const users = this.presence.list(channelId);
    return users.some((u) => u.id === user.id) ? users : [...users, user];
  }

  private async hold(channelId: string): Promise<Tracking> {
    let t = this.tracking.get(channelId);
    if (!t) {
      const created: Tracking = { refs: 0, ready: Promise.resolve(), room: channelRoom(channelId) };
      // The topic first: what is published after the head and the presence view are read must arrive here.
      created.ready = this.bus
        .join(channelId)
        .then(() => Promise.all([this.delivery.track(channelId), this.presence.watch(channelId)]))
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
    else this.bySocket.set(socket.id, new Map([[mine.channelId, mine], [channelId, sub]]));
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

  /** Queued behind any subscribe in progress, so one that checked access just before the change ends evicted too. */
  private evict(channelId: string, which: (userId: string) => boolean, notice: Notice) {
    const sockets = new Map<string, TypedSocket>(this.inFlight.get(channelId));
    for (const sub of this.byChannel.get(channelId)?.values() ?? []) sockets.set(sub.socket.id, sub.socket);
    for (const socket of sockets.values()) {
      if (!which(socket.data.user.id)) continue;
      void this.serialize(socket, channelId, async () => {
        const sub = this.get(socket, channelId);
        if (sub && socket.connected) this.end(sub, notice, 0);
      });
    }
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
