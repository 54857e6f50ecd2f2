import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module.js';
import { ChannelsModule } from '../channels/channels.module.js';
import { MessagesController } from './messages.controller.js';
import { MessagesGateway } from './messages.gateway.js';

@Module({
  imports: [AuthModule, ChannelsModule],
  controllers: [MessagesController],
  providers: [MessagesGateway],
})
export class MessagesModule {}
