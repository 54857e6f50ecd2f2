import { jest } from '@jest/globals';
import { type ClientSocket, api, connect, disconnected, metricValue, once, registerUser } from '../support/client.js';
import { FAST_ENV, clusterForFile, until } from './support/cluster.js';

jest.setTimeout(90_000);

describe('revocations take effect on every replica at once, and even when Redis lost them', () => {
  const ctx = clusterForFile(3);
  const subscribed = async (url: string, token: string, channelId: string) => (await ctx.subscribed(url, token, channelId)).socket;

  it('member removed, channel made private, channel deleted: sockets on other replicas are told and taken out of the room', async () => {
    const [r1, r2, r3] = ctx.cluster.replicas;
    const call = api(r1.url);
    const owner = await registerUser(call, 'owner');
    const member = await registerUser(call, 'member');
    const outsider = await registerUser(call, 'outsider');
    const priv = (await call('POST', '/api/channels', { name: `rv-priv-${Date.now()}`, visibility: 'private' }, owner.token)).body.id;
    await call('POST', `/api/channels/${priv}/members`, { username: member.username }, owner.token);
    const onR2 = await subscribed(r2.url, member.token, priv);
    const onR3 = await subscribed(r3.url, member.token, priv);
    const removed = [once<any>(onR2, 'channel:removed'), once<any>(onR3, 'channel:removed')];
    expect((await call('DELETE', `/api/channels/${priv}/members/${member.id}`, undefined, owner.token)).status).toBe(204);
    for (const r of await Promise.all(removed)) expect(r).toEqual({ channelId: priv, reason: 'removed' });

    const pub = (await call('POST', '/api/channels', { name: `rv-pub-${Date.now()}` }, owner.token)).body.id;
    await call('POST', `/api/channels/${pub}/members`, { username: member.username }, owner.token);
    const memberSock = await subscribed(r3.url, member.token, pub);
    const outsiderSock = await subscribed(r2.url, outsider.token, pub);
    const outsiderRemoved = once<any>(outsiderSock, 'channel:removed');
    expect((await call('PATCH', `/api/channels/${pub}`, { visibility: 'private' }, owner.token)).status).toBe(200);
    expect(await outsiderRemoved).toEqual({ channelId: pub, reason: 'private' });
    const stillThere = once<any>(memberSock, 'message:created');
    await call('POST', `/api/channels/${pub}/messages`, { body: 'members only' }, owner.token);
    expect((await stillThere).body).toBe('members only');

    const deleted = once<any>(memberSock, 'channel:deleted');
    expect((await call('DELETE', `/api/channels/${pub}`, undefined, owner.token)).status).toBe(204);
    expect(await deleted).toEqual({ channelId: pub });
  });

  it("with Redis down, a removed member's socket on another replica is still evicted by the reconciliation tick", async () => {
    const [r1, r2] = ctx.cluster.replicas;
    const call = api(r1.url);
    const owner = await registerUser(call, 'owner2');
    const member = await registerUser(call, 'member2');
    const priv = (await call('POST', '/api/channels', { name: `rv-down-${Date.now()}`, visibility: 'private' }, owner.token)).body.id;
    await call('POST', `/api/channels/${priv}/members`, { username: member.username }, owner.token);
    const onR2 = await subscribed(r2.url, member.token, priv);
    const events: string[] = [];
    onR2.on('message:created', (m) => events.push(`message ${m.seq}`));

    await ctx.cluster.redis.stop();
    const removed = once<any>(onR2, 'channel:removed', Number(FAST_ENV.RECONCILE_MS) * 4);
    const t0 = Date.now();
    expect((await call('DELETE', `/api/channels/${priv}/members/${member.id}`, undefined, owner.token)).status).toBe(204);
    expect(await removed).toEqual({ channelId: priv, reason: 'removed' });
    expect(Date.now() - t0).toBeLessThan(Number(FAST_ENV.RECONCILE_MS) * 3);
    // Out of the room: the owner's next messages never reach it, even through the tick.
    const ownerSock = await subscribed(r2.url, owner.token, priv);
    const ownerGot = once<any>(ownerSock, 'message:created', Number(FAST_ENV.RECONCILE_MS) * 4);
    await call('POST', `/api/channels/${priv}/messages`, { body: 'after removal' }, owner.token);
    await ownerGot;
    expect(events).toEqual([]);
    await ctx.cluster.redis.start();
  });

  describe('sessions', () => {
    const opened: ClientSocket[] = [];
    afterAll(() => opened.forEach((s) => s.close()));
    const open = async (url: string, token: string) => {
      const s = await connect(url, token);
      opened.push(s);
      return s;
    };
    /** Resolves once `replica` has run `n` more reconciliation ticks. */
    const ticks = async (url: string, n: number) => {
      const from = await metricValue(url, 'crosswire_reconcile_passes_total');
      await until(`${n} ticks on ${url}`, async () => (await metricValue(url, 'crosswire_reconcile_passes_total')) >= from + n, Number(FAST_ENV.RECONCILE_MS) * (n + 3));
    };

    it("logout everywhere on one replica: the user's sockets on the others are told session:revoked and closed, the token is refused on every replica", async () => {
      const [r1, r2, r3] = ctx.cluster.replicas;
      const user = await registerUser(api(r1.url), 'sess');
      const bystander = await registerUser(api(r1.url), 'bystand');
      const [on2, on3, other] = [await open(r2.url, user.token), await open(r3.url, user.token), await open(r2.url, bystander.token)];
      const told = [once<any>(on2, 'session:revoked'), once<any>(on3, 'session:revoked')];
      const closed = [disconnected(on2), disconnected(on3)];
      expect((await api(r1.url)('POST', '/api/auth/logout-all', undefined, user.token)).status).toBe(204);
      expect(await Promise.all(told)).toEqual([{ reason: 'revoked' }, { reason: 'revoked' }]);
      expect(await Promise.all(closed)).toEqual(['io server disconnect', 'io server disconnect']);
      for (const r of [r1, r2, r3]) expect((await api(r.url)('GET', '/api/me', undefined, user.token)).status).toBe(401);
      await ticks(r2.url, 2);
      expect(other.connected).toBe(true);
    });

    it('a password change revokes older sockets everywhere, but not a socket opened with the new token, even across ticks', async () => {
      const [r1, r2, r3] = ctx.cluster.replicas;
      const user = await registerUser(api(r1.url), 'sesspw');
      const old = await open(r3.url, user.token);
      const told = once<any>(old, 'session:revoked');
      const changed = await api(r1.url)('POST', '/api/auth/password', { currentPassword: 'password123', newPassword: 'another-password' }, user.token);
      expect(changed.status).toBe(200);
      expect(await told).toEqual({ reason: 'revoked' });
      const renewed = [await open(r2.url, changed.body.token), await open(r3.url, changed.body.token)];
      await Promise.all([ticks(r2.url, 2), ticks(r3.url, 2)]);
      expect(renewed.map((s) => s.connected)).toEqual([true, true]);
    });

    it('with Redis down, the revocation is lost between replicas, and the tick ends the old sockets anyway', async () => {
      const [r1, r2] = ctx.cluster.replicas;
      const user = await registerUser(api(r1.url), 'sessdown');
      const on2 = await open(r2.url, user.token);
      await ctx.cluster.redis.stop();
      try {
        const told = once<any>(on2, 'session:revoked', Number(FAST_ENV.RECONCILE_MS) * 4);
        const t0 = Date.now();
        expect((await api(r1.url)('POST', '/api/auth/logout-all', undefined, user.token)).status).toBe(204);
        expect(await told).toEqual({ reason: 'revoked' });
        expect(Date.now() - t0).toBeLessThan(Number(FAST_ENV.RECONCILE_MS) * 3);
        expect(await metricValue(r2.url, 'crosswire_sessions_ended_total', { reason: 'revoked' })).toBeGreaterThanOrEqual(1);
      } finally {
        await ctx.cluster.redis.start();
      }
    });
  });
});
