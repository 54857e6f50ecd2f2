import { Body, Controller, Get, HttpCode, Ip, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { ZodPipe } from '../common/zod.pipe.js';
import type { UserDto, UserRef } from '../events/dto.js';
import { UsersService } from '../users/users.service.js';
import { ApiJsonBody, ApiOutcomes } from '../common/openapi.js';
import { type Credentials, credentialsSchema, type PasswordChange, passwordChangeSchema } from './auth.schemas.js';
import { AuthGuard, CurrentUser } from './auth.guard.js';
import { AuthService, type Session } from './auth.service.js';

@ApiTags('auth')
@Controller()
export class AuthController {
  constructor(
    private readonly auth: AuthService,
    private readonly users: UsersService,
  ) {}

  @Post('auth/register')
  @ApiJsonBody(credentialsSchema)
  @ApiOutcomes(201, 400, 409, 429)
  register(@Body(new ZodPipe(credentialsSchema, 'body')) body: Credentials, @Ip() ip: string): Promise<Session> {
    return this.auth.register(body, ip);
  }

  @Post('auth/login')
  @HttpCode(200)
  @ApiJsonBody(credentialsSchema)
  @ApiOutcomes(200, 400, 401, 429)
  login(@Body(new ZodPipe(credentialsSchema, 'body')) body: Credentials, @Ip() ip: string): Promise<Session> {
    return this.auth.login(body, ip);
  }

  /** Ends every session of the caller on every replica: all their tokens stop working, their sockets are closed. */
  @Post('auth/logout-all')
  @HttpCode(204)
  @UseGuards(AuthGuard)
  @ApiBearerAuth()
  @ApiOutcomes(204, 401)
  async logoutAll(@CurrentUser() user: UserRef): Promise<void> {
    await this.auth.logoutEverywhere(user);
  }

  /** A new password; every other session ends as with logout-all, and the answer carries a fresh token. */
  @Post('auth/password')
  @HttpCode(200)
  @UseGuards(AuthGuard)
  @ApiBearerAuth()
  @ApiJsonBody(passwordChangeSchema)
  @ApiOutcomes(200, 400, 401, 403)
  changePassword(@Body(new ZodPipe(passwordChangeSchema, 'body')) body: PasswordChange, @CurrentUser() user: UserRef): Promise<Session> {
    return this.auth.changePassword(user, body);
  }

  @Get('me')
  @UseGuards(AuthGuard)
  @ApiBearerAuth()
  @ApiOutcomes(200, 401)
  me(@CurrentUser() user: UserRef): Promise<UserDto> {
    return this.users.get(user.id);
  }
}
