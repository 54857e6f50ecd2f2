import { io } from 'socket.io-client';
import type { ClientSocket } from '../../support/client.js';

/**
 * A client as SPEC.md's delivery promise describes it: orders by seq, drops a
 * seq it holds, and after any reconnect resubscribes with sinceSeq = the
 * highest seq it holds without a gap (paging the rest over REST). `urls` are
 * tried in turn, so losing a replica moves it to the next live one.
 */
export class Subscriber {
  readonly held = new Map<number, any>();
  readonly replicas: string[] = [];
  duplicates = 0;
  reconnects = 0;
  socket?: ClientSocket;
  private closed = false;
  private waiters: Array<() => void> = [];

  constructor(
    private readonly urls: () => string[],
    private readonly token: string,
    private readonly channelId: string,
    private readonly opts: Record<string, unknown> = { transports: ['websocket'] },
  ) {}

  /** Highest seq such that every seq up to it is held. */
  get contiguous(): number {
    let n = 0;
    while (this.held.has(n + 1)) n++;
    return n;
  }

  async start(startAt = 0): Promise<void> {
    await this.connectAny(startAt === 0 ? undefined : startAt);
  }

  waitFor(seqs: number, ms: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`holds ${this.contiguous}/${seqs} contiguous (${this.held.size} total) after ${ms} ms; replicas ${this.replicas.join(',')}`)), ms);
      const check = () => {
        if (this.contiguous >= seqs) {
          clearTimeout(timer);
          resolve();
          return true;
        }
        return false;
      };
      if (!check()) this.waiters.push(() => void check());
    });
  }

  close() {
    this.closed = true;
    this.socket?.close();
  }

  private take(m: any) {
    if (m.channelId !== this.channelId) return;
    if (this.held.has(m.seq)) this.duplicates++;
    else this.held.set(m.seq, m);
    for (const w of this.waiters) w();
  }

  private async connectAny(sinceSeq?: number): Promise<void> {
    for (let attempt = 0; !this.closed; attempt++) {
      const urls = this.urls();
      const url = urls[attempt % urls.length];
      try {
        await this.connectTo(url, sinceSeq);
        return;
      } catch {
        await new Promise((r) => setTimeout(r, Math.min(50 * attempt, 500)));
      }
    }
  }

  private connectTo(url: string, sinceSeq?: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const socket: ClientSocket = io(url, { auth: { token: this.token }, reconnection: false, forceNew: true, timeout: 3_000, ...this.opts });
      socket.on('message:created', (m) => this.take(m));
      socket.once('connect_error', (e) => {
        socket.close();
        reject(e);
      });
      socket.once('session', async ({ replicaId }) => {
        try {
          const subscribe = (since?: number) =>
            (socket as any).timeout(5_000).emitWithAck('channel:subscribe', { channelId: this.channelId, ...(since === undefined ? {} : { sinceSeq: since }) });
          let ack = await subscribe(sinceSeq);
          // More than one page missed: ask again from what is now held.
          for (;;) {
            if (!ack.ok) throw new Error(JSON.stringify(ack.error));
            ack.missed.forEach((m: any) => this.take(m));
            if (!ack.hasMore) break;
            ack = await subscribe(this.contiguous);
          }
          this.socket = socket;
          this.replicas.push(replicaId);
          socket.once('disconnect', () => {
            if (this.closed) return;
            this.reconnects++;
            void this.connectAny(this.contiguous);
          });
          resolve();
        } catch (e) {
          socket.close();
          reject(e);
        }
      });
    });
  }
}
