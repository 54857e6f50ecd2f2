import { type Api, type ClientSocket, type TestHub, api, collect, connect, emitAck, once, record, registerUser, startHub } from './support/hub.js';

const GRACE_MS = 300;

describe('realtime: subscribe, recovery, presence, typing', () => {
  let hub: TestHub;
  let call: Api;
  let alice: Awaited<ReturnType<typeof registerUser>>;
  let bob: Awaited<ReturnType<typeof registerUser>>;
  const sockets: ClientSocket[] = [];

  beforeAll(async () => {
    hub = await startHub({ PRESENCE_GRACE_MS: String(GRACE_MS) });
    call = api(hub.url);
    alice = await registerUser(call, 'alice');
    bob = await registerUser(call, 'bob');
  });
  afterAll(async () => {
    sockets.forEach((s) => s.close());
    await hub.close();
  });

  const open = async (token: string) => {
    const s = await connect(hub.url, token);
    sockets.push(s);
    return s;
  };
  const newChannel = async (name: string, visibility = 'public') => {
    const res = await call('POST', '/api/channels', { name: `${name}-${Date.now()}`, visibility }, alice.token);
    return res.body.id as string;
  };
  const publish = async (channelId: string, body: unknown, token = alice.token) => {
    const res = await call('POST', `/api/channels/${channelId}/messages`, { body }, token);
    expect(res.status).toBe(201);
    return res.body;
  };

  it('subscribe acks the channel with lastSeq, its head, presence with the caller, and no missed without sinceSeq', async () => {
    const channelId = await newChannel('sub');
    await publish(channelId, 'before');
    const s = await open(bob.token);
    const ack = await emitAck(s, 'channel:subscribe', { channelId });
    expect(ack).toEqual({
      ok: true,
      channel: expect.objectContaining({ id: channelId, lastSeq: 1, visibility: 'public' }),
      presence: [{ id: bob.id, username: bob.username }],
      missed: [],
      hasMore: false,
      head: 1,
    });
    expect((await emitAck(s, 'channel:unsubscribe', { channelId })).ok).toBe(true);
  });

  it('sinceSeq returns what was missed, at most 500 with hasMore', async () => {
    const channelId = await newChannel('since');
    for (let i = 1; i <= 503; i++) await publish(channelId, i);
    const s = await open(bob.token);
    const few = await emitAck(s, 'channel:subscribe', { channelId, sinceSeq: 500 });
    expect(few.missed.map((m: any) => m.seq)).toEqual([501, 502, 503]);
    expect(few.missed.map((m: any) => m.body)).toEqual([501, 502, 503]);
    expect([few.hasMore, few.head]).toEqual([false, 503]);
    const many = await emitAck(s, 'channel:subscribe', { channelId, sinceSeq: 0 });
    expect(many.missed.map((m: any) => m.seq)).toEqual(Array.from({ length: 500 }, (_, i) => i + 1));
    expect([many.hasMore, many.head]).toEqual([true, 500]);
    const rest = await emitAck(s, 'channel:subscribe', { channelId, sinceSeq: many.head });
    expect(rest.missed.map((m: any) => m.seq)).toEqual([501, 502, 503]);
    expect([rest.hasMore, rest.head]).toEqual([false, 503]);
  }, 60_000);

  it('a dropped socket resubscribing with sinceSeq ends with every message exactly once, in order', async () => {
    const channelId = await newChannel('recover');
    const first = await open(bob.token);
    await emitAck(first, 'channel:subscribe', { channelId });
    const live = collect<any>(first, 'message:created', 3);
    for (let i = 1; i <= 3; i++) await publish(channelId, i);
    const got: any[] = [...(await live)];
    first.disconnect();
    for (let i = 4; i <= 7; i++) await publish(channelId, i);

    const again = await open(bob.token);
    const liveAgain = record<any>(again, 'message:created');
    const ack = await emitAck(again, 'channel:subscribe', { channelId, sinceSeq: got[got.length - 1].seq });
    expect(liveAgain.items).toEqual([]);
    expect(ack.head).toBe(7);
    got.push(...ack.missed);
    await publish(channelId, 8);
    await publish(channelId, 9);
    await liveAgain.waitFor((m) => m.seq === 9);
    got.push(...liveAgain.items);
    expect(got.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(got.map((m) => m.body)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('unsubscribe stops delivery on that channel, not on the others', async () => {
    const a = await newChannel('unsub-a');
    const b = await newChannel('unsub-b');
    const s = await open(bob.token);
    await emitAck(s, 'channel:subscribe', { channelId: a });
    await emitAck(s, 'channel:subscribe', { channelId: b });
    await emitAck(s, 'channel:unsubscribe', { channelId: a });
    const next = once<any>(s, 'message:created');
    await publish(a, 'not for bob');
    await publish(b, 'for bob');
    expect((await next).channelId).toBe(b);
  });

  it("subscribe refuses a sinceSeq above the channel's lastSeq (BAD_REQUEST): the client holds seqs that were never stored", async () => {
    const channelId = await newChannel('ahead');
    await publish(channelId, 'one');
    const s = await open(bob.token);
    const ack = await emitAck(s, 'channel:subscribe', { channelId, sinceSeq: 2 });
    expect(ack).toEqual({ ok: false, error: { code: 'BAD_REQUEST', message: expect.any(String), details: [{ field: 'sinceSeq', reason: "must be at most the channel's lastSeq (1)" }] } });
    expect((await emitAck(s, 'channel:subscribe', { channelId, sinceSeq: 1 })).head).toBe(1);
  });

  it('subscribe refuses an unknown or private channel (NOT_FOUND) and bad payloads (BAD_REQUEST)', async () => {
    const priv = await newChannel('priv', 'private');
    const s = await open(bob.token);
    expect((await emitAck(s, 'channel:subscribe', { channelId: priv })).error.code).toBe('NOT_FOUND');
    expect((await emitAck(s, 'channel:subscribe', { channelId: '00000000-0000-4000-8000-000000000000' })).error.code).toBe('NOT_FOUND');
    for (const bad of [{ channelId: 'x' }, { channelId: priv, sinceSeq: -1 }, { channelId: priv, extra: 1 }, 'str', null]) {
      const ack = await emitAck(s, 'channel:subscribe', bad);
      expect(ack.ok).toBe(false);
      expect(ack.error.code).toBe('BAD_REQUEST');
    }
    const publishAck = await emitAck(s, 'message:publish', { channelId: priv, body: 1 });
    expect(publishAck.error.code).toBe('NOT_FOUND');
  });

  it('presence: joined once, listed over REST, left after the grace, no flap on a quick reconnect', async () => {
    const channelId = await newChannel('presence');
    const a = await open(alice.token);
    await emitAck(a, 'channel:subscribe', { channelId });
    const joined = once<any>(a, 'presence:joined');
    const b1 = await open(bob.token);
    await emitAck(b1, 'channel:subscribe', { channelId });
    expect(await joined).toEqual({ channelId, user: { id: bob.id, username: bob.username } });
    const listed = await call('GET', `/api/channels/${channelId}/presence`, undefined, alice.token);
    expect(listed.body.users.map((u: any) => u.id).sort()).toEqual([alice.id, bob.id].sort());

    // Reconnect within the grace: no left, no second joined.
    const events: string[] = [];
    a.on('presence:joined', () => events.push('joined'));
    a.on('presence:left', () => events.push('left'));
    b1.disconnect();
    const b2 = await open(bob.token);
    await emitAck(b2, 'channel:subscribe', { channelId });
    await new Promise((r) => setTimeout(r, GRACE_MS * 3)); // the window in which a flap would show
    expect(events).toEqual([]);

    // Gone for good: left after the grace, once.
    const left = once<any>(a, 'presence:left');
    const t0 = Date.now();
    b2.disconnect();
    expect(await left).toEqual({ channelId, user: { id: bob.id, username: bob.username } });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(GRACE_MS - 50);
    const after = await call('GET', `/api/channels/${channelId}/presence`, undefined, alice.token);
    expect(after.body.users).toEqual([{ id: alice.id, username: alice.username }]);
    expect(events).toEqual(['left']);
  });

  it("typing reaches other subscribers, not the sender's own sockets, and is dropped where the sender may not publish", async () => {
    const channelId = await newChannel('typing');
    const a = await open(alice.token);
    const b1 = await open(bob.token);
    const b2 = await open(bob.token);
    for (const s of [a, b1, b2]) await emitAck(s, 'channel:subscribe', { channelId });
    const bobEvents: string[] = [];
    b2.on('typing', () => bobEvents.push('typing'));
    const typing = once<any>(a, 'typing');
    b1.emit('typing', { channelId });
    expect(await typing).toEqual({ channelId, user: { id: bob.id, username: bob.username } });
    // b2 would have had the typing event before this message, on the same connection.
    const b2Next = once<any>(b2, 'message:created');
    await publish(channelId, 'sentinel', bob.token);
    await b2Next;
    expect(bobEvents).toEqual([]);

    const priv = await newChannel('typing-priv', 'private');
    await emitAck(a, 'channel:subscribe', { channelId: priv });
    const aliceEvents: unknown[] = [];
    a.on('typing', (p: unknown) => aliceEvents.push(p));
    b1.emit('typing', { channelId: priv });
    (b1 as any).emit('typing', 'garbage');
    (b1 as any).emit('typing', { channelId: priv, extra: true });
    const sentinel = once<any>(a, 'message:created');
    await publish(priv, 'after typing');
    await sentinel;
    expect(aliceEvents).toEqual([]);
    expect(b1.connected).toBe(true);
  });
});
