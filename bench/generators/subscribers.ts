// Subscribed sockets (hub or baseline) that record, per step, the end-to-end
// latency of each `message:created` and which messages arrived, how often.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { encode, newHistogram, nowMs, recordMs } from '../histogram.js';
import { isBenchBody } from './body.js';
import { Counts, connectSocket, emitAck, inBatches, Seen, type Sock } from './clients.js';
import type { Job } from './protocol.js';

export interface SubscribersArgs {
  urls: string[];
  /** One per client (hub); none for the baseline. */
  tokens?: string[];
  count: number;
  /** Client i subscribes to channelIds[i % length]. */
  channelIds: string[];
  connectWidth?: number;
}

export interface SubscribersStats {
  tag: string;
  received: number;
  dups: number;
  ooo: number;
  /** counts[n] = how many clients got message n of the step. */
  counts: number[];
  hist: string;
  disconnects: number;
  open: number;
  /** This process's event-loop delay p99 over the step: high when the generator itself cannot keep up. */
  lagP99Ms: number;
}

export class SubscribersJob implements Job {
  private sockets: Sock[] = [];
  private tag = '';
  private hist = newHistogram();
  private counts = new Counts();
  private seen: Seen[] = [];
  private last: number[] = [];
  private received = 0;
  private dups = 0;
  private ooo = 0;
  private disconnects = 0;
  private readonly lag = monitorEventLoopDelay({ resolution: 10 });

  constructor(private readonly args: SubscribersArgs) {}

  async start(): Promise<unknown> {
    const a = this.args;
    const t0 = performance.now();
    const errors = await inBatches(a.count, a.connectWidth ?? 50, async (i) => {
      const socket = await connectSocket(a.urls[i % a.urls.length], a.tokens?.[i]);
      this.sockets.push(socket);
      const idx = this.sockets.length - 1;
      socket.on('message:created', (m: { body: unknown }) => this.take(idx, m.body));
      socket.on('disconnect', () => this.disconnects++);
      const ack = await emitAck(socket, 'channel:subscribe', { channelId: a.channelIds[i % a.channelIds.length] });
      if (!ack?.ok) throw new Error(`subscribe refused: ${JSON.stringify(ack?.error)}`);
    });
    return { connected: this.sockets.length, failed: errors.length, firstError: errors[0], ms: Math.round(performance.now() - t0) };
  }

  private take(client: number, body: unknown): void {
    if (!isBenchBody(body) || body.s !== this.tag) return;
    recordMs(this.hist, nowMs() - body.t);
    const seen = (this.seen[client] ??= new Seen());
    if (seen.has(body.n)) {
      this.dups++;
      return;
    }
    seen.add(body.n);
    if (body.n < (this.last[client] ?? -1)) this.ooo++;
    this.last[client] = body.n;
    this.counts.add(body.n);
    this.received++;
  }

  async call(name: string, args: unknown): Promise<unknown> {
    if (name === 'reset') {
      this.tag = String(args);
      this.hist = newHistogram();
      this.counts = new Counts();
      this.seen = [];
      this.last = [];
      this.received = this.dups = this.ooo = 0;
      this.lag.reset();
      this.lag.enable();
      return null;
    }
    if (name === 'collect') {
      const stats: SubscribersStats = {
        tag: this.tag,
        received: this.received,
        dups: this.dups,
        ooo: this.ooo,
        counts: this.counts.toArray(),
        hist: encode(this.hist),
        disconnects: this.disconnects,
        open: this.sockets.filter((s) => s.connected).length,
        lagP99Ms: Math.round(this.lag.percentile(99) / 1e4) / 100,
      };
      this.lag.disable();
      return stats;
    }
    if (name === 'received') return this.received;
    throw new Error(`subscribers: unknown command ${name}`);
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.close();
    this.sockets = [];
  }
}
