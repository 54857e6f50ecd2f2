import { type ManagerOptions, type Socket, type SocketOptions, io } from 'socket.io-client';
import type { Json, MessageDto, UserRef } from '../src/events/dto.js';
import { FINAL_HANDSHAKE_REFUSALS } from '../src/events/close-reasons.js';
import type { Ack, ClientToServerEvents, RemovedReason, ServerToClientEvents, SubscribeResult } from '../src/events/events.js';
import { ChannelFeed } from './feed.js';
import { newId } from './ids.js';
import { Observable } from './observable.js';
import { CrosswireError, Outbox } from './outbox.js';

export interface ConnectOptions {
  /** The hub, or the load balancer in front of the replicas. */
  url: string;
  token: string;
  /** Socket.IO transports; the default starts on long-polling and upgrades to WebSocket where the network allows. */
  transports?: Array<'polling' | 'websocket'>;
  /** Publishes waiting for their acknowledgement at most (default 1,000). */
  maxQueued?: number;
  /** How long a publish or subscribe waits for its answer before it is tried again (default 10 s). */
  ackTimeoutMs?: number;
}

export type ConnectionState =
  { status: 'connecting' } | { status: 'connected'; replicaId: string } | { status: 'reconnecting'; reason: string; replicaId?: string } | { status: 'closed'; reason: string };

/** After a reconnect: where the client is now, and what it caught up on. */
export interface Recovery {
  reason: string;
  from?: string;
  to: string;
  missed: number;
}

export interface SubscribeOptions {
  /** The highest seq the app already holds: messages after it are delivered first. Without it, live only. */
  sinceSeq?: number;
  /** Each message of the channel, once, in seq order. */
  onMessage(message: MessageDto): void;
  onTyping?(user: UserRef): void;
  /** The subscription ended by the hub: access revoked, or the channel deleted. */
  onEnded?(reason: RemovedReason | 'deleted'): void;
}

export interface Subscription {
  readonly channelId: string;
  /** Who is online in the channel, kept current by presence events. */
  readonly presence: Observable<UserRef[]>;
  /** Resolves at the first acknowledgement (rejects if it fails for good, e.g. NOT_FOUND). */
  readonly ready: Promise<void>;
  /** The highest seq delivered. */
  readonly highest: number | undefined;
  unsubscribe(): void;
}

type HubSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

interface Sub {
  channelId: string;
  feed: ChannelFeed;
  opts: SubscribeOptions;
  presence: Observable<UserRef[]>;
  settle?: { resolve(): void; reject(e: CrosswireError): void };
  /** Messages taken from acks' `missed` since the last reconnect. */
  missed: number;
}

/**
 * A Crosswire client: per channel it hands the app every message once, in
 * seq order, across reconnects and replica failures (it resubscribes with
 * the highest seq it holds), publishes with a clientMsgId until acknowledged,
 * and tells a transient loss of connection (reconnect) from a final one
 * (`session:revoked`, refused handshake, close()).
 */
export class CrosswireClient {
  readonly state = new Observable<ConnectionState>({ status: 'connecting' });
  private readonly socket: HubSocket;
  private readonly subs = new Map<string, Sub>();
  private readonly outbox: Outbox;
  private readonly recoveryListeners = new Set<(r: Recovery) => void>();
  private readonly ackTimeoutMs: number;
  private replicaId?: string;
  private lostBecause?: string;
  private revoked?: string;
  private retry?: ReturnType<typeof setTimeout>;

  constructor(private readonly opts: ConnectOptions) {
    this.ackTimeoutMs = opts.ackTimeoutMs ?? 10_000;
    const options: Partial<ManagerOptions & SocketOptions> = {
      auth: { token: opts.token },
      // Through a load balancer, long-polling needs the sticky cookie; browsers send it by themselves.
      withCredentials: true,
      ...(opts.transports ? { transports: opts.transports } : {}),
    };
    this.socket = io(opts.url, options);
    this.outbox = new Outbox((p, answer) => this.socket.timeout(this.ackTimeoutMs).emit('message:publish', p, answer as never), newId, opts.maxQueued);
    this.listen();
  }

