// Used only by the standard Prisma CLI (`prisma generate`, and `prisma migrate
// deploy` for users who have the schema-engine binary). Crosswire's own
// migrate step (scripts/migrate.ts) does not need it.
import { defineConfig } from 'prisma/config';

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: { url: process.env.DATABASE_URL ?? 'postgresql://localhost:5432/crosswire' },
});
