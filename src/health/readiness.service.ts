import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { PrismaService } from '../database/prisma.service.js';
import { FANOUT_HEALTH, type FanoutHealth, type FanoutState, type Port } from '../events/ports.js';
import { LOGGER, type JsonLogger } from '../logging/logger.js';

export interface Readiness {
  ready: boolean;
  status: 'ok' | 'degraded' | 'unready';
  checks: { postgres: 'ok' | 'down'; redis: 'ok' | 'down' | 'disabled'; fanout: FanoutState; draining: boolean };
}

const PROBE_MS = 1_000;

/**
 * /readyz answers from this state, kept by a background probe, so a readiness
 * check never waits on a dependency.
 */
@Injectable()
export class ReadinessService implements OnApplicationBootstrap, OnModuleDestroy {
  private postgres: 'ok' | 'down' = 'ok';
  private draining = false;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly db: PrismaService,
    @Inject(LOGGER) private readonly logger: JsonLogger,
    @Inject(FANOUT_HEALTH) private readonly fanout: Port<FanoutHealth>,
  ) {}

  onApplicationBootstrap() {
    const probe = async () => {
      const before = this.postgres;
      this.postgres = await Promise.race([
        this.db.ping().then(() => 'ok' as const, () => 'down' as const),
        new Promise<'down'>((r) => setTimeout(() => r('down'), PROBE_MS * 2).unref()),
      ]);
      if (before !== this.postgres) this.logger.event(this.postgres === 'ok' ? 'info' : 'warn', `postgres ${this.postgres}`);
      this.timer = setTimeout(probe, PROBE_MS).unref();
    };
    void probe();
  }

  startDraining() {
    this.draining = true;
  }

  get isDraining() {
    return this.draining;
  }

  /**
   * 503 only for this replica's own faults (draining, Postgres, stuck fan-out);
   * Redis unreachable is `degraded`: the replica still persists and delivers.
   */
  state(): Readiness {
    const checks = { postgres: this.postgres, redis: this.fanout.use.redis(), fanout: this.fanout.use.fanout(), draining: this.draining };
    const ready = !this.draining && checks.postgres === 'ok' && checks.fanout !== 'stuck';
    return { ready, status: !ready ? 'unready' : checks.redis === 'down' ? 'degraded' : 'ok', checks };
  }

  onModuleDestroy() {
    clearTimeout(this.timer);
  }
}