  /** Called after every reconnect, once every subscription caught up. */
  onRecovered(listener: (r: Recovery) => void): () => void {
    this.recoveryListeners.add(listener);
    return () => this.recoveryListeners.delete(listener);
  }

  subscribe(channelId: string, opts: SubscribeOptions): Subscription {
    if (this.subs.has(channelId)) throw new CrosswireError('BAD_REQUEST', `already subscribed to ${channelId}`);
    const presence = new Observable<UserRef[]>([]);
    const sub: Sub = {
      channelId,
      opts,
      presence,
      missed: 0,
      feed: new ChannelFeed({ deliver: (m) => opts.onMessage(m), fill: (after) => this.after(channelId, after) }, opts.sinceSeq),
    };
    const ready = new Promise<void>((resolve, reject) => (sub.settle = { resolve, reject }));
    ready.catch(() => undefined);
    this.subs.set(channelId, sub);
    // join() never rejects: its outcome reaches the app through `ready` (sub.settle).
    if (this.state.value.status === 'connected') void this.join(sub);
    const client = this;
    return {
      channelId,
      presence,
      ready,
      get highest() {
        return sub.feed.highest;
      },
      unsubscribe() {
        if (client.subs.get(channelId) !== sub) return;
        client.subs.delete(channelId);
        if (client.socket.connected) client.socket.emit('channel:unsubscribe', { channelId });
      },
    };
  }

  /** Stores the message (retried with one clientMsgId until acknowledged, across reconnects); resolves with it. */
  publish(channelId: string, body: Json): Promise<MessageDto> {
    if (this.state.value.status === 'closed') return Promise.reject(new CrosswireError('CLOSED', `the client is closed (${this.state.value.reason})`));
    return this.outbox.add(channelId, body);
  }

  /** Tells the channel's other subscribers this user is typing (volatile: not repeated, not stored). */
  typing(channelId: string): void {
    if (this.socket.connected) this.socket.volatile.emit('typing', { channelId });
  }

