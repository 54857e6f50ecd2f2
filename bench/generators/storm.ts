// Clients that keep the delivery promise (docs/CONTRACT.md §6): order by seq,
// drop a seq already held, and after any reconnect resubscribe with sinceSeq =
// the highest seq held without a gap, paging history over REST while hasMore.
// Used by the reconnect storm: each records when it was dropped, when it was
// resubscribed, and when it held everything stored before it came back.
// BaselineStormJob: the same fault seen by clients of a socket.io baseline.
import http from 'node:http';
import { io } from 'socket.io-client';
import { isBenchBody } from './body.js';
import { connectSocket, emitAck, inBatches, sleep, type Sock } from './clients.js';
import { type MessagesPage, request } from './http.js';
import type { Job } from './protocol.js';
import { ChannelSeqTracker, PerPublisherSeq } from './storm-seq.js';

/**
 * Attaches client i to a server other than the first (the one the storm
 * kills) until it succeeds or the job closes, counting each attempt and
 * marking the client as reattaching meanwhile. Client i prefers server
 * 1 + i % survivors, to spread the survivors' load; between attempts it waits
 * as socket.io-client's own backoff does, roughly 0.1 s growing to 2 s, with jitter.
 */
async function reattachToSurvivor(c: { reattaching: boolean; reconnects: number }, i: number, servers: number, closed: () => boolean, attach: (urlIndex: number) => Promise<void>): Promise<void> {
  const others = servers - 1;
  c.reattaching = true;
  try {
    for (let attempt = 0; !closed(); attempt++) {
      c.reconnects++;
      try {
        return await attach(others > 0 ? 1 + ((i + attempt) % others) : 0);
      } catch {
        await sleep(Math.min(100 * 2 ** Math.min(attempt, 5), 2000) * (0.5 + Math.random()));
      }
    }
  } finally {
    c.reattaching = false;
  }
}

export interface StormArgs {
  /** urls[0] is where every client starts; after a drop they try the others. */
  urls: string[];
  tokens: string[];
  count: number;
  channelId: string;
  startSeq: number;
}

class Client extends ChannelSeqTracker {
  socket?: Sock;
  droppedAt?: number;
  resubAt?: number;
  headAtResub?: number;
  caughtUpAt?: number;
  reconnects = 0;
  /** One reconnect loop at a time: a failed attempt's own disconnect must not start another. */
  reattaching = false;

