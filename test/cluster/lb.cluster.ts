import { jest } from '@jest/globals';
import { io } from 'socket.io-client';
import { type ClientSocket, api, registerUser } from '../support/client.js';
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
