import { PrismaPg } from '@prisma/adapter-pg';
import { bindMigrationAwareSqlAdapterFactory, type SqlDriverAdapter, type SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import type { DiffTarget } from '@prisma/schema-engine-wasm/schema_engine_bg';
import { noLog, type DbLog } from './log.js';
import { loadMigrationList } from './migrations-dir.js';
import { offlineAdapterFactory } from './offline-adapter.js';
import { loadSchemaEngineWasm, releaseEngineTimers, type SchemaEngine } from './schema-engine-wasm.js';

const NO_FILTERS = { externalTables: [], externalEnums: [] };

/**
 * The SQL script that turns a database shaped by `fromText` (or an empty one
 * when null) into one shaped by `toText`; '' when they are equivalent.
 */
export async function diffSchemas(fromText: string | null, toText: string): Promise<string> {
  const target = (content: string): DiffTarget => ({
    tag: 'schemaDatamodel',
    files: [{ path: 'schema.prisma', content }],
  });
  const result = await withEngine(offlineAdapterFactory, noLog, (engine) =>
    engine.diff({
      from: fromText === null ? { tag: 'empty' } : target(fromText),
      to: target(toText),
      script: true,
      exitCode: true, // makes exitCode 2 mean "not empty"; stdout alone never is
      filters: NO_FILTERS,
    }),
  );
  return result.exitCode === 2 ? (result.stdout ?? '') : '';
}

/** Applies prisma/migrations-style folders as `prisma migrate deploy` does. */
export async function applyMigrations(databaseUrl: string, migrationsDir: string, log: DbLog = noLog): Promise<string[]> {
  const migrationsList = await loadMigrationList(migrationsDir);
  const factory = new PrismaPg({ connectionString: databaseUrl });
  const output = await withEngine(factory, log, (engine) => engine.applyMigrations({ migrationsList, filters: NO_FILTERS }));
  return output.appliedMigrationNames;
}

let running = 0;

// Freeing the engine does not dispose the adapters it opened, and a pg pool
// left open keeps the process alive, so every adapter is tracked and closed.
async function withEngine<T>(inner: SqlMigrationAwareDriverAdapterFactory, log: DbLog, use: (engine: SchemaEngine) => Promise<T>): Promise<T> {
  const { SchemaEngine } = await loadSchemaEngineWasm();
  running++;
  const opened: SqlDriverAdapter[] = [];
  const keep = (adapter: SqlDriverAdapter) => (opened.push(adapter), adapter);
  const factory: SqlMigrationAwareDriverAdapterFactory = {
    provider: inner.provider,
    adapterName: inner.adapterName,
    connect: () => inner.connect().then(keep),
    connectToShadowDb: () => inner.connectToShadowDb().then(keep),
  };
  try {
    const engine = await SchemaEngine.new({ datamodels: undefined }, (line: string) => forwardEngineLog(log, line), bindMigrationAwareSqlAdapterFactory(factory));
    try {
      return await use(engine);
    } finally {
      engine.free();
    }
  } finally {
    await Promise.allSettled(opened.map((adapter) => adapter.dispose()));
    if (--running === 0) releaseEngineTimers();
  }
}

// The engine logs JSON lines (tracing's format); each applied migration's log
// carries its whole script, which is noise in a start-up log.
function forwardEngineLog(log: DbLog, line: string): void {
  try {
    const { level, fields = {} } = JSON.parse(line) as { level?: string; fields?: Record<string, unknown> };
    const { message, script: _script, ...rest } = fields;
    log(`schema engine: ${String(message)}`, { level, ...rest });
  } catch {
    log('schema engine', { line: line.trim() });
  }
}
