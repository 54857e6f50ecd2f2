import { jest } from '@jest/globals';
import { io } from 'socket.io-client';
import { SIGN_IN_EDGE } from '../../scripts/haproxy-config.js';
import { type ClientSocket, api, metricValue, registerUser } from '../support/client.js';
import { FAST_ENV, until } from './support/cluster.js';
import { clusterBehindLbForFile } from './support/haproxy.js';
import { Subscriber } from './support/subscriber.js';

jest.setTimeout(120_000);

describe('behind HAProxy: sticky long-polling, SIGTERM drain', () => {
  const ctx = clusterBehindLbForFile(3);
  const { lb, closers } = ctx;

  it('the public side serves neither /metrics nor the OpenAPI page (404 in the error shape); a replica directly does', async () => {
    for (const path of ['/metrics', '/api/docs', '/api/docs-json']) {
      const res = await api(lb.url)('GET', path);
      expect({ path, status: res.status, body: res.body }).toEqual({ path, status: 404, body: { statusCode: 404, error: 'Not Found', code: 'NOT_FOUND', message: 'route not found' } });
      expect((await api(ctx.cluster.replicas[0].url)('GET', path)).status).toBe(200);
    }
    expect((await api(lb.url)('GET', '/healthz')).status).toBe(200);
  });

  it('long-polling clients stay on one replica for their whole session (cookie stickiness)', async () => {
    const user = await registerUser(api(lb.url), 'poll');
    const channelId = (await api(lb.url)('POST', '/api/channels', { name: `poll-${Date.now()}` }, user.token)).body.id;
    const seen = new Set<string>();
    for (let c = 0; c < 6; c++) {
      // withCredentials: Node's client then keeps HAProxy's SRV cookie. Without
      // it, long-polling through HAProxy failed with "transport error"; browsers
      // send the cookie on their own.
      const socket: ClientSocket = io(lb.url, { auth: { token: user.token }, transports: ['polling'], withCredentials: true, reconnection: false, forceNew: true });
      closers.push(socket);
      const { replicaId } = await new Promise<any>((ok, fail) => {
        socket.once('session', ok);
        socket.once('connect_error', fail);
      });
      seen.add(replicaId);
      let dropped = false;
      socket.on('disconnect', () => (dropped = true));
      // Each ack is another polling request; one landing on another replica
      // would meet an unknown session id and drop the connection.
      for (let i = 0; i < 10; i++) {
        const ack = await (socket as any).timeout(5_000).emitWithAck('channel:subscribe', { channelId });
        expect(ack.ok).toBe(true);
      }
      expect(dropped).toBe(false);
      expect(socket.io.engine.transport.name).toBe('polling');
    }
    expect(seen.size).toBeGreaterThan(1);
  });

  it('SIGTERM drain: the replica turns not-ready, its clients move to other replicas, nothing is lost, it exits 0 in time', async () => {
    const user = await registerUser(api(lb.url), 'drain');
    const channelId = (await api(lb.url)('POST', '/api/channels', { name: `drain-${Date.now()}` }, user.token)).body.id;
    const subs: Subscriber[] = [];
    for (let i = 0; i < 9; i++) {
      const s = new Subscriber(() => [lb.url], user.token, channelId);
      closers.push(s);
      await s.start();
      subs.push(s);
    }
    const victim = ctx.cluster.replicas.find((r) => subs.some((s) => s.replicas[0] === r.id))!;
    const onVictim = subs.filter((s) => s.replicas[0] === victim.id);
    expect(onVictim.length).toBeGreaterThan(0);
    // A plain socket.io-client with its default reconnection, on the victim: it must come back by itself.
    let plain: ClientSocket | undefined;
    for (let i = 0; i < 12 && !plain; i++) {
      const s: ClientSocket = io(lb.url, { auth: { token: user.token }, transports: ['websocket'], forceNew: true, reconnectionDelay: 100 });
      closers.push(s);
      const { replicaId } = await new Promise<any>((ok) => s.once('session', ok));
      if (replicaId === victim.id) plain = s;
      else s.close();
    }
    expect(plain).toBeDefined();
    const plainBack = new Promise<string>((ok, fail) => {
      setTimeout(() => fail(new Error('the plain client did not reconnect by itself')), 20_000).unref();
      plain!.once('disconnect', () => plain!.once('session', (p) => ok(p.replicaId)));
    });

    let published = 0;
    let stop = false;
    const publisher = (async () => {
      while (!stop) {
        const n = published + 1;
        const res = await api(lb.url)('POST', `/api/channels/${channelId}/messages`, { body: n, clientMsgId: `d${n}` }, user.token).catch(() => null);
        if (res && (res.status === 201 || res.status === 200)) published = n;
      }
    })();

    await until('a few messages before the drain', () => published >= 20);
    const t0 = Date.now();
    void victim.kill('SIGTERM');
    await until('the draining replica reports not-ready', async () => (await api(victim.url)('GET', '/readyz')).status === 503, Number(FAST_ENV.DRAIN_NOTICE_MS));
    expect((await api(victim.url)('GET', '/readyz')).body).toEqual({ status: 'unready', checks: expect.objectContaining({ draining: true }) });
    const exitCode = await victim.exited;
    const tookMs = Date.now() - t0;
    stop = true;
    await publisher;
    expect(exitCode).toBe(0);
    expect(tookMs).toBeLessThan(Number(FAST_ENV.DRAIN_NOTICE_MS) + Number(FAST_ENV.DRAIN_MS) + 5_000);
    expect(victim.log).toMatch(/"msg":"draining"/);

    const lastSeq = (await api(lb.url)('GET', `/api/channels/${channelId}`, undefined, user.token)).body.lastSeq;
    expect(lastSeq).toBe(published);
    await Promise.all(subs.map((s) => s.waitFor(lastSeq, 20_000)));
    for (const s of subs) {
      expect(s.violations).toEqual([]);
      expect(s.received.map((m) => m.seq)).toEqual(Array.from({ length: lastSeq }, (_, i) => i + 1));
    }
    for (const s of onVictim) expect({ replicas: s.replicas }).toEqual({ replicas: [victim.id, expect.not.stringMatching(victim.id)] });
    expect(await plainBack).not.toBe(victim.id);
  });
});

