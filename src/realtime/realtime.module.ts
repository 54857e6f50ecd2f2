import { Global, Inject, Module, type OnModuleDestroy } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module.js';
import { ChannelsModule } from '../channels/channels.module.js';
import { BROADCASTER, FANOUT_HEALTH, PRESENCE_READER } from '../events/broadcaster.js';
import { CHANNEL_SESSIONS } from '../events/events.js';
import { FanoutHealthService } from './fanout-health.service.js';
import { PresenceService } from './presence.service.js';
import { RealtimeGateway } from './realtime.gateway.js';
import { RealtimeService } from './realtime.service.js';
import { ReconcilerService } from './reconciler.service.js';
import { REDIS_CLIENTS, redisProviders } from './redis.provider.js';
import type { RedisClients } from './redis-clients.js';

/** Global so that feature modules get the event-map interfaces without importing realtime/. */
@Global()
@Module({
  imports: [AuthModule, ChannelsModule],
  providers: [
    ...redisProviders,
    PresenceService,
    RealtimeService,
    RealtimeGateway,
    ReconcilerService,
    FanoutHealthService,
    { provide: BROADCASTER, useExisting: RealtimeService },
    { provide: CHANNEL_SESSIONS, useExisting: RealtimeService },
    { provide: PRESENCE_READER, useExisting: PresenceService },
    { provide: FANOUT_HEALTH, useExisting: FanoutHealthService },
  ],
  exports: [BROADCASTER, CHANNEL_SESSIONS, PRESENCE_READER, FANOUT_HEALTH, REDIS_CLIENTS, RealtimeService, PresenceService],
})
export class RealtimeModule implements OnModuleDestroy {
  constructor(@Inject(REDIS_CLIENTS) private readonly redis: RedisClients | null) {}

  async onModuleDestroy() {
    await this.redis?.close();
  }
}
