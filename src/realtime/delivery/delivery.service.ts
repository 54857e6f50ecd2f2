import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { notFound } from '../../common/errors.js';
import { APP_CONFIG, type AppConfig } from '../../config/config.js';
import type { MessageDto } from '../../events/dto.js';
import { LOGGER, type JsonLogger } from '../../logging/logger.js';
import { jsonBytes } from '../../common/validation.js';
import { MESSAGE_ENVELOPE_BYTES } from '../../messages/messages.mapper.js';
import { MessagesReader } from '../../messages/messages.reader.js';
import { MetricsService } from '../../metrics/metrics.service.js';
import { ChannelBus } from './channel-bus.js';
import { ChannelStream, type DeliveryPath } from './channel-stream.js';
import { FanoutHealthService } from './fanout-health.service.js';
import { SocketServer } from '../transport/socket-server.js';

/** One read of the hold-back or the tick fetches at most this many messages. */
export const READ_PAGE = 500;

/**
 * Delivery of `message:created`, end to end: one ChannelStream per channel
 * with subscribers here, fed by this replica's publishes, the channel's
 * topic (ChannelBus) and the tick, emitting to the channel's attached
 * sockets in seq order.
 */
@Injectable()
export class DeliveryService implements OnModuleDestroy {
  private readonly streams = new Map<string, ChannelStream>();

  constructor(
    private readonly sockets: SocketServer,
    private readonly bus: ChannelBus,
    private readonly reader: MessagesReader,
    private readonly metrics: MetricsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) private readonly logger: JsonLogger,
    private readonly health: FanoutHealthService,
  ) {}

  /**
   * A message this replica stored: to the other replicas through the bus, and
   * to this replica's own sockets when its frame comes back (ChannelStream.expectEcho),
   * so here too it follows every revocation Redis took before it. Without a
   * live bus (no Redis, a connection down, or the canary failing: Redis
   * paused or this replica's bus stuck) it goes to them at once: there is no
   * order to keep with frames that are not coming, and the tick re-applies
   * access meanwhile.
   */
  publish(message: MessageDto): void {
    const stream = this.streams.get(message.channelId);
    if (!this.bus.live || this.health.fanout() !== 'ok') {
      stream?.offer(message, 'live');
      void this.bus.publishMessage(message);
      return;
    }
    stream?.expectEcho(message);
    void this.bus.publishMessage(message).then((taken) => {
      if (!taken) this.echo(message.channelId, message.seq);
    });
  }

  /** An own message's frame came back from the bus. */
  echo(channelId: string, seq: number): void {
    this.streams.get(channelId)?.echo(seq);
  }

  offer(message: MessageDto, path: DeliveryPath): void {
    this.streams.get(message.channelId)?.offer(message, path);
  }

  /**
   * Starts the channel's stream at its lastSeq as read now (after its topic
   * is subscribed). Messages offered meanwhile wait in the stream, so one
   * committed after the read is not lost.
   */
  async track(channelId: string): Promise<ChannelStream> {
    const stream = new ChannelStream({
      read: async (after, upTo) => {
        const page = await this.reader.range(channelId, after, upTo, READ_PAGE);
        this.metrics.catchUpReads.inc({ outcome: 'ok' });
        return page;
      },
      emit: (m, path) => {
        this.sockets.toChannel(channelId, 'message:created', m);
        this.metrics.deliveries.inc({ path });
        // createdAt is Postgres' clock; on another host a skew shows here, so a negative lag counts as 0.
        // An unparsable one is skipped: prom-client throws on NaN, and a metric must never stop a delivery.
        const lagMs = Date.now() - Date.parse(m.createdAt);
        if (Number.isFinite(lagMs)) this.metrics.deliveryLag.observe({ path }, Math.max(0, lagMs) / 1000);
        this.metrics.socketDeliveries.inc(this.sockets.roomSize(channelId));
      },
      sizeOf: (m) => MESSAGE_ENVELOPE_BYTES + jsonBytes(m.body),
      holdMs: this.config.HOLDBACK_MS,
      onParked: () => this.metrics.holdbacks.inc(),
      onReadFailed: (err) => {
        this.metrics.catchUpReads.inc({ outcome: 'failed' });
        this.logger.event('warn', 'catch-up read failed', { channelId, err: String(err) });
      },
    });
    this.streams.set(channelId, stream);
    try {
      const head = (await this.reader.heads([channelId])).get(channelId);
      if (!head) throw notFound('channel');
      stream.start(head.lastSeq);
      return stream;
    } catch (e) {
      this.untrack(channelId, stream);
      throw e;
    }
  }

  /** Stops the channel's stream (or only `which`, if it is still the current one). */
  untrack(channelId: string, which?: ChannelStream): void {
    const stream = this.streams.get(channelId);
    if (!stream || (which && stream !== which)) return;
    stream.stop();
    this.streams.delete(channelId);
  }

  stream(channelId: string): ChannelStream | undefined {
    return this.streams.get(channelId);
  }

  tracked(): string[] {
    return [...this.streams.keys()];
  }

  onModuleDestroy() {
    for (const stream of this.streams.values()) stream.stop();
    this.streams.clear();
  }
}
