import type { INestApplication } from '@nestjs/common';
import type { AppConfig } from './config/config.js';
import { ReadinessService } from './health/readiness.service.js';
import type { JsonLogger } from './logging/logger.js';
import { PresenceService } from './realtime/presence/presence.service.js';
import { SocketServer } from './realtime/transport/socket-server.js';
import { closeHub } from './shutdown.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * SIGTERM: turn not-ready, wait until the load balancer has seen it, move the
 * sockets away in paced batches, let presence leases lapse after the grace,
 * then close (in-flight requests finish first: closeHub).
 */
export async function drainAndClose(app: INestApplication, config: AppConfig, logger: JsonLogger): Promise<void> {
  app.get(ReadinessService).startDraining();
  logger.event('info', 'draining', { noticeMs: config.DRAIN_NOTICE_MS, drainMs: config.DRAIN_MS });
  await sleep(config.DRAIN_NOTICE_MS);
  await app.get(SocketServer).disconnectAll(config.DRAIN_MS);
  await app.get(PresenceService).goodbye();
  await closeHub(app, config.SHUTDOWN_GRACE_MS, logger);
  logger.event('info', 'drained');
}
