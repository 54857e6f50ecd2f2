// `npm run migrate:create -- <name>`: the next migration from a schema change
// (src/database/migration-create.ts does the work).
import path from 'node:path';
import { MigrationCreateError, createMigration } from '../src/database/migration-create.js';
import { migrationsDir, projectRoot, schemaFile } from '../src/database/paths.js';

try {
  const dir = await createMigration({ migrationsDir, schemaFile, name: process.argv[2] ?? '' });
  console.log(dir ? `created ${path.relative(projectRoot, dir)}` : 'no changes');
} catch (e) {
  console.error(`migrate:create: ${e instanceof MigrationCreateError ? e.message : (e as Error).stack}`);
  process.exit(1);
}
