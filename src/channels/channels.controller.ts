import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query, Res, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiParam, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { AuthGuard, CurrentUser } from '../auth/auth.guard.js';
import { ApiJsonBody, ApiOutcomes, ApiQueryFrom } from '../common/openapi.js';
import { ZodPipe } from '../common/zod.pipe.js';
import { PRESENCE_READER, type Port, type PresenceReader } from '../events/ports.js';
import type { ChannelDto, MembershipDto, UserRef } from '../events/dto.js';
import { Inject } from '@nestjs/common';
import {
  addMemberSchema,
  channelIdParam,
  createChannelSchema,
  type CreateChannel,
  listChannelsSchema,
  type ListChannels,
  memberParams,
  updateChannelSchema,
  type UpdateChannel,
} from './channels.schemas.js';
import { ChannelsService } from './channels.service.js';

const idPipe = new ZodPipe(channelIdParam, 'path');

@ApiTags('channels')
@ApiBearerAuth()
@UseGuards(AuthGuard)
@Controller('channels')
export class ChannelsController {
  constructor(
    private readonly channels: ChannelsService,
    @Inject(PRESENCE_READER) private readonly presence: Port<PresenceReader>,
  ) {}

  @Post()
  @ApiJsonBody(createChannelSchema)
  @ApiOutcomes(201, 400, 401, 409)
  create(@Body(new ZodPipe(createChannelSchema, 'body')) body: CreateChannel, @CurrentUser() user: UserRef): Promise<ChannelDto> {
    return this.channels.create(body, user);
  }

  @Get()
  @ApiQueryFrom(listChannelsSchema)
  @ApiOutcomes(200, 400, 401)
  list(@Query(new ZodPipe(listChannelsSchema, 'query')) query: ListChannels, @CurrentUser() user: UserRef) {
    return this.channels.list(query, user);
  }

  @Get(':id')
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiOutcomes(200, 400, 401, 404)
  get(@Param(idPipe) { id }: { id: string }, @CurrentUser() user: UserRef): Promise<ChannelDto> {
    return this.channels.get(id, user);
  }

  @Patch(':id')
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiJsonBody(updateChannelSchema)
  @ApiOutcomes(200, 400, 401, 403, 404, 409)
  update(@Param(idPipe) { id }: { id: string }, @Body(new ZodPipe(updateChannelSchema, 'body')) body: UpdateChannel, @CurrentUser() user: UserRef): Promise<ChannelDto> {
    return this.channels.update(id, body, user);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiOutcomes(204, 400, 401, 403, 404)
  async remove(@Param(idPipe) { id }: { id: string }, @CurrentUser() user: UserRef): Promise<void> {
    await this.channels.remove(id, user);
  }

  @Post(':id/members')
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiJsonBody(addMemberSchema)
  @ApiOutcomes(201, 200, 400, 401, 403, 404)
  async addMember(
    @Param(idPipe) { id }: { id: string },
    @Body(new ZodPipe(addMemberSchema, 'body')) body: { username: string },
    @CurrentUser() user: UserRef,
    @Res({ passthrough: true }) res: Response,
  ): Promise<MembershipDto> {
    const { membership, created } = await this.channels.addMember(id, body.username, user);
    res.status(created ? 201 : 200);
    return membership;
  }

  @Delete(':id/members/:userId')
  @HttpCode(204)
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiParam({ name: 'userId', format: 'uuid' })
  @ApiOutcomes(204, 400, 401, 403, 404, 409)
  async removeMember(@Param(new ZodPipe(memberParams, 'path')) p: { id: string; userId: string }, @CurrentUser() user: UserRef): Promise<void> {
    await this.channels.removeMember(p.id, p.userId, user);
  }

  @Get(':id/presence')
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiOutcomes(200, 400, 401, 404)
  async presenceOf(@Param(idPipe) { id }: { id: string }, @CurrentUser() user: UserRef): Promise<{ users: UserRef[] }> {
    await this.channels.canRead(id, user);
    return { users: await this.presence.use.online(id) };
  }
}
