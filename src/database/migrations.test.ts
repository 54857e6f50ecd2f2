import { readFile } from 'node:fs/promises';
import pg from 'pg';
import { catalogDiff, readCatalog } from '../../test/support/catalog.js';
import { createTestDatabase, type TestDatabase } from '../../test/support/database.js';
import { migrationNames } from './migrations-dir.js';
import { migrate } from './migrator.js';
import { migrationsDir, schemaFile } from './paths.js';
import { applyMigrations, diffSchemas } from './schema-engine.js';

// Per hook and test: under ESM the `jest` object is not a global.
const SLOW = 60_000;

async function query<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

const databases: TestDatabase[] = [];
async function emptyDatabase(): Promise<TestDatabase> {
  const db = await createTestDatabase({ empty: true });
  databases.push(db);
  return db;
}
afterAll(() => Promise.all(databases.map((db) => db.drop())), SLOW);

describe('prisma/migrations', () => {
  let names: string[];
  let migrated: TestDatabase;
  beforeAll(async () => {
    names = await migrationNames(migrationsDir);
    migrated = await emptyDatabase();
    expect(await applyMigrations(migrated.url, migrationsDir)).toEqual(names);
  }, SLOW);

  it(
    'build the schema that schema.prisma describes (no drift)',
    async () => {
      const fromSchema = await emptyDatabase();
      await query(fromSchema.url, await diffSchemas(null, await readFile(schemaFile, 'utf8')));
      const diff = catalogDiff(await readCatalog(migrated.url), await readCatalog(fromSchema.url), ['prisma/migrations', 'schema.prisma']);
      // Fix drift with `npm run migrate:create -- <name>`.
      expect(diff).toEqual([]);
    },
    SLOW,
  );

  it(
    'apply nothing the second time',
    async () => {
      expect(await applyMigrations(migrated.url, migrationsDir)).toEqual([]);
    },
    SLOW,
  );

  it('are recorded as `prisma migrate deploy` records them', async () => {
    const rows = await query<{ migration_name: string; finished: boolean; rolled_back: boolean }>(
      migrated.url,
      `SELECT migration_name, finished_at IS NOT NULL AS finished, rolled_back_at IS NOT NULL AS rolled_back
       FROM _prisma_migrations ORDER BY migration_name`,
    );
    expect(rows).toEqual(names.map((migration_name) => ({ migration_name, finished: true, rolled_back: false })));
  });
});

describe('migrate()', () => {
  it(
    'applies each migration once when replicas start together',
    async () => {
      const db = await emptyDatabase();
      const events: string[] = [];
      const log = (msg: string) => {
        if (msg.startsWith('migration lock ')) events.push(msg);
      };
      const results = await Promise.all([1, 2, 3].map(() => migrate(db.url, { log })));

      expect(results.flat().sort()).toEqual(await migrationNames(migrationsDir));
      // Holders never overlap: each starts releasing before the next acquires.
      expect(events).toEqual(Array(3).fill(['migration lock acquired', 'migration lock releasing']).flat());
      const [{ count }] = await query<{ count: string }>(db.url, 'SELECT count(*) FROM _prisma_migrations');
      expect(Number(count)).toBe(results.flat().length);
    },
    SLOW,
  );
});
