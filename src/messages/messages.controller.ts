import { Body, Controller, Get, Param, Post, Query, Res, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiParam, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { AuthGuard, CurrentUser } from '../auth/auth.guard.js';
import { channelIdParam } from '../channels/channels.schemas.js';
import { ApiJsonBody, ApiOutcomes, ApiQueryFrom } from '../common/openapi.js';
import { ZodPipe } from '../common/zod.pipe.js';
import type { MessageDto, UserRef } from '../events/dto.js';
import { historyQuerySchema, type HistoryQuery, publishBodySchema, type PublishInput } from './messages.schemas.js';
import { MessagesService } from './messages.service.js';

const idPipe = new ZodPipe(channelIdParam, 'path');
const IMMUTABLE_MAX_AGE_S = 86_400;

@ApiTags('messages')
@ApiBearerAuth()
@UseGuards(AuthGuard)
@Controller('channels/:id/messages')
export class MessagesController {
  constructor(private readonly messages: MessagesService) {}

  @Get()
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiQueryFrom(historyQuerySchema)
  @ApiOutcomes(200, 400, 401, 404)
  async history(
    @Param(idPipe) { id }: { id: string },
    @Query(new ZodPipe(historyQuerySchema, 'query')) query: HistoryQuery,
    @CurrentUser() user: UserRef,
    @Res({ passthrough: true }) res: Response,
  ): Promise<string> {
    const page = await this.messages.history(id, query, user);
    res.type('application/json');
    // A page every seq of which is committed never changes: the client may keep it. Others are revalidated (ETag).
    res.setHeader('Cache-Control', page.immutable ? `private, max-age=${IMMUTABLE_MAX_AGE_S}, immutable` : 'private, no-cache');
    return page.json;
  }

  @Post()
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiJsonBody(publishBodySchema)
  @ApiOutcomes(201, 200, 400, 401, 404, 409, 413)
  async publish(
    @Param(idPipe) { id }: { id: string },
    @Body(new ZodPipe(publishBodySchema, 'body')) body: PublishInput,
    @CurrentUser() user: UserRef,
    @Res({ passthrough: true }) res: Response,
  ): Promise<MessageDto> {
    const { message, created } = await this.messages.publish(id, body, user);
    res.status(created ? 201 : 200);
    return message;
  }
}
