import { jest } from '@jest/globals';
import pg from 'pg';
import { type ClientSocket, type User, emitAck, hubForFile, once, record, registerUser } from './support/hub.js';

const RECONCILE_MS = 300;
const GRACE_MS = 500;
// The tick runs RECONCILE_MS after the end of the previous pass: a change is
// seen within about one period; the rest is slack for a loaded machine.
const TICK_BOUND_MS = RECONCILE_MS * 10;

jest.setTimeout(30_000);

/**
 * The revocation event is lost for real without Redis: the database is
 * changed behind the hub's back, so only the reconciliation tick can notice.
 */
describe("the reconciliation tick re-applies access changed behind the hub's back", () => {
  const ctx = hubForFile({ RECONCILE_MS: String(RECONCILE_MS), PRESENCE_GRACE_MS: String(GRACE_MS) });
  const { call } = ctx;
  let db: pg.Client;
  let alice: User; // owner of every channel
  let bob: User;
  let carol: User;
  let dave: User;

  beforeAll(async () => {
    db = new pg.Client({ connectionString: ctx.hub.databaseUrl });
    await db.connect();
    ctx.beforeClose(() => db.end());
    [alice, bob, carol, dave] = await Promise.all(['ta', 'tb', 'tc', 'td'].map((p) => registerUser(call, p)));
  });

  const create = (visibility: 'public' | 'private' = 'public') => ctx.channel(alice, visibility, 'tick');
  const addMember = (channelId: string, user: User) => ctx.addMember(channelId, alice, user);
  const open = (user: User) => ctx.open(user.token);
  const subscribe = (s: ClientSocket, channelId: string) => ctx.subscribe(s, channelId);
  /** Every notice and presence event the socket gets for `channelId`, in order. */
  const eventLog = (s: ClientSocket, channelId: string) => {
    const log: unknown[] = [];
    for (const ev of ['channel:removed', 'channel:deleted', 'presence:joined', 'presence:left'] as const) {
      s.on(ev, (p: any) => {
        if (p.channelId === channelId) log.push({ ev, ...p });
      });
    }
    return log;
  };
  const publish = async (channelId: string, body: unknown) => {
    const res = await call('POST', `/api/channels/${channelId}/messages`, { body }, alice.token);
    expect(res.status).toBe(201);
    return res.body as { id: string; channelId: string };
  };

  it('a channel deleted in the database: its subscribers get channel:deleted from the tick, stay connected, and get no presence:left', async () => {
    const channelId = await create();
    const other = await create();
    const a = await open(alice);
    const b = await open(bob);
    const d = await open(dave);
    for (const s of [a, b]) {
      await subscribe(s, channelId);
      await subscribe(s, other);
    }
    await subscribe(d, other);
    const [aLog, bLog] = [a, b].map((s) => eventLog(s, channelId));

    const deleted = [a, b].map((s) => once<any>(s, 'channel:deleted', TICK_BOUND_MS));
    expect((await db.query('DELETE FROM channels WHERE id = $1', [channelId])).rowCount).toBe(1);
    expect(await Promise.all(deleted)).toEqual([{ channelId }, { channelId }]);

    // Settled: Dave leaves the other channel now, and his presence:left comes
    // the grace later. A presence:left for the deleted channel, at once or
    // after the grace from the eviction (earlier), would have come before it.
    const daveLeft = once<any>(a, 'presence:left', GRACE_MS * 10);
    await emitAck(d, 'channel:unsubscribe', { channelId: other });
    expect(await daveLeft).toEqual({ channelId: other, user: { id: dave.id, username: dave.username } });
    expect(aLog).toEqual([{ ev: 'channel:deleted', channelId }]);
    expect(bLog).toEqual([{ ev: 'channel:deleted', channelId }]);
    expect([a.connected, b.connected]).toEqual([true, true]);
    expect((await emitAck(b, 'channel:subscribe', { channelId })).error.code).toBe('NOT_FOUND');
  });

  it('a member removed in the database from a private channel: the tick sends channel:removed {reason: "removed"}, takes the socket out of the room, and the others see presence:left', async () => {
    const priv = await create('private');
    const other = await create();
    await addMember(priv, bob);
    const a = await open(alice);
    const b = await open(bob);
    await subscribe(a, priv);
    const joined = once<any>(a, 'presence:joined');
    await subscribe(b, priv);
    await subscribe(b, other);
    await joined;
    const bGot = record<any>(b, 'message:created');

    const removed = once<any>(b, 'channel:removed', TICK_BOUND_MS);
    const left = once<any>(a, 'presence:left', TICK_BOUND_MS);
    expect((await db.query('DELETE FROM memberships WHERE channel_id = $1 AND user_id = $2', [priv, bob.id])).rowCount).toBe(1);
    expect(await removed).toEqual({ channelId: priv, reason: 'removed' });
    expect(await left).toEqual({ channelId: priv, user: { id: bob.id, username: bob.username } });

    // Alice still gets the channel; Bob gets the other channel's next message but not this one.
    const aGot = record<any>(a, 'message:created');
    const m1 = await publish(priv, 'members only');
    await aGot.waitFor((m) => m.id === m1.id);
    const m2 = await publish(other, 'sentinel');
    await bGot.waitFor((m) => m.id === m2.id);
    expect(bGot.items.map((m) => m.id)).not.toContain(m1.id);
    expect(b.connected).toBe(true);
  });

  it('a public channel turned private in the database: the tick evicts its non-members with channel:removed {reason: "removed"} (not "private"); members stay', async () => {
    const channelId = await create();
    const other = await create();
    await addMember(channelId, bob);
    const a = await open(alice);
    const b = await open(bob);
    const c = await open(carol);
    for (const s of [a, b, c]) await subscribe(s, channelId);
    await subscribe(c, other);
    const [aLog, bLog, cLog] = [a, b, c].map((s) => eventLog(s, channelId));

    const removed = once<any>(c, 'channel:removed', TICK_BOUND_MS);
    expect((await db.query(`UPDATE channels SET visibility = 'private' WHERE id = $1`, [channelId])).rowCount).toBe(1);
    expect(await removed).toEqual({ channelId, reason: 'removed' });

    // The pass that evicted Carol would have evicted a member too: the members
    // still get the channel's next message, and nothing else came before it.
    const got = [a, b].map((s) => record<any>(s, 'message:created'));
    const cGot = record<any>(c, 'message:created');
    const m = await publish(channelId, 'members only');
    await Promise.all(got.map((r) => r.waitFor((x) => x.id === m.id)));
    // Carol: the other channel's next message, sent after m, reaches her; m does not.
    const m2 = await publish(other, 'sentinel');
    await cGot.waitFor((x) => x.id === m2.id);
    expect(cGot.items.map((x) => x.id)).toEqual([m2.id]);
    const carolLeft = { ev: 'presence:left', channelId, user: { id: carol.id, username: carol.username } };
    expect(aLog).toEqual([carolLeft]);
    expect(bLog).toEqual([carolLeft]);
    expect(cLog).toEqual([{ ev: 'channel:removed', channelId, reason: 'removed' }]);
  });
});
