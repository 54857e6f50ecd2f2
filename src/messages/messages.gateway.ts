import { ConnectedSocket, MessageBody, SubscribeMessage } from '@nestjs/websockets';
import type { z } from 'zod';
import { ClientEventsGateway } from '../common/client-gateway.decorator.js';
import { ZodPipe } from '../common/zod.pipe.js';
import type { MessageDto } from '../events/dto.js';
import type { Ack } from '../events/events.js';
import type { TypedSocket } from '../events/sockets.js';
import { publishEventSchema } from './messages.schemas.js';
import { MessagesService } from './messages.service.js';

/** The socket door of publishing; the REST door is MessagesController. */
@ClientEventsGateway()
export class MessagesGateway {
  constructor(private readonly messages: MessagesService) {}

  @SubscribeMessage('message:publish')
  async publish(@ConnectedSocket() socket: TypedSocket, @MessageBody(new ZodPipe(publishEventSchema, 'payload')) p: z.infer<typeof publishEventSchema>): Promise<Ack<{ message: MessageDto }>> {
    const { channelId, ...input } = p;
    const { message } = await this.messages.publish(channelId, input, socket.data.user);
    return { ok: true, message };
  }
}
