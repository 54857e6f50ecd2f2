import { jest } from '@jest/globals';
import { api, once, registerUser } from '../support/client.js';
import { FAST_ENV, clusterForFile } from './support/cluster.js';

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

  it('with Redis down, a removed member\'s socket on another replica is still evicted by the reconciliation tick', async () => {
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
});
