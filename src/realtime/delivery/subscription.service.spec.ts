import type { ChannelsService } from '../../channels/channels.service.js';
import { notFound } from '../../common/errors.js';
import { toAppError, unavailable } from '../../common/unavailable.js';
import { jsonBytes } from '../../common/validation.js';
import { NO_FAULTS, loadConfig } from '../../config/config.js';
import type { ChannelDto, MessageDto, UserRef } from '../../events/dto.js';
import { type ServerEvent, type SubscribeResult, channelRoom } from '../../events/events.js';
import type { TypedServer, TypedSocket } from '../../events/sockets.js';
import { LimitsService } from '../../limits/limits.service.js';
import { JsonLogger } from '../../logging/logger.js';
import { MESSAGE_ENVELOPE_BYTES } from '../../messages/messages.mapper.js';
import type { BoundedPage, ChannelHead, MessagesReader } from '../../messages/messages.reader.js';
import type { MessagesService } from '../../messages/messages.service.js';
import { Background } from '../../metrics/background.js';
import { MetricsService } from '../../metrics/metrics.service.js';
import { PresenceService } from '../presence/presence.service.js';
import { SocketServer } from '../transport/socket-server.js';
import { ChannelBus } from './channel-bus.js';
import { DeliveryService } from './delivery.service.js';
import type { FanoutHealthService } from './fanout-health.service.js';
import { SubscriptionService } from './subscription.service.js';

const alice: UserRef = { id: 'u-alice', username: 'alice' };
const bob: UserRef = { id: 'u-bob', username: 'bob' };
const carol: UserRef = { id: 'u-carol', username: 'carol' };

/** What one message counts against an ack's byte bound (StreamDeps.sizeOf, and the bounded read's `size`). */
const sizeOf = (m: MessageDto) => MESSAGE_ENVELOPE_BYTES + jsonBytes(m.body);
/** An ack bound that three of this file's messages fit (325 bytes each) and four do not. */
const THREE_MESSAGES = '1024';

type Ack = ({ ok: true } & SubscribeResult) | { ok: false; code: string; retryAfterMs?: number };
type Got = { event: string; payload: any };

function deferred<T = void>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/**
 * One awaited step outside the protocol (Postgres): its next call waits,
 * once it `arrived`, until `release()` (or `fail(e)`). An access check's
 * answer is what it read when called: released after a revocation, it is stale.
 */
class Gate {
  private readonly held: Array<{ arrived: ReturnType<typeof deferred<void>>; released: ReturnType<typeof deferred<Error | undefined>> }> = [];

  hold() {
    const h = { arrived: deferred(), released: deferred<Error | undefined>() };
    this.held.push(h);
    return { arrived: h.arrived.promise, release: () => h.released.resolve(undefined), fail: (e: Error) => h.released.resolve(e) };
  }

  async pass(): Promise<void> {
    const h = this.held.shift();
    if (!h) return;
    h.arrived.resolve();
    const e = await h.released.promise;
    if (e) throw e;
  }
}

/** A socket as the service sees it: rooms, emitted events (acks included, in order), transport closes. */
class FakeSocket {
  connected = true;
  readonly rooms = new Set<string>();
  readonly got: Got[] = [];
  closes = 0;
  readonly data: { user: UserRef; tokenExp: number; tokenVersion: number };
  readonly conn = {
    close: () => {
      this.closes++;
    },
  };

  constructor(
    readonly id: string,
    user: UserRef,
    private readonly io: FakeIo,
  ) {
    this.data = { user, tokenExp: 0, tokenVersion: 0 };
  }

  join(room: string) {
    this.rooms.add(room);
    this.io.room(room).add(this.id);
  }

  leave(room: string) {
    this.rooms.delete(room);
    this.io.room(room).delete(this.id);
  }

  emit(event: string, payload: unknown) {
    this.got.push({ event, payload });
    return true;
  }

  /** As socket.io: rooms left and `connected` false before the disconnect is handled. */
  drop() {
    this.connected = false;
    for (const room of [...this.rooms]) this.leave(room);
  }

  attached(channelId: string) {
    return this.rooms.has(channelRoom(channelId));
  }

  seqs(channelId?: string): number[] {
    return this.got.filter((g) => g.event === 'message:created' && (!channelId || g.payload.channelId === channelId)).map((g) => g.payload.seq as number);
  }

