// Publishers: `message:publish` with an ack over sockets (hub or baseline), or
// POST …/messages over keep-alive HTTP (hub). Open loop at a fixed rate, or
// closed loop with a fixed number in flight. Records the ack latency and
// which message indices were acknowledged (receivers' loss is counted against them).
// In the open loop every latency starts when the message was due by the
// schedule, not when this process got round to sending it: a publisher that
// falls behind must not hide the delay (coordinated omission).
import type http from 'node:http';
import type { MessageDto } from '../../src/events/dto.js';
import { encode, newHistogram, nowMs, recordMs } from '../histogram.js';
import { makeBody } from './body.js';
import { connectSocket, emitAck, sleep, type Sock } from './clients.js';
import { keepAliveAgent, request } from './http.js';
import type { Job } from './protocol.js';

export interface PublishersArgs {
  door: 'socket' | 'rest';
  urls: string[];
  /** Per connection (hub); none for the baseline. */
  tokens?: string[];
  /** Sockets (socket door) or HTTP connections (rest door). */
  connections: number;
  bodyBytes: number;
}

export interface RunArgs {
  tag: string;
  channelIds: string[];
  durationMs: number;
  /** Open loop: publishes per second. */
  rate?: number;
  /** Closed loop: publishes in flight. */
  concurrency?: number;
  /** Open loop: beyond this many awaiting their ack, a due publish is skipped (counted). */
  maxInFlight?: number;
}

export interface PublishStats {
  tag: string;
  sent: number;
  acked: number;
  errors: number;
  skipped: number;
  firstError?: string;
  ackedNs: number[];
  /** Acks per channel id (a loss check per channel). */
  perChannel: Record<string, number[]>;
  hist: string;
  elapsedMs: number;
  /** Highest seq acked per channel (hub). */
  lastSeq: Record<string, number>;
  /** Open loop: how late sends went out against the schedule (this process's own lag), p99 and max; null in a closed loop. */
  sendLagP99Ms: number | null;
  sendLagMaxMs: number | null;
  /** What latencies start from: 'schedule' (open loop) or 'send' (closed loop). */
  latencyFrom: 'schedule' | 'send';
}

export class PublishersJob implements Job {
  private sockets: Sock[] = [];
  private agent?: http.Agent;

  constructor(private readonly args: PublishersArgs) {}

  async start(): Promise<unknown> {
    const a = this.args;
    if (a.door === 'rest') {
      this.agent = keepAliveAgent(a.connections);
      return { connections: a.connections };
    }
    for (let i = 0; i < a.connections; i++) this.sockets.push(await connectSocket(a.urls[i % a.urls.length], a.tokens?.[i % (a.tokens.length || 1)]));
    return { connections: this.sockets.length };
  }

  private publishOne(tag: string, n: number, channelId: string, bytes: number, t: number): Promise<MessageDto> {
    const a = this.args;
    const clientMsgId = `${tag}-${process.pid}-${n}`;
    if (a.door === 'socket') {
      const k = n % this.sockets.length;
      const socket = this.sockets[k];
      const body = makeBody(t, tag, n, bytes, `${process.pid}.${k}`);
      return emitAck(socket, 'message:publish', { channelId, body, clientMsgId }).then((ack) => {
        if (!ack?.ok) throw new Error(`ack ${JSON.stringify(ack?.error)}`);
        return ack.message;
      });
    }
    const url = `${a.urls[n % a.urls.length]}/api/channels/${channelId}/messages`;
    // HTTP requests on a pool of connections keep no order among themselves: no publisher key.
    const body = makeBody(t, tag, n, bytes);
    return request(url, { method: 'POST', token: a.tokens?.[n % a.tokens.length], body: { body, clientMsgId }, agent: this.agent! }).then((r) => {
      if (r.status !== 201 && r.status !== 200) throw new Error(`HTTP ${r.status} ${JSON.stringify(r.body).slice(0, 200)}`);
      return r.body as MessageDto;
    });
  }

  private async run(r: RunArgs): Promise<PublishStats> {
    const hist = newHistogram();
    const lag = newHistogram();
    const stats: PublishStats = {
      tag: r.tag,
      sent: 0,
      acked: 0,
      errors: 0,
      skipped: 0,
      ackedNs: [],
      perChannel: {},
      hist: '',
      elapsedMs: 0,
      lastSeq: {},
      sendLagP99Ms: null,
      sendLagMaxMs: null,
      latencyFrom: r.rate ? 'schedule' : 'send',
    };
    let inFlight = 0;
    const pending = new Set<Promise<void>>();
    /** `due`: when the schedule wanted message n out (epoch ms), in an open loop. */
    const fire = (n: number, due?: number) => {
      const channelId = r.channelIds[n % r.channelIds.length];
      const now = nowMs();
      const t = due ?? now;
      if (due !== undefined) recordMs(lag, now - due);
      stats.sent++;
      inFlight++;
      const p = this.publishOne(r.tag, n, channelId, this.args.bodyBytes, t).then(
        (message: { seq?: number }) => {
          recordMs(hist, nowMs() - t);
          stats.acked++;
          stats.ackedNs.push(n);
          (stats.perChannel[channelId] ??= []).push(n);
          if (typeof message?.seq === 'number') stats.lastSeq[channelId] = Math.max(stats.lastSeq[channelId] ?? 0, message.seq);
        },
        (e: Error) => {
          stats.errors++;
          stats.firstError ??= e.message;
        },
      );
      const tracked = p.finally(() => {
        inFlight--;
        pending.delete(tracked);
      });
      pending.add(tracked);
      return tracked;
    };
    const t0 = performance.now();
    const end = t0 + r.durationMs;
    let n = 0;
    if (r.rate) {
      const maxInFlight = r.maxInFlight ?? 5000;
      const rate = r.rate;
      // Message k is due at t0 + k/rate; the loop wakes at the next one due, so a send is late only by the timer and this process's own load.
      const dueMs = (k: number) => t0 + (k * 1000) / rate;
      while (dueMs(n) < end) {
        const now = performance.now();
        for (; dueMs(n) <= now && dueMs(n) < end; n++) {
          if (inFlight >= maxInFlight) stats.skipped++;
          else void fire(n, performance.timeOrigin + dueMs(n));
        }
        if (dueMs(n) < end) await sleep(Math.max(0, dueMs(n) - performance.now()));
      }
      // The window is the schedule's, whatever the last send cost.
      const left = end - performance.now();
      if (left > 0) await sleep(left);
    } else {
      const worker = async () => {
        while (performance.now() < end) await fire(n++);
      };
      await Promise.all(Array.from({ length: r.concurrency ?? 1 }, worker));
    }
    stats.elapsedMs = Math.round(performance.now() - t0);
    // Acks still on their way belong to the step; their latency is counted.
    await Promise.race([Promise.all(pending), sleep(30_000)]);
    stats.hist = encode(hist);
    if (r.rate && lag.totalCount) {
      stats.sendLagP99Ms = Math.round(lag.getValueAtPercentile(99) / 10) / 100;
      stats.sendLagMaxMs = Math.round(lag.maxValue / 10) / 100;
    }
    return stats;
  }

  async call(name: string, args: unknown): Promise<unknown> {
    if (name === 'run') return this.run(args as RunArgs);
    throw new Error(`publishers: unknown command ${name}`);
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.close();
    this.sockets = [];
    this.agent?.destroy();
  }
}