  override take(seq: number, live: boolean): void {
    super.take(seq, live);
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

  private reattach(i: number): Promise<void> {
    const c = this.clients[i];
    return reattachToSurvivor(
      c,
      i,
      this.args.urls.length,
      () => this.closed,
      (urlIndex) => {
        c.socket?.close();
        return this.attach(i, urlIndex);
      },
    );
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
        const missing = c.missingUpTo(finalSeq);
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

export interface BaselineStormArgs {
  /** urls[0] is where every client starts (a baseline server, or a proxy in front of one); after a drop they try the others. */
  urls: string[];
  count: number;
  /** The room (channel id) every client joins. */
  channelId: string;
  /** The publisher's step tag: only its bodies are counted. */
  tag: string;
  /** Reconnect as socket.io-client itself would with connection state recovery: the old session id and last offset in the CONNECT packet. */
  recover: boolean;
}

/** socket.io-client keeps these private: the session id and the offset of the last packet, sent back on reconnection. */
type RecoverySlots = { _pid?: string; _lastOffset?: string };
const slots = (s: Sock) => s as unknown as RecoverySlots;

class BaselineClient {
  seq = new PerPublisherSeq();
  socket?: Sock;
  droppedAt?: number;
  recovered = false;
  /** Which of the other servers it got back on (1 or 2: urls[1] or urls[2]). */
  backOn?: number;
  reconnects = 0;
  reattaching = false;
}

/**
 * Baseline clients of the reconnect storm: join the room; after a drop,
 * connect to another server and join again, or (recover) present the old
 * session to it and count on connection state recovery to restore the room
 * and replay what was missed. A new connection to another URL is what a load
 * balancer gives a reconnecting client; socket.io-client's own reconnection
 * retries only its first URL, so the session id and offset are carried over
 * by hand, as its reconnection would carry them. The first attempt is at
 * once, as the hub's storm clients do (socket.io-client would wait ~1 s
 * first; tried here with 2,000 clients, recovery did not do better).
 */
export class BaselineStormJob implements Job {
  private clients: BaselineClient[] = [];
  private closed = false;

  constructor(private readonly args: BaselineStormArgs) {}

  async start(): Promise<unknown> {
    const a = this.args;
    this.clients = Array.from({ length: a.count }, () => new BaselineClient());
    const errors = await inBatches(a.count, 50, (i) => this.attach(i, 0));
    return { connected: a.count - errors.length, failed: errors.length, firstError: errors[0] };
  }

  private async attach(i: number, urlIndex: number): Promise<void> {
    const a = this.args;
    const c = this.clients[i];
    const previous = c.socket && slots(c.socket);
    const socket = io(a.urls[urlIndex], { transports: ['websocket'], reconnection: false, forceNew: true, timeout: 20_000, autoConnect: false });
    if (a.recover && previous?._pid) {
      slots(socket)._pid = previous._pid;
      slots(socket)._lastOffset = previous._lastOffset;
    }
    c.socket = socket;
    // Before connecting: a recovered session's missed packets are delivered before the connect event.
    socket.on('message:created', (m: { channelId: string; body: unknown }) => {
      if (m.channelId === a.channelId && isBenchBody(m.body) && m.body.s === a.tag) c.seq.take(m.body.s, m.body.n, Date.now());
    });
    socket.on('disconnect', () => {
      if (this.closed || c.socket !== socket || c.reattaching) return;
      c.droppedAt ??= Date.now();
      void this.reattach(i);
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('session', () => resolve());
      socket.once('connect_error', (e) => {
        socket.close();
        reject(e);
      });
      socket.connect();
    });
    if (urlIndex > 0) c.backOn = urlIndex;
    if (socket.recovered) c.recovered = true;
    else {
      const ack = await emitAck(socket, 'channel:subscribe', { channelId: a.channelId }).catch((e: Error) => ({ ok: false as const, error: e.message }));
      if (!ack.ok) {
        socket.close();
        throw new Error(`subscribe refused: ${JSON.stringify(ack.error)}`);
      }
    }
    if (c.droppedAt !== undefined) c.seq.back(Date.now());
  }

  private reattach(i: number): Promise<void> {
    const c = this.clients[i];
    return reattachToSurvivor(
      c,
      i,
      this.args.urls.length,
      () => this.closed,
      (urlIndex) => this.attach(i, urlIndex),
    );
  }

  async call(name: string, args: unknown): Promise<unknown> {
    if (name !== 'status') throw new Error(`baseline-storm: unknown command ${name}`);
    const { acked } = (args ?? {}) as { acked?: number[] };
    const s: BaselineStormStatus = {
      clients: this.clients.length,
      connected: 0,
      dropped: 0,
      back: 0,
      recovered: 0,
      backOnSecond: 0,
      backOnThird: 0,
      recoveredOnSecond: 0,
      recoveredOnThird: 0,
      caughtUp: 0,
      dups: 0,
      ooo: 0,
      lost: 0,
      lostOnRecovered: 0,
      missingNotBack: 0,
      holdingAll: 0,
      backMs: [],
      caughtUpMs: [],
      reconnects: 0,
    };
    for (const c of this.clients) {
      const q = c.seq;
      if (c.socket?.connected) s.connected++;
      if (c.droppedAt !== undefined) s.dropped++;
      if (c.recovered) s.recovered++;
      if (c.backOn === 1) s.backOnSecond++;
      if (c.backOn === 2) s.backOnThird++;
      if (c.recovered && c.backOn === 1) s.recoveredOnSecond++;
      if (c.recovered && c.backOn === 2) s.recoveredOnThird++;
      if (q.backAt !== undefined && c.droppedAt !== undefined) {
        s.back++;
        s.backMs.push(q.backAt - c.droppedAt);
      }
      if (q.caughtUpAt !== undefined && c.droppedAt !== undefined) {
        s.caughtUp++;
        s.caughtUpMs.push(q.caughtUpAt - c.droppedAt);
      }
      s.dups += q.dups;
      s.ooo += q.ooo;
      s.reconnects += c.reconnects;
      if (acked) {
        const missing = q.missing(this.args.tag, acked);
        // A client that never got back cannot have caught up: its gap is unavailability, not loss.
        if (c.droppedAt !== undefined && q.backAt === undefined) s.missingNotBack += missing;
        else s.lost += missing;
        if (c.recovered) s.lostOnRecovered += missing;
        if (missing === 0) s.holdingAll++;
      }
    }
    return s;
  }

  async stop(): Promise<void> {
    this.closed = true;
    for (const c of this.clients) c.socket?.close();
  }
}

export interface BaselineStormStatus {
  clients: number;
  connected: number;
  dropped: number;
  /** Joined the room again (or recovered into it) after the drop. */
  back: number;
  /** Back through connection state recovery (socket.recovered === true). */
  recovered: number;
  /** Back on urls[1] (the publisher's server) / urls[2], and of those, recovered. */
  backOnSecond: number;
  backOnThird: number;
  recoveredOnSecond: number;
  recoveredOnThird: number;
  caughtUp: number;
  dups: number;
  ooo: number;
  lost: number;
  /** Of `lost`, what clients that were recovered still miss. */
  lostOnRecovered: number;
  missingNotBack: number;
  holdingAll: number;
  backMs: number[];
  caughtUpMs: number[];
  reconnects: number;
}
