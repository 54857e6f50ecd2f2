import { cp, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { createTestDatabase } from '../../test/support/database.js';
import { MigrationCreateError, createMigration } from './migration-create.js';
import { migrate } from './migrator.js';
import { migrationsDir, schemaFile } from './paths.js';

describe('createMigration (the next migration from a schema change)', () => {
  it('writes a migration for a schema change that then applies, and nothing when there is no change', async () => {
    const work = await mkdtemp(path.join(tmpdir(), 'crosswire-migcreate-'));
    const dir = path.join(work, 'migrations');
    await cp(migrationsDir, dir, { recursive: true });
    const schema = path.join(work, 'schema.prisma');
    await writeFile(schema, await readFile(schemaFile, 'utf8'));

    expect(await createMigration({ migrationsDir: dir, schemaFile: schema, name: 'nothing' })).toBeNull();

    const changed = (await readFile(schema, 'utf8')).replace('  passwordHash String ', '  displayName  String?      @map("display_name")\n  passwordHash String ');
    await writeFile(schema, changed);
    const created = await createMigration({ migrationsDir: dir, schemaFile: schema, name: 'Add display name', now: new Date('2099-01-01T00:00:00Z') });
    expect(path.basename(created!)).toBe('20990101000000_add_display_name');
    expect(await readFile(path.join(created!, 'migration.sql'), 'utf8')).toMatch(/ALTER TABLE "users" ADD COLUMN\s+"display_name" TEXT/);
    expect(await readFile(path.join(created!, 'schema.prisma.snapshot'), 'utf8')).toBe(changed);
    expect(await createMigration({ migrationsDir: dir, schemaFile: schema, name: 'again', now: new Date('2099-01-01T00:00:01Z') })).toBeNull();

    const db = await createTestDatabase({ empty: true });
    try {
      expect(await migrate(db.url, { migrationsDir: dir })).toEqual((await readdir(dir)).filter((d) => /^\d{14}_/.test(d)).sort());
      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      const cols = await client.query("SELECT column_name FROM information_schema.columns WHERE table_name = 'users' AND column_name = 'display_name'");
      await client.end();
      expect(cols.rowCount).toBe(1);
    } finally {
      await db.drop();
    }
  });

  it('refuses a name that is empty after cleaning, and a newest migration without its snapshot', async () => {
    const work = await mkdtemp(path.join(tmpdir(), 'crosswire-migcreate-'));
    await expect(createMigration({ migrationsDir: work, schemaFile, name: '!!' })).rejects.toBeInstanceOf(MigrationCreateError);
    const dir = path.join(work, 'm');
    await cp(migrationsDir, dir, { recursive: true });
    const newest = (await readdir(dir))
      .filter((d) => /^\d{14}_/.test(d))
      .sort()
      .at(-1)!;
    await rm(path.join(dir, newest, 'schema.prisma.snapshot'));
    await expect(createMigration({ migrationsDir: dir, schemaFile, name: 'x' })).rejects.toThrow(/has no schema.prisma.snapshot/);
  });
});
