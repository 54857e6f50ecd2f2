import { jest } from '@jest/globals';
import { type ClientSocket, type User, emitAck, hubForFile, once, record, registerUser } from './support/hub.js';

// A grace far longer than any delivery, so a presence:left that comes "at
// once" cannot be mistaken for one that waited out the grace.
const GRACE_MS = 10_000;
const AT_ONCE_MS = GRACE_MS / 4;

jest.setTimeout(30_000);

describe('revocation events: presence at once, notices only to subscribed sockets, nothing for a public channel', () => {
  const ctx = hubForFile({ PRESENCE_GRACE_MS: String(GRACE_MS) });
  const { call } = ctx;
  let alice: User; // owner of every channel
  let bob: User;
  let carol: User;

  beforeAll(async () => {
    [alice, bob, carol] = await Promise.all([registerUser(call, 'ra'), registerUser(call, 'rb'), registerUser(call, 'rc')]);
  });

  const create = (visibility: 'public' | 'private' = 'public') => ctx.channel(alice, visibility, 'rev');
  const addMember = (channelId: string, user: User) => ctx.addMember(channelId, alice, user);
  const open = (user: User) => ctx.open(user.token);
  const subscribe = (s: ClientSocket, channelId: string) => ctx.subscribe(s, channelId);
  /** Every revocation notice and presence event the socket gets, in order. */
  const eventLog = (s: ClientSocket) => {
    const log: unknown[] = [];
    for (const ev of ['channel:removed', 'channel:deleted', 'presence:joined', 'presence:left'] as const) s.on(ev, (p: any) => log.push({ ev, ...p }));
    return log;
  };
  /** Publishes on `channelId` and waits until every socket has it: what the server sent each of them before is in by then. */
  const sentinel = async (channelId: string, ...on: ClientSocket[]) => {
    const got = on.map((s) => record<any>(s, 'message:created'));
    const res = await call('POST', `/api/channels/${channelId}/messages`, { body: 'sentinel' }, alice.token);
    expect(res.status).toBe(201);
    await Promise.all(got.map((r) => r.waitFor((m) => m.id === res.body.id)));
    got.forEach((r) => r.stop());
  };

  it.each([
    ['removed by the owner', 'private', (ch: string) => call('DELETE', `/api/channels/${ch}/members/${bob.id}`, undefined, alice.token)],
    ['leaving by itself', 'private', (ch: string) => call('DELETE', `/api/channels/${ch}/members/${bob.id}`, undefined, bob.token)],
    ['evicted by the channel turning private', 'public', (ch: string) => call('PATCH', `/api/channels/${ch}`, { visibility: 'private' }, alice.token)],
  ] as const)('presence:left reaches the other subscribers at once, not after the grace, for a user %s', async (_case, visibility, revoke) => {
    const channelId = await create(visibility);
    // Bob is a member of the private channel; of the public one he is not, so turning it private evicts him.
    if (visibility === 'private') await addMember(channelId, bob);
    const watcher = await open(alice);
    await subscribe(watcher, channelId);
    const bobSock = await open(bob);
    const joined = once<any>(watcher, 'presence:joined');
    await subscribe(bobSock, channelId);
    await joined;

    const left = once<any>(watcher, 'presence:left', AT_ONCE_MS);
    const removed = once<any>(bobSock, 'channel:removed');
    const t0 = Date.now();
    const res = await revoke(channelId);
    expect(res.status).toBeLessThan(300);
    expect(await left).toEqual({ channelId, user: { id: bob.id, username: bob.username } });
    expect(Date.now() - t0).toBeLessThan(AT_ONCE_MS);
    await removed;
    expect((await call('GET', `/api/channels/${channelId}/presence`, undefined, alice.token)).body.users).toEqual([{ id: alice.id, username: alice.username }]);
  });

  it("channel:removed (removed, private) and channel:deleted reach only the sockets subscribed to the channel, not the user's other sockets", async () => {
    const other = await create(); // public; every socket below subscribes to it, for the sentinels
    const priv = await create('private');
    await addMember(priv, bob);
    const turning = await create();
    const doomed = await create();

    // Bob: b1 on priv and doomed; b2 on neither; b3 was on priv and on doomed, and unsubscribed from both.
    const [b1, b2, b3] = [await open(bob), await open(bob), await open(bob)];
    // Carol: c1 on the channel that turns private; c2 not.
    const [c1, c2] = [await open(carol), await open(carol)];
    for (const s of [b1, b2, b3, c1, c2]) await subscribe(s, other);
    for (const s of [b1, b3]) {
      await subscribe(s, priv);
      await subscribe(s, doomed);
    }
    await subscribe(c1, turning);
    for (const ch of [priv, doomed]) expect(await emitAck(b3, 'channel:unsubscribe', { channelId: ch })).toEqual({ ok: true });
    const [b1Log, b2Log, b3Log, c1Log, c2Log] = [b1, b2, b3, c1, c2].map(eventLog);

    const removed = once<any>(b1, 'channel:removed');
    expect((await call('DELETE', `/api/channels/${priv}/members/${bob.id}`, undefined, alice.token)).status).toBe(204);
    expect(await removed).toEqual({ channelId: priv, reason: 'removed' });

    const privateNow = once<any>(c1, 'channel:removed');
    expect((await call('PATCH', `/api/channels/${turning}`, { visibility: 'private' }, alice.token)).status).toBe(200);
    expect(await privateNow).toEqual({ channelId: turning, reason: 'private' });

    const deleted = once<any>(b1, 'channel:deleted');
    expect((await call('DELETE', `/api/channels/${doomed}`, undefined, alice.token)).status).toBe(204);
    expect(await deleted).toEqual({ channelId: doomed });

    // Any notice to the other sockets was sent before this message reached them.
    await sentinel(other, b1, b2, b3, c1, c2);
    expect(b1Log).toEqual([
      { ev: 'channel:removed', channelId: priv, reason: 'removed' },
      { ev: 'channel:deleted', channelId: doomed },
    ]);
    expect(c1Log).toEqual([{ ev: 'channel:removed', channelId: turning, reason: 'private' }]);
    expect(b2Log).toEqual([]);
    expect(b3Log).toEqual([]);
    expect(c2Log).toEqual([]);
  });

  it('removing a member of a public channel sends nothing: no channel:removed, no presence:left, and the user stays subscribed', async () => {
    const channelId = await create();
    await addMember(channelId, bob);
    const watcher = await open(alice);
    await subscribe(watcher, channelId);
    const bobSock = await open(bob);
    const joined = once<any>(watcher, 'presence:joined');
    await subscribe(bobSock, channelId);
    await joined;
    const [watcherLog, bobLog] = [watcher, bobSock].map(eventLog);

    expect((await call('DELETE', `/api/channels/${channelId}/members/${bob.id}`, undefined, alice.token)).status).toBe(204);

    // Still subscribed: the channel's next message reaches Bob's socket, after anything the removal sent.
    await sentinel(channelId, bobSock, watcher);
    expect(bobLog).toEqual([]);
    expect(watcherLog).toEqual([]);
    expect(bobSock.connected).toBe(true);
    const listed = await call('GET', `/api/channels/${channelId}/presence`, undefined, alice.token);
    expect(listed.body.users.map((u: any) => u.id).sort()).toEqual([alice.id, bob.id].sort());
  });
});
