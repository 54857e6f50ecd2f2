import type { AuthService } from '../../auth/auth.service.js';
import type { ChannelsService } from '../../channels/channels.service.js';
import { loadConfig } from '../../config/config.js';
import type { MessageDto } from '../../events/dto.js';
import { JsonLogger } from '../../logging/logger.js';
import type { ChannelHead, MessagesReader } from '../../messages/messages.reader.js';
import { Background } from '../../metrics/background.js';
import { MetricsService } from '../../metrics/metrics.service.js';
import type { ChannelBus } from './channel-bus.js';
import { DeliveryService } from './delivery.service.js';
import type { FanoutHealthService } from './fanout-health.service.js';
import { ReconcilerService } from './reconciler.service.js';
import type { SocketServer } from '../transport/socket-server.js';
import type { SubscriptionService } from './subscription.service.js';

const msg = (channelId: string, seq: number): MessageDto => ({ id: `${channelId}-${seq}`, channelId, seq, authorId: 'a', body: seq, clientMsgId: null, createdAt: '' });

/**
 * The tick over a real DeliveryService and its streams; Postgres is an
 * in-memory log (channel → lastSeq, visibility, members), sockets a recorder.
 */
function setup(channels: Record<string, { lastSeq: number; visibility?: 'public' | 'private'; members?: string[] }>) {
  const db = new Map(Object.entries(channels));
  const calls = { heads: 0, membershipQueries: 0, ranges: [] as Array<[string, number, number]>, deleted: [] as string[], revoked: [] as Array<[string, string[]]> };
  const emitted: Array<{ channelId: string; seq: number }> = [];
  let headsGate: Promise<void> = Promise.resolve();
  const faults = { failHeads: 0 };
  const reader = {
    async heads(ids: string[]) {
      calls.heads++;
      await headsGate;
      if (faults.failHeads > 0 && faults.failHeads--) throw new Error('connection refused');
      const out = new Map<string, ChannelHead>();
      for (const id of ids) {
        const c = db.get(id);
        if (c) out.set(id, { lastSeq: c.lastSeq, visibility: c.visibility ?? 'public' });
      }
      return out;
    },
    async range(channelId: string, after: number, upTo: number, limit: number) {
      calls.ranges.push([channelId, after, upTo]);
      const last = Math.min(upTo, db.get(channelId)?.lastSeq ?? 0, after + limit);
      return Array.from({ length: Math.max(0, last - after) }, (_, i) => msg(channelId, after + 1 + i));
    },
  } as unknown as MessagesReader;
  // No sockets open here: the sessions half of the tick has nothing to check (test/cluster/sessions.cluster.ts covers it).
  const sockets = {
    toChannel: (channelId: string, _e: string, m: MessageDto) => emitted.push({ channelId, seq: m.seq }),
    roomSize: () => 1,
    sessions: function* () {},
  } as unknown as SocketServer;
  const config = loadConfig({ RECONCILE_MS: '60000' });
  const logged: Array<Record<string, unknown>> = [];
  const logger = new JsonLogger('t', 'info', (line) => logged.push(JSON.parse(line) as Record<string, unknown>));
  const metrics = new MetricsService();
  const bus = { publishMessage: () => undefined } as unknown as ChannelBus;
  const delivery = new DeliveryService(sockets, bus, reader, new MetricsService(), config, logger, { fanout: () => 'ok' } as unknown as FanoutHealthService);
  const localUsers = new Map<string, string[]>();
  const subscriptions = {
    deletedHere: (id: string) => {
      calls.deleted.push(id);
      delivery.untrack(id);
    },
    usersHere: (id: string) => localUsers.get(id) ?? [],
    revokeHere: (id: string, users: string[]) => calls.revoked.push([id, users]),
  } as unknown as SubscriptionService;
  const channelsService = {
    nonMembersAmong: async (channelIds: string[], userIds: string[]) => {
      calls.membershipQueries++;
      const outsiders = new Map<string, string[]>();
      channelIds.forEach((id, i) => !db.get(id)?.members?.includes(userIds[i]) && outsiders.set(id, [...(outsiders.get(id) ?? []), userIds[i]]));
      return outsiders;
    },
  } as unknown as ChannelsService;
  const reconciler = new ReconcilerService(delivery, subscriptions, reader, channelsService, {} as AuthService, sockets, metrics, config, new Background(metrics, logger), {
    onReady: () => undefined,
  } as unknown as ChannelBus);
  return {
    db,
    calls,
    logged,
    metrics,
    subscriptions,
    reader,
    emitted,
    delivery,
    reconciler,
    localUsers,
    faults,
    holdHeads() {
      let open!: () => void;
      headsGate = new Promise((r) => (open = r));
      return () => open();
    },
  };
}

