import { jest } from '@jest/globals';
import pg from 'pg';
import { api, registerUser } from '../support/client.js';
import { type Cluster, type Replica, startCluster, until } from './support/cluster.js';
import { OwnPostgres } from './support/own-postgres.js';

jest.setTimeout(120_000);

const POOL = 10; // DATABASE_POOL_SIZE's default
const PROBE_TIMEOUT_MS = 2_000; // READINESS_TIMEOUT_MS's default
const PROBE_EVERY_MS = 1_000; // READINESS_INTERVAL_MS's default

async function readyz(url: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2_000) });
  return { status: res.status, body: await res.json() };
}

const gauge = (text: string, state: string) => Number(new RegExp(`^crosswire_db_pool_connections\\{state="${state}"\\} (\\d+)`, 'm').exec(text)?.[1]);

/**
 * CONTRACT §8: a pool whose every connection is taken is busy, not down.
 * /readyz's probe has a connection of its own, so only a Postgres that does
 * not answer it turns the replica unready.
 */
describe('readiness tells a busy pool (200 degraded) from Postgres down (503)', () => {
  const postgres = new OwnPostgres();
  let cluster: Cluster;
  let busy: Replica;
  let calm: Replica;
  let token: string;
  const channels: string[] = [];

  beforeAll(async () => {
    await postgres.start();
    cluster = await startCluster(2, {}, { databaseUrl: postgres.url });
    [busy, calm] = cluster.replicas;
    const call = api(calm.url);
    token = (await registerUser(call, 'rdy')).token;
    // More channels than the pool has connections: one publish per channel holds one connection.
    for (let i = 0; i < POOL + 2; i++) channels.push((await call('POST', '/api/channels', { name: `busy-${i}-${Date.now()}` }, token)).body.id);
  });
  afterAll(async () => {
    await cluster?.stop();
    await postgres.remove();
  });

  it('every pooled connection held by a publish waiting on a row lock: /readyz stays 200 degraded (postgres busy) for longer than the probe timeout, the other replica stays ok, and the publishes are answered once the lock goes', async () => {
    const locker = new pg.Client({ connectionString: postgres.url });
    // pg_stat_activity is read outside the locker's transaction, which would see one snapshot of it.
    const observer = new pg.Client({ connectionString: postgres.url });
    await Promise.all([locker.connect(), observer.connect()]);
    await locker.query('BEGIN');
    await locker.query('SELECT id FROM channels WHERE id = ANY($1::uuid[]) FOR UPDATE', [channels]);
    const publishes = channels.map((id, i) => api(busy.url)('POST', `/api/channels/${id}/messages`, { body: i, clientMsgId: `busy-${i}` }, token).then((r) => r.status));

    // The pool is exhausted: its every connection waits on the lock in Postgres.
    await until(
      'the whole pool waiting on the lock',
      async () => {
        const { rows } = await observer.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()");
        return rows[0].n === POOL;
      },
      15_000,
      50,
    );
    const metrics = await (await fetch(`${busy.url}/metrics`)).text();
    expect({ total: gauge(metrics, 'total'), idle: gauge(metrics, 'idle') }).toEqual({ total: POOL, idle: 0 });

    // Longer than the probe's timeout twice over: a probe sharing the pool would have said `down` by now.
    const samples: Array<{ status: number; body: any }> = [];
    const end = Date.now() + 2 * PROBE_TIMEOUT_MS + PROBE_EVERY_MS;
    while (Date.now() < end) {
      samples.push(await readyz(busy.url));
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(samples.length).toBeGreaterThan(10);
    for (const s of samples) {
      expect(s).toEqual({ status: 200, body: { status: 'degraded', checks: { postgres: 'busy', redis: 'ok', fanout: 'ok', draining: false } } });
    }
    expect(await readyz(calm.url)).toEqual({ status: 200, body: { status: 'ok', checks: { postgres: 'ok', redis: 'ok', fanout: 'ok', draining: false } } });

    await locker.query('COMMIT');
    await Promise.all([locker.end(), observer.end()]);
    // Those that held a connection store; the two that waited past the pool's 3 s wait were refused 503.
    const statuses = await Promise.all(publishes);
    expect(statuses.filter((s) => s !== 201 && s !== 503)).toEqual([]);
    expect(statuses.filter((s) => s === 201).length).toBeGreaterThanOrEqual(POOL - 2);
    await until('the busy replica ok again', async () => (await readyz(busy.url)).body.status === 'ok', 10_000);
    console.log(`readiness busy: ${samples.length} samples over ${2 * PROBE_TIMEOUT_MS + PROBE_EVERY_MS} ms all 200 busy; publishes answered ${statuses.join(',')}`);
  });

  it('Postgres stopped: /readyz 503 unready (postgres down) on every replica within the probe interval plus its timeout; started again: 200 ok', async () => {
    const all = async () => Promise.all(cluster.replicas.map((r) => readyz(r.url)));
    const stoppedAt = Date.now();
    await postgres.stop();
    await until('every replica 503 postgres down', async () => (await all()).every((x) => x.status === 503 && x.body.checks.postgres === 'down'), 15_000, 50);
    const downMs = Date.now() - stoppedAt;
    for (const x of await all()) {
      expect(x).toEqual({ status: 503, body: { status: 'unready', checks: { postgres: 'down', redis: 'ok', fanout: 'ok', draining: false } } });
    }

    await postgres.start();
    const startedAt = Date.now();
    await until('every replica 200 ok', async () => (await all()).every((x) => x.status === 200 && x.body.status === 'ok'), 15_000, 50);
    const upMs = Date.now() - startedAt;
    // Generous for two shared cores; the point is seconds, not the 30 s of a dead TCP connection.
    expect(downMs).toBeLessThan(PROBE_EVERY_MS + PROBE_TIMEOUT_MS + 3_000);
    expect(upMs).toBeLessThan(PROBE_EVERY_MS + PROBE_TIMEOUT_MS + 3_000);
    console.log(`readiness: down seen after ${downMs} ms, ok again ${upMs} ms after the restart`);
  });
});
