// Clients that arrive on a schedule and record what a crowd costs the server:
// each client's handshake (connect + subscribe, timed from its scheduled start
// in an open loop, so a server that falls behind is charged for the queue),
// the presence events it hears, the presence list its subscribe ack carries,
// and the messages it receives (collected in subscribers.ts's shape, so a
// delivery step can read either job).
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { encode, newHistogram, nowMs, recordMs } from '../histogram.js';
import { isBenchBody } from './body.js';
import { Counts, connectSocket, emitAck, inBatches, Seen, sleep, type Sock } from './clients.js';
import type { Job } from './protocol.js';
import type { SubscribersStats } from './subscribers.js';

export interface CrowdArgs {
  urls: string[];
  /** One per client this job will ever open (hub); none for the baseline. */
  tokens?: string[];
  /** This job's k-th client (over the `connect` calls since the last `close`) subscribes to channelIds[k % length] on urls[k % length]. */
  channelIds: string[];
}

export interface ConnectArgs {
  count: number;
  /** Open loop: connects started per second, each on its schedule; absent: closed loop, `width` at a time. */
  rate?: number;
  width?: number;
}

export interface ConnectStats {
  connected: number;
  failed: number;
  firstError?: string;
  /** Handshake = scheduled start (open loop) or actual start (closed loop) → subscribe ack; HDR, encoded. */
  hist: string;
  /** First start → last answer (ack or failure). */
  elapsedMs: number;
  /** Open loop: connects this process started more than 100 ms after their scheduled time (its own lag). */
  lateStarts: number;
  lagP99Ms: number;
  /** Users listed in the subscribe acks' presence lists, summed and at most, over this call's clients. */
  presenceListed: number;
  presenceListedMax: number;
}

export interface PresenceStats {
  clients: number;
  joined: number;
  left: number;
  /** Presence events per client, ascending (the orchestrator merges the processes' lists). */
  perClient: number[];
}

class Client {
  presence = 0;
  seen = new Seen();
  lastSeq = -1;
  constructor(readonly socket: Sock) {}
}

const LATE_START_MS = 100;

export class CrowdJob implements Job {
  private clients: Client[] = [];
  private opened = 0;
  private tag = '';
  private hist = newHistogram();
  private counts = new Counts();
  private received = 0;
  private dups = 0;
  private ooo = 0;
  private disconnects = 0;
  private joined = 0;
  private left = 0;
  private readonly lag = monitorEventLoopDelay({ resolution: 10 });

  constructor(private readonly args: CrowdArgs) {}

  start(): Promise<unknown> {
    return Promise.resolve({ ready: true });
  }

  private async open(k: number): Promise<number> {
    const a = this.args;
    const socket = await connectSocket(a.urls[k % a.urls.length], a.tokens?.[k]);
    const c = new Client(socket);
    this.clients.push(c);
    socket.on('presence:joined', () => (c.presence++, this.joined++));
    socket.on('presence:left', () => (c.presence++, this.left++));
    socket.on('message:created', (m: { seq: number; body: unknown }) => this.take(c, m));
    socket.on('disconnect', () => this.disconnects++);
    const ack = await emitAck(socket, 'channel:subscribe', { channelId: a.channelIds[k % a.channelIds.length] });
    if (!ack?.ok) throw new Error(`subscribe refused: ${JSON.stringify(ack?.error)}`);
    return ack.presence.length;
  }

  /**
   * Order is checked on the seq each message carries: one counter per channel
   * wherever one process assigns it (the hub always; the baseline with one server).
   */
  private take(c: Client, m: { seq: number; body: unknown }): void {
    const body = m.body;
    if (!isBenchBody(body) || body.s !== this.tag) return;
    recordMs(this.hist, nowMs() - body.t);
    if (c.seen.has(body.n)) {
      this.dups++;
      return;
    }
    c.seen.add(body.n);
    if (m.seq <= c.lastSeq) this.ooo++;
    c.lastSeq = m.seq;
    this.counts.add(body.n);
    this.received++;
  }

  private async connect(o: ConnectArgs): Promise<ConnectStats> {
    const hist = newHistogram();
    const errors: string[] = [];
    let listed = 0;
    let listedMax = 0;
    let lateStarts = 0;
    this.lag.reset();
    this.lag.enable();
    const one = async (startedAt: number) => {
      const k = this.opened++;
      try {
        const n = await this.open(k);
        recordMs(hist, performance.now() - startedAt);
        listed += n;
        listedMax = Math.max(listedMax, n);
      } catch (e) {
        errors.push((e as Error).message);
      }
    };
    const t0 = performance.now();
    if (o.rate) {
      const pending: Promise<void>[] = [];
      for (let i = 0; i < o.count; i++) {
        const due = t0 + (i * 1000) / o.rate;
        const wait = due - performance.now();
        if (wait > 1) await sleep(wait);
        if (performance.now() - due > LATE_START_MS) lateStarts++;
        pending.push(one(due));
      }
      await Promise.all(pending);
    } else {
      await inBatches(o.count, o.width ?? 50, () => one(performance.now()));
    }
    const elapsedMs = Math.round(performance.now() - t0);
    this.lag.disable();
    return {
      connected: o.count - errors.length,
      failed: errors.length,
      firstError: errors[0],
      hist: encode(hist),
      elapsedMs,
      lateStarts,
      lagP99Ms: Math.round(this.lag.percentile(99) / 1e4) / 100,
      presenceListed: listed,
      presenceListedMax: listedMax,
    };
  }

  private presence(): PresenceStats {
    return { clients: this.clients.length, joined: this.joined, left: this.left, perClient: this.clients.map((c) => c.presence).sort((a, b) => a - b) };
  }

  async call(name: string, args: unknown): Promise<unknown> {
    if (name === 'connect') return this.connect(args as ConnectArgs);
    if (name === 'presence') return this.presence();
    if (name === 'close') {
      const n = this.clients.length;
      await this.stop();
      // The next connect starts over with the first token: the same users come back.
      this.opened = this.disconnects = this.joined = this.left = 0;
      return n;
    }
    if (name === 'reset') {
      this.tag = String(args);
      this.hist = newHistogram();
      this.counts = new Counts();
      for (const c of this.clients) {
        c.seen = new Seen();
        c.lastSeq = -1;
      }
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
        open: this.clients.filter((c) => c.socket.connected).length,
        lagP99Ms: Math.round(this.lag.percentile(99) / 1e4) / 100,
        // One channel, one seq counter (the hub; the baseline with one server): the per-client seq is the order promised.
        order: 'seq',
        // First receipts are the fan-out scenario's figure; a crowd does not record them.
        firstMs: [],
      };
      this.lag.disable();
      return stats;
    }
    if (name === 'received') return this.received;
    throw new Error(`crowd: unknown command ${name}`);
  }

  stop(): Promise<void> {
    for (const c of this.clients) c.socket.close();
    this.clients = [];
    return Promise.resolve();
  }
}
