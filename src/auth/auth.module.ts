import { Module } from '@nestjs/common';
import { EventsModule } from '../events/events.module.js';
import { LimitsModule } from '../limits/limits.module.js';
import { RedisModule } from '../redis/redis.module.js';
import { UsersModule } from '../users/users.module.js';
import { AuthController } from './auth.controller.js';
import { AuthGuard } from './auth.guard.js';
import { AuthService } from './auth.service.js';
import { PasswordWork } from './password-work.js';

@Module({
  imports: [UsersModule, RedisModule, EventsModule, LimitsModule],
  controllers: [AuthController],
  providers: [AuthService, AuthGuard, PasswordWork],
  // AuthGuard is instantiated in each module that uses it, and needs the limits there.
  exports: [AuthService, AuthGuard, LimitsModule],
})
export class AuthModule {}
