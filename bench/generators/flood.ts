// The overload scenario's publishers: many users, both doors, many channels,
// an open loop whose rate changes by phase without a pause between phases.
// Every answer is classified (ok / limited / unavailable / other) and counted
// in the window it was sent in, so a window shows what a client sending then
// met; ok answers are listed for the loss check against the database.
import type http from 'node:http';
import type { MessageDto } from '../../src/events/dto.js';
import { encode, type Histogram, newHistogram, nowMs, recordMs } from '../histogram.js';
import { makeBody } from './body.js';
import { connectSocket, emitAck, inBatches, sleep, type Sock } from './clients.js';
import { keepAliveAgent, request } from './http.js';
import type { Job } from './protocol.js';

export interface FloodArgs {
  url: string;
  tokens: string[];
  channelIds: string[];
  bodyBytes: number;
  /** No answer within this is an `other` (timeout): a shedding hub answers long before. */
  timeoutMs: number;
}

export interface FloodPhase {
  name: string;
  rate: number;
  ms: number;
}

export type Outcome = 'ok' | 'limited' | 'unavailable' | 'other';
export type Door = 'rest' | 'socket';
export const OUTCOMES: Outcome[] = ['ok', 'limited', 'unavailable', 'other'];

export interface FloodWindow {
  sent: number;
  skipped: number;
  counts: Record<Outcome, number>;
  /** Latency of ok answers (encoded HDR histogram). */
  okHist: string;
}

export interface FloodPhaseStats {
  name: string;
  rate: number;
  sent: number;
  skipped: number;
  byDoor: Record<Door, Record<Outcome, number>>;
  /** Raw answers: HTTP status or ack error code, e.g. `201`, `429`, `RATE_LIMITED`, `timeout`. */
  raw: Record<string, number>;
  okHist: string;
  okHistByDoor: Record<Door, string>;
  refusedHist: string;
  firstOther?: string;
}

export interface FloodStats {
  tag: string;
  pid: number;
  windowMs: number;
  phases: FloodPhaseStats[];
  windows: FloodWindow[];
  /** Each ok answer: its index (clientMsgId `${tag}-${pid}-${n}`), channel index and acknowledged seq. */
  acked: { n: number[]; channel: number[]; seq: number[] };
  disconnects: number;
}

const counts = (): Record<Outcome, number> => ({ ok: 0, limited: 0, unavailable: 0, other: 0 });

export class FloodJob implements Job {
  private sockets: Sock[] = [];
  private agent?: http.Agent;
  private disconnects = 0;

  constructor(private readonly args: FloodArgs) {}

  async start(): Promise<unknown> {
    const a = this.args;
    // Open loop: a request must never wait for a free connection here, or the client's queue is measured, not the hub's.
    this.agent = keepAliveAgent(4096);
    this.sockets = new Array<Sock>(a.tokens.length);
    const failed = await inBatches(a.tokens.length, 16, async (i) => {
      const s = await connectSocket(a.url, a.tokens[i]);
      s.on('disconnect', () => this.disconnects++);
      this.sockets[i] = s;
    });
    if (failed.length) throw new Error(`flood: ${failed.length} sockets failed to connect: ${failed[0]}`);
    return { sockets: this.sockets.length };
  }

  /** One publish: which door, and what came back (HTTP status or ack code) with the seq when ok. */
  private async publishOne(tag: string, n: number, t: number): Promise<{ door: Door; raw: string; outcome: Outcome; channel: number; seq?: number }> {
    const a = this.args;
    const channel = n % a.channelIds.length;
    const user = n % a.tokens.length;
    // Each user's turns alternate doors, so both count against its one publish limit.
    const door: Door = Math.floor(n / a.tokens.length) % 2 ? 'socket' : 'rest';
    const payload = { body: makeBody(t, tag, n, a.bodyBytes), clientMsgId: `${tag}-${process.pid}-${n}` };
    const channelId = a.channelIds[channel];
    try {
      if (door === 'rest') {
        const r = await request(`${a.url}/api/channels/${channelId}/messages`, {
          method: 'POST',
          token: a.tokens[user],
          body: payload,
          agent: this.agent!,
          timeoutMs: a.timeoutMs,
          retryReusedReset: true,
        });
        const outcome: Outcome = r.status === 201 || r.status === 200 ? 'ok' : r.status === 429 ? 'limited' : r.status === 503 ? 'unavailable' : 'other';
        return { door, raw: `${r.status}${r.retried ? ' (retried after a keep-alive reset)' : ''}`, outcome, channel, seq: outcome === 'ok' ? (r.body as MessageDto | undefined)?.seq : undefined };
      }
      const ack = await emitAck(this.sockets[user], 'message:publish', { channelId, ...payload }, a.timeoutMs);
      if (ack?.ok) return { door, raw: 'ok', outcome: 'ok', channel, seq: ack.message?.seq };
      const code = String(ack?.error?.code ?? 'no error code');
      return { door, raw: code, outcome: code === 'RATE_LIMITED' ? 'limited' : code === 'UNAVAILABLE' ? 'unavailable' : 'other', channel };
    } catch (e) {
      const msg = (e as Error).message;
      return { door, raw: /timed out|timeout/i.test(msg) ? 'timeout' : `error: ${msg.slice(0, 80)}`, outcome: 'other', channel };
    }
  }

