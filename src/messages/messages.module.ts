import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module.js';
import { ChannelsModule } from '../channels/channels.module.js';
import { EventsModule } from '../events/events.module.js';
import { LimitsModule } from '../limits/limits.module.js';
import { MessagesController } from './messages.controller.js';
import { MessagesGateway } from './messages.gateway.js';
import { MessagesReader } from './messages.reader.js';
import { MessagesService } from './messages.service.js';

@Module({
  imports: [AuthModule, ChannelsModule, EventsModule, LimitsModule],
  controllers: [MessagesController],
  providers: [MessagesService, MessagesReader, MessagesGateway],
  exports: [MessagesService, MessagesReader],
})
export class MessagesModule {}
