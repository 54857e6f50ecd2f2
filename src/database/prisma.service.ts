import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { PrismaClient } from '../generated/prisma/client.js';

export const DATABASE_URL = Symbol('DATABASE_URL');

/** Fail fast when Postgres is gone, so callers get 503 instead of hanging. */
export const poolOptions = (url: string, max: number): pg.PoolConfig => ({
  connectionString: url,
  max,
  connectionTimeoutMillis: 3_000,
  idleTimeoutMillis: 30_000,
});

@Injectable()
export class PrismaService extends PrismaClient implements OnApplicationBootstrap, OnModuleDestroy {
  /** The pool Prisma runs on, for plain SQL where Prisma's overhead shows. */
  readonly pool: pg.Pool;

  constructor(@Inject(DATABASE_URL) url: string, @Inject(APP_CONFIG) config: AppConfig) {
    const pool = new pg.Pool(poolOptions(url, config.DATABASE_POOL_SIZE));
    super({ adapter: new PrismaPg(pool) });
    this.pool = pool;
    // An idle client losing its server (Postgres restarted) must not crash the process: always a listener.
    pool.on('error', (err) => this.poolErrorListener(err));
  }

  private poolErrorListener: (err: Error) => void = () => undefined;

  /** Where the pool's errors between queries go (Background reports them). */
  onPoolError(listener: (err: Error) => void): void {
    this.poolErrorListener = listener;
  }

  /**
   * Prisma builds its query machinery on the first query (the query compiler among it, a
   * WebAssembly module whose 4.6 MB source string stays in the heap). Done at start-up, the first requests
   * do not pay for it (and it is not mistaken for per-connection memory); best effort, not
   * awaited: a replica may start while Postgres is away and report unready until it returns.
   */
  onApplicationBootstrap(): void {
    this.$queryRaw`SELECT 1`.catch(() => undefined);
  }

  async onModuleDestroy(): Promise<void> {
    await this.$disconnect();
    if (!this.pool.ended) await this.pool.end();
  }
}

/**
 * Connections of their own for live delivery's catch-up reads (hold-back,
 * tick, a channel's head), so they never queue behind publishes.
 */
@Injectable()
export class DeliveryDb implements OnModuleDestroy {
  readonly pool: pg.Pool;

  constructor(@Inject(DATABASE_URL) url: string, @Inject(APP_CONFIG) config: AppConfig) {
    this.pool = new pg.Pool(poolOptions(url, config.DELIVERY_POOL_SIZE));
    this.pool.on('error', (err) => this.poolErrorListener(err));
  }

  private poolErrorListener: (err: Error) => void = () => undefined;

  /** Where the pool's errors between queries go (Background reports them). */
  onPoolError(listener: (err: Error) => void): void {
    this.poolErrorListener = listener;
  }

  async onModuleDestroy(): Promise<void> {
    await this.pool.end();
  }
}
