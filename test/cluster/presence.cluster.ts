import { jest } from '@jest/globals';
import { api, collect, once, registerUser } from '../support/client.js';
import { FAST_ENV, clusterForFile, until } from './support/cluster.js';

jest.setTimeout(90_000);
const LEASE_TTL_MS = Number(FAST_ENV.LEASE_TTL_MS);

describe('presence across replicas, and when a replica is SIGKILLed', () => {
  const ctx = clusterForFile(3);
  const open = (url: string, token: string, channelId: string) => ctx.subscribed(url, token, channelId);

  it('is cluster-wide: joined once however many replicas a user is on; a user on two replicas stays when one dies; a user whose only replica dies leaves once within 15 s', async () => {
    const [r1, r2, r3] = ctx.cluster.replicas;
    const call = api(r1.url);
    const alice = await registerUser(call, 'alice');
    const bob = await registerUser(call, 'bob');
    const carol = await registerUser(call, 'carol');
    const channelId = (await call('POST', '/api/channels', { name: `presence-${Date.now()}` }, alice.token)).body.id;
    const { socket: watcher } = await open(r1.url, alice.token, channelId);
    const events: string[] = [];
    watcher.on('presence:joined', (p) => events.push(`joined ${p.user.username}`));
    watcher.on('presence:left', (p) => events.push(`left ${p.user.username}`));

    const bobJoined = once<any>(watcher, 'presence:joined');
    const { ack: bobAck } = await open(r2.url, bob.token, channelId);
    expect((await bobJoined).user).toEqual({ id: bob.id, username: bob.username });
    expect(bobAck.presence.map((u: any) => u.id).sort()).toEqual([alice.id, bob.id].sort());

    // Bob's second socket, on the replica that will die: no second `joined`.
    await open(r3.url, bob.token, channelId);
    const carolJoined = once<any>(watcher, 'presence:joined');
    await open(r3.url, carol.token, channelId);
    expect((await carolJoined).user.id).toBe(carol.id);
    expect(events).toEqual([`joined ${bob.username}`, `joined ${carol.username}`]);
    const listed = await api(r2.url)('GET', `/api/channels/${channelId}/presence`, undefined, alice.token);
    expect(listed.body.users.map((u: any) => u.id).sort()).toEqual([alice.id, bob.id, carol.id].sort());

    const carolLeft = collect<any>(watcher, 'presence:left', 1, 20_000);
    const killedAt = Date.now();
    await r3.kill('SIGKILL');
    const [left] = await carolLeft;
    const tookMs = Date.now() - killedAt;
    expect(left).toEqual({ channelId, user: { id: carol.id, username: carol.username } });
    expect(tookMs).toBeLessThan(15_000);
    // From the lease lapsing (its last renewal was up to TTL/4 before the kill), not from a socket grace.
    expect(tookMs).toBeGreaterThanOrEqual(LEASE_TTL_MS / 2);

    // The same reap removed r3's lease for Bob, who is still on r2: still present.
    const after = await api(r1.url)('GET', `/api/channels/${channelId}/presence`, undefined, alice.token);
    expect(after.body.users.map((u: any) => u.id).sort()).toEqual([alice.id, bob.id].sort());
    // A second reaper (on r1 or r2) would act within a few of its 1 s ticks.
    await new Promise((r) => setTimeout(r, 3_000));
    expect(events).toEqual([`joined ${bob.username}`, `joined ${carol.username}`, `left ${carol.username}`]);
  });

  it('after Redis restarts empty, replicas re-assert their leases silently', async () => {
    const [r1, r2] = ctx.cluster.replicas;
    const call = api(r1.url);
    const alice = await registerUser(call, 'ra');
    const bob = await registerUser(call, 'rb');
    const channelId = (await call('POST', '/api/channels', { name: `reassert-${Date.now()}` }, alice.token)).body.id;
    const { socket: watcher } = await open(r1.url, alice.token, channelId);
    const bobJoined = once<any>(watcher, 'presence:joined');
    await open(r2.url, bob.token, channelId);
    await bobJoined;
    const events: string[] = [];
    watcher.on('presence:joined', (p) => events.push(`joined ${p.user.username}`));
    watcher.on('presence:left', (p) => events.push(`left ${p.user.username}`));
    const both = [alice.id, bob.id].sort();
    const listed = async (url: string) => ((await api(url)('GET', `/api/channels/${channelId}/presence`, undefined, alice.token)).body.users ?? []).map((u: any) => u.id).sort();

    // A replica logs `presence converged` when its re-read of the views changed something.
    const converged = () => [r1, r2].map((r) => r.logged('presence converged').length);
    const convergedBefore = converged();

    await ctx.cluster.redis.stop();
    // While Redis is down each replica answers from its own sockets.
    await until('r2 answering presence alone', async () => JSON.stringify(await listed(r2.url)) === JSON.stringify([bob.id]));
    await ctx.cluster.redis.start();
    await until('both replicas re-asserted their leases', async () => JSON.stringify(await listed(r1.url)) === JSON.stringify(both) && JSON.stringify(await listed(r2.url)) === JSON.stringify(both));
    // Silently includes each replica's converge: it re-reads every view LEASE_TTL_MS/4 + 1.5 s after its
    // connections are back (the bus connection may come back up to a retry, 1 s, after the one that
    // re-asserted) and would announce a lease it found missing. Past that window, a message published
    // through r2 reaches the watcher after any presence event r1 emitted before it.
    await new Promise((r) => setTimeout(r, LEASE_TTL_MS / 4 + 1_500 + 2_000));
    const sentinel = once<any>(watcher, 'message:created');
    expect((await api(r2.url)('POST', `/api/channels/${channelId}/messages`, { body: 'sentinel' }, bob.token)).status).toBe(201);
    expect((await sentinel).body).toBe('sentinel');
    expect(events).toEqual([]);
    expect(converged()).toEqual(convergedBefore);
    expect(watcher.connected).toBe(true);
  });

  it('a user reconnecting to another replica within the grace does not flap: no left, no second joined', async () => {
    const [r1, r2] = ctx.cluster.replicas;
    const call = api(r1.url);
    const alice = await registerUser(call, 'fa');
    const bob = await registerUser(call, 'fb');
    const channelId = (await call('POST', '/api/channels', { name: `flap-${Date.now()}` }, alice.token)).body.id;
    const { socket: watcher } = await open(r1.url, alice.token, channelId);
    const joined = once<any>(watcher, 'presence:joined');
    const { socket: bobOnR1 } = await open(r1.url, bob.token, channelId);
    await joined;
    const events: string[] = [];
    watcher.on('presence:joined', (p) => events.push(`joined ${p.user.username}`));
    watcher.on('presence:left', (p) => events.push(`left ${p.user.username}`));

    bobOnR1.close();
    const { socket: bobOnR2 } = await open(r2.url, bob.token, channelId);
    // The window in which a flap would show: past r1's grace for Bob's old socket.
    await new Promise((r) => setTimeout(r, Number(FAST_ENV.PRESENCE_GRACE_MS) * 3));
    expect(events).toEqual([]);
    const listed = await api(r1.url)('GET', `/api/channels/${channelId}/presence`, undefined, alice.token);
    expect(listed.body.users.map((u: any) => u.id).sort()).toEqual([alice.id, bob.id].sort());

    const left = once<any>(watcher, 'presence:left');
    bobOnR2.close();
    expect((await left).user.id).toBe(bob.id);
    expect(events).toEqual([`left ${bob.username}`]);
  });
});
