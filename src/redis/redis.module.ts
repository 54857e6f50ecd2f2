import { Inject, Module, type OnModuleDestroy } from '@nestjs/common';
import { Invalidations } from './invalidations.js';
import { INSTANCE_ID, REDIS_CLIENTS, redisProviders } from './redis.provider.js';
import type { RedisClients } from './redis-clients.js';

/** The replica's Redis connections (none without REDIS_URL), and what rides on them besides Socket.IO. */
@Module({
  providers: [...redisProviders, Invalidations],
  exports: [REDIS_CLIENTS, INSTANCE_ID, Invalidations],
})
export class RedisModule implements OnModuleDestroy {
  constructor(@Inject(REDIS_CLIENTS) private readonly redis: RedisClients | null) {}

  async onModuleDestroy() {
    await this.redis?.close();
  }
}
