import { io } from 'socket.io-client';
import type { MessageDto } from '../../../src/events/dto.js';
import type { ClientSocket } from '../../support/client.js';

/**
 * A client that follows CONTRACT §6's one rule — after any reconnect,
 * resubscribe with the highest seq it holds (again while the ack says
 * `hasMore`) — and checks, instead of repairing, what the server promises per
 * connection: no `message:created` before the subscribe ack, `missed` exactly
 * (sinceSeq, head], then live messages at head + 1, head + 2, … Every break
 * (a gap, a repeat, an early or out-of-order message) goes into `violations`.
 * `urls` are tried in turn, so losing a replica moves it to the next live one.
 */
export class Subscriber {
  /** Every message accepted, in the order received. */
  readonly received: MessageDto[] = [];
  /** When each seq was accepted (ms since epoch), for delivery lag. */
  readonly arrivedAt = new Map<number, number>();
  readonly violations: string[] = [];
  readonly replicas: string[] = [];
  /** Per connection: the ack heads, how many live messages followed, and when it was subscribed (ms since epoch). */
  readonly connections: Array<{ replica: string; sinceSeq: number; head: number; live: number; at: number }> = [];
  /** Presence events of the channel, over all connections. */
  readonly presence: Array<{ kind: 'joined' | 'left'; userId: string; at: number }> = [];
  reconnects = 0;
  socket?: ClientSocket;
  private start0 = 0;
  private closed = false;
  private waiters: Array<() => void> = [];

  constructor(
    private readonly urls: () => string[],
    private readonly token: string,
    private readonly channelId: string,
    private readonly opts: Record<string, unknown> = { transports: ['websocket'] },
  ) {}

  /** The highest seq held; every seq up to it is held, since nothing is accepted out of order. */
  get highest(): number {
    return this.received.length ? this.received[this.received.length - 1].seq : this.start0;
  }

  async start(sinceSeq = 0): Promise<void> {
    this.start0 = sinceSeq;
    await this.connectAny();
  }

  waitFor(seq: number, ms: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`holds up to ${this.highest}/${seq} after ${ms} ms; replicas ${this.replicas.join(',')}; violations ${this.violations.slice(0, 5).join('; ')}`)),
        ms,
      );
      const check = () => {
        if (this.highest < seq) return false;
        clearTimeout(timer);
        resolve();
        return true;
      };
      if (!check()) this.waiters.push(() => void check());
    });
  }

  close() {
    this.closed = true;
    this.socket?.close();
  }

  private accept(m: MessageDto) {
    this.received.push(m);
    this.arrivedAt.set(m.seq, Date.now());
    for (const w of this.waiters) w();
  }

  private async connectAny(): Promise<void> {
    for (let attempt = 0; !this.closed; attempt++) {
      const urls = this.urls();
      try {
        await this.connectTo(urls[attempt % urls.length]);
        return;
      } catch {
        await new Promise((r) => setTimeout(r, Math.min(50 * attempt, 500)));
      }
    }
  }

  private connectTo(url: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const socket: ClientSocket = io(url, { auth: { token: this.token }, reconnection: false, forceNew: true, timeout: 3_000, ...this.opts });
      let live = false;
      let expected = 0;
      let conn: (typeof this.connections)[number] | undefined;
      socket.on('message:created', (m) => {
        if (m.channelId !== this.channelId) return;
        if (!live) return void this.violations.push(`seq ${m.seq} live before the subscribe ack`);
        if (m.seq !== expected) return void this.violations.push(`expected seq ${expected}, got ${m.seq} live`);
        expected++;
        conn!.live++;
        this.accept(m);
      });
      for (const kind of ['joined', 'left'] as const) {
        socket.on(`presence:${kind}`, (p) => p.channelId === this.channelId && this.presence.push({ kind, userId: p.user.id, at: Date.now() }));
      }
      socket.once('connect_error', (e) => {
        socket.close();
        reject(e);
      });
      const fail = (e: Error) => {
        socket.close();
        reject(e);
      };
      socket.once('session', ({ replicaId }) => {
        // The ack callback runs as its packet is read, before any later packet: the seam is observed exactly.
        const subscribe = () => {
          const sinceSeq = this.highest;
          (socket as any).timeout(5_000).emit('channel:subscribe', { channelId: this.channelId, sinceSeq }, (err: Error | null, ack: any) => {
            if (err) return fail(err);
            if (!ack.ok) return fail(new Error(JSON.stringify(ack.error)));
            const seqs: number[] = ack.missed.map((m: MessageDto) => m.seq);
            const want = Array.from({ length: ack.head - sinceSeq }, (_, i) => sinceSeq + 1 + i);
            if (JSON.stringify(seqs) !== JSON.stringify(want)) this.violations.push(`ack from ${sinceSeq}: missed ${seqs.join(',')} is not (${sinceSeq}, ${ack.head}]`);
            for (const m of ack.missed) this.accept(m);
            if (ack.hasMore) return subscribe();
            live = true;
            expected = ack.head + 1;
            conn = { replica: replicaId, sinceSeq, head: ack.head, live: 0, at: Date.now() };
            this.connections.push(conn);
            this.socket = socket;
            this.replicas.push(replicaId);
            socket.once('disconnect', () => {
              if (this.closed) return;
              this.reconnects++;
              void this.connectAny();
            });
            resolve();
          });
        };
        subscribe();
      });
    });
  }
}
