import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { ReadinessService } from '../health/readiness.service.js';
import { Background, type Loop } from '../metrics/background.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { REDIS_CLIENTS } from '../redis/redis.provider.js';
import type { RedisClients } from '../redis/redis-clients.js';

export interface ReplicaReport {
  id: string;
  status: 'ok' | 'degraded' | 'unready' | 'draining';
  sockets: number;
  deliveriesPerS: number;
  publishP99Ms: number | null;
  lastSeen: string;
}

export interface ClusterView {
  servedBy: string;
  at: string;
  redis: 'ok' | 'down' | 'disabled';
  postgres: 'ok' | 'busy' | 'down';
  replicas: Array<ReplicaReport & { ageMs: number }>;
}

const EVERY_MS = 1_000;
/** A replica not heard from for this long is gone from the view (SIGKILLed, partitioned). */
const FORGET_MS = 5_000;
const KEY = (id: string) => `crosswire:replica:${id}`;
const IDS = 'crosswire:replicas';

/**
 * The cluster view's figures: each replica reports its own every second to
 * Redis (a key that lapses after FORGET_MS), and any replica reads them all.
 * Figures only: never message contents.
 */
@Injectable()
export class ClusterService implements OnApplicationBootstrap, OnModuleDestroy {
  private loop?: Loop;
  private lastDeliveries = 0;
  private lastAt = Date.now();
  private mine?: ReplicaReport;

  constructor(
    private readonly readiness: ReadinessService,
    private readonly metrics: MetricsService,
    @Inject(REDIS_CLIENTS) private readonly redis: RedisClients | null,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly background: Background,
  ) {}

  onApplicationBootstrap() {
    // The first report at once: a replica is in every view from its first second, not from its second report.
    this.loop = this.background.every('cluster-report', EVERY_MS, () => this.report());
  }

  async view(): Promise<ClusterView> {
    const now = Date.now();
    const { checks } = this.readiness.state();
    // This replica's own line is read now, not at its last report: a socket just opened is already counted.
    const own = { ...(this.mine ?? (await this.measure())), sockets: (await this.metrics.socketsOpen.get()).values[0]?.value ?? 0 };
    let replicas: ReplicaReport[] = [own];
    if (this.redis && checks.redis === 'ok') {
      try {
        const ids = await this.redis.pub.smembers(IDS);
        const raw = ids.length ? await this.redis.pub.mget(ids.map(KEY)) : [];
        const gone = ids.filter((_, i) => raw[i] === null);
        if (gone.length) void this.redis.pub.srem(IDS, ...gone).catch((e: unknown) => this.background.failed('cluster-report', e));
        const others = raw.filter((r): r is string => r !== null).map((r) => JSON.parse(r) as ReplicaReport);
        replicas = [...others.filter((r) => r.id !== own.id), own];
      } catch {
        /* Redis went away mid-read: this replica alone */
      }
    }
    return {
      servedBy: this.config.REPLICA_ID,
      at: new Date(now).toISOString(),
      redis: checks.redis,
      postgres: checks.postgres,
      replicas: replicas.map((r) => ({ ...r, ageMs: Math.max(0, now - Date.parse(r.lastSeen)) })).sort((a, b) => a.id.localeCompare(b.id)),
    };
  }

  private async measure(): Promise<ReplicaReport> {
    const now = Date.now();
    const delivered = (await this.metrics.socketDeliveries.get()).values[0]?.value ?? 0;
    const perS = ((delivered - this.lastDeliveries) * 1000) / Math.max(1, now - this.lastAt);
    this.lastDeliveries = delivered;
    this.lastAt = now;
    const p99 = (await this.metrics.publishRecent.get()).values.find((v) => v.labels.quantile === 0.99)?.value;
    const { status, checks } = this.readiness.state();
    return {
      id: this.config.REPLICA_ID,
      status: checks.draining ? 'draining' : status,
      sockets: (await this.metrics.socketsOpen.get()).values[0]?.value ?? 0,
      deliveriesPerS: Math.round(perS * 10) / 10,
      // The window holds no publish: prom-client answers 0, which no real publish takes.
      publishP99Ms: !p99 || Number.isNaN(p99) ? null : Math.round(p99 * 10_000) / 10,
      lastSeen: new Date(now).toISOString(),
    };
  }

  private async report() {
    this.mine = await this.measure();
    if (!this.redis || this.redis.pub.status !== 'ready') return;
    await this.redis.pub.set(KEY(this.mine.id), JSON.stringify(this.mine), 'PX', FORGET_MS);
    await this.redis.pub.sadd(IDS, this.mine.id);
  }

  onModuleDestroy() {
    this.loop?.stop();
  }
}
