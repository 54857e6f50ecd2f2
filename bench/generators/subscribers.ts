// Subscribed sockets (hub or baseline) that record, per step, the end-to-end
// latency of each `message:created`, which messages arrived, how often, in
// what order, and how soon each reached its first receiver here.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { encode, newHistogram, nowMs, recordMs } from '../histogram.js';
import { isBenchBody } from './body.js';
import { Counts, connectSocket, emitAck, inBatches, Seen, type Sock } from './clients.js';
import { OrderCheck, orderKey, type OrderRule } from './order.js';
import type { Job } from './protocol.js';

export interface SubscribersArgs {
  urls: string[];
  /** One per client (hub); none for the baseline. */
  tokens?: string[];
  count: number;
  /** Client i subscribes to channelIds[i % length]. */
  channelIds: string[];
  connectWidth?: number;
  /** Which order is checked (order.ts): 'seq' where there are tokens (the hub), else 'publisher'. */
  order?: OrderRule;
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
  /** The rule `ooo` was counted by. */
  order: OrderRule;
  /** firstMs[n] = ms from message n's send time to its first receipt on any socket of this job; -1 when none got it. */
  firstMs: number[];
}

/** Per message index, the earliest latency seen (ms). */
class FirstReceipt {
  private ms = new Float64Array(1024).fill(-1);
  private max = -1;
  add(n: number, ms: number): void {
    if (n >= this.ms.length) {
      const grown = new Float64Array(Math.max(this.ms.length * 2, n + 1)).fill(-1);
      grown.set(this.ms);
      this.ms = grown;
    }
    if (this.ms[n] < 0 || ms < this.ms[n]) this.ms[n] = ms;
    if (n > this.max) this.max = n;
  }
  toArray(): number[] {
    return Array.from(this.ms.subarray(0, this.max + 1), (v) => (v < 0 ? -1 : Math.round(v * 1000) / 1000));
  }
}

export class SubscribersJob implements Job {
  private sockets: Sock[] = [];
  private tag = '';
  private hist = newHistogram();
  private counts = new Counts();
  private seen: Seen[] = [];
  private order = new OrderCheck();
  private first = new FirstReceipt();
  private received = 0;
  private dups = 0;
  private disconnects = 0;
  private readonly lag = monitorEventLoopDelay({ resolution: 10 });
  private readonly rule: OrderRule;

  constructor(private readonly args: SubscribersArgs) {
    this.rule = args.order ?? (args.tokens ? 'seq' : 'publisher');
  }

  async start(): Promise<unknown> {
    const a = this.args;
    const t0 = performance.now();
    let retried = 0;
    const errors = await inBatches(a.count, a.connectWidth ?? 50, async (i) => {
      const socket = await connectSocket(a.urls[i % a.urls.length], a.tokens?.[i]);
      this.sockets.push(socket);
      const idx = this.sockets.length - 1;
      socket.on('message:created', (m: { body: unknown; seq?: unknown; channelId?: unknown }) => this.take(idx, m));
      socket.on('disconnect', () => this.disconnects++);
      const channelId = a.channelIds[i % a.channelIds.length];
      let ack = await emitAck(socket, 'channel:subscribe', { channelId });
      // UNAVAILABLE says "try again shortly" (the database was slow on a busy machine): a client retries, so does the rig, a few times, backing off.
      for (let k = 0; k < 5 && (ack as { error?: { code?: string } } | undefined)?.error?.code === 'UNAVAILABLE'; k++) {
        retried++;
        await new Promise((r) => setTimeout(r, 250 * 2 ** k));
        ack = await emitAck(socket, 'channel:subscribe', { channelId });
      }
      if (!ack?.ok) throw new Error(`subscribe refused: ${JSON.stringify(ack?.error)}`);
    });
    return { connected: this.sockets.length, failed: errors.length, firstError: errors[0], subscribeRetries: retried, ms: Math.round(performance.now() - t0) };
  }

  private take(client: number, m: { body: unknown; seq?: unknown; channelId?: unknown }): void {
    const body = m.body;
    if (!isBenchBody(body) || body.s !== this.tag) return;
    const ms = nowMs() - body.t;
    recordMs(this.hist, ms);
    const seen = (this.seen[client] ??= new Seen());
    if (seen.has(body.n)) {
      this.dups++;
      return;
    }
    seen.add(body.n);
    const o = orderKey(this.rule, { seq: m.seq, channelId: m.channelId, body });
    if (o) this.order.take(client, o.key, o.value);
    this.first.add(body.n, ms);
    this.counts.add(body.n);
    this.received++;
  }

  async call(name: string, args: unknown): Promise<unknown> {
    if (name === 'reset') {
      this.tag = String(args);
      this.hist = newHistogram();
      this.counts = new Counts();
      this.seen = [];
      this.order = new OrderCheck();
      this.first = new FirstReceipt();
      this.received = this.dups = 0;
      this.lag.reset();
      this.lag.enable();
      return null;
    }
    if (name === 'collect') {
      const stats: SubscribersStats = {
        tag: this.tag,
        received: this.received,
        dups: this.dups,
        ooo: this.order.outOfOrder,
        counts: this.counts.toArray(),
        hist: encode(this.hist),
        disconnects: this.disconnects,
        open: this.sockets.filter((s) => s.connected).length,
        lagP99Ms: Math.round(this.lag.percentile(99) / 1e4) / 100,
        order: this.rule,
        firstMs: this.first.toArray(),
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
