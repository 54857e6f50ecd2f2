// The work behind test/global-setup.ts and test/global-teardown.ts: one
// embedded Postgres for the whole jest run (or the server the caller names in
// TEST_PG_URL), with the migrations applied once to a template database that
// each test file clones (test/support/database.ts).
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from '../../src/database/embedded-postgres.js';
import { migrate } from '../../src/database/migrator.js';
import { adminQuery, databaseUrl } from './database.js';
import { freePort } from './free-port.js';

// Jest runs setup and teardown in its parent process, which shares globalThis.
const KEY = Symbol.for('crosswire.test-postgres');
type Started = { server: EmbeddedPostgresHandle; tmpDir: string };
const slot = globalThis as { [KEY]?: Started };

export async function startTestPostgres(): Promise<void> {
  process.env.TEST_TEMPLATE_DB ??= 'crosswire_template';
  if (!process.env.TEST_PG_URL) {
    const tmpDir = await mkdtemp(path.join(os.tmpdir(), 'crosswire-pg-'));
    await chmod(tmpDir, 0o755); // mkdtemp makes it 0700; the postgres OS user must enter it
    const server = await startEmbeddedPostgres({
      dataDir: path.join(tmpDir, 'data'),
      port: await freePort(),
      // Durability is pointless for a throwaway cluster, and costly per CREATE DATABASE.
      postgresFlags: ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'],
    });
    slot[KEY] = { server, tmpDir };
    process.env.TEST_PG_URL = server.serverUrl;
  }
  const template = process.env.TEST_TEMPLATE_DB;
  try {
    await adminQuery(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(template)} WITH (FORCE)`);
    await adminQuery(`CREATE DATABASE ${pg.escapeIdentifier(template)}`);
    await migrate(databaseUrl(process.env.TEST_PG_URL, template));
  } catch (err) {
    await stopTestPostgres();
    throw err;
  }
}

export async function stopTestPostgres(): Promise<void> {
  const started = slot[KEY];
  if (!started) return;
  const { server, tmpDir } = started;
  delete slot[KEY];
  await server.stop();
  await rm(tmpDir, { recursive: true, force: true });
}
