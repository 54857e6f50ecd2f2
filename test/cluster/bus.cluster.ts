import { jest } from '@jest/globals';
import { Redis } from 'ioredis';
import { api, connect, emitAck, once, registerUser } from '../support/client.js';
import { type Cluster, startCluster, until } from './support/cluster.js';
import { Subscriber } from './support/subscriber.js';

jest.setTimeout(120_000);

// The tick is pushed past the end of every test: only the channel's topic can deliver across replicas.
const ENV = { RECONCILE_MS: '60000' };

describe('the bus carries a channel only to replicas with subscribers of it', () => {
  let cluster: Cluster;
  let redis: Redis;
  const closers: Array<{ close(): void }> = [];
  beforeAll(async () => {
    cluster = await startCluster(3, ENV);
    redis = new Redis(cluster.redis.url);
  });
  afterAll(async () => {
    closers.forEach((c) => c.close());
    redis.disconnect();
    await cluster.stop();
  });

  /** How many replicas hold the channel's topic, as Redis counts them. */
  const holders = async (channelId: string) => {
    const reply = (await redis.call('PUBSUB', 'NUMSUB', `crosswire:ch:${channelId}`)) as [string, number];
    return Number(reply[1]);
  };

  it("a replica subscribes to a channel's topic with its first local subscriber and leaves it with its last", async () => {
    const [r1, r2] = cluster.replicas;
    const user = await registerUser(api(r1.url), 'bus');
    const channelId = (await api(r1.url)('POST', '/api/channels', { name: `bus-${Date.now()}` }, user.token)).body.id;
    expect(await holders(channelId)).toBe(0);
    const a = await connect(r1.url, user.token);
    const b = await connect(r1.url, user.token);
    closers.push(a, b);
    expect((await emitAck(a, 'channel:subscribe', { channelId })).ok).toBe(true);
    expect(await holders(channelId)).toBe(1);
    expect((await emitAck(b, 'channel:subscribe', { channelId })).ok).toBe(true);
    expect(await holders(channelId)).toBe(1);
    const c = await connect(r2.url, user.token);
    closers.push(c);
    expect((await emitAck(c, 'channel:subscribe', { channelId })).ok).toBe(true);
    expect(await holders(channelId)).toBe(2);
    expect(await emitAck(a, 'channel:unsubscribe', { channelId })).toEqual({ ok: true });
    expect(await holders(channelId)).toBe(2);
    b.disconnect();
    await until('r1 to leave the topic', async () => (await holders(channelId)) === 1);
    c.disconnect();
    await until('r2 to leave the topic', async () => (await holders(channelId)) === 0);
  });

  it('the first message of a quiet channel reaches a subscriber on another replica live, without the tick', async () => {
    const [r1, , r3] = cluster.replicas;
    const user = await registerUser(api(r1.url), 'quiet');
    const channelId = (await api(r1.url)('POST', '/api/channels', { name: `quiet-${Date.now()}` }, user.token)).body.id;
    const s = new Subscriber(() => [r3.url], user.token, channelId);
    closers.push(s);
    await s.start();
    const sentAt = Date.now();
    expect((await api(r1.url)('POST', `/api/channels/${channelId}/messages`, { body: 'only' }, user.token)).status).toBe(201);
    // The tick runs every 60 s and no later seq exists to trigger a hold-back: only the topic delivers it.
    await s.waitFor(1, 10_000);
    expect(Date.now() - sentAt).toBeLessThan(10_000);
    expect(s.violations).toEqual([]);
    expect(s.received.map((m) => m.body)).toEqual(['only']);
  });

  it("typing reaches a subscriber on another replica through the channel's topic, not the sender's own sockets", async () => {
    const [r1, r2] = cluster.replicas;
    const alice = await registerUser(api(r1.url), 'ta');
    const bob = await registerUser(api(r1.url), 'tb');
    const channelId = (await api(r1.url)('POST', '/api/channels', { name: `typing-bus-${Date.now()}` }, alice.token)).body.id;
    const watcher = await connect(r2.url, alice.token);
    const bobHere = await connect(r1.url, bob.token);
    const bobThere = await connect(r2.url, bob.token);
    closers.push(watcher, bobHere, bobThere);
    for (const s of [watcher, bobHere, bobThere]) expect((await emitAck(s, 'channel:subscribe', { channelId })).ok).toBe(true);
    const heard: string[] = [];
    bobThere.on('typing', () => heard.push('bob heard himself'));
    const typing = once<any>(watcher, 'typing');
    bobHere.emit('typing', { channelId });
    expect(await typing).toEqual({ channelId, user: { id: bob.id, username: bob.username } });
    // Bob's socket on r2 would have had it before this message on the same connection.
    const sentinel = once<any>(bobThere, 'message:created');
    await api(r1.url)('POST', `/api/channels/${channelId}/messages`, { body: 'sentinel' }, alice.token);
    await sentinel;
    expect(heard).toEqual([]);
  });
});
