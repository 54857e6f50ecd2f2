import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module.js';
import { MessagesService } from '../messages/messages.service.js';
import { ChannelsController } from './channels.controller.js';
import { ChannelsGateway } from './channels.gateway.js';
import { ChannelsService } from './channels.service.js';

// MessagesService lives here because subscribing reads history and publishing
// checks channels: one module for both avoids a module import cycle.
@Module({
  imports: [AuthModule],
  controllers: [ChannelsController],
  providers: [ChannelsService, ChannelsGateway, MessagesService],
  exports: [ChannelsService, MessagesService],
})
export class ChannelsModule {}
