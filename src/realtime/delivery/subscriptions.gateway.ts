import { Ack, ConnectedSocket, MessageBody, SubscribeMessage } from '@nestjs/websockets';
import { channelRefSchema, subscribeSchema } from '../../channels/channels.schemas.js';
import { ClientEventsGateway } from '../../common/client-gateway.decorator.js';
import { ZodPipe } from '../../common/zod.pipe.js';
import { MetricsService } from '../../metrics/metrics.service.js';
import type { Ack as AckOf, SubscribeResult } from '../../events/events.js';
import type { TypedSocket } from '../../events/sockets.js';
import { SubscriptionService } from './subscription.service.js';

/** The socket events of a channel subscription: validated here, carried out by SubscriptionService. */
@ClientEventsGateway()
export class SubscriptionsGateway {
  constructor(
    private readonly subscriptions: SubscriptionService,
    private readonly metrics: MetricsService,
  ) {}

  /** Acked by the service itself, at the instant the socket is attached, so no live message precedes the ack. */
  @SubscribeMessage('channel:subscribe')
  async subscribe(
    @ConnectedSocket() socket: TypedSocket,
    @MessageBody(new ZodPipe(subscribeSchema, 'payload')) p: { channelId: string; sinceSeq?: number },
    @Ack() ack?: (answer: AckOf<SubscribeResult>) => void,
  ): Promise<void> {
    await this.subscriptions.subscribe(socket, p.channelId, p.sinceSeq, (result) => {
      // A sinceSeq is a client resuming (CONTRACT §6); what it missed comes in the ack.
      if (p.sinceSeq !== undefined) {
        this.metrics.resumes.inc({ has_more: String(result.hasMore) });
        this.metrics.resumedMessages.inc(result.missed.length);
      }
      ack?.({ ok: true, ...result });
    });
  }

  @SubscribeMessage('channel:unsubscribe')
  async unsubscribe(@ConnectedSocket() socket: TypedSocket, @MessageBody(new ZodPipe(channelRefSchema, 'payload')) p: { channelId: string }): Promise<AckOf> {
    await this.subscriptions.unsubscribe(socket, p.channelId);
    return { ok: true };
  }

  /** Volatile and unacknowledged: anything wrong is dropped silently. */
  @SubscribeMessage('typing')
  async typing(@ConnectedSocket() socket: TypedSocket, @MessageBody() payload: unknown): Promise<void> {
    const p = channelRefSchema.safeParse(payload);
    if (p.success) await this.subscriptions.typing(socket, p.data.channelId);
  }
}
