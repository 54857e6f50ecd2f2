import { jest } from '@jest/globals';
import pg from 'pg';
import { until } from '../support/wait.js';
import { type User, bodyText, emitAck, hubForFile, metricValue, once, record, registerUser } from './support/hub.js';

jest.setTimeout(30_000);

const DELAY_MS = 400;
const GRACE_MS = 300;

// Every subscribe is held DELAY_MS after its access check (a test-only fault
// switch), so what arrives meanwhile arrives mid-subscribe, every run. The tick
// is pushed out of the way so only the protocol itself acts.
describe('subscription races, made deterministic with a delayed subscribe', () => {
  const ctx = hubForFile({ FAULTS: `subscribe-delay=${DELAY_MS}`, PRESENCE_GRACE_MS: String(GRACE_MS), RECONCILE_MS: '60000' });
  const { call, open } = ctx;
  let alice: User;
  let bob: User;

  beforeAll(async () => {
    alice = await registerUser(call, 'alice');
    bob = await registerUser(call, 'bob');
  });

  const channel = (prefix: string, visibility: 'public' | 'private' = 'public') => ctx.channel(alice, visibility, prefix);
  const presence = async (channelId: string) => ((await call('GET', `/api/channels/${channelId}/presence`, undefined, alice.token)).body.users as Array<{ id: string }>).map((u) => u.id).sort();
  const abandoned = () => metricValue(ctx.hub.url, 'crosswire_socket_events_total', { event: 'channel:subscribe', outcome: 'abandoned' });

  it('a socket that disconnects while its subscribe is under way is never present and never attached', async () => {
    const channelId = await channel('gone');
    const watcher = await open(alice.token);
    expect((await emitAck(watcher, 'channel:subscribe', { channelId })).ok).toBe(true);
    const joined = record<any>(watcher, 'presence:joined');
    const before = await abandoned();
    const b = await open(bob.token);
    b.emit('channel:subscribe', { channelId }, () => undefined);
    // Packets are handled in order: once this ack is back, the subscribe is under way (in its delay).
    expect(await emitAck(b, 'channel:unsubscribe', { channelId: '00000000-0000-4000-8000-000000000000' })).toEqual({ ok: true });
    b.disconnect();
    // The subscribe finishes (after the delay) with its socket gone.
    await until('the subscribe to be abandoned', async () => (await abandoned()) > before);
    expect(await presence(channelId)).toEqual([alice.id]);
    // A presence:joined for Bob would precede this message on the watcher's connection.
    const sentinel = once<any>(watcher, 'message:created');
    await call('POST', `/api/channels/${channelId}/messages`, { body: 'sentinel' }, alice.token);
    await sentinel;
    expect(joined.items).toEqual([]);
  });

  it('an unsubscribe sent while the subscribe is under way wins: acks in order, then unsubscribed and gone from presence', async () => {
    const channelId = await channel('unsub');
    const other = await channel('other');
    const watcher = await open(alice.token);
    expect((await emitAck(watcher, 'channel:subscribe', { channelId })).ok).toBe(true);
    const left = once<any>(watcher, 'presence:left');
    const b = await open(bob.token);
    const acks: string[] = [];
    const subscribed = emitAck(b, 'channel:subscribe', { channelId }).then((a) => acks.push(`subscribe ${a.ok}`));
    const unsubscribed = emitAck(b, 'channel:unsubscribe', { channelId }).then((a) => acks.push(`unsubscribe ${a.ok}`));
    await Promise.all([subscribed, unsubscribed]);
    expect(acks).toEqual(['subscribe true', 'unsubscribe true']);
    expect((await left).user.id).toBe(bob.id);
    expect(await presence(channelId)).toEqual([alice.id]);

    expect((await emitAck(b, 'channel:subscribe', { channelId: other })).ok).toBe(true);
    const got = record<any>(b, 'message:created');
    await call('POST', `/api/channels/${channelId}/messages`, { body: 'not for bob' }, alice.token);
    await call('POST', `/api/channels/${other}/messages`, { body: 'for bob' }, alice.token);
    await got.waitFor((m) => m.channelId === other);
    expect(got.items.map((m) => m.body)).toEqual(['for bob']);
  });

  it('a re-subscribe refused NOT_FOUND (access gone, its revocation lost) ends the subscription with channel:removed', async () => {
    const channelId = await channel('lost-revocation', 'private');
    const other = await channel('lost-revocation-other');
    await ctx.addMember(channelId, alice, bob);
    const watcher = await open(alice.token);
    expect((await emitAck(watcher, 'channel:subscribe', { channelId })).ok).toBe(true);
    const b = await open(bob.token);
    expect((await emitAck(b, 'channel:subscribe', { channelId })).ok).toBe(true);
    expect((await emitAck(b, 'channel:subscribe', { channelId: other })).ok).toBe(true);
    // Bob's membership removed behind the hub's back: no revocation event ever fires.
    const db = new pg.Client({ connectionString: ctx.hub.databaseUrl });
    await db.connect();
    await db.query('DELETE FROM memberships WHERE channel_id = $1 AND user_id = $2', [channelId, bob.id]);
    await db.end();

    const events = record<any>(b, 'channel:removed');
    const watcherLeft = once<any>(watcher, 'presence:left');
    const ack = await emitAck(b, 'channel:subscribe', { channelId, sinceSeq: 0 });
    expect(ack).toEqual({ ok: false, error: { code: 'NOT_FOUND', message: 'channel not found' } });
    expect(events.items).toEqual([{ channelId, reason: 'removed' }]);
    expect((await watcherLeft).user.id).toBe(bob.id);

    const got = record<any>(b, 'message:created');
    await call('POST', `/api/channels/${channelId}/messages`, { body: 'private' }, alice.token);
    await call('POST', `/api/channels/${other}/messages`, { body: 'sentinel' }, alice.token);
    await got.waitFor((m) => m.channelId === other);
    expect(got.items.map((m) => m.body)).toEqual(['sentinel']);
  });

  it('deleting a channel sends channel:deleted to its subscribers and no presence:left before or after it', async () => {
    const channelId = await channel('deleted');
    const other = await channel('deleted-other');
    const watcher = await open(alice.token);
    const b = await open(bob.token);
    for (const s of [watcher, b]) {
      expect((await emitAck(s, 'channel:subscribe', { channelId })).ok).toBe(true);
      expect((await emitAck(s, 'channel:subscribe', { channelId: other })).ok).toBe(true);
    }
    const seen = [watcher, b].map((s) => {
      const order: string[] = [];
      s.on('presence:left', (p) => order.push(`left ${p.channelId === channelId ? 'deleted' : 'other'}`));
      s.on('channel:deleted', () => order.push('deleted'));
      s.on('message:created', (m) => order.push(`message ${bodyText(m.body)}`));
      return order;
    });
    expect((await call('DELETE', `/api/channels/${channelId}`, undefined, alice.token)).status).toBe(204);
    const sentinels = [once<any>(watcher, 'message:created'), once<any>(b, 'message:created')];
    await call('POST', `/api/channels/${other}/messages`, { body: 'sentinel' }, alice.token);
    await Promise.all(sentinels);
    expect(seen).toEqual([
      ['deleted', 'message sentinel'],
      ['deleted', 'message sentinel'],
    ]);
  });

  it('a revocation while a subscribe is under way refuses it NOT_FOUND: its ack carries nothing published after the revocation was answered', async () => {
    const channelId = await channel('revoked-mid-subscribe', 'private');
    const other = await channel('revoked-mid-subscribe-other');
    await ctx.addMember(channelId, alice, bob);
    // Alice's subscription keeps the channel's stream running here, so what is published is collected for Bob's subscribe.
    const watcher = await open(alice.token);
    await ctx.subscribe(watcher, channelId);
    await call('POST', `/api/channels/${channelId}/messages`, { body: 'before' }, alice.token);
    const b = await open(bob.token);
    await ctx.subscribe(b, other);
    const got = record<any>(b, 'message:created');
    const removed = record<any>(b, 'channel:removed');
    const pending = emitAck(b, 'channel:subscribe', { channelId, sinceSeq: 0 });
    // Packets are handled in order: once this ack is back, the subscribe is under way (in its delay).
    expect(await emitAck(b, 'channel:unsubscribe', { channelId: '00000000-0000-4000-8000-000000000000' })).toEqual({ ok: true });
    expect((await call('DELETE', `/api/channels/${channelId}/members/${bob.id}`, undefined, alice.token)).status).toBe(204);
    const seenByWatcher = once<any>(watcher, 'message:created');
    expect((await call('POST', `/api/channels/${channelId}/messages`, { body: 'after' }, alice.token)).status).toBe(201);
    await seenByWatcher;
    expect(await pending).toEqual({ ok: false, error: { code: 'NOT_FOUND', message: 'channel not found' } });
    await call('POST', `/api/channels/${other}/messages`, { body: 'sentinel' }, alice.token);
    await got.waitFor((m) => m.body === 'sentinel');
    expect(got.items.map((m) => m.body)).toEqual(['sentinel']);
    // It was never subscribed, so there is no subscription to announce the end of.
    expect(removed.items).toEqual([]);
  });

  it('a revocation while a resubscribe is under way ends the subscription with channel:removed, then refuses the resubscribe, with nothing after it', async () => {
    const channelId = await channel('revoked-mid-resubscribe', 'private');
    const other = await channel('revoked-mid-resubscribe-other');
    await ctx.addMember(channelId, alice, bob);
    const b = await open(bob.token);
    await ctx.subscribe(b, channelId);
    await ctx.subscribe(b, other);
    const order: string[] = [];
    b.on('message:created', (m) => order.push(`message ${bodyText(m.body)}`));
    b.on('channel:removed', (e) => order.push(`removed ${e.reason}`));
    const pending = emitAck(b, 'channel:subscribe', { channelId, sinceSeq: 0 }).then((a) => order.push(`ack ${a.ok ? 'ok' : a.error.code}`));
    expect(await emitAck(b, 'channel:unsubscribe', { channelId: '00000000-0000-4000-8000-000000000000' })).toEqual({ ok: true });
    expect((await call('DELETE', `/api/channels/${channelId}/members/${bob.id}`, undefined, alice.token)).status).toBe(204);
    expect((await call('POST', `/api/channels/${channelId}/messages`, { body: 'after' }, alice.token)).status).toBe(201);
    await pending;
    const sentinel = once<any>(b, 'message:created');
    await call('POST', `/api/channels/${other}/messages`, { body: 'sentinel' }, alice.token);
    await sentinel;
    expect(order).toEqual(['removed removed', 'ack NOT_FOUND', 'message sentinel']);
  });
});

