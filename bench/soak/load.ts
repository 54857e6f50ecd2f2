// The soak's traffic: subscribers that follow CONTRACT §6's rule (after any
// reconnect, subscribe again with the highest seq held), publishers over REST,
// and churn (one client at a time drops its connection and resumes). Whatever
// replica a client loses, it moves to the next live one.
import { io, type Socket } from 'socket.io-client';
import type { MessageDto } from '../../src/events/dto.js';
import type { Ack, SubscribeResult } from '../../src/events/events.js';
import { nowMs } from '../histogram.js';

export interface LoadCounters {
  delivered: number;
  reconnects: number;
  published: number;
  publishRetries: number;
  /** A gap, a repeat or a message before the ack: the delivery promise broken. */
  violations: string[];
}

class SoakClient {
  private socket?: Socket;
  private highest = 0;
  private closed = false;
  private attempt = 0;

  constructor(
    private readonly n: number,
    private readonly urls: () => string[],
    private readonly token: string,
    private readonly channelId: string,
    private readonly load: SoakLoad,
  ) {}

  start(sinceSeq: number) {
    this.highest = sinceSeq;
    this.connect();
  }

  /** Drops the connection as a flaky network would; the client resumes on its own. */
  drop() {
    this.socket?.disconnect();
  }

  close() {
    this.closed = true;
    this.socket?.close();
  }

  private connect() {
    if (this.closed) return;
    const urls = this.urls();
    if (urls.length === 0) return void setTimeout(() => this.connect(), 200);
    const url = urls[(this.n + this.attempt++) % urls.length];
    const socket: Socket = io(url, { auth: { token: this.token }, transports: ['websocket'], reconnection: false, forceNew: true, timeout: 5_000 });
    this.socket = socket;
    let live = false;
    let retried = false;
    const again = () => {
      if (retried || this.closed) return;
      retried = true;
      socket.close();
      this.load.counters.reconnects++;
      setTimeout(() => this.connect(), 100 + Math.random() * 200);
    };
    socket.on('connect_error', again);
    socket.on('disconnect', again);
    socket.on('message:created', (m: MessageDto) => {
      if (m.channelId !== this.channelId) return;
      if (!live) return this.load.violation(`client ${this.n}: seq ${m.seq} before the ack`);
      if (m.seq !== this.highest + 1) return this.load.violation(`client ${this.n}: expected ${this.highest + 1}, got ${m.seq}`);
      this.highest = m.seq;
      this.load.delivered(m);
    });
    socket.once('session', () => {
      const subscribe = () => {
        const sinceSeq = this.highest;
        socket.timeout(10_000).emit('channel:subscribe', { channelId: this.channelId, sinceSeq }, (err: Error | null, ack: Ack<SubscribeResult> | undefined) => {
          if (err || !ack?.ok) return again();
          for (const m of ack.missed) {
            if (m.seq !== this.highest + 1) this.load.violation(`client ${this.n}: missed has ${m.seq} after ${this.highest}`);
            this.highest = m.seq;
          }
          if (ack.hasMore) return subscribe();
          live = true;
        });
      };
      subscribe();
    });
  }
}

export class SoakLoad {
  readonly counters: LoadCounters = { delivered: 0, reconnects: 0, published: 0, publishRetries: 0, violations: [] };
  /** Stored (createdAt) to received, ms, since the last take(). */
  private lags: number[] = [];
  private readonly clients: SoakClient[] = [];
  private timers: NodeJS.Timeout[] = [];
  private publishing = 0;
  private stopped = false;

  constructor(
    private readonly urls: () => string[],
    private readonly token: string,
    private readonly channels: string[],
  ) {}

  delivered(m: MessageDto) {
    this.counters.delivered++;
    this.lags.push(nowMs() - Date.parse(m.createdAt));
  }

  violation(what: string) {
    if (this.counters.violations.length < 100) this.counters.violations.push(what);
  }

  /** Delivery lags since the previous call. */
  take(): number[] {
    const out = this.lags;
    this.lags = [];
    return out;
  }

  start(clients: number, ratePerS: number, churnEveryMs: number) {
    for (let i = 0; i < clients; i++) {
      const c = new SoakClient(i, this.urls, this.token, this.channels[i % this.channels.length], this);
      this.clients.push(c);
      c.start(0);
    }
    let i = 0;
    if (ratePerS > 0) this.timers.push(setInterval(() => void this.publish(i++), 1000 / ratePerS));
    if (churnEveryMs > 0) this.timers.push(setInterval(() => this.clients[Math.floor(Math.random() * this.clients.length)]?.drop(), churnEveryMs));
  }

  /** One message, retried with its clientMsgId on the next replica until stored (a restart may be under way). */
  private async publish(i: number) {
    if (this.publishing > 50) return;
    this.publishing++;
    const channelId = this.channels[i % this.channels.length];
    try {
      for (let attempt = 0; !this.stopped && attempt < 100; attempt++) {
        const urls = this.urls();
        const url = urls[(i + attempt) % Math.max(1, urls.length)];
        if (url) {
          const ok = await fetch(`${url}/api/channels/${channelId}/messages`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${this.token}` },
            body: JSON.stringify({ body: { i, pad: 'p'.repeat(200) }, clientMsgId: `soak-${i}` }),
            signal: AbortSignal.timeout(5_000),
          }).then(
            (r) => r.status === 201 || r.status === 200,
            () => false,
          );
          if (ok) {
            this.counters.published++;
            return;
          }
        }
        this.counters.publishRetries++;
        await new Promise((r) => setTimeout(r, 200));
      }
    } finally {
      this.publishing--;
    }
  }

  stop() {
    this.stopped = true;
    this.timers.forEach(clearInterval);
    for (const c of this.clients) c.close();
  }
}
