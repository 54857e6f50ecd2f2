import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { PrismaService } from '../database/prisma.service.js';
import { LOGGER, type JsonLogger } from '../logging/logger.js';

export type CheckState = 'ok' | 'down' | 'degraded' | 'disabled';
export interface Readiness {
  ready: boolean;
  status: 'ok' | 'degraded' | 'unready';
  checks: { postgres: CheckState; redis: CheckState; fanout: CheckState; draining: boolean };
}

const PROBE_MS = 1_000;

/**
 * /readyz answers from this state, kept by a background probe, so a readiness
 * check never waits on a dependency.
 */
@Injectable()
export class ReadinessService implements OnApplicationBootstrap, OnModuleDestroy {
  private postgres: CheckState = 'ok';
  private draining = false;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly db: PrismaService,
    @Inject(LOGGER) private readonly logger: JsonLogger,
  ) {}

  onApplicationBootstrap() {
    const probe = async () => {
      const before = this.postgres;
      this.postgres = await Promise.race([
        this.db.ping().then((): CheckState => 'ok', (): CheckState => 'down'),
        new Promise<CheckState>((r) => setTimeout(() => r('down'), PROBE_MS * 2).unref()),
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

  state(): Readiness {
    const checks = { postgres: this.postgres, redis: 'disabled' as CheckState, fanout: 'ok' as CheckState, draining: this.draining };
    const ready = !this.draining && checks.postgres === 'ok';
    return { ready, status: ready ? 'ok' : 'unready', checks };
  }

  onModuleDestroy() {
    clearTimeout(this.timer);
  }
}
