import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { LOCKFILE, LOCKFILE_CONTENT, MIGRATION_FILE, SNAPSHOT_FILE, migrationNames, readOrNull } from './migrations-dir.js';
import { diffSchemas } from './schema-engine.js';

export class MigrationCreateError extends Error {}

// Prisma names folders by UTC time to the second; they must sort in order.
const timestamp = (d: Date) => d.toISOString().replace(/[-:T]/g, '').slice(0, 14);

/**
 * Writes the next migration from the diff between the newest migration's
 * schema snapshot and `schemaFile`. Returns the new folder, or null when the
 * schema has not changed. Prisma's own `migrate dev` needs the native engine
 * and a shadow database; a schema-to-schema diff needs neither.
 */
export async function createMigration(opts: { migrationsDir: string; schemaFile: string; name: string; now?: Date }): Promise<string | null> {
  const name = opts.name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
  if (!name) throw new MigrationCreateError('usage: npm run migrate:create -- <name>');
  const newest = (await migrationNames(opts.migrationsDir)).at(-1);
  // Without the newest migration's snapshot the diff would silently restart
  // from an older schema (or from nothing) and repeat earlier migrations.
  const previous = newest === undefined ? null : await readOrNull(path.join(opts.migrationsDir, newest, SNAPSHOT_FILE));
  if (newest !== undefined && previous === null) {
    throw new MigrationCreateError(`${newest} has no ${SNAPSHOT_FILE}; put the schema it was generated from there first`);
  }
  const schema = await readFile(opts.schemaFile, 'utf8');
  const sql = await diffSchemas(previous, schema);
  if (!sql) return null;
  const dirName = `${timestamp(opts.now ?? new Date())}_${name}`;
  if (newest !== undefined && dirName <= newest) throw new MigrationCreateError(`${dirName} would not sort after ${newest}; retry in a second`);
  const dir = path.join(opts.migrationsDir, dirName);
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, MIGRATION_FILE), sql);
  await writeFile(path.join(dir, SNAPSHOT_FILE), schema);
  if (!existsSync(path.join(opts.migrationsDir, LOCKFILE))) await writeFile(path.join(opts.migrationsDir, LOCKFILE), LOCKFILE_CONTENT);
  return dir;
}
