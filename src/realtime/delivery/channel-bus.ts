import { Inject, Injectable } from '@nestjs/common';
import { withTimeout } from '../../common/with-timeout.js';
import type { FaultSwitches } from '../../config/config.js';
import type { MessageDto, UserRef } from '../../events/dto.js';
import type { RemovedReason } from '../../events/events.js';
import { FAULTS } from '../../faults/faults.module.js';
import { INSTANCE_ID, REDIS_CLIENTS } from '../../redis/redis.provider.js';
import type { RedisClients } from '../../redis/redis-clients.js';

/** One Redis topic per channel: what other replicas need to know of that channel, and nothing else. */
export const channelTopic = (channelId: string) => `crosswire:ch:${channelId}`;
const PREFIX = channelTopic('');
/** What concerns a user on every replica (a logout everywhere), on the same connection as the channels' topics. */
const CONTROL = 'crosswire:control';

/** The first letter of a frame: `kind|origin|payload`. */
export const Frame = {
  /** A stored message; the origin replica emits it to its own sockets when the frame comes back (echo). */
  Message: 'm',
  Typing: 't',
  /** A presence change, published by the lease scripts themselves (origin `-`). */
  Presence: 'p',
  /** Users lost access to the channel: `{userIds, reason}`. */
  Revoked: 'r',
  /** The channel turned private: `{memberIds}`; everyone else loses access. */
  MadePrivate: 'v',
  Deleted: 'd',
  /** On the control topic: `{userId, version}`, every session of the user older than version ends. */
  Sessions: 's',
} as const;

/** How long a revocation waits for Redis to take its frame before the request is answered anyway. */
const CONTROL_WAIT_MS = 1_000;
/** How long a subscription may take to be confirmed before the channel is tracked anyway (the tick covers). */
const CONFIRM_MS = 2_000;

export interface BusHandlers {
  message(m: MessageDto): void;
  /** A message this replica published came back (or Redis refused it). */
  echo(channelId: string, seq: number): void;
  typing(channelId: string, user: UserRef): void;
  /** A presence frame's payload (`j|id|name` or `l|id|name`), for presence to read. */
  presence(channelId: string, payload: string): void;
  revoked(channelId: string, userIds: string[], reason: RemovedReason): void;
  madePrivate(channelId: string, memberIds: string[]): void;
  deleted(channelId: string): void;
  sessionsRevoked(userId: string, version: number): void;
}

/**
 * The per-channel topics. A replica subscribes to a channel's topic while it
 * has subscribers of the channel, so a replica without any receives none of
 * its messages, typing, presence changes or revocations.
 *
 * Delivery is at most once per frame (Redis pub/sub); what a lost message
 * frame leaves out, the hold-back and the tick read from Postgres. What the
 * topics add is order: Redis pushes every frame to a subscriber connection in
 * the order it took them, and every frame a replica reads comes in on this one
 * connection. So a revocation taken before a message was published reaches
 * every replica holding the channel before that message does, and this
 * replica's own messages wait for their echo to keep that order too.
 */
@Injectable()
export class ChannelBus {
  constructor(
    @Inject(REDIS_CLIENTS) private readonly redis: RedisClients | null,
    @Inject(INSTANCE_ID) private readonly origin: string,
    @Inject(FAULTS) private readonly faults: FaultSwitches,
  ) {}

  /** Frames go through Redis now: both connections are up. */
  get live(): boolean {
    return this.redis?.bus.status === 'ready' && this.redis.pub.status === 'ready';
  }

  listen(handlers: BusHandlers): void {
    const bus = this.redis?.bus;
    if (!bus) return;
    void bus.subscribe(CONTROL);
    const handle = (topic: string, text: string) => this.dispatch(handlers, topic, text);
    const lag = this.faults.busLagMs;
    bus.on('message', lag > 0 ? (topic: string, text: string) => setTimeout(handle, lag, topic, text) : handle);
  }

