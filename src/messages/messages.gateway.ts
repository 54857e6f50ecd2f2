import { Inject } from '@nestjs/common';
import { ConnectedSocket, MessageBody, SubscribeMessage } from '@nestjs/websockets';
import { ChannelsService } from '../channels/channels.service.js';
import { ClientEventsGateway } from '../common/client-gateway.decorator.js';
import { ZodPipe } from '../common/zod.pipe.js';
import { channelRefSchema } from '../channels/channels.schemas.js';
import { BROADCASTER, type Broadcaster } from '../events/broadcaster.js';
import type { MessageDto } from '../events/dto.js';
import { type Ack, CHANNEL_SESSIONS, type ChannelSessions, type TypedSocket } from '../events/events.js';
import { publishEventSchema } from './messages.schemas.js';
import { MessagesService } from './messages.service.js';
import type { z } from 'zod';

@ClientEventsGateway()
export class MessagesGateway {
  constructor(
    private readonly messages: MessagesService,
    private readonly channels: ChannelsService,
    @Inject(BROADCASTER) private readonly broadcaster: Broadcaster,
    @Inject(CHANNEL_SESSIONS) private readonly sessions: ChannelSessions,
  ) {}

  @SubscribeMessage('message:publish')
  async publish(
    @ConnectedSocket() socket: TypedSocket,
    @MessageBody(new ZodPipe(publishEventSchema, 'payload')) p: z.infer<typeof publishEventSchema>,
  ): Promise<Ack<{ message: MessageDto }>> {
    const { channelId, ...input } = p;
    const { message } = await this.messages.publish(channelId, input, socket.data.user);
    return { ok: true, message };
  }

  /**
   * Volatile and unacknowledged: anything wrong is dropped silently. A socket
   * still in the room may publish (revocation takes it out); otherwise ask.
   */
  @SubscribeMessage('typing')
  async typing(@ConnectedSocket() socket: TypedSocket, @MessageBody() payload: unknown): Promise<void> {
    const p = channelRefSchema.safeParse(payload);
    if (!p.success) return;
    const { channelId } = p.data;
    const user = socket.data.user;
    if (!this.sessions.isIn(socket, channelId)) {
      const allowed = await this.channels.access(channelId, user).then(() => true, () => false);
      if (!allowed) return;
    }
    this.broadcaster.typing(channelId, user);
  }
}
