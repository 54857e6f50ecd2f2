import { Module } from '@nestjs/common';
import { RedisModule } from '../redis/redis.module.js';
import { LimitsService } from './limits.service.js';

/** The abuse limits, for the auth, messages and realtime features. */
@Module({
  imports: [RedisModule],
  providers: [LimitsService],
  exports: [LimitsService],
})
export class LimitsModule {}
