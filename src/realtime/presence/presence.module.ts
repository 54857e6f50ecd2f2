import { Inject, Module, type OnApplicationBootstrap, type OnModuleInit } from '@nestjs/common';
import { EventsModule } from '../../events/events.module.js';
import { PRESENCE_READER, type Port, type PresenceReader } from '../../events/ports.js';
import { RedisModule } from '../../redis/redis.module.js';
import { INSTANCE_ID, REDIS_CLIENTS } from '../../redis/redis.provider.js';
import type { RedisClients } from '../../redis/redis-clients.js';
import { PresenceService } from './presence.service.js';

/**
 * Who is online where: local sockets, leases in Redis, and per channel the
 * view this replica's sockets hear. It reaches no socket itself: whoever
 * composes it passes a callback (PresenceService.onPresenceChange).
 */
@Module({
  imports: [RedisModule, EventsModule],
  providers: [PresenceService],
  exports: [PresenceService],
})
export class PresenceModule implements OnModuleInit, OnApplicationBootstrap {
  constructor(
    private readonly presence: PresenceService,
    @Inject(PRESENCE_READER) private readonly reader: Port<PresenceReader>,
    @Inject(REDIS_CLIENTS) private readonly redis: RedisClients | null,
    @Inject(INSTANCE_ID) private readonly instanceId: string,
  ) {}

  onModuleInit() {
    this.reader.bind(this.presence);
  }

  onApplicationBootstrap() {
    if (this.redis) this.presence.connect(this.redis.pub, this.redis.bus, this.instanceId);
  }
}
