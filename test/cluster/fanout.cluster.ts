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
});
