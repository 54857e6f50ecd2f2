import type { Provider } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { LOGGER, type JsonLogger } from '../logging/logger.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { createRedisClients, type RedisClients } from './redis-clients.js';

export const REDIS_CLIENTS = Symbol('REDIS_CLIENTS');

/** A random id per process start: a restarted container keeps its REPLICA_ID, never this. */
export const INSTANCE_ID = Symbol('INSTANCE_ID');

export const redisProviders: Provider[] = [
  {
    provide: REDIS_CLIENTS,
    inject: [APP_CONFIG, LOGGER, MetricsService],
    useFactory: (config: AppConfig, logger: JsonLogger, metrics: MetricsService): RedisClients | null =>
      config.REDIS_URL ? createRedisClients(config.REDIS_URL, logger, () => metrics.backgroundErrors.inc({ source: 'redis' })) : null,
  },
  { provide: INSTANCE_ID, useFactory: () => randomUUID() },
];
