import net from 'node:net';
import pg from 'pg';
import { createTestDatabase, type TestDatabase } from '../../test/support/database.js';
import { PostgresProbe } from './postgres-probe.js';

const TIMEOUT_MS = 500;

describe('PostgresProbe (its own connection, on a real Postgres)', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase({ empty: true });
  });
  afterAll(async () => {
    await db.drop();
  });

  it('answers true on one connection of its own, kept between checks, and reconnects after that connection is killed', async () => {
    const probe = new PostgresProbe(db.url, TIMEOUT_MS);
    const admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
    const probes = async () => (await admin.query("SELECT pid FROM pg_stat_activity WHERE application_name = 'crosswire-readiness' AND datname = current_database()")).rows.map((r) => r.pid);
    try {
      expect(await probe.check()).toBe(true);
      expect(await probe.check()).toBe(true);
      const [pid] = await probes();
      expect(await probes()).toEqual([pid]);
      await admin.query('SELECT pg_terminate_backend($1)', [pid]);
      // The check on the killed connection may fail once; the next one connects afresh.
      await probe.check();
      expect(await probe.check()).toBe(true);
      expect((await probes()).filter((p) => p !== pid)).toHaveLength(1);
    } finally {
      probe.close();
      await admin.end();
    }
  });

  it('answers false within its timeout when the server accepts connections but never answers', async () => {
    const sockets: net.Socket[] = [];
    const silent = net.createServer((s) => sockets.push(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as net.AddressInfo).port;
    const probe = new PostgresProbe(`postgresql://u:p@127.0.0.1:${port}/x`, TIMEOUT_MS);
    try {
      const t0 = Date.now();
      expect(await probe.check()).toBe(false);
      const took = Date.now() - t0;
      expect(took).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
      expect(took).toBeLessThan(TIMEOUT_MS + 1_000);
    } finally {
      probe.close();
      sockets.forEach((s) => s.destroy());
      await new Promise((r) => silent.close(r));
    }
  });

  it('answers false at once when nothing listens', async () => {
    const closed = net.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as net.AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const probe = new PostgresProbe(`postgresql://u:p@127.0.0.1:${port}/x`, TIMEOUT_MS);
    const t0 = Date.now();
    expect(await probe.check()).toBe(false);
    expect(Date.now() - t0).toBeLessThan(TIMEOUT_MS);
    probe.close();
  });
});