describe("behind HAProxy: the LB's own sign-in limit (CONTRACT §9)", () => {
  // A load balancer of its own: its table of addresses must not carry another test's sign-ins.
  const edge = clusterBehindLbForFile(1);
  const TRIES = 100;

  it(`past ${SIGN_IN_EDGE.requests} sign-ins from one address in ${SIGN_IN_EDGE.windowMs / 1000} s, HAProxy answers 429 in the error shape itself and no replica sees them; other requests pass`, async () => {
    const replica = edge.cluster.replicas[0];
    // A malformed body: the replicas answer 400 at once, with no password work; the LB counts the tries alike.
    const attempt = () =>
      fetch(`${edge.lb.url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{' }).then(async (r) => ({
        status: r.status,
        headers: r.headers,
        body: await r.text(),
      }));
    const answers = [];
    for (let i = 0; i < TRIES; i++) answers.push(await attempt());
    const byReplica = answers.filter((a) => a.headers.get('x-replica-id'));
    const byLb = answers.filter((a) => !a.headers.get('x-replica-id'));
    // HAProxy's rate is a sliding estimate: the refusals start at the 51st try, or a few later across its period's edge.
    expect(byReplica.length).toBeGreaterThanOrEqual(SIGN_IN_EDGE.requests);
    expect(byReplica.length).toBeLessThanOrEqual(SIGN_IN_EDGE.requests + 10);
    expect(answers.slice(0, byReplica.length)).toEqual(byReplica); // once refused, refused: its tries count too
    for (const a of byReplica) expect(a.status).toBe(400);
    for (const a of byLb) {
      expect(a.status).toBe(429);
      expect(JSON.parse(a.body)).toEqual({
        statusCode: 429,
        error: 'Too Many Requests',
        code: 'RATE_LIMITED',
        message: 'too many sign-in attempts from this address; try again in 10 s',
        retryAfterMs: SIGN_IN_EDGE.windowMs,
      });
      expect(a.headers.get('retry-after')).toBe(String(SIGN_IN_EDGE.windowMs / 1000));
      expect(a.headers.get('x-request-id')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      expect(a.headers.get('content-type')).toBe('application/json; charset=utf-8');
    }
    expect(await metricValue(replica.url, 'crosswire_http_requests_total', { method: 'POST', status: '400' })).toBe(byReplica.length);
    // The same address elsewhere is not refused by the LB.
    expect((await api(edge.lb.url)('GET', '/healthz')).status).toBe(200);
    expect((await api(edge.lb.url)('POST', '/api/channels', { name: 'x' })).status).toBe(401);
  });
});