describe('the subscriptions cap under concurrent subscribes', () => {
  const CAP = 200;
  const ctx = hubForFile({ FAULTS: `subscribe-delay=${DELAY_MS}`, RATE_LIMITS: 'on', SUBSCRIPTIONS_PER_SOCKET: String(CAP) });

  it(`260 subscribes sent at once on one socket against a cap of ${CAP}: exactly ${CAP} succeed, the rest are RATE_LIMITED, and the socket holds ${CAP}`, async () => {
    const owner = await registerUser(ctx.call, 'capowner');
    const db = new pg.Client({ connectionString: ctx.hub.databaseUrl });
    await db.connect();
    const { rows } = await db.query<{ id: string }>(`INSERT INTO channels (id, name, owner_id) SELECT gen_random_uuid(), 'cap' || g, $1 FROM generate_series(1, 261) g RETURNING id`, [owner.id]);
    await db.end();
    const [spare, ...ids] = rows.map((r) => r.id);
    const s = await ctx.open(owner.token);
    // Every one is held in the fault's delay after its access check, so all 260 are under way together.
    const acks = await Promise.all(ids.map((channelId) => emitAck(s, 'channel:subscribe', { channelId })));
    const outcomes = acks.map((a) => (a.ok ? 'ok' : a.error.code));
    expect(outcomes.filter((o) => o === 'ok')).toHaveLength(CAP);
    expect(outcomes.filter((o) => o === 'RATE_LIMITED')).toHaveLength(ids.length - CAP);
    // Held now: a new channel is refused, until one is let go.
    expect(await emitAck(s, 'channel:subscribe', { channelId: spare })).toMatchObject({ ok: false, error: { code: 'RATE_LIMITED' } });
    const held = ids.filter((_, i) => acks[i].ok);
    expect(await emitAck(s, 'channel:unsubscribe', { channelId: held[0] })).toEqual({ ok: true });
    expect((await emitAck(s, 'channel:subscribe', { channelId: spare })).ok).toBe(true);
  }, 60_000);
});
