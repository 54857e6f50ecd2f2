import { randomBytes } from 'node:crypto';
import pg from 'pg';

export interface TestDatabase {
  name: string;
  url: string;
  /** Terminates its connections and drops it. */
  drop(): Promise<void>;
}

/** Server URL (no database) and migrated template, set by test/global-setup.ts. */
export function testServer(): { serverUrl: string; template: string } {
  const serverUrl = process.env.TEST_PG_URL;
  if (!serverUrl) throw new Error('TEST_PG_URL is not set: run tests through jest (test/global-setup.ts)');
  return { serverUrl, template: process.env.TEST_TEMPLATE_DB ?? 'crosswire_template' };
}

export function databaseUrl(serverUrl: string, name: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

export async function adminQuery(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl(testServer().serverUrl, 'postgres') });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/**
 * A database of its own for one test file, cloned from the migrated template
 * (a file copy, much faster than migrating), or empty with `{ empty: true }`.
 */
export async function createTestDatabase(opts: { empty?: boolean } = {}): Promise<TestDatabase> {
  const { serverUrl, template } = testServer();
  const name = `test_${process.pid}_${randomBytes(4).toString('hex')}`;
  const source = opts.empty ? 'template0' : template;
  const ident = pg.escapeIdentifier;
  await adminQuery(`CREATE DATABASE ${ident(name)} TEMPLATE ${ident(source)}`);
  return {
    name,
    url: databaseUrl(serverUrl, name),
    drop: () => adminQuery(`DROP DATABASE IF EXISTS ${ident(name)} WITH (FORCE)`),
  };
}