  private dispatch(h: BusHandlers, topic: string, text: string) {
    const channelId = topic.startsWith(PREFIX) ? topic.slice(PREFIX.length) : undefined;
    if (channelId === undefined && topic !== CONTROL) return;
    const kind = text[0];
    const second = text.indexOf('|', 2);
    if (kind === Frame.Presence) return h.presence(channelId!, text.slice(second + 1));
    const own = text.slice(2, second) === this.origin;
    if (kind === Frame.Message) {
      const third = text.indexOf('|', second + 1);
      if (own) h.echo(channelId!, Number(text.slice(second + 1, third)));
      else h.message(JSON.parse(text.slice(third + 1)) as MessageDto);
      return;
    }
    // The origin applied its own control frames before publishing them.
    if (own) return;
    const payload = text.slice(second + 1);
    if (kind === Frame.Typing) h.typing(channelId!, JSON.parse(payload) as UserRef);
    else if (kind === Frame.Revoked) {
      const { userIds, reason } = JSON.parse(payload) as { userIds: string[]; reason: RemovedReason };
      h.revoked(channelId!, userIds, reason);
    } else if (kind === Frame.MadePrivate) h.madePrivate(channelId!, (JSON.parse(payload) as { memberIds: string[] }).memberIds);
    else if (kind === Frame.Deleted) h.deleted(channelId!);
    else if (kind === Frame.Sessions) {
      const { userId, version } = JSON.parse(payload) as { userId: string; version: number };
      h.sessionsRevoked(userId, version);
    }
  }

  /**
   * Subscribes to the channel's topic and resolves once Redis has confirmed
   * it, so what is published from then on arrives here. With Redis
   * unreachable it resolves at once (the subscription is made when Redis
   * returns; the hold-back and the tick deliver meanwhile).
   */
  async join(channelId: string): Promise<void> {
    const bus = this.redis?.bus;
    if (!bus) return;
    const confirmed = bus.subscribe(channelTopic(channelId));
    if (bus.status !== 'ready') return;
    await withTimeout(confirmed, CONFIRM_MS, undefined);
  }

  /** The bus connection is (again) ready: frames published while it was away are lost to it. */
  onReady(listener: () => void): void {
    this.redis?.bus.on('ready', listener);
  }

  leave(channelId: string): void {
    void this.redis?.bus.unsubscribe(channelTopic(channelId));
  }

  /** Resolves true once Redis took the frame; false when it could not (the caller emits its own copy then). */
  publishMessage(message: MessageDto): Promise<boolean> {
    return this.publish(channelTopic(message.channelId), `${Frame.Message}|${this.origin}|${message.seq}|${JSON.stringify(message)}`);
  }

  publishTyping(channelId: string, user: UserRef): void {
    // Typing is volatile: a loss (Redis down) is not repaired.
    void this.publish(channelTopic(channelId), `${Frame.Typing}|${this.origin}|${JSON.stringify(user)}`);
  }

  publishRevoked(channelId: string, userIds: string[], reason: RemovedReason): Promise<void> {
    return this.control(channelTopic(channelId), Frame.Revoked, { userIds, reason });
  }

  publishMadePrivate(channelId: string, memberIds: string[]): Promise<void> {
    return this.control(channelTopic(channelId), Frame.MadePrivate, { memberIds });
  }

  publishDeleted(channelId: string): Promise<void> {
    return this.control(channelTopic(channelId), Frame.Deleted, {});
  }

  publishSessionsRevoked(userId: string, version: number): Promise<void> {
    return this.control(CONTROL, Frame.Sessions, { userId, version });
  }

  /**
   * Resolves once Redis took the frame (it then precedes, on every replica,
   * anything published after the caller answers), or after CONTROL_WAIT_MS: a
   * paused Redis never stalls the request; the tick then re-applies access.
   */
  private async control(topic: string, kind: string, payload: object): Promise<void> {
    await withTimeout(this.publish(topic, `${kind}|${this.origin}|${JSON.stringify(payload)}`), CONTROL_WAIT_MS, false);
  }

  private async publish(topic: string, frame: string): Promise<boolean> {
    const pub = this.redis?.pub;
    if (!pub) return false;
    // The guarded client logs a failure and resolves undefined instead of rejecting.
    return (await pub.publish(topic, frame)) !== undefined;
  }
}