  /** What it got, one line each: `message 3`, `ack ok`, `ack NOT_FOUND`, `channel:removed removed`, `presence:left bob`… */
  lines(): string[] {
    return this.got.map(({ event, payload }) => {
      if (event === 'message:created') return `message ${payload.seq}`;
      if (event === 'ack') return `ack ${payload.ok ? 'ok' : payload.code}`;
      if (event === 'channel:removed') return `channel:removed ${payload.reason}`;
      if (event.startsWith('presence:')) return `${event} ${payload.user.username}`;
      return event;
    });
  }
}

/** The little of a Socket.IO server SocketServer uses: rooms, local emits to a room but some sockets. */
class FakeIo {
  readonly rooms = new Map<string, Set<string>>();
  readonly sockets = new Map<string, FakeSocket>();

  room(name: string) {
    let r = this.rooms.get(name);
    if (!r) this.rooms.set(name, (r = new Set()));
    return r;
  }

  private target(room: string, except: string[]): unknown {
    return {
      except: (ids: string[]) => this.target(room, [...except, ...ids]),
      emit: (event: ServerEvent, payload: unknown) => {
        for (const id of [...this.room(room)]) if (!except.includes(id)) this.sockets.get(id)!.emit(event, payload);
        return true;
      },
    };
  }

  readonly local = { to: (room: string) => this.target(room, []), volatile: { to: (room: string) => this.target(room, []) } };

  of() {
    return { adapter: { rooms: this.rooms }, sockets: this.sockets };
  }
}

interface StoredChannel {
  dto: ChannelDto;
  log: MessageDto[];
  members: Set<string>;
}

/**
 * The real protocol (SubscriptionService over a real DeliveryService and its
 * ChannelStreams, a real PresenceService without Redis, a ChannelBus without
 * Redis, a real SocketServer and LimitsService); Postgres is an in-memory
 * log behind two gates: the access check (ChannelsService.get) and the
 * bounded read of missed messages (MessagesService.missed).
 */
