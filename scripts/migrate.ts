// `npm run migrate`: applies prisma/migrations to DATABASE_URL, the same step
// `prisma migrate deploy` performs, without Prisma's native engine binary.
import { migrate } from '../src/database/migrator.js';

const url = process.env.DATABASE_URL;
if (!url) {
  console.error('migrate: DATABASE_URL is not set (e.g. postgresql://user:pass@host:5432/crosswire)');
  process.exit(2);
}

try {
  const applied = await migrate(url, {
    log: (msg, fields) => {
      console.log(`migrate: ${msg}`, fields ?? {});
    },
  });
  console.log(applied.length ? `migrate: applied ${applied.join(', ')}` : 'migrate: nothing to apply');
} catch (err) {
  console.error(`migrate: failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
}
