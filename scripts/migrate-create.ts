// `npm run migrate:create -- <name>`: writes the next migration from the diff
// between the newest migration's schema snapshot and prisma/schema.prisma.
// Prisma's own `migrate dev` needs the native engine and a shadow database,
// neither of which works here; a schema-to-schema diff needs neither.
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  LOCKFILE, LOCKFILE_CONTENT, MIGRATION_FILE, SNAPSHOT_FILE, migrationNames, readOrNull,
} from '../src/database/migrations-dir.js';
import { migrationsDir, projectRoot, schemaFile } from '../src/database/paths.js';
import { diffSchemas } from '../src/database/schema-engine.js';

function fail(message: string): never {
  console.error(`migrate:create: ${message}`);
  process.exit(1);
}

// Prisma names folders by UTC time to the second; they must sort in order.
const timestamp = (d: Date) => d.toISOString().replace(/[-:T]/g, '').slice(0, 14);

const name = (process.argv[2] ?? '').toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_+|_+$/g, '');
if (!name) fail('usage: npm run migrate:create -- <name>');

const existing = await migrationNames(migrationsDir);
const newest = existing.at(-1);
// Without the newest migration's snapshot the diff would silently restart
// from an older schema (or from nothing) and repeat earlier migrations.
const previous = newest === undefined ? null : await readOrNull(path.join(migrationsDir, newest, SNAPSHOT_FILE));
if (newest !== undefined && previous === null) {
  fail(`${newest} has no ${SNAPSHOT_FILE}; put the schema it was generated from there first`);
}

const schema = await readFile(schemaFile, 'utf8');
const sql = await diffSchemas(previous, schema);
if (!sql) {
  console.log('no changes');
  process.exit(0);
}

const dirName = `${timestamp(new Date())}_${name}`;
if (newest !== undefined && dirName <= newest) fail(`${dirName} would not sort after ${newest}; retry in a second`);
const dir = path.join(migrationsDir, dirName);
await mkdir(dir, { recursive: true });
await writeFile(path.join(dir, MIGRATION_FILE), sql);
await writeFile(path.join(dir, SNAPSHOT_FILE), schema);
if (!existsSync(path.join(migrationsDir, LOCKFILE))) {
  await writeFile(path.join(migrationsDir, LOCKFILE), LOCKFILE_CONTENT);
}
console.log(`created ${path.relative(projectRoot, dir)}`);
