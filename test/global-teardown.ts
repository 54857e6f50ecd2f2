// Loaded natively like global-setup.ts, whose loader hooks are still in place.
export default async function globalTeardown(): Promise<void> {
  const { stopTestPostgres } = await import('./support/test-postgres.js');
  await stopTestPostgres();
}
