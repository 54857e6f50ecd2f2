import { jest } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { createHub } from '../../src/bootstrap.js';
import { loadConfig } from '../../src/config/config.js';
import { type EmbeddedPostgresHandle, startEmbeddedPostgres } from '../../src/database/embedded-postgres.js';
import { migrate } from '../../src/database/migrator.js';
import { JsonLogger } from '../../src/logging/logger.js';
import { freePort } from '../support/free-port.js';
import { until } from '../support/wait.js';
import { everyRoute } from './support/routes.js';
import { TEST_SECRET, api, connect, connectError, emitAck, once, record, registerUser } from './support/hub.js';

jest.setTimeout(90_000);

describe('Postgres down: 503 / UNAVAILABLE, no crash, recovery when it returns', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'crosswire-outage-'));
  let port: number;
  let pg: EmbeddedPostgresHandle;
  let app: INestApplication;

  beforeAll(async () => {
    port = await freePort();
    pg = await startEmbeddedPostgres({ dataDir, port });
    await migrate(pg.url);
    const config = loadConfig({ JWT_SECRET: TEST_SECRET, REPLICA_ID: 'outage', LOG_LEVEL: 'silent' });
    app = await createHub({ config, databaseUrl: pg.url, jwtSecret: TEST_SECRET, logger: new JsonLogger('outage', 'silent') }, 0, '127.0.0.1');
  });
  afterAll(async () => {
    await app?.close();
    await pg?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('answers 503 on both doors while Postgres is stopped, then works again after it restarts; a re-subscribe refused UNAVAILABLE keeps the subscription and its presence', async () => {
    const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
    const call = api(url);
    const user = await registerUser(call, 'outage');
    const channel = (await call('POST', '/api/channels', { name: 'outage' }, user.token)).body;
    const socket = await connect(url, user.token);
    await emitAck(socket, 'channel:subscribe', { channelId: channel.id });
    const watcherUser = await registerUser(call, 'watcher');
    const watcher = await connect(url, watcherUser.token);
    expect((await emitAck(watcher, 'channel:subscribe', { channelId: channel.id })).presence.map((u: any) => u.id).sort()).toEqual([user.id, watcherUser.id].sort());
    const left = record<any>(watcher, 'presence:left');
    // Never authenticated yet, so not in the hub's one-second user cache: its handshake needs Postgres.
    const newcomer = await registerUser(call, 'newcomer');

    await pg.stop();

    const me = await call('GET', '/api/me', undefined, user.token);
    expect(me.status).toBe(503);
    expect(me.body).toEqual({ statusCode: 503, error: 'Service Unavailable', code: 'UNAVAILABLE', message: expect.any(String) });
    expect(me.headers.get('retry-after')).toBe('1');
    const post = await call('POST', `/api/channels/${channel.id}/messages`, { body: 'lost?' }, user.token);
    expect(post.status).toBe(503);
    const ack = await emitAck(socket, 'message:publish', { channelId: channel.id, body: 'lost?' });
    expect(ack).toEqual({ ok: false, error: { code: 'UNAVAILABLE', message: expect.any(String) } });
    expect(await connectError(url, newcomer.token)).toBe('unavailable');
    for (const [method, path, body] of [
      ['POST', '/api/auth/register', { username: 'during', password: 'password123' }],
      ['POST', '/api/auth/login', { username: user.username, password: 'password123' }],
      ...everyRoute(channel.id, user.id),
    ] as Array<[string, string, unknown?]>) {
      const res = await call(method, path, body, user.token);
      expect({ route: `${method} ${path}`, status: res.status, code: res.body?.code }).toEqual({ route: `${method} ${path}`, status: 503, code: 'UNAVAILABLE' });
    }
    const subscribeAck = await emitAck(socket, 'channel:subscribe', { channelId: channel.id });
    expect(subscribeAck.error.code).toBe('UNAVAILABLE');
    socket.emit('typing', { channelId: '00000000-0000-4000-8000-000000000000' });
    await until('readyz 503', async () => (await call('GET', '/readyz')).status === 503);
    expect((await call('GET', '/readyz')).body).toMatchObject({ status: 'unready', checks: { postgres: 'down' } });
    expect((await call('GET', '/healthz')).status).toBe(200);
    expect(socket.connected).toBe(true);

    pg = await startEmbeddedPostgres({ dataDir, port });

    await until('readyz 200', async () => (await call('GET', '/readyz')).status === 200);
    const delivered = once<any>(socket, 'message:created');
    const watched = once<any>(watcher, 'message:created');
    const ok = await call('POST', `/api/channels/${channel.id}/messages`, { body: 'back' }, user.token);
    expect(ok.status).toBe(201);
    // Nothing was stored while Postgres was down: the first message after it is seq 1.
    expect(ok.body.seq).toBe(1);
    expect(await delivered).toEqual(ok.body);
    // The refused re-subscribe revoked nothing: still subscribed, still present, no left announced.
    await watched;
    expect(left.items).toEqual([]);
    const present = await call('GET', `/api/channels/${channel.id}/presence`, undefined, user.token);
    expect(present.body.users.map((u: any) => u.id).sort()).toEqual([user.id, watcherUser.id].sort());
    watcher.close();
    expect((await call('GET', '/api/me', undefined, user.token)).status).toBe(200);
    socket.close();
  });
});
