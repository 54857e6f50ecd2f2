import { register } from 'node:module';

// Jest loads this file natively, outside its module system, so TypeScript
// imports go through loader hooks (see support/ts-hooks.mjs) and must be
// dynamic: static ones are resolved before the hooks are registered.
export default async function globalSetup(): Promise<void> {
  register('./support/ts-hooks.mjs', import.meta.url);
  const { startTestPostgres } = await import('./support/test-postgres.js');
  await startTestPostgres();
}
