import { jest } from '@jest/globals';
import { type ClientSocket, api, emitAck, once, record, registerUser } from '../support/client.js';
import { FAST_ENV, type Replica, clusterForFile, until } from './support/cluster.js';

jest.setTimeout(120_000);

const RECONCILE_MS = Number(FAST_ENV.RECONCILE_MS);
const GRACE_MS = Number(FAST_ENV.PRESENCE_GRACE_MS);
// While Redis is down another replica learns of a change at its next tick:
// one period plus the pass; the rest is slack for two busy cores.
const TICK_BOUND_MS = 3 * RECONCILE_MS;

type User = Awaited<ReturnType<typeof registerUser>>;

async function readyz(r: Replica): Promise<any> {
  const res = await fetch(`${r.url}/readyz`, { signal: AbortSignal.timeout(2_000) });
  return res.json();
}

async function reconcileDeliveries(r: Replica): Promise<number> {
  const text = await (await fetch(`${r.url}/metrics`)).text();
  return Number(/^crosswire_messages_delivered_total\{path="reconcile"\} (\d+)/m.exec(text)?.[1] ?? 0);
}

describe('Redis down: lost revocations, socket publishes, typing and presence (2 replicas)', () => {
  const ctx = clusterForFile(2);
  let n = 0;

  const replicas = () => ctx.cluster.replicas;
  const open = async (r: Replica, user: User, ...channelIds: string[]) => {
    const { socket } = await ctx.subscribed(r.url, user.token, channelIds[0]);
    for (const channelId of channelIds.slice(1)) expect((await emitAck(socket, 'channel:subscribe', { channelId })).ok).toBe(true);
    return socket;
  };
  const create = async (owner: User, visibility: 'public' | 'private' = 'public') => {
    const res = await api(replicas()[0].url)('POST', '/api/channels', { name: `rd${++n}x${Date.now()}`, visibility }, owner.token);
    expect(res.status).toBe(201);
    return res.body.id as string;
  };
  const ALL = ['channel:removed', 'channel:deleted', 'presence:joined', 'presence:left', 'typing'] as const;
  /** Every one of `events` the socket gets for `channelId`, in order. */
  const eventLog = (s: ClientSocket, channelId: string, events: ReadonlyArray<(typeof ALL)[number]> = ALL) => {
    const log: unknown[] = [];
    for (const ev of events) {
      s.on(ev, (p: any) => {
        if (p.channelId === channelId) log.push({ ev, ...p });
      });
    }
    return log;
  };

  /** Stops Redis and waits until every replica has seen it go (readiness is state: no event to await). */
  const redisDown = async () => {
    await ctx.cluster.redis.stop();
    await until('every replica reports redis down', async () => (await Promise.all(replicas().map(readyz))).every((b) => b.checks.redis === 'down'));
  };
  /** Starts Redis again and waits until every replica is fully back (canary round trip included). */
  const redisUp = async () => {
    if (!ctx.cluster.redis.child || ctx.cluster.redis.child.exitCode !== null || ctx.cluster.redis.child.signalCode !== null) await ctx.cluster.redis.start();
    await until('every replica reports ok', async () => (await Promise.all(replicas().map(readyz))).every((b) => b.status === 'ok'), 30_000);
  };
  afterEach(redisUp);

  it('a channel turned private through one replica while Redis is down: the tick on the other evicts a non-member there with channel:removed {reason: "removed"}; a member there keeps receiving', async () => {
    const [r1, r2] = replicas();
    const call = api(r1.url);
    const owner = await registerUser(call, 'dpo');
    const member = await registerUser(call, 'dpm');
    const outsider = await registerUser(call, 'dpx');
    const channelId = await create(owner);
    const other = await create(owner);
    expect((await call('POST', `/api/channels/${channelId}/members`, { username: member.username }, owner.token)).status).toBe(201);
    const memberSock = await open(r2, member, channelId);
    const outsiderSock = await open(r2, outsider, channelId, other);
    // Notices only: the member's presence:joined, published through Redis, may still be on its way.
    const outsiderLog = eventLog(outsiderSock, channelId, ['channel:removed', 'channel:deleted']);
    const outsiderGot = record<any>(outsiderSock, 'message:created');

    await redisDown();
    const removed = once<any>(outsiderSock, 'channel:removed', TICK_BOUND_MS * 3);
    const t0 = Date.now();
    expect((await call('PATCH', `/api/channels/${channelId}`, { visibility: 'private' }, owner.token)).status).toBe(200);
    expect(await removed).toEqual({ channelId, reason: 'removed' });
    expect(Date.now() - t0).toBeLessThan(TICK_BOUND_MS);

    // The member on r2 gets the next message (through r2's tick: Redis is down) ...
    const memberGot = once<any>(memberSock, 'message:created', TICK_BOUND_MS * 3);
    const m = (await call('POST', `/api/channels/${channelId}/messages`, { body: 'members only' }, owner.token)).body;
    expect((await memberGot).id).toBe(m.id);
    // ... and the outsider does not: r2 emitted m to the room before this local publish on r2.
    const s = (await api(r2.url)('POST', `/api/channels/${other}/messages`, { body: 'sentinel' }, owner.token)).body;
    await outsiderGot.waitFor((x) => x.id === s.id);
    expect(outsiderGot.items.map((x) => x.id)).toEqual([s.id]);
    expect(outsiderLog).toEqual([{ ev: 'channel:removed', channelId, reason: 'removed' }]);
  });

  it('a channel deleted through one replica while Redis is down: its subscribers on the other get channel:deleted from the tick, and no presence:left', async () => {
    const [r1, r2] = replicas();
    const call = api(r1.url);
    const owner = await registerUser(call, 'ddo');
    const bob = await registerUser(call, 'ddb');
    const dave = await registerUser(call, 'ddd');
    const channelId = await create(owner);
    const other = await create(owner);
    const ownerSock = await open(r2, owner, channelId, other);
    const bobSock = await open(r2, bob, channelId);
    const daveSock = await open(r2, dave, other);
    // Not presence:joined: the joins just made are published through Redis and may still be on their way.
    const [ownerLog, bobLog] = [ownerSock, bobSock].map((s) => eventLog(s, channelId, ['channel:removed', 'channel:deleted', 'presence:left']));

    await redisDown();
    const deleted = [ownerSock, bobSock].map((s) => once<any>(s, 'channel:deleted', TICK_BOUND_MS * 3));
    const t0 = Date.now();
    expect((await call('DELETE', `/api/channels/${channelId}`, undefined, owner.token)).status).toBe(204);
    expect(await Promise.all(deleted)).toEqual([{ channelId }, { channelId }]);
    expect(Date.now() - t0).toBeLessThan(TICK_BOUND_MS);

    // Settled: Dave leaves the other channel now (r2, local while Redis is
    // down) and his presence:left comes the grace later. A presence:left for
    // the deleted channel, at once or after a grace from the eviction, would
    // have come before it.
    const daveLeft = once<any>(ownerSock, 'presence:left', GRACE_MS * 10);
    await emitAck(daveSock, 'channel:unsubscribe', { channelId: other });
    expect(await daveLeft).toEqual({ channelId: other, user: { id: dave.id, username: dave.username } });
    expect(ownerLog).toEqual([{ ev: 'channel:deleted', channelId }]);
    expect(bobLog).toEqual([{ ev: 'channel:deleted', channelId }]);
    expect([ownerSock.connected, bobSock.connected]).toEqual([true, true]);
  });

  it('a publish over a socket while Redis is down is acked ok, delivered live on its replica and through the tick on the other', async () => {
    const [r1, r2] = replicas();
    const call = api(r1.url);
    const writer = await registerUser(call, 'dsw');
    const reader = await registerUser(call, 'dsr');
    const channelId = await create(writer);
    const writerSock = await open(r1, writer, channelId);
    const onR1 = await open(r1, reader, channelId);
    const onR2 = await open(r2, reader, channelId);

    await redisDown();
    const before = await reconcileDeliveries(r2);
    const got = [once<any>(onR1, 'message:created'), once<any>(onR2, 'message:created', TICK_BOUND_MS * 3)];
    const t0 = Date.now();
    const ack = await emitAck(writerSock, 'message:publish', { channelId, body: { n: 1 }, clientMsgId: 'down-1' });
    expect(ack).toEqual({ ok: true, message: expect.objectContaining({ channelId, seq: 1, body: { n: 1 }, clientMsgId: 'down-1', authorId: writer.id }) });
    const [live, ticked] = await Promise.all(got);
    expect(live).toEqual(ack.message);
    expect(ticked).toEqual(ack.message);
    expect(Date.now() - t0).toBeLessThan(TICK_BOUND_MS);
    expect(await reconcileDeliveries(r2)).toBeGreaterThan(before);
  });

  it('typing and presence changes made while Redis is down reach the sockets of the changing replica only', async () => {
    const [r1, r2] = replicas();
    const call = api(r1.url);
    const watcher = await registerUser(call, 'dtw');
    const typer = await registerUser(call, 'dtt');
    const comer = await registerUser(call, 'dtc');
    const channelId = await create(watcher);
    const w1 = await open(r1, watcher, channelId);
    const w2 = await open(r2, watcher, channelId);
    const joined = [once<any>(w1, 'presence:joined'), once<any>(w2, 'presence:joined')];
    const t1 = await open(r1, typer, channelId);
    await Promise.all(joined);
    const [w1Log, w2Log] = [w1, w2].map((s) => eventLog(s, channelId));
    const typerRef = { id: typer.id, username: typer.username };
    const comerRef = { id: comer.id, username: comer.username };

    await redisDown();
    const typing = once<any>(w1, 'typing');
    t1.emit('typing', { channelId });
    expect(await typing).toEqual({ channelId, user: typerRef });
    const comerJoined = once<any>(w1, 'presence:joined');
    const c1 = await open(r1, comer, channelId);
    expect(await comerJoined).toEqual({ channelId, user: comerRef });
    const comerLeft = once<any>(w1, 'presence:left', GRACE_MS * 10);
    await emitAck(c1, 'channel:unsubscribe', { channelId });
    expect(await comerLeft).toEqual({ channelId, user: comerRef });

    // While Redis is down the only way from r1 to r2 is r2's tick. A message
    // published on r1 after the changes has come through it: nothing else did.
    const ticked = once<any>(w2, 'message:created', TICK_BOUND_MS * 3);
    const m = (await call('POST', `/api/channels/${channelId}/messages`, { body: 'sentinel' }, watcher.token)).body;
    expect((await ticked).id).toBe(m.id);
    expect(w1Log).toEqual([
      { ev: 'typing', channelId, user: typerRef },
      { ev: 'presence:joined', channelId, user: comerRef },
      { ev: 'presence:left', channelId, user: comerRef },
    ]);
    expect(w2Log).toEqual([]);
  });
});