  private async run(r: { tag: string; phases: FloodPhase[]; windowMs: number; maxInFlight: number }): Promise<FloodStats> {
    const windows: Array<Omit<FloodWindow, 'okHist'> & { hist: Histogram }> = [];
    const win = (i: number) => (windows[i] ??= { sent: 0, skipped: 0, counts: counts(), hist: newHistogram() });
    const phases = r.phases.map((p) => ({
      name: p.name,
      rate: p.rate,
      sent: 0,
      skipped: 0,
      byDoor: { rest: counts(), socket: counts() },
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion -- tsc needs it: {} would infer a type without an index signature
      raw: {} as Record<string, number>,
      ok: newHistogram(),
      okByDoor: { rest: newHistogram(), socket: newHistogram() },
      refused: newHistogram(),
      firstOther: undefined as string | undefined,
    }));
    const stats: FloodStats = { tag: r.tag, pid: process.pid, windowMs: r.windowMs, phases: [], windows: [], acked: { n: [], channel: [], seq: [] }, disconnects: 0 };
    const pending = new Set<Promise<void>>();
    const t0 = performance.now();
    let n = 0;
    let phaseStart = t0;
    for (const [pi, phase] of r.phases.entries()) {
      const ph = phases[pi];
      const end = phaseStart + phase.ms;
      // Open loop: publish k of the phase is due at phaseStart + k/rate, and its latency starts then (not when this process got to it).
      const dueMs = (k: number) => phaseStart + (k * 1000) / phase.rate;
      for (let due = 0; phase.rate > 0 && dueMs(due) < end;) {
        const now = performance.now();
        for (; dueMs(due) <= now && dueMs(due) < end; due++) {
          const w = win(Math.floor((now - t0) / r.windowMs));
          if (pending.size >= r.maxInFlight) {
            ph.skipped++;
            w.skipped++;
            continue;
          }
          ph.sent++;
          w.sent++;
          const sentAt = performance.timeOrigin + dueMs(due);
          const k = n++;
          const p = this.publishOne(r.tag, k, sentAt).then((res) => {
            const ms = nowMs() - sentAt;
            ph.byDoor[res.door][res.outcome]++;
            w.counts[res.outcome]++;
            ph.raw[res.raw] = (ph.raw[res.raw] ?? 0) + 1;
            if (res.outcome === 'ok') {
              recordMs(ph.ok, ms);
              recordMs(ph.okByDoor[res.door], ms);
              recordMs(w.hist, ms);
              // An ok without a seq is still checked: it then cannot match what was stored.
              stats.acked.n.push(k);
              stats.acked.channel.push(res.channel);
              stats.acked.seq.push(typeof res.seq === 'number' ? res.seq : -1);
            } else if (res.outcome === 'other') ph.firstOther ??= res.raw;
            else recordMs(ph.refused, ms);
          });
          const tracked = p.finally(() => pending.delete(tracked));
          pending.add(tracked);
        }
        if (dueMs(due) < end) await sleep(Math.max(0, dueMs(due) - performance.now()));
      }
      const left = end - performance.now();
      if (left > 0) await sleep(left);
      phaseStart = end;
    }
    await Promise.race([Promise.all(pending), sleep(this.args.timeoutMs + 2000)]);
    stats.phases = phases.map(({ ok, okByDoor, refused, ...p }) => ({
      ...p,
      okHist: encode(ok),
      okHistByDoor: { rest: encode(okByDoor.rest), socket: encode(okByDoor.socket) },
      refusedHist: encode(refused),
    }));
    stats.windows = Array.from({ length: windows.length }, (_, i) => win(i)).map(({ hist, ...w }) => ({ ...w, okHist: encode(hist) }));
    stats.disconnects = this.disconnects;
    return stats;
  }

  async call(name: string, args: unknown): Promise<unknown> {
    if (name === 'run') return this.run(args as Parameters<FloodJob['run']>[0]);
    throw new Error(`flood: unknown command ${name}`);
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s?.close();
    this.sockets = [];
    this.agent?.destroy();
  }
}
