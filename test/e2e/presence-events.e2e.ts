import { jest } from '@jest/globals';
import { type ClientSocket, emitAck, hubForFile, once, record, registerUser } from './support/hub.js';

// Long enough that "at least the grace after the unsubscribe" is told apart
// from "at once" on a loaded machine, short enough to keep the file fast.
const GRACE_MS = 1_000;

jest.setTimeout(30_000);

describe("presence events: never to the user's own sockets; left after the grace on unsubscribe", () => {
  const ctx = hubForFile({ PRESENCE_GRACE_MS: String(GRACE_MS) });
  const { call, open, subscribe } = ctx;
  /** Every presence event a socket gets, in order, as "joined <name>" / "left <name>". */
  const presenceLog = (s: ClientSocket) => {
    const log: string[] = [];
    s.on('presence:joined', (p) => log.push(`joined ${p.user.username}`));
    s.on('presence:left', (p) => log.push(`left ${p.user.username}`));
    return log;
  };

  it("presence:joined is not sent to the joining user's own sockets; another user's socket gets exactly one", async () => {
    const alice = await registerUser(call, 'pa');
    const bob = await registerUser(call, 'pb');
    const carol = await registerUser(call, 'pc');
    const channelId = await ctx.channel(alice);
    const watcher = await open(alice.token);
    await subscribe(watcher, channelId);
    const watcherLog = presenceLog(watcher);

    const bob1 = await open(bob.token);
    const bob1Log = presenceLog(bob1);
    await subscribe(bob1, channelId);
    const bob2 = await open(bob.token);
    const bob2Log = presenceLog(bob2);
    // Bob's second socket subscribing: nothing on his first one, nothing more for Alice.
    const ack2 = await subscribe(bob2, channelId);
    expect(ack2.presence.map((u: any) => u.id).sort()).toEqual([alice.id, bob.id].sort());

    // Carol joining is announced to both of Bob's sockets: they do hear others.
    const carolSock = await open(carol.token);
    const carolLog = presenceLog(carolSock);
    const heard = [bob1, bob2].map((s) => once<any>(s, 'presence:joined'));
    await subscribe(carolSock, channelId);
    for (const p of await Promise.all(heard)) expect(p).toEqual({ channelId, user: { id: carol.id, username: carol.username } });

    // A presence event is emitted before the subscribe that caused it is acked,
    // so any event for these subscribes precedes this message on each socket.
    const got = [watcher, bob1, bob2, carolSock].map((s) => record<any>(s, 'message:created'));
    const sentinel = (await call('POST', `/api/channels/${channelId}/messages`, { body: 'sentinel' }, alice.token)).body;
    await Promise.all(got.map((r) => r.waitFor((m) => m.id === sentinel.id)));

    expect(watcherLog).toEqual([`joined ${bob.username}`, `joined ${carol.username}`]);
    expect(bob1Log).toEqual([`joined ${carol.username}`]);
    expect(bob2Log).toEqual([`joined ${carol.username}`]);
    expect(carolLog).toEqual([]);
  });

  it("presence:left comes the grace after the user's last socket unsubscribes (the socket stays connected), once", async () => {
    const alice = await registerUser(call, 'ua');
    const bob = await registerUser(call, 'ub');
    const channelId = await ctx.channel(alice);
    const watcher = await open(alice.token);
    await subscribe(watcher, channelId);
    const bobSock = await open(bob.token);
    const joined = once<any>(watcher, 'presence:joined');
    await subscribe(bobSock, channelId);
    await joined;
    const log = presenceLog(watcher);
    const bobUser = { id: bob.id, username: bob.username };

    const left = once<any>(watcher, 'presence:left', GRACE_MS * 10);
    const t0 = Date.now();
    expect(await emitAck(bobSock, 'channel:unsubscribe', { channelId })).toEqual({ ok: true });
    expect(await left).toEqual({ channelId, user: bobUser });
    // The hub starts its timer after t0; 50 ms for timer and clock rounding.
    expect(Date.now() - t0).toBeGreaterThanOrEqual(GRACE_MS - 50);
    expect(bobSock.connected).toBe(true);
    expect((await call('GET', `/api/channels/${channelId}/presence`, undefined, alice.token)).body.users).toEqual([{ id: alice.id, username: alice.username }]);

    // Once: a second cycle. A duplicate of the first left would be due by the
    // first unsubscribe plus the grace, so before this cycle's left, which
    // comes the grace after an unsubscribe made later.
    const again = once<any>(watcher, 'presence:joined');
    await subscribe(bobSock, channelId);
    expect(await again).toEqual({ channelId, user: bobUser });
    const secondLeft = once<any>(watcher, 'presence:left', GRACE_MS * 10);
    await emitAck(bobSock, 'channel:unsubscribe', { channelId });
    await secondLeft;
    expect(log).toEqual([`left ${bob.username}`, `joined ${bob.username}`, `left ${bob.username}`]);
  });
});
