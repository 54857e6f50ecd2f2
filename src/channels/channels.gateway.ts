import { Inject } from '@nestjs/common';
import { ConnectedSocket, MessageBody, SubscribeMessage } from '@nestjs/websockets';
import { ClientEventsGateway } from '../common/client-gateway.decorator.js';
import { ZodPipe } from '../common/zod.pipe.js';
import { PRESENCE_READER, type PresenceReader } from '../events/broadcaster.js';
import { type Ack, CHANNEL_SESSIONS, type ChannelSessions, type SubscribeResult, type TypedSocket } from '../events/events.js';
import { MessagesService } from '../messages/messages.service.js';
import { channelRefSchema, subscribeSchema } from './channels.schemas.js';
import { ChannelsService } from './channels.service.js';

@ClientEventsGateway()
export class ChannelsGateway {
  constructor(
    private readonly channels: ChannelsService,
    private readonly messages: MessagesService,
    @Inject(CHANNEL_SESSIONS) private readonly sessions: ChannelSessions,
    @Inject(PRESENCE_READER) private readonly presence: PresenceReader,
  ) {}

  /**
   * Access check, then join the room, then read: a message stored after the
   * join is delivered live, one stored before it is in `missed` (or both;
   * clients drop a seq they hold). Access is checked again after the join so
   * a revocation racing the subscribe cannot leave the socket in the room.
   */
  @SubscribeMessage('channel:subscribe')
  async subscribe(
    @ConnectedSocket() socket: TypedSocket,
    @MessageBody(new ZodPipe(subscribeSchema, 'payload')) p: { channelId: string; sinceSeq?: number },
  ): Promise<Ack<SubscribeResult>> {
    const user = socket.data.user;
    await this.channels.access(p.channelId, user);
    await this.sessions.join(socket, p.channelId);
    try {
      const channel = await this.channels.get(p.channelId, user);
      this.sessions.track(p.channelId, channel.lastSeq);
      const page = p.sinceSeq === undefined ? { items: [], hasMore: false } : await this.messages.after(p.channelId, p.sinceSeq);
      return { ok: true, channel, presence: await this.presence.online(p.channelId), missed: page.items, hasMore: page.hasMore };
    } catch (e) {
      this.sessions.leave(socket, p.channelId);
      throw e;
    }
  }

  @SubscribeMessage('channel:unsubscribe')
  unsubscribe(@ConnectedSocket() socket: TypedSocket, @MessageBody(new ZodPipe(channelRefSchema, 'payload')) p: { channelId: string }): Ack {
    this.sessions.leave(socket, p.channelId);
    return { ok: true };
  }
}
