// Clients that keep the delivery promise (docs/CONTRACT.md §6): order by seq,
// drop a seq already held, and after any reconnect resubscribe with sinceSeq =
// the highest seq held without a gap, paging history over REST while hasMore.
// Used by the reconnect storm: each records when it was dropped, when it was
// resubscribed, and when it held everything stored before it came back.
import http from 'node:http';
import { connectSocket, emitAck, inBatches, Seen, sleep, type Sock } from './clients.js';
import { type MessagesPage, request } from './http.js';
import type { Job } from './protocol.js';

export interface StormArgs {
  /** urls[0] is where every client starts; after a drop they try the others. */
  urls: string[];
  tokens: string[];
  count: number;
  channelId: string;
  startSeq: number;
}

class Client {
  held = new Seen();
  contiguous: number;
  maxSeen: number;
  dups = 0;
  ooo = 0;
  socket?: Sock;
  droppedAt?: number;
  resubAt?: number;
  headAtResub?: number;
  caughtUpAt?: number;
  reconnects = 0;
  /** One reconnect loop at a time: a failed attempt's own disconnect must not start another. */
  reattaching = false;

  constructor(startSeq: number) {
    this.contiguous = startSeq;
    this.maxSeen = startSeq;
  }

  take(seq: number, live: boolean): void {
    if (seq <= this.contiguous || this.held.has(seq)) {
      this.dups++;
      return;
    }
    if (live && seq < this.maxSeen) this.ooo++;
    this.maxSeen = Math.max(this.maxSeen, seq);
    this.held.add(seq);
    while (this.held.has(this.contiguous + 1)) this.contiguous++;
    if (this.headAtResub !== undefined && this.caughtUpAt === undefined && this.contiguous >= this.headAtResub) this.caughtUpAt = Date.now();
  }
}

export class StormJob implements Job {
  private clients: Client[] = [];
  private closed = false;
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 32 });

  constructor(private readonly args: StormArgs) {}

  async start(): Promise<unknown> {
    const a = this.args;
    this.clients = Array.from({ length: a.count }, () => new Client(a.startSeq));
    const errors = await inBatches(a.count, 50, (i) => this.attach(i, 0));
    return { connected: a.count - errors.length, failed: errors.length, firstError: errors[0] };
  }

  private async attach(i: number, urlIndex: number): Promise<void> {
    const a = this.args;
    const c = this.clients[i];
    const socket = await connectSocket(a.urls[urlIndex], a.tokens[i % a.tokens.length]);
    c.socket = socket;
    socket.on('message:created', (m: { channelId: string; seq: number }) => m.channelId === a.channelId && c.take(m.seq, true));
    socket.on('disconnect', () => {
      if (this.closed || c.socket !== socket || c.reattaching) return;
      c.droppedAt ??= Date.now();
      void this.reattach(i);
    });
    const ack = await emitAck(socket, 'channel:subscribe', { channelId: a.channelId, sinceSeq: c.contiguous });
    if (!ack?.ok) throw new Error(`subscribe refused: ${JSON.stringify(ack?.error)}`);
    const head = ack.channel.lastSeq;
    for (const m of ack.missed) c.take(m.seq, false);
    let more = ack.hasMore;
    while (more && c.contiguous < head) {
      const r = await request(`${a.urls[urlIndex]}/api/channels/${a.channelId}/messages?afterSeq=${c.contiguous}&limit=500`, {
        method: 'GET',
        token: a.tokens[i % a.tokens.length],
        agent: this.agent,
      });
      if (r.status !== 200) throw new Error(`history HTTP ${r.status}`);
      const page = r.body as MessagesPage;
      for (const m of page.items) c.take(m.seq, false);
      more = page.items.length > 0;
    }
    if (c.droppedAt !== undefined) {
      c.resubAt = Date.now();
      c.headAtResub = head;
      if (c.contiguous >= head) c.caughtUpAt ??= Date.now();
    }
  }

  private async reattach(i: number): Promise<void> {
    const c = this.clients[i];
    c.reattaching = true;
    const others = this.args.urls.length - 1;
    try {
      for (let attempt = 0; !this.closed; attempt++) {
        // Spread the survivors' load: client i prefers replica 1 + i % others.
        const urlIndex = others > 0 ? 1 + ((i + attempt) % others) : 0;
        try {
          c.reconnects++;
          c.socket?.close();
          await this.attach(i, urlIndex);
          return;
        } catch {
          // socket.io-client's own backoff, roughly: 0.1 s growing to 2 s, with jitter.
          await sleep(Math.min(100 * 2 ** Math.min(attempt, 5), 2000) * (0.5 + Math.random()));
        }
      }
    } finally {
      c.reattaching = false;
    }
  }

  async call(name: string, args: unknown): Promise<unknown> {
    if (name !== 'status') throw new Error(`storm: unknown command ${name}`);
    const { finalSeq } = (args ?? {}) as { finalSeq?: number };
    const s = {
      clients: this.clients.length,
      connected: 0,
      dropped: 0,
      resubscribed: 0,
      caughtUp: 0,
      dups: 0,
      ooo: 0,
      lost: 0,
      missingNotBack: 0,
      holdingAll: 0,
      resubMs: [] as number[],
      caughtUpMs: [] as number[],
      reconnects: 0,
    };
    for (const c of this.clients) {
      if (c.socket?.connected) s.connected++;
      if (c.droppedAt !== undefined) s.dropped++;
      if (c.resubAt !== undefined) {
        s.resubscribed++;
        s.resubMs.push(c.resubAt - c.droppedAt!);
      }
      if (c.caughtUpAt !== undefined) {
        s.caughtUp++;
        s.caughtUpMs.push(c.caughtUpAt - c.droppedAt!);
      }
      s.dups += c.dups;
      s.ooo += c.ooo;
      s.reconnects += c.reconnects;
      if (finalSeq !== undefined) {
        let missing = 0;
        for (let seq = c.contiguous + 1; seq <= finalSeq; seq++) if (!c.held.has(seq)) missing++;
        // A client that never got back cannot have caught up: its gap is unavailability, not loss.
        if (c.droppedAt !== undefined && c.resubAt === undefined) s.missingNotBack += missing;
        else s.lost += missing;
        if (missing === 0) s.holdingAll++;
      }
    }
    return s;
  }

  async stop(): Promise<void> {
    this.closed = true;
    for (const c of this.clients) c.socket?.close();
    this.agent.destroy();
  }
}
