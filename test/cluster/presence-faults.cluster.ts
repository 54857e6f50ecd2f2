import { jest } from '@jest/globals';
import { type ClientSocket, api, once, record, registerUser } from '../support/client.js';
import { FAST_ENV, clusterForFile, until } from './support/cluster.js';

jest.setTimeout(120_000);
const LEASE_TTL_MS = Number(FAST_ENV.LEASE_TTL_MS);

type User = Awaited<ReturnType<typeof registerUser>>;

describe('presence that converges and always announces, through replica and Redis faults', () => {
  const ctx = clusterForFile(3);

  /** A user's subscribed socket on `url`, with the presence events it hears. */
  const watch = async (url: string, user: User, channelId: string) => {
    const { socket } = await ctx.subscribed(url, user.token, channelId);
    const events: string[] = [];
    socket.on('presence:joined', (p) => p.channelId === channelId && events.push(`joined ${p.user.username}`));
    socket.on('presence:left', (p) => p.channelId === channelId && events.push(`left ${p.user.username}`));
    return { socket, events, left: record<any>(socket, 'presence:left'), joined: record<any>(socket, 'presence:joined') };
  };
  /** Every earlier event on these sockets has arrived once a message published after them has. */
  const settled = async (sockets: ClientSocket[], url: string, token: string, channelId: string) => {
    const got = sockets.map((s) => once<any>(s, 'message:created', 20_000));
    expect((await api(url)('POST', `/api/channels/${channelId}/messages`, { body: 'sentinel' }, token)).status).toBe(201);
    await Promise.all(got);
  };
  const byName = (name: string) => (p: any) => p.user.username === name;

  it('a replica stalled (SIGSTOP) past the lease TTL: the others announce its users left, then joined again when it resumes', async () => {
    const [r1, r2, r3] = ctx.cluster.replicas;
    const call = api(r1.url);
    const [alice, bob, erin] = await Promise.all(['sa', 'sb', 'se'].map((p) => registerUser(call, p)));
    const channelId = (await call('POST', '/api/channels', { name: `stall-${Date.now()}` }, alice.token)).body.id;
    const a = await watch(r1.url, alice, channelId);
    const b = await watch(r3.url, bob, channelId);
    await watch(r2.url, erin, channelId);
    await Promise.all([a.joined.waitFor(byName(erin.username)), b.joined.waitFor(byName(erin.username))]);
    a.events.length = 0;
    b.events.length = 0;

    r2.child.kill('SIGSTOP');
    try {
      await Promise.all([a.left.waitFor(byName(erin.username), 20_000), b.left.waitFor(byName(erin.username), 20_000)]);
    } finally {
      r2.child.kill('SIGCONT');
    }
    await until('both announce erin joined again', () => [a, b].every((w) => w.events.includes(`joined ${erin.username}`)), 20_000);
    await settled([a.socket, b.socket], r1.url, alice.token, channelId);
    expect(a.events).toEqual([`left ${erin.username}`, `joined ${erin.username}`]);
    expect(b.events).toEqual([`left ${erin.username}`, `joined ${erin.username}`]);
    const listed = await api(r3.url)('GET', `/api/channels/${channelId}/presence`, undefined, bob.token);
    expect(listed.body.users.map((u: any) => u.username).sort()).toEqual([alice.username, bob.username, erin.username].sort());
  });

  it('SIGKILL a replica, then restart Redis empty before its leases lapse: every survivor announces its users left once, within 15 s, and nobody else', async () => {
    const [r1, r2, r3] = ctx.cluster.replicas;
    const call = api(r1.url);
    const [alice, bob, carol, dave] = await Promise.all(['ka', 'kb', 'kc', 'kd'].map((p) => registerUser(call, p)));
    const channelId = (await call('POST', '/api/channels', { name: `crash-redis-${Date.now()}` }, alice.token)).body.id;
    const a = await watch(r1.url, alice, channelId);
    const b = await watch(r2.url, bob, channelId);
    await watch(r3.url, carol, channelId); // only on r3: must be announced gone
    await watch(r3.url, dave, channelId); // on r3 and on r1: must stay
    await watch(r1.url, dave, channelId);
    for (const w of [a, b]) for (const u of [carol, dave]) await w.joined.waitFor(byName(u.username));
    a.events.length = 0;
    b.events.length = 0;

    const killedAt = Date.now();
    await r3.kill('SIGKILL');
    await ctx.cluster.redis.stop();
    await ctx.cluster.redis.start();
    const redisUpAt = Date.now();
    expect(redisUpAt - killedAt).toBeLessThan(LEASE_TTL_MS / 2); // the leases had not lapsed: nobody could reap them

    await Promise.all([a.left.waitFor(byName(carol.username), 20_000), b.left.waitFor(byName(carol.username), 20_000)]);
    const tookMs = Date.now() - Math.max(killedAt, redisUpAt);
    expect(tookMs).toBeLessThan(15_000);
    // A late re-assertion or a second reap would show within a lease TTL of Redis's return.
    await new Promise((r) => setTimeout(r, Math.max(0, redisUpAt + LEASE_TTL_MS - Date.now())));
    await settled([a.socket, b.socket], r1.url, alice.token, channelId);
    expect(a.events).toEqual([`left ${carol.username}`]);
    expect(b.events).toEqual([`left ${carol.username}`]);
    const listed = await api(r2.url)('GET', `/api/channels/${channelId}/presence`, undefined, bob.token);
    expect(listed.body.users.map((u: any) => u.username).sort()).toEqual([alice.username, bob.username, dave.username].sort());
  });
});
