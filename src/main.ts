import { join, resolve } from 'node:path';
import { resolveAdminToken, resolveJwtSecret } from './auth/secret.js';
import { createHub } from './bootstrap.js';
import { drainAndClose } from './drain.js';
import { closeHub } from './shutdown.js';
import { ConfigError, loadConfig } from './config/config.js';
import { migrate } from './database/migrator.js';
import { JsonLogger } from './logging/logger.js';

function configOrExit() {
  try {
    return loadConfig();
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    process.stderr.write(`${e.message}\n`);
    process.exit(2);
  }
}

/**
 * Start-up: config, then Postgres (embedded under DATA_DIR unless DATABASE_URL),
 * migrations (unless MIGRATE_ON_START=false), then the hub. SIGINT/SIGTERM
 * close the hub and then the embedded Postgres, so nothing is left running.
 */
async function main() {
  const config = configOrExit();
  const logger = new JsonLogger(config.REPLICA_ID, config.LOG_LEVEL);
  const log = (msg: string, fields?: Record<string, unknown>) => logger.event('info', msg, fields);
  const cleanups: Array<(why: string) => Promise<void>> = [];
  let stopping = false;
  const shutdown = async (why: string, code = 0) => {
    if (stopping) return;
    stopping = true;
    logger.event('info', 'shutting down', { signal: why });
    for (const cleanup of cleanups.reverse()) {
      await cleanup(why).catch((e: unknown) => logger.event('error', 'shutdown step failed', { err: String(e) }));
    }
    process.exit(code);
  };
  // Last line of defence: a stray rejection (a Redis client during an outage)
  // is logged, never allowed to take the replica down.
  process.on('unhandledRejection', (reason) => logger.event('error', 'unhandled rejection', { err: String((reason as Error)?.stack ?? reason) }));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));

  try {
    const jwtSecret = resolveJwtSecret(config, (msg) => logger.event('warn', msg));
    const adminToken = resolveAdminToken(config, (msg) => logger.event('warn', msg));
    let databaseUrl = config.DATABASE_URL;
    if (!databaseUrl) {
      const dataDir = resolve(join(config.DATA_DIR, 'postgres'));
      // Loaded only when needed: a deployment with DATABASE_URL never touches it.
      const { startEmbeddedPostgres } = await import('./database/embedded-postgres.js');
      const pg = await startEmbeddedPostgres({ dataDir, port: config.EMBEDDED_PG_PORT, log });
      cleanups.push(() => pg.stop());
      databaseUrl = pg.url;
      log('embedded postgres started', { dataDir, port: config.EMBEDDED_PG_PORT });
    }
    if (config.MIGRATE_ON_START) await migrate(databaseUrl, { log });
    if (stopping) return;
    const app = await createHub({ config, databaseUrl, jwtSecret, adminToken, logger });
    // A replica behind a balancer drains on SIGTERM; a lone hub, or Ctrl-C, just closes.
    cleanups.push((why) => (config.REDIS_URL && why === 'SIGTERM' ? drainAndClose(app, config, logger) : closeHub(app, config.SHUTDOWN_GRACE_MS, logger)));
    log('crosswire listening', { url: await app.getUrl(), replicaId: config.REPLICA_ID });
  } catch (e) {
    const message = e instanceof ConfigError ? e.message : ((e as Error).stack ?? String(e));
    logger.event('error', 'start-up failed', { err: message });
    await shutdown('start-up failure', 1);
  }
}

void main();
