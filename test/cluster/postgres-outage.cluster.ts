import { jest } from '@jest/globals';
import { api, connect, connectError, emitAck, once, registerUser, type ClientSocket } from '../support/client.js';
import { type Cluster, type Replica, startCluster, until } from './support/cluster.js';
import { OwnPostgres } from './support/own-postgres.js';

jest.setTimeout(90_000);

const UNAVAILABLE_BODY = { statusCode: 503, error: 'Service Unavailable', code: 'UNAVAILABLE', message: expect.any(String) };

async function readyz(url: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2_000) });
  return { status: res.status, body: await res.json() };
}

/** Lines of a replica's log that carry `msg` (JSON lines, one per event). */

describe('Postgres stopped under a 3-replica cluster, then restarted', () => {
  const pg = new OwnPostgres();
  let cluster: Cluster;
  let replicas: Replica[];
  let channelId: string;
  let token: string;
  let newcomerToken: string;
  const sockets: ClientSocket[] = []; // one per replica, subscribed, never reconnected
  const disconnects: string[][] = [];

  beforeAll(async () => {
    await pg.start();
    cluster = await startCluster(3, {}, { databaseUrl: pg.url });
    replicas = cluster.replicas;
    const call = api(replicas[0].url);
    const user = await registerUser(call, 'pgout');
    token = user.token;
    // Never authenticated before the outage, so in no replica's one-second user cache.
    newcomerToken = (await registerUser(call, 'pgnew')).token;
    channelId = (await call('POST', '/api/channels', { name: `pg-outage-${Date.now()}` }, token)).body.id;
    for (const r of replicas) {
      const s = await connect(r.url, token);
      const gone: string[] = [];
      s.on('disconnect', (reason) => gone.push(reason));
      expect(await emitAck(s, 'channel:subscribe', { channelId })).toMatchObject({ ok: true });
      sockets.push(s);
      disconnects.push(gone);
    }
    // Healthy first: a publish on r1 reaches every replica.
    const got = sockets.map((s) => once<any>(s, 'message:created'));
    const first = await call('POST', `/api/channels/${channelId}/messages`, { body: 'before' }, token);
    expect(first.status).toBe(201);
    expect(first.body.seq).toBe(1);
    for (const m of await Promise.all(got)) expect(m).toEqual(first.body);
  });

  afterAll(async () => {
    sockets.forEach((s) => s.close());
    await cluster?.stop();
    await pg.remove();
  });

  it('while Postgres is down every replica answers REST 503 UNAVAILABLE and socket acks UNAVAILABLE, /readyz is 503 (postgres down), /healthz 200, and none exits', async () => {
    const failedTicks = replicas.map((r) => r.logged<{ component: string }>('background failure').filter((l) => l.component === 'reconcile').length);
    await pg.stop();

    await until(
      'every replica reports 503 unready with postgres down',
      async () => {
        const all = await Promise.all(replicas.map((r) => readyz(r.url)));
        return all.every((x) => x.status === 503 && x.body.status === 'unready' && x.body.checks.postgres === 'down');
      },
      15_000,
    );

    for (const [i, r] of replicas.entries()) {
      const call = api(r.url);
      const ready = await readyz(r.url);
      // Postgres is this replica's own fault to report; Redis is fine.
      expect({ replica: r.id, ...ready }).toEqual({
        replica: r.id,
        status: 503,
        body: { status: 'unready', checks: { postgres: 'down', redis: 'ok', fanout: 'ok', draining: false } },
      });
      expect({ replica: r.id, healthz: (await call('GET', '/healthz')).status }).toEqual({ replica: r.id, healthz: 200 });

      const me = await call('GET', '/api/me', undefined, token);
      expect({ replica: r.id, status: me.status, body: me.body, retryAfter: me.headers.get('retry-after') }).toEqual({
        replica: r.id,
        status: 503,
        body: UNAVAILABLE_BODY,
        retryAfter: '1',
      });
      const post = await call('POST', `/api/channels/${channelId}/messages`, { body: `lost on ${r.id}`, clientMsgId: `pg-rest-${r.id}` }, token);
      expect({ replica: r.id, status: post.status, body: post.body }).toEqual({ replica: r.id, status: 503, body: UNAVAILABLE_BODY });
      const history = await call('GET', `/api/channels/${channelId}/messages`, undefined, token);
      expect({ replica: r.id, status: history.status, code: history.body.code }).toEqual({ replica: r.id, status: 503, code: 'UNAVAILABLE' });

      const ack = await emitAck(sockets[i], 'message:publish', { channelId, body: `lost on ${r.id}`, clientMsgId: `pg-socket-${r.id}` });
      expect({ replica: r.id, ack }).toEqual({ replica: r.id, ack: { ok: false, error: { code: 'UNAVAILABLE', message: expect.any(String) } } });
      // A new handshake of a user not cached needs Postgres: refused with a clear reason, not a crash.
      expect({ replica: r.id, handshake: await connectError(r.url, newcomerToken) }).toEqual({ replica: r.id, handshake: 'unavailable' });
    }

    // Several reconciliation ticks fail against the stopped database (the
    // sockets are subscribed, so every tick queries it) and nobody dies of it.
    await until(
      'three failed reconciliation ticks on every replica',
      () => replicas.every((r, i) => r.logged<{ component: string }>('background failure').filter((l) => l.component === 'reconcile').length >= failedTicks[i] + 3),
      15_000,
    );
    for (const [i, r] of replicas.entries()) {
      expect({ replica: r.id, alive: r.alive, connected: sockets[i].connected, disconnects: disconnects[i] }).toEqual({
        replica: r.id,
        alive: true,
        connected: true,
        disconnects: [],
      });
      expect({ replica: r.id, readyz: (await readyz(r.url)).status, healthz: (await api(r.url)('GET', '/healthz')).status }).toEqual({
        replica: r.id,
        readyz: 503,
        healthz: 200,
      });
    }
  });

  it('after Postgres restarts (same data dir and port) every replica is ready again and a publish on one replica reaches subscribers on the others', async () => {
    await pg.start();

    await until(
      'every replica reports 200 ok with postgres ok',
      async () => {
        const all = await Promise.all(replicas.map((r) => readyz(r.url)));
        return all.every((x) => x.status === 200 && x.body.status === 'ok' && x.body.checks.postgres === 'ok');
      },
      20_000,
    );
    for (const r of replicas) {
      expect({ replica: r.id, ...(await readyz(r.url)) }).toEqual({
        replica: r.id,
        status: 200,
        body: { status: 'ok', checks: { postgres: 'ok', redis: 'ok', fanout: 'ok', draining: false } },
      });
    }

    // REST on r2: every replica's subscriber gets it, r1's and r3's through Redis.
    const [r1, r2, r3] = replicas;
    let got = sockets.map((s) => once<any>(s, 'message:created'));
    const viaRest = await api(r2.url)('POST', `/api/channels/${channelId}/messages`, { body: 'back', clientMsgId: 'pg-back-rest' }, token);
    expect(viaRest.status).toBe(201);
    expect(viaRest.headers.get('x-replica-id')).toBe(r2.id);
    // Nothing was stored during the outage: no seq was burned by the refused publishes.
    expect(viaRest.body.seq).toBe(2);
    for (const m of await Promise.all(got)) expect(m).toEqual(viaRest.body);

    // Socket publish on r3 reaches r1 and r2.
    got = sockets.map((s) => once<any>(s, 'message:created'));
    const ack = await emitAck(sockets[2], 'message:publish', { channelId, body: 'back again', clientMsgId: 'pg-back-socket' });
    expect(ack).toMatchObject({ ok: true, message: { seq: 3, body: 'back again' } });
    for (const m of await Promise.all(got)) expect(m).toEqual(ack.message);

    // The database holds exactly what was acknowledged; new handshakes work again.
    const history = await api(r1.url)('GET', `/api/channels/${channelId}/messages`, undefined, token);
    expect(history.status).toBe(200);
    expect(history.body.items.map((m: any) => [m.seq, m.body])).toEqual([
      [1, 'before'],
      [2, 'back'],
      [3, 'back again'],
    ]);
    expect(history.body.lastSeq).toBe(3);
    const fresh = await connect(r3.url, token);
    fresh.close();
    for (const [i, r] of replicas.entries()) {
      expect({ replica: r.id, alive: r.alive, disconnects: disconnects[i] }).toEqual({ replica: r.id, alive: true, disconnects: [] });
      expect(r.log).not.toMatch(/unhandled rejection/i);
    }
  });
});