/** Lets the streams' reads (promise chains, no timers) finish. */
const settle = () => new Promise((r) => setImmediate(r));

describe('ReconcilerService (the tick)', () => {
  it('fills each tracked channel up to its lastSeq, page by page of 500, in seq order', async () => {
    const t = setup({ a: { lastSeq: 2 }, b: { lastSeq: 0 } });
    await t.delivery.track('a');
    await t.delivery.track('b');
    t.db.set('a', { lastSeq: 1_203 });
    t.db.set('b', { lastSeq: 2 });
    await t.reconciler.runOnce();
    await settle();
    const seqsOf = (id: string) => t.emitted.filter((e) => e.channelId === id).map((e) => e.seq);
    expect(seqsOf('a')).toEqual(Array.from({ length: 1_201 }, (_, i) => i + 3));
    expect(seqsOf('b')).toEqual([1, 2]);
    expect(t.calls.ranges.filter(([id]) => id === 'a')).toEqual([
      ['a', 2, 1_203],
      ['a', 502, 1_203],
      ['a', 1_002, 1_203],
    ]);
    expect(t.delivery.stream('a')?.head).toBe(1_203);
  });

  it('treats a tracked channel gone from Postgres as deleted, and evicts non-members of private ones, asking for all memberships at once', async () => {
    const t = setup({ gone: { lastSeq: 0 }, priv: { lastSeq: 0, visibility: 'private', members: ['u1'] }, priv2: { lastSeq: 0, visibility: 'private', members: ['u4'] }, pub: { lastSeq: 0 } });
    for (const id of ['gone', 'priv', 'priv2', 'pub']) await t.delivery.track(id);
    t.db.delete('gone');
    t.localUsers.set('priv', ['u1', 'u2', 'u3']);
    t.localUsers.set('priv2', ['u4', 'u5']);
    t.localUsers.set('pub', ['u9']);
    await t.reconciler.runOnce();
    expect(t.calls.deleted).toEqual(['gone']);
    expect(t.calls.revoked).toEqual([
      ['priv', ['u2', 'u3']],
      ['priv2', ['u5']],
    ]);
    expect(t.calls.membershipQueries).toBe(1);
    expect(t.delivery.tracked().sort()).toEqual(['priv', 'priv2', 'pub']);
  });

  it('evicts before it catches up: a message the heads include is read only after the access it needs was checked', async () => {
    const t = setup({ priv: { lastSeq: 0, visibility: 'private', members: ['u1'] } });
    await t.delivery.track('priv');
    t.localUsers.set('priv', ['u1', 'u2']);
    t.db.set('priv', { lastSeq: 1, visibility: 'private', members: ['u1'] });
    const order: string[] = [];
    const revoke = t.subscriptions.revokeHere.bind(t.subscriptions);
    t.subscriptions.revokeHere = (id, users, reason) => (order.push(`revoke ${users.join(',')}`), revoke(id, users, reason));
    const read = t.reader.range.bind(t.reader);
    t.reader.range = (...args) => (order.push('read'), read(...args));
    await t.reconciler.runOnce();
    await settle();
    expect(order).toEqual(['revoke u2', 'read']);
  });

  it('concurrent triggers share the pass in flight; the next trigger runs a new one', async () => {
    const t = setup({ a: { lastSeq: 0 } });
    await t.delivery.track('a');
    t.calls.heads = 0; // tracking read the head once
    const open = t.holdHeads();
    const first = t.reconciler.runOnce();
    const second = t.reconciler.runOnce();
    expect(second).toBe(first);
    open();
    await first;
    expect(t.calls.heads).toBe(1);
    await t.reconciler.runOnce();
    expect(t.calls.heads).toBe(2);
  });

  it('a failed pass is logged and counted as a background failure, and retried by the next trigger', async () => {
    const t = setup({ a: { lastSeq: 0 } });
    await t.delivery.track('a');
    t.faults.failHeads = 1;
    t.db.set('a', { lastSeq: 1 });
    await expect(t.reconciler.runOnce()).resolves.toBeUndefined();
    expect(t.emitted).toEqual([]);
    expect(t.logged).toEqual([expect.objectContaining({ level: 'warn', msg: 'background failure', component: 'reconcile', err: 'connection refused' })]);
    expect((await t.metrics.backgroundErrors.get()).values).toEqual([expect.objectContaining({ labels: { source: 'reconcile' }, value: 1 })]);
    await t.reconciler.runOnce();
    await settle();
    expect(t.emitted).toEqual([{ channelId: 'a', seq: 1 }]);
  });
});
