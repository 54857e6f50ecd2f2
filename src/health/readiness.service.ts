import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { Gauge } from 'prom-client';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { DATABASE_URL, DeliveryDb, PrismaService } from '../database/prisma.service.js';
import { FANOUT_HEALTH, type FanoutHealth, type FanoutState, type Port } from '../events/ports.js';
import { LOGGER, type JsonLogger } from '../logging/logger.js';
import { Background, type Loop } from '../metrics/background.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { PostgresProbe } from './postgres-probe.js';

export interface Readiness {
  ready: boolean;
  status: 'ok' | 'degraded' | 'unready';
  checks: { postgres: 'ok' | 'busy' | 'down'; redis: 'ok' | 'down' | 'disabled'; fanout: FanoutState; draining: boolean };
}

/**
 * /readyz answers from this state, kept by a background probe, so a readiness
 * check never waits on a dependency.
 */
@Injectable()
export class ReadinessService implements OnApplicationBootstrap, OnModuleDestroy {
  private postgres: 'ok' | 'down' = 'ok';
  private draining = false;
  private loop?: Loop;
  private readonly probe: PostgresProbe;

  constructor(
    private readonly db: PrismaService,
    @Inject(DATABASE_URL) databaseUrl: string,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) private readonly logger: JsonLogger,
    @Inject(FANOUT_HEALTH) private readonly fanout: Port<FanoutHealth>,
    metrics: MetricsService,
    private readonly background: Background,
    deliveryDb: DeliveryDb,
  ) {
    this.probe = new PostgresProbe(databaseUrl, config.READINESS_TIMEOUT_MS);
    // Idle connections losing their server (Postgres restarted): reported here, beside the probe that tells whether it is back.
    db.onPoolError((err) => background.failed('postgres-pool', err));
    deliveryDb.onPoolError((err) => background.failed('delivery-pool', err));
    const pool = db.pool;
    // Beside the check it explains: `busy` is this pool with no idle connection.
    new Gauge({
      name: 'crosswire_db_pool_connections',
      help: "The main Postgres pool's connections: total (open), idle, and waiting (requests queued for one)",
      labelNames: ['state'],
      registers: [metrics.registry],
      collect() {
        this.set({ state: 'total' }, pool.totalCount);
        this.set({ state: 'idle' }, pool.idleCount);
        this.set({ state: 'waiting' }, pool.waitingCount);
      },
    });
  }

  onApplicationBootstrap() {
    // A loop that never overlaps and goes on after a failed probe: /readyz never freezes at its last answer.
    this.loop = this.background.every('readiness-probe', this.config.READINESS_INTERVAL_MS, async () => {
      const before = this.postgres;
      this.postgres = (await this.probe.check()) ? 'ok' : 'down';
      if (before !== this.postgres) this.logger.event(this.postgres === 'ok' ? 'info' : 'warn', `postgres ${this.postgres}`, { component: 'readiness' });
    });
  }

  startDraining() {
    this.draining = true;
  }

  get isDraining() {
    return this.draining;
  }

  /** Every connection of the main pool checked out: requests queue for one (and get 503 past its wait). */
  private get poolBusy(): boolean {
    const pool = this.db.pool;
    return pool.idleCount === 0 && pool.totalCount >= this.config.DATABASE_POOL_SIZE;
  }

  /**
   * 503 only for this replica's own faults (draining, Postgres down, stuck
   * fan-out). A busy pool is `degraded`, not unready: Postgres answers, the
   * replica is serving, and every replica of a hot channel would be busy at
   * once, so taking them out would leave the balancer nothing to route to.
   * Redis unreachable is `degraded` too: the replica still persists and delivers.
   */
  state(): Readiness {
    const postgres = this.postgres === 'ok' && this.poolBusy ? 'busy' : this.postgres;
    const checks: Readiness['checks'] = { postgres, redis: this.fanout.use.redis(), fanout: this.fanout.use.fanout(), draining: this.draining };
    const ready = !this.draining && checks.postgres !== 'down' && checks.fanout !== 'stuck';
    const degraded = checks.redis === 'down' || checks.postgres === 'busy';
    return { ready, status: !ready ? 'unready' : degraded ? 'degraded' : 'ok', checks };
  }

  onModuleDestroy() {
    this.loop?.stop();
    this.probe.close();
  }
}
