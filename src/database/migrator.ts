import pg from 'pg';
import { noLog, type DbLog } from './log.js';
import { migrationsDir as defaultMigrationsDir } from './paths.js';
import { applyMigrations } from './schema-engine.js';

// Any fixed bigint but 72707369, which the schema engine locks itself while
// applying: held here, the engine inside this lock would wait on us forever
// (tried: its 10 s lock timeout does not fire under WebAssembly).
export const MIGRATION_LOCK_KEY = '7233071412905310';

export interface MigrateOptions {
  migrationsDir?: string;
  log?: DbLog;
}

/**
 * Applies pending migrations under a Postgres advisory lock, so replicas
 * starting together queue up instead of racing. Returns the names applied.
 */
export async function migrate(databaseUrl: string, opts: MigrateOptions = {}): Promise<string[]> {
  const log = opts.log ?? noLog;
  const dir = opts.migrationsDir ?? defaultMigrationsDir;
  // A session-level lock lives as long as this connection: if the process
  // dies mid-migration, Postgres releases it for the next replica.
  const lock = new pg.Client({ connectionString: databaseUrl });
  lock.on('error', (err) => log('migration lock connection failed', { error: err.message }));
  await lock.connect();
  try {
    log('waiting for migration lock', { key: MIGRATION_LOCK_KEY });
    await lock.query('SELECT pg_advisory_lock($1::bigint)', [MIGRATION_LOCK_KEY]);
    log('migration lock acquired', { dir });
    try {
      const applied = await applyMigrations(databaseUrl, dir, log);
      log(applied.length ? 'migrations applied' : 'database schema is up to date', { applied });
      return applied;
    } finally {
      log('migration lock releasing', {});
      // A failed unlock means a lost connection, which released the lock too.
      await lock.query('SELECT pg_advisory_unlock($1::bigint)', [MIGRATION_LOCK_KEY]).catch((err: Error) => log('migration unlock failed', { error: err.message }));
    }
  } finally {
    await lock.end();
  }
}