function setup(env: Record<string, string> = {}) {
  const config = loadConfig({ RATE_LIMITS: 'on', RATE_SUBSCRIBE_PER_SOCKET: '10000/10s', PRESENCE_GRACE_MS: '1000', HOLDBACK_MS: '60000', ...env });
  const logger = new JsonLogger('t', 'silent');
  const metrics = new MetricsService();
  const db = new Map<string, StoredChannel>();
  const access = new Gate();
  const missed = new Gate();
  const calls = { access: [] as string[], missed: [] as Array<[number, number]> };

  const canRead = (c: StoredChannel | undefined, user: UserRef): c is StoredChannel => !!c && (c.dto.visibility === 'public' || c.members.has(user.id));
  const channels = {
    async get(channelId: string, user: UserRef): Promise<ChannelDto> {
      calls.access.push(user.username);
      const c = db.get(channelId);
      const answer = canRead(c, user) ? { ...c.dto } : notFound('channel');
      await access.pass();
      if (answer instanceof Error) throw answer;
      return answer;
    },
  } as unknown as ChannelsService;

  const messages = {
    async missed(channelId: string, sinceSeq: number, upTo: number, maxBytes: number, limit: number): Promise<BoundedPage> {
      calls.missed.push([sinceSeq, upTo]);
      await missed.pass();
      const range = (db.get(channelId)?.log ?? []).filter((m) => m.seq > sinceSeq && m.seq <= upTo);
      const items: MessageDto[] = [];
      let bytes = 0;
      for (const m of range) {
        if (items.length >= limit || (items.length > 0 && bytes + sizeOf(m) > maxBytes)) break;
        items.push(m);
        bytes += sizeOf(m);
      }
      return { items, bytes, hasMore: items.length < range.length };
    },
  } as unknown as MessagesService;

  const reader = {
    async heads(ids: string[]) {
      return new Map<string, ChannelHead>(ids.filter((id) => db.has(id)).map((id) => [id, { lastSeq: db.get(id)!.dto.lastSeq, visibility: db.get(id)!.dto.visibility }]));
    },
    async range(channelId: string, after: number, upTo: number, limit: number) {
      return (db.get(channelId)?.log ?? []).filter((m) => m.seq > after && m.seq <= upTo).slice(0, limit);
    },
  } as unknown as MessagesReader;

  const io = new FakeIo();
  const sockets = new SocketServer(metrics);
  sockets.attach(io as unknown as TypedServer);
  const bus = new ChannelBus(null, 'replica-1', NO_FAULTS);
  const delivery = new DeliveryService(sockets, bus, reader, metrics, config, logger, { fanout: () => 'ok' } as unknown as FanoutHealthService);
  const presence = new PresenceService(config, logger, new Background(metrics, logger), metrics);
  // As RealtimeModule wires it: never to the user's own sockets.
  presence.onPresenceChange((event, channelId, user) => sockets.toChannel(channelId, event, { channelId, user }, presence.socketsOf(channelId, user.id)));
  const limits = new LimitsService(config, null, metrics);
  const service = new SubscriptionService(channels, messages, delivery, presence, bus, sockets, metrics, config, NO_FAULTS, logger, limits);
  service.onModuleInit();

  let sockets_ = 0;
  const h = {
    service,
    delivery,
    presence,
    metrics,
    calls,
    /** Gates: `h.access.hold()`, `h.missed.hold()` hold the next call. */
    access,
    missed,

    channel(id: string, opts: { visibility?: 'public' | 'private'; members?: UserRef[]; messages?: number } = {}) {
      const c: StoredChannel = {
        dto: { id, name: id, visibility: opts.visibility ?? 'public', ownerId: alice.id, lastSeq: 0, createdAt: '' },
        log: [],
        members: new Set([alice.id, ...(opts.members ?? []).map((u) => u.id)]),
      };
      db.set(id, c);
      for (let i = 0; i < (opts.messages ?? 0); i++) h.commit(id);
      return id;
    },

    /** Committed (on another replica, say): in Postgres, not yet offered to this replica. */
    commit(channelId: string): MessageDto {
      const c = db.get(channelId)!;
      const seq = ++c.dto.lastSeq;
      const m: MessageDto = { id: `${channelId}-${seq}`, channelId, seq, authorId: alice.id, body: `m${seq}`, clientMsgId: null, createdAt: new Date().toISOString() };
      c.log.push(m);
      return m;
    },

    /** Committed here and fanned out (no live bus: to the stream at once). */
    publish(channelId: string, count = 1): void {
      for (let i = 0; i < count; i++) delivery.publish(h.commit(channelId));
    },

    connect(user: UserRef): FakeSocket {
      const s = new FakeSocket(`s${++sockets_}`, user, io);
      io.sockets.set(s.id, s);
      return s;
    },

    /** As the gateway: the ack is the reply, or the error the subscribe failed with; both recorded in the socket's events. */
    subscribe(socket: FakeSocket, channelId: string, sinceSeq?: number): Promise<Ack | undefined> {
      let acked: Ack | undefined;
      const record = (a: Ack) => ((acked = a), socket.got.push({ event: 'ack', payload: a }));
      return service
        .subscribe(socket as unknown as TypedSocket, channelId, sinceSeq, (r) => record({ ok: true, ...r }))
        .then(
          () => acked,
          (e: unknown) => {
            const err = toAppError(e);
            record({ ok: false, code: err.code, ...(err.retryAfterMs !== undefined ? { retryAfterMs: err.retryAfterMs } : {}) });
            return acked;
          },
        );
    },

    unsubscribe(socket: FakeSocket, channelId: string): Promise<void> {
      return service.unsubscribe(socket as unknown as TypedSocket, channelId).then(() => void socket.got.push({ event: 'ack:unsubscribe', payload: { channelId } }));
    },

    disconnect(socket: FakeSocket) {
      socket.drop();
      io.sockets.delete(socket.id);
      sockets.disconnected(socket as unknown as TypedSocket);
    },

    /** Access gone in Postgres, and its revocation applied here (ChannelBus's `revoked`, or this replica's own request). */
    revoke(channelId: string, user: UserRef, reason: 'removed' | 'left' = 'removed') {
      db.get(channelId)!.members.delete(user.id);
      service.revokeHere(channelId, [user.id], reason);
    },

    /** Access gone in Postgres only: no revocation reaches this replica. */
    removeMember(channelId: string, user: UserRef) {
      db.get(channelId)!.members.delete(user.id);
    },

    deleteChannel(channelId: string) {
      db.delete(channelId);
      service.deletedHere(channelId);
    },

    online(channelId: string) {
      return presence.list(channelId).map((u) => u.username);
    },

    async abandoned(): Promise<number> {
      const { values } = await metrics.socketEvents.get();
      return values.find((v) => v.labels.event === 'channel:subscribe' && v.labels.outcome === 'abandoned')?.value ?? 0;
    },
  };
  return h;
}

const seqs = (ack: Ack | undefined) => (ack?.ok ? ack.missed.map((m) => m.seq) : undefined);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
/** Lets every promise that can settle settle (the doubles only await gates and each other). */
const settle = () => new Promise<void>((r) => setImmediate(r));

