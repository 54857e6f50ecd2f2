import { Inject, Injectable } from '@nestjs/common';
import type { MessageDto, UserRef } from '../events/dto.js';
import { INSTANCE_ID, REDIS_CLIENTS } from '../redis/redis.provider.js';
import type { RedisClients } from '../redis/redis-clients.js';
import { type PresenceChange, parsePresenceFrame } from './presence-store.js';

/** One Redis topic per channel: what other replicas need to know of that channel, and nothing else. */
export const channelTopic = (channelId: string) => `crosswire:ch:${channelId}`;
const PREFIX = channelTopic('');

/** How long a subscription may take to be confirmed before the channel is tracked anyway (the tick covers). */
const CONFIRM_MS = 2_000;

export interface BusHandlers {
  message(m: MessageDto): void;
  typing(channelId: string, user: UserRef): void;
  presence(change: PresenceChange): void;
}

/**
 * The per-channel topics. A replica subscribes to a channel's topic while it
 * has subscribers of the channel, so a replica without any receives none of
 * its messages, typing or presence changes. Frames are `kind|origin|payload`:
 * `m` a message, `t` typing (both published by a replica, which skips its own
 * when they come back), `p` a presence change (published by the lease
 * scripts, applied by every replica, the origin included).
 */
@Injectable()
export class ChannelBus {
  constructor(
    @Inject(REDIS_CLIENTS) private readonly redis: RedisClients | null,
    @Inject(INSTANCE_ID) private readonly origin: string,
  ) {}

  listen(handlers: BusHandlers): void {
    this.redis?.bus.on('message', (topic: string, text: string) => {
      if (!topic.startsWith(PREFIX)) return;
      const second = text.indexOf('|', 2);
      const kind = text[0];
      if (kind === 'p') {
        const change = parsePresenceFrame(topic.slice(PREFIX.length), text.slice(second + 1));
        if (change) handlers.presence(change);
        return;
      }
      if (text.slice(2, second) === this.origin) return;
      const payload = JSON.parse(text.slice(second + 1));
      if (kind === 'm') handlers.message(payload as MessageDto);
      else if (kind === 't') handlers.typing(topic.slice(PREFIX.length), payload as UserRef);
    });
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
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([confirmed, new Promise((r) => (timer = setTimeout(r, CONFIRM_MS)))]);
    clearTimeout(timer);
  }

  leave(channelId: string): void {
    void this.redis?.bus.unsubscribe(channelTopic(channelId));
  }

  publishMessage(message: MessageDto): void {
    this.publish(message.channelId, 'm', JSON.stringify(message));
  }

  publishTyping(channelId: string, user: UserRef): void {
    this.publish(channelId, 't', JSON.stringify(user));
  }

  private publish(channelId: string, kind: 'm' | 't', payload: string) {
    // A loss (Redis down) is logged by the guarded client and repaired by the hold-back and the tick; typing is not repaired.
    void this.redis?.pub.publish(channelTopic(channelId), `${kind}|${this.origin}|${payload}`);
  }
}