  /** History over REST: the last `limit` before `beforeSeq` (or the latest), oldest first. */
  async history(channelId: string, q: { beforeSeq?: number; afterSeq?: number; limit?: number } = {}): Promise<{ items: MessageDto[]; lastSeq: number }> {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(q)) if (v !== undefined) params.set(k, String(v));
    const res = await fetch(`${this.opts.url.replace(/\/$/, '')}/api/channels/${channelId}/messages?${params}`, {
      headers: { authorization: `Bearer ${this.opts.token}` },
    });
    const body = (await res.json()) as { items: MessageDto[]; lastSeq: number } & { code?: string; message?: string };
    if (!res.ok) throw new CrosswireError(body.code ?? 'INTERNAL', body.message ?? `history: HTTP ${res.status}`);
    return body;
  }

  /** Leaves nothing running: the connection, the retries; waiting publishes fail CLOSED. */
  close(): void {
    this.finish('closed by the app');
    this.socket.close();
  }

  private after(channelId: string, afterSeq: number) {
    return this.history(channelId, { afterSeq, limit: 500 }).then((p) => p.items);
  }

  private listen() {
    const s = this.socket;
    s.on('session', ({ replicaId }) => {
      const from = this.replicaId;
      const reason = this.lostBecause;
      this.replicaId = replicaId;
      this.lostBecause = undefined;
      this.state.set({ status: 'connected', replicaId });
      this.outbox.connected();
      const joins = [...this.subs.values()].map((sub) => ((sub.missed = 0), this.join(sub)));
      if (reason !== undefined) {
        void Promise.allSettled(joins).then(() => {
          const missed = [...this.subs.values()].reduce((n, sub) => n + sub.missed, 0);
          for (const l of this.recoveryListeners) l({ reason, from, to: replicaId, missed });
        });
      }
    });
    s.on('disconnect', (reason) => {
      this.outbox.disconnected();
      if (this.state.value.status === 'closed') return;
      // The server ended the session (token expired or revoked): socket.io does not reconnect, nor do we.
      if (reason === 'io server disconnect') return this.finish(this.revoked ?? 'ended by the server');
      this.lostBecause = reason === 'transport close' || reason === 'transport error' ? 'connection lost' : reason;
      this.state.set({ status: 'reconnecting', reason: this.lostBecause, replicaId: this.replicaId });
    });
    s.on('connect_error', (err) => {
      if (this.state.value.status === 'closed') return;
      if (FINAL_HANDSHAKE_REFUSALS.has(err.message)) return this.finish(err.message);
      this.state.set({ status: 'reconnecting', reason: err.message, replicaId: this.replicaId });
      // A handshake refused by the hub (e.g. `unavailable`) is not retried by socket.io itself.
      const wait = (err as Error & { data?: { retryAfterMs?: number } }).data?.retryAfterMs ?? 1_000;
      if (!s.active) this.retry = setTimeout(() => s.connect(), wait);
    });
    s.on('session:revoked', ({ reason }) => (this.revoked = reason));
    s.on('message:created', (m) => this.subs.get(m.channelId)?.feed.accept(m));
    s.on('presence:joined', ({ channelId, user }) => {
      const p = this.subs.get(channelId)?.presence;
      if (p && !p.value.some((u) => u.id === user.id)) p.set([...p.value, user]);
    });
    s.on('presence:left', ({ channelId, user }) => {
      const p = this.subs.get(channelId)?.presence;
      if (p) p.set(p.value.filter((u) => u.id !== user.id));
    });
    s.on('typing', ({ channelId, user }) => this.subs.get(channelId)?.opts.onTyping?.(user));
    s.on('channel:removed', ({ channelId, reason }) => this.ended(channelId, reason));
    s.on('channel:deleted', ({ channelId }) => this.ended(channelId, 'deleted'));
  }

  /**
   * Subscribes (again) from the highest seq held, page after page while the
   * ack says hasMore. The ack is handled as its packet is read, before any
   * live message that follows it.
   */
  private join(sub: Sub): Promise<void> {
    return new Promise((resolve) => {
      const ask = () => {
        if (this.subs.get(sub.channelId) !== sub || !this.socket.connected) return resolve();
        const payload = { channelId: sub.channelId, ...(sub.feed.highest === undefined ? {} : { sinceSeq: sub.feed.highest }) };
        this.socket.timeout(this.ackTimeoutMs).emit('channel:subscribe', payload, ((err: Error | null, ack?: Ack<SubscribeResult>) => {
          if (err || !ack) return void setTimeout(ask, 1_000);
          if (!ack.ok) {
            if (ack.error.code === 'UNAVAILABLE' || ack.error.code === 'INTERNAL') return void setTimeout(ask, 1_000);
            // A subscribe rate passes; the per-socket cap (no retryAfterMs) does not, so it is the app's to see.
            if (ack.error.code === 'RATE_LIMITED' && ack.error.retryAfterMs !== undefined) return void setTimeout(ask, ack.error.retryAfterMs);
            this.subs.delete(sub.channelId);
            sub.settle?.reject(new CrosswireError(ack.error.code, ack.error.message, ack.error.details));
            return resolve();
          }
          sub.missed += ack.missed.length;
          for (const m of ack.missed) sub.feed.accept(m);
          sub.feed.startAt(ack.head);
          sub.presence.set(ack.presence);
          if (ack.hasMore) return ask();
          sub.settle?.resolve();
          resolve();
        }) as never);
      };
      ask();
    });
  }

  private ended(channelId: string, reason: RemovedReason | 'deleted') {
    const sub = this.subs.get(channelId);
    if (!sub) return;
    this.subs.delete(channelId);
    sub.opts.onEnded?.(reason);
  }

  private finish(reason: string) {
    if (this.state.value.status === 'closed') return;
    clearTimeout(this.retry);
    this.state.set({ status: 'closed', reason });
    this.outbox.fail(new CrosswireError('CLOSED', `the connection ended for good: ${reason}`));
    this.socket.disconnect();
  }
}

/** Connects to a hub (or its load balancer); see CrosswireClient. */
export function connect(opts: ConnectOptions): CrosswireClient {
  return new CrosswireClient(opts);
}