describe('SubscriptionService', () => {
  describe('subscribe', () => {
    it('acks (sinceSeq, head] including what was published during its read, then delivers head + 1 on: each seq once, nothing before the ack', async () => {
      const h = setup();
      const c = h.channel('c', { messages: 3 });
      const b = h.connect(bob);
      const read = h.missed.hold();
      const ack = h.subscribe(b, c, 1);
      await read.arrived;
      // The stream starts at the head Postgres had (3) and emits 4 and 5 while the socket's missed are read.
      h.publish(c, 2);
      expect(b.got).toEqual([]);
      read.release();
      const a = await ack;
      expect(h.calls.missed).toEqual([[1, 3]]);
      expect(a).toMatchObject({ ok: true, hasMore: false, head: 5, channel: { id: c, lastSeq: 5 }, presence: [bob] });
      expect(seqs(a)).toEqual([2, 3, 4, 5]);
      expect(b.attached(c)).toBe(true);
      h.publish(c, 2);
      expect(b.lines()).toEqual(['ack ok', 'message 6', 'message 7']);
    });

    it('without sinceSeq: missed is empty and live starts after the head at the ack, which counts what was published during the subscribe', async () => {
      const h = setup();
      const c = h.channel('c', { messages: 2 });
      const b = h.connect(bob);
      // The channel's first subscriber here checks access again once its topic is confirmed (see revokeHere): held there.
      const [check, recheck] = [h.access.hold(), h.access.hold()];
      const ack = h.subscribe(b, c);
      await check.arrived;
      check.release();
      await recheck.arrived;
      h.publish(c);
      recheck.release();
      const a = await ack;
      // The head is what the stream had emitted at the ack: 3, published while the subscribe was under way.
      expect(a).toMatchObject({ ok: true, missed: [], hasMore: false, head: 3, channel: { lastSeq: 3 } });
      h.publish(c);
      expect(b.lines()).toEqual(['ack ok', 'message 4']);
    });

    it('a sinceSeq ahead of the channel is BAD_REQUEST, and one ahead of this replica waits for the stream to emit it', async () => {
      const h = setup();
      const c = h.channel('c', { messages: 2 });
      const a = h.connect(alice);
      expect(await h.subscribe(a, c, 0)).toMatchObject({ ok: true, head: 2 });
      const b = h.connect(bob);
      expect(await h.subscribe(b, c, 3)).toEqual({ ok: false, code: 'BAD_REQUEST' });
      // Committed elsewhere, its frame still on its way: the ack waits until this replica's stream emitted it.
      const m3 = h.commit(c);
      const ack = h.subscribe(b, c, 3);
      await settle();
      expect(b.got.filter((g) => g.event === 'ack')).toHaveLength(1);
      h.delivery.offer(m3, 'live');
      expect(await ack).toMatchObject({ ok: true, missed: [], hasMore: false, head: 3 });
      h.publish(c);
      expect(b.seqs()).toEqual([4]);
      expect(a.seqs()).toEqual([3, 4]);
    });

    it('a read cut by its bound answers hasMore, head = the last seq included, unattached; paging on from each head ends attached, every seq once', async () => {
      const h = setup({ SUBSCRIBE_ACK_MAX_BYTES: THREE_MESSAGES });
      const c = h.channel('c', { messages: 8 });
      const b = h.connect(bob);
      const first = await h.subscribe(b, c, 0);
      expect(first).toMatchObject({ ok: true, hasMore: true, head: 3 });
      expect(seqs(first)).toEqual([1, 2, 3]);
      expect(b.attached(c)).toBe(false);
      // Subscribed (present) while it pages, but given nothing live.
      expect([h.service.isSubscribed(b as unknown as TypedSocket, c), h.online(c)]).toEqual([true, ['bob']]);
      h.publish(c);
      expect(b.seqs()).toEqual([]);
      const held = [...seqs(first)!];
      let since = first?.ok ? first.head : NaN;
      for (let page = 0; page < 5; page++) {
        const next = await h.subscribe(b, c, since);
        if (!next?.ok) throw new Error('refused');
        held.push(...next.missed.map((m) => m.seq));
        since = next.head;
        if (!next.hasMore) break;
      }
      expect(since).toBe(9);
      expect(b.attached(c)).toBe(true);
      h.publish(c);
      expect([...held, ...b.seqs()]).toEqual(range(1, 10));
    });

    it.each([
      ['bytes', { SUBSCRIBE_ACK_MAX_BYTES: THREE_MESSAGES }, 6, [1, 2, 3]],
      ['count (500)', {}, 600, range(1, 500)],
    ] as const)('what was published during the read past the ack bound by %s answers hasMore, head = the last seq included, unattached', async (_, env, published, expected) => {
      const h = setup(env);
      const c = h.channel('c', { messages: 2 });
      const a = h.connect(alice);
      await h.subscribe(a, c);
      const b = h.connect(bob);
      const read = h.missed.hold();
      const ack = h.subscribe(b, c, 0);
      await read.arrived;
      h.publish(c, published);
      read.release();
      const got = await ack;
      expect(got).toMatchObject({ ok: true, hasMore: true, head: expected[expected.length - 1] });
      expect(seqs(got)).toEqual(expected);
      expect(b.attached(c)).toBe(false);
      h.publish(c);
      expect(b.seqs()).toEqual([]);
    });

    it('reserves the cap before any await: of N concurrent subscribes against a cap of C exactly the first C are acked, the rest RATE_LIMITED without retryAfterMs', async () => {
      const h = setup({ SUBSCRIPTIONS_PER_SOCKET: '3' });
      const ids = range(1, 6).map((i) => h.channel(`c${i}`));
      const b = h.connect(bob);
      const acks = await Promise.all(ids.map((id) => h.subscribe(b, id)));
      expect(acks.map((a) => (a?.ok ? 'ok' : a?.code))).toEqual(['ok', 'ok', 'ok', 'RATE_LIMITED', 'RATE_LIMITED', 'RATE_LIMITED']);
      expect(acks.some((a) => a && !a.ok && a.retryAfterMs !== undefined)).toBe(false);
      expect(ids.filter((id) => b.attached(id))).toEqual(ids.slice(0, 3));
    });

    it('a resubscribe of a held channel, or a repeat of a subscribe in progress, takes no slot', async () => {
      const h = setup({ SUBSCRIPTIONS_PER_SOCKET: '2' });
      const [c1, c2, c3] = ['c1', 'c2', 'c3'].map((id) => h.channel(id));
      const b = h.connect(bob);
      expect((await h.subscribe(b, c1))?.ok).toBe(true);
      // c2 twice at once: the second is a resubscribe once the first is done, and needs no second slot.
      const twice = await Promise.all([h.subscribe(b, c2), h.subscribe(b, c2)]);
      expect(twice.map((a) => a?.ok)).toEqual([true, true]);
      // At the cap: resubscribing to what it holds is fine, a third channel is not.
      const [again, third] = await Promise.all([h.subscribe(b, c1, 0), h.subscribe(b, c3)]);
      expect([again?.ok, third?.ok ? 'ok' : third?.code]).toEqual([true, 'RATE_LIMITED']);
    });

    it('a subscribe refused over the cap frees nothing it did not hold: subscribes in progress keep their slots, other sockets their stream', async () => {
      const h = setup({ SUBSCRIPTIONS_PER_SOCKET: '2' });
      const [c1, c2, c3, c4] = ['c1', 'c2', 'c3', 'c4'].map((id) => h.channel(id));
      const other = h.connect(alice);
      await h.subscribe(other, c3);
      const b = h.connect(bob);
      const gates = [h.access.hold(), h.access.hold()];
      const inProgress = [h.subscribe(b, c1), h.subscribe(b, c2)];
      await Promise.all(gates.map((g) => g.arrived));
      expect(await h.subscribe(b, c3)).toEqual({ ok: false, code: 'RATE_LIMITED' });
      // Refused, c3's subscribe gave back no slot: c1 and c2 still hold theirs.
      expect(await h.subscribe(b, c4)).toEqual({ ok: false, code: 'RATE_LIMITED' });
      gates.forEach((g) => g.release());
      expect((await Promise.all(inProgress)).map((a) => a?.ok)).toEqual([true, true]);
      expect(await h.subscribe(b, c3)).toEqual({ ok: false, code: 'RATE_LIMITED' });
      // Nor did it release c3's stream, held by the other socket.
      expect(h.delivery.tracked().sort()).toEqual([c1, c2, c3]);
      h.publish(c3);
      expect(other.seqs(c3)).toEqual([1]);
      // An unsubscribe frees exactly one slot.
      await h.unsubscribe(b, c1);
      const [three, four] = await Promise.all([h.subscribe(b, c3), h.subscribe(b, c4)]);
      expect([three?.ok, four?.ok ? 'ok' : four?.code]).toEqual([true, 'RATE_LIMITED']);
    });

    it('a repeat of a subscribe that is being refused over the cap is refused too', async () => {
      const h = setup({ SUBSCRIPTIONS_PER_SOCKET: '1' });
      const [c1, c2] = ['c1', 'c2'].map((id) => h.channel(id));
      const b = h.connect(bob);
      expect((await h.subscribe(b, c1))?.ok).toBe(true);
      const twice = await Promise.all([h.subscribe(b, c2), h.subscribe(b, c2)]);
      expect(twice.map((a) => (a?.ok ? 'ok' : a?.code))).toEqual(['RATE_LIMITED', 'RATE_LIMITED']);
      expect(h.service.isSubscribed(b as unknown as TypedSocket, c2)).toBe(false);
    });

    it('a resubscribe sets the socket aside while it reads: what is emitted meanwhile comes in its ack only, then live again from the new head', async () => {
      const h = setup();
      const c = h.channel('c', { messages: 2 });
      const b = h.connect(bob);
      await h.subscribe(b, c, 0);
      const read = h.missed.hold();
      const ack = h.subscribe(b, c, 1);
      await read.arrived;
      h.publish(c, 2);
      read.release();
      const again = await ack;
      expect(again).toMatchObject({ ok: true, hasMore: false, head: 4 });
      expect(seqs(again)).toEqual([2, 3, 4]);
      h.publish(c);
      expect(b.lines()).toEqual(['ack ok', 'ack ok', 'message 5']);
      // Still one subscription, present once.
      expect([h.service.usersHere(c), h.online(c)]).toEqual([['u-bob'], ['bob']]);
    });

    it('a failed resubscribe (the read UNAVAILABLE) keeps the subscription whole: what was emitted meanwhile, in order, then live again', async () => {
      const h = setup();
      const c = h.channel('c', { messages: 2 });
      const b = h.connect(bob);
      await h.subscribe(b, c, 0);
      const read = h.missed.hold();
      const ack = h.subscribe(b, c, 1);
      await read.arrived;
      h.publish(c, 2);
      expect(b.seqs()).toEqual([]);
      read.fail(unavailable());
      expect(await ack).toEqual({ ok: false, code: 'UNAVAILABLE' });
      h.publish(c);
      expect(b.lines()).toEqual(['ack ok', 'message 3', 'message 4', 'ack UNAVAILABLE', 'message 5']);
      expect([b.closes, h.online(c)]).toEqual([0, ['bob']]);
    });

    it('a failed resubscribe that set aside more than the ack bound closes the transport instead: no partial replay, not attached', async () => {
      const h = setup({ SUBSCRIBE_ACK_MAX_BYTES: THREE_MESSAGES });
      const c = h.channel('c', { messages: 2 });
      const b = h.connect(bob);
      await h.subscribe(b, c, 0);
      const read = h.missed.hold();
      const ack = h.subscribe(b, c, 1);
      await read.arrived;
      h.publish(c, 4);
      read.fail(unavailable());
      expect(await ack).toEqual({ ok: false, code: 'UNAVAILABLE' });
      expect(b.closes).toBe(1);
      h.publish(c);
      expect(b.lines()).toEqual(['ack ok', 'ack UNAVAILABLE']);
      expect(b.attached(c)).toBe(false);
    });

    // A resubscribe whose sinceSeq is ahead of this replica's stream keeps every message the stream emits
    // while it waits (a failed renewal replays them); past the ack bound it used to say hasMore with nothing
    // above sinceSeq carried, throw on the empty `missed` (INTERNAL) and leave the subscription detached.
    it('a resubscribe from a sinceSeq ahead of the stream, reached past the ack bound, acks attached with nothing missed', async () => {
      const h = setup({ SUBSCRIBE_ACK_MAX_BYTES: THREE_MESSAGES });
      const c = h.channel('c', { messages: 2 });
      const b = h.connect(bob);
      await h.subscribe(b, c, 0);
      // 3..8 committed elsewhere, their frames late; the client learnt of 8 (history, say) and resubscribes from it.
      const late = range(3, 8).map(() => h.commit(c));
      const ack = h.subscribe(b, c, 8);
      await settle();
      for (const m of late) h.delivery.offer(m, 'live');
      expect(await ack).toMatchObject({ ok: true, missed: [], hasMore: false, head: 8 });
      h.publish(c);
      expect(b.seqs()).toEqual([9]);
    });
  });

  describe('unsubscribe', () => {
    it('sent while a subscribe is under way, it is answered after the subscribe and wins: unsubscribed, not present, nothing live', async () => {
      const h = setup({ PRESENCE_GRACE_MS: '0' });
      const c = h.channel('c', { messages: 1 });
      const a = h.connect(alice);
      await h.subscribe(a, c);
      const b = h.connect(bob);
      const read = h.missed.hold();
      const subscribed = h.subscribe(b, c, 0);
      const unsubscribed = h.unsubscribe(b, c);
      await read.arrived;
      await settle();
      expect(b.got).toEqual([]);
      read.release();
      await Promise.all([subscribed, unsubscribed]);
      expect(b.lines()).toEqual(['ack ok', 'ack:unsubscribe']);
      expect([h.service.isSubscribed(b as unknown as TypedSocket, c), b.attached(c), h.online(c)]).toEqual([false, false, ['alice']]);
      h.publish(c);
      expect(b.seqs()).toEqual([]);
      expect(a.lines()).toEqual(['ack ok', 'presence:joined bob', 'presence:left bob', 'message 2']);
    });

    it('the last subscription of a channel here stops its stream; one never subscribed is answered all the same', async () => {
      const h = setup();
      const c = h.channel('c');
      const b = h.connect(bob);
      await h.unsubscribe(b, 'unknown');
      await h.subscribe(b, c);
      expect(h.delivery.tracked()).toEqual([c]);
      await h.unsubscribe(b, c);
      expect(h.delivery.tracked()).toEqual([]);
    });
  });

  describe('disconnected', () => {
    it.each(['access check', 'missed read'] as const)('a socket gone during its subscribe (%s) is never attached nor present, and counts abandoned', async (step) => {
      const h = setup();
      const c = h.channel('c', { messages: 2 });
      const a = h.connect(alice);
      await h.subscribe(a, c);
      const b = h.connect(bob);
      const gate = (step === 'access check' ? h.access : h.missed).hold();
      const ack = h.subscribe(b, c, 0);
      await gate.arrived;
      h.disconnect(b);
      gate.release();
      expect(await ack).toBeUndefined();
      expect(await h.abandoned()).toBe(1);
      expect([h.service.usersHere(c), h.online(c), b.got]).toEqual([['u-alice'], ['alice'], []]);
      h.publish(c);
      expect(a.lines()).toEqual(['ack ok', 'message 3']);
      // Bob's subscribe held the channel's stream: released with it.
      await h.unsubscribe(a, c);
      expect(h.delivery.tracked()).toEqual([]);
    });

    it('ends every subscription of the socket, and stops streams nobody else holds', async () => {
      const h = setup({ PRESENCE_GRACE_MS: '0' });
      const [c1, c2] = ['c1', 'c2'].map((id) => h.channel(id));
      const a = h.connect(alice);
      await h.subscribe(a, c1);
      const b = h.connect(bob);
      await Promise.all([h.subscribe(b, c1), h.subscribe(b, c2)]);
      h.disconnect(b);
      expect([h.service.usersHere(c1), h.service.usersHere(c2), h.delivery.tracked()]).toEqual([['u-alice'], [], [c1]]);
      expect(a.lines()).toEqual(['ack ok', 'presence:joined bob', 'presence:left bob']);
    });
  });

  describe('revokeHere', () => {
    it('a revocation during the missed read refuses the subscribe NOT_FOUND: nothing published after it reaches the socket, in the ack or live', async () => {
      const h = setup();
      const c = h.channel('c', { visibility: 'private', members: [bob], messages: 2 });
      const a = h.connect(alice);
      await h.subscribe(a, c);
      const b = h.connect(bob);
      const read = h.missed.hold();
      const ack = h.subscribe(b, c, 0);
      await read.arrived;
      h.publish(c);
      h.revoke(c, bob);
      h.publish(c);
      read.release();
      expect(await ack).toEqual({ ok: false, code: 'NOT_FOUND' });
      h.publish(c);
      // Never subscribed: no channel:removed either.
      expect(b.lines()).toEqual(['ack NOT_FOUND']);
      expect(a.seqs()).toEqual([3, 4, 5]);
      expect(h.online(c)).toEqual(['alice']);
    });

    it('a revocation during the access check refuses the subscribe NOT_FOUND though the check (read before it) passed', async () => {
      const h = setup();
      const c = h.channel('c', { visibility: 'private', members: [bob] });
      const a = h.connect(alice);
      await h.subscribe(a, c);
      const b = h.connect(bob);
      const check = h.access.hold();
      const ack = h.subscribe(b, c, 0);
      await check.arrived;
      h.revoke(c, bob);
      check.release();
      expect(await ack).toEqual({ ok: false, code: 'NOT_FOUND' });
      h.publish(c);
      expect(b.lines()).toEqual(['ack NOT_FOUND']);
      // The channel was tracked before Bob's check began: one check was enough.
      expect(h.calls.access.filter((u) => u === 'bob')).toHaveLength(1);
    });

    it.each(['access check', 'missed read'] as const)('a revocation during a resubscribe (%s) ends the subscription with channel:removed first, then acks NOT_FOUND', async (step) => {
      const h = setup();
      const c = h.channel('c', { visibility: 'private', members: [bob], messages: 2 });
      const a = h.connect(alice);
      await h.subscribe(a, c);
      const b = h.connect(bob);
      await h.subscribe(b, c, 0);
      const gate = (step === 'access check' ? h.access : h.missed).hold();
      const ack = h.subscribe(b, c, 1);
      await gate.arrived;
      h.revoke(c, bob);
      h.publish(c);
      gate.release();
      expect(await ack).toEqual({ ok: false, code: 'NOT_FOUND' });
      h.publish(c);
      expect(b.lines()).toEqual(['ack ok', 'channel:removed removed', 'ack NOT_FOUND']);
      expect([h.service.isSubscribed(b as unknown as TypedSocket, c), b.attached(c), h.online(c)]).toEqual([false, false, ['alice']]);
      expect(a.lines()).toEqual(['ack ok', 'presence:joined bob', 'presence:left bob', 'message 3', 'message 4']);
    });

    it('a resubscribe refused NOT_FOUND by its access check (the revocation never arrived) ends the subscription with channel:removed before the ack', async () => {
      const h = setup();
      const c = h.channel('c', { visibility: 'private', members: [bob], messages: 1 });
      const b = h.connect(bob);
      await h.subscribe(b, c, 0);
      h.channel('other');
      await h.subscribe(b, 'other');
      h.removeMember(c, bob); // behind the hub's back: no revocation
      expect(await h.subscribe(b, c, 1)).toEqual({ ok: false, code: 'NOT_FOUND' });
      expect(b.lines()).toEqual(['ack ok', 'ack ok', 'channel:removed removed', 'ack NOT_FOUND']);
      expect(h.delivery.tracked()).toEqual(['other']);
    });

    it('checks access again when the channel’s topic was confirmed after the check began (a revocation published before reached no frame here)', async () => {
      const h = setup();
      const c = h.channel('c', { visibility: 'private', members: [bob] });
      const b = h.connect(bob);
      const check = h.access.hold();
      const ack = h.subscribe(b, c, 0);
      await check.arrived;
      // Bob removed while nothing here held the channel's topic: this replica never hears of it.
      h.removeMember(c, bob);
      // Alice's subscribe starts tracking the channel (topic confirmed) while Bob's stale check is out.
      const a = h.connect(alice);
      expect((await h.subscribe(a, c))?.ok).toBe(true);
      check.release();
      expect(await ack).toEqual({ ok: false, code: 'NOT_FOUND' });
      expect(h.calls.access).toEqual(['bob', 'alice', 'alice', 'bob']);
      h.publish(c);
      expect(b.lines()).toEqual(['ack NOT_FOUND']);
      expect(a.seqs()).toEqual([1]);
    });
  });

  describe('deletedHere', () => {
    it('during a subscribe: NOT_FOUND for it, channel:deleted to the subscribed sockets, no presence:left, the stream stopped', async () => {
      const h = setup();
      const c = h.channel('c', { messages: 1 });
      const a = h.connect(alice);
      const k = h.connect(carol);
      await h.subscribe(a, c);
      await h.subscribe(k, c);
      const b = h.connect(bob);
      const read = h.missed.hold();
      const ack = h.subscribe(b, c, 0);
      await read.arrived;
      h.deleteChannel(c);
      read.release();
      expect(await ack).toEqual({ ok: false, code: 'NOT_FOUND' });
      expect(a.lines()).toEqual(['ack ok', 'presence:joined carol', 'channel:deleted']);
      expect(k.lines()).toEqual(['ack ok', 'channel:deleted']);
      expect(b.lines()).toEqual(['ack NOT_FOUND']);
      expect([h.delivery.tracked(), h.service.usersHere(c), h.online(c)]).toEqual([[], [], []]);
    });
  });
});
