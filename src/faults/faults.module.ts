import { Inject, Module, type OnApplicationBootstrap } from '@nestjs/common';
import { APP_CONFIG, type AppConfig, type FaultSwitches } from '../config/config.js';
import { BROADCASTER, type Broadcaster, type Port } from '../events/ports.js';
import { EventsModule } from '../events/events.module.js';
import { LOGGER, type JsonLogger } from '../logging/logger.js';
import { RedisModule } from '../redis/redis.module.js';
import { REDIS_CLIENTS } from '../redis/redis.provider.js';
import type { RedisClients } from '../redis/redis-clients.js';

/** The fault switches, for the few places that must pause on them (a subscribe, a bus frame). */
export const FAULTS = Symbol('FAULTS');

/**
 * The one place fault switches act (docs/CONTRACT.md §10, FAULTS). loadConfig
 * refuses any switch unless the test or bench harness started the process
 * (CROSSWIRE_HARNESS), so a deployment runs with every one off and this
 * module does nothing. The switches that stop a replica act from outside the
 * code they disturb: exit-after-store replaces the broadcaster that fans a
 * stored message out, the stalls pause a Redis connection's socket.
 */
@Module({
  imports: [EventsModule, RedisModule],
  providers: [{ provide: FAULTS, inject: [APP_CONFIG], useFactory: (config: AppConfig): FaultSwitches => config.FAULTS }],
  exports: [FAULTS],
})
export class FaultsModule implements OnApplicationBootstrap {
  constructor(
    @Inject(FAULTS) private readonly faults: FaultSwitches,
    @Inject(BROADCASTER) private readonly broadcaster: Port<Broadcaster>,
    @Inject(REDIS_CLIENTS) private readonly redis: RedisClients | null,
    @Inject(LOGGER) private readonly logger: JsonLogger,
  ) {}

  /** After every module's onModuleInit, so the broadcaster is bound and can be wrapped. */
  onApplicationBootstrap() {
    const f = this.faults;
    if (f.exitAfterStore) {
      const real = this.broadcaster.use;
      this.broadcaster.bind(Object.assign(Object.create(real) as Broadcaster, { messageCreated: () => process.exit(70) }));
    }
    if (f.stallFanout) this.stall('bus');
    if (f.stallAdapter) this.stall('sub');
  }

  /** Stops reading the connection once it is ready: Redis keeps it open and answers nothing on it. */
  private stall(which: 'bus' | 'sub') {
    const conn = this.redis?.[which];
    if (!conn) return;
    const pause = () => {
      conn.stream.pause();
      this.logger.event('warn', 'fault: redis connection stalled', { connection: which });
    };
    if (conn.status === 'ready') pause();
    else conn.once('ready', pause);
  }
}
