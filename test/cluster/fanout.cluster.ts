import { jest } from '@jest/globals';
import { type ClientSocket, api, emitAck, once, registerUser } from '../support/client.js';
import { clusterForFile } from './support/cluster.js';

jest.setTimeout(60_000);

describe('three replicas on one Redis: cross-replica fan-out', () => {
  const ctx = clusterForFile(3);

  it('a publish on replica A over REST or socket reaches subscribers on B and C; X-Replica-Id names the replica that answered', async () => {
    const [a, b, c] = ctx.cluster.replicas;
    const user = await registerUser(api(a.url), 'fan');
    const channel = (await api(b.url)('POST', '/api/channels', { name: `fan-${Date.now()}` }, user.token)).body;
    const subs: ClientSocket[] = [];
    for (const r of [a, b, c]) subs.push((await ctx.subscribed(r.url, user.token, channel.id)).socket);
    const viaRest = subs.map((s) => once<any>(s, 'message:created'));
    const res = await api(a.url)('POST', `/api/channels/${channel.id}/messages`, { body: 'rest' }, user.token);
    expect(res.status).toBe(201);
    expect(res.headers.get('x-replica-id')).toBe('r1');
    for (const got of await Promise.all(viaRest)) expect(got).toEqual(res.body);

    const viaSocket = subs.map((s) => once<any>(s, 'message:created'));
    const ack = await emitAck(subs[2], 'message:publish', { channelId: channel.id, body: 'socket' });
    for (const got of await Promise.all(viaSocket)) expect(got).toEqual(ack.message);
  });

  it("typing and presence travel between replicas too; typing never reaches the typist's own socket on another replica", async () => {
    const [a, b, c] = ctx.cluster.replicas;
    const alice = await registerUser(api(a.url), 'ta');
    const bob = await registerUser(api(a.url), 'tb');
    const channelId = (await api(a.url)('POST', '/api/channels', { name: `typing-${Date.now()}` }, alice.token)).body.id;
    const { socket: watcher } = await ctx.subscribed(a.url, alice.token, channelId);
    const joined = once<any>(watcher, 'presence:joined');
    const { socket: bobOnB } = await ctx.subscribed(b.url, bob.token, channelId);
    expect((await joined).user.id).toBe(bob.id);
    const { socket: bobOnC } = await ctx.subscribed(c.url, bob.token, channelId);
    const ownEvents: string[] = [];
    for (const ev of ['typing', 'presence:joined', 'presence:left'] as const) bobOnC.on(ev, () => ownEvents.push(ev));

    const typing = once<any>(watcher, 'typing');
    bobOnB.emit('typing', { channelId });
    expect(await typing).toEqual({ channelId, user: { id: bob.id, username: bob.username } });
    // Bob's socket on C would have had the typing before this message: published after it, through the same replica and topic.
    const sentinel = once<any>(bobOnC, 'message:created');
    expect((await api(b.url)('POST', `/api/channels/${channelId}/messages`, { body: 'sentinel' }, bob.token)).status).toBe(201);
    await sentinel;
    expect(ownEvents).toEqual([]);

    const left = once<any>(watcher, 'presence:left');
    bobOnB.close();
    bobOnC.close();
    expect(await left).toEqual({ channelId, user: { id: bob.id, username: bob.username } });
    expect(ownEvents).toEqual([]);
  });
});
