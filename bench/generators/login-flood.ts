// The login-flood scenario's flooder: wrong-password logins from one address
// (X-Forwarded-For, which a replica believes from loopback), in one of two
// shapes. Open loop: a fixed rate on a precise schedule, each request's
// latency counted from the moment it was due, so a hub that answers late
// cannot hide the requests it held back (no coordinated omission). Closed
// loop: N clients, each on its own keep-alive connection, retrying the moment
// it is answered, the way a script ignoring Retry-After does. Every 429 is
// checked against CONTRACT §4 (body, Retry-After, request and replica ids).
import http from 'node:http';
import { encode, newHistogram, recordMs } from '../histogram.js';
import { sleep } from './clients.js';
import type { Job } from './protocol.js';

export interface LoginFloodArgs {
  url: string;
}

export interface FloodRun {
  /** The address the flood comes from (X-Forwarded-For). */
  address: string;
  mode: 'open' | 'closed';
  /** Open loop: requests per second. */
  rate?: number;
  /** Closed loop: clients, each one request at a time. */
  clients?: number;
  /** Open loop: beyond this many unanswered, a due request is skipped (counted). */
  maxInFlight?: number;
  timeoutMs?: number;
}

export interface LoginFloodStats {
  mode: 'open' | 'closed';
  address: string;
  rate: number | null;
  clients: number | null;
  elapsedMs: number;
  sent: number;
  answered: number;
  skipped: number;
  /** HTTP status (or `timeout`, `error: …`) → count. */
  statuses: Record<string, number>;
  refusedPerS: number;
  /** 429s not in the §4 shape (body, Retry-After ≥ 1, retryAfterMs > 0, X-Request-Id, X-Replica-Id). */
  offShape: number;
  firstOffShape?: string;
  /** Latency of every answer: from when it was due (open) or sent (closed). */
  hist: string;
}

export interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One login, its answer read whole. */
function post(agent: http.Agent, url: string, address: string, body: string, timeoutMs: number): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      { method: 'POST', agent, timeout: timeoutMs, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'x-forwarded-for': address } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(body);
  });
}

/** Why a 429 is outside CONTRACT §4, or undefined when it is in it. */
export function shapeProblem(a: Answer): string | undefined {
  const retryAfter = Number(a.headers['retry-after']);
  if (!(Number.isInteger(retryAfter) && retryAfter >= 1)) return `Retry-After ${a.headers['retry-after']}`;
  if (!a.headers['x-request-id']) return 'no X-Request-Id';
  if (!a.headers['x-replica-id']) return 'no X-Replica-Id';
  let b: Record<string, unknown>;
  try {
    b = JSON.parse(a.body) as Record<string, unknown>;
  } catch {
    return `body not JSON: ${a.body.slice(0, 80)}`;
  }
  if (b.statusCode !== 429 || b.error !== 'Too Many Requests' || b.code !== 'RATE_LIMITED' || typeof b.message !== 'string') return `body ${a.body.slice(0, 120)}`;
  if (!(typeof b.retryAfterMs === 'number' && b.retryAfterMs > 0)) return `retryAfterMs ${String(b.retryAfterMs)}`;
  if (Math.abs(Math.ceil(b.retryAfterMs / 1000) - retryAfter) > 1) return `Retry-After ${retryAfter} against retryAfterMs ${b.retryAfterMs}`;
  return undefined;
}

export class LoginFloodJob implements Job {
  private running?: { stop: () => void; done: Promise<LoginFloodStats> };
  private n = 0;

  constructor(private readonly args: LoginFloodArgs) {}

  async start(): Promise<unknown> {
    return null;
  }

  /** Unknown usernames and known-looking ones alike: the flood is refused by address, whatever the name. */
  private body(): string {
    const k = this.n++;
    return JSON.stringify({ username: `victim${k % 7}`, password: `wrong-password-${k}` });
  }

  /** Wrong logins from `address`, one at a time, until one is refused: the address is then over its sign-in limit. */
  private async prime(r: { address: string; max?: number }): Promise<{ attempts: number; statuses: Record<string, number> }> {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
    const statuses: Record<string, number> = {};
    let attempts = 0;
    try {
      // Eight at a time: the attempts the limit lets through each cost a scrypt verification.
      for (let refused = false; !refused && attempts < (r.max ?? 1000);) {
        const batch = await Promise.all(Array.from({ length: 8 }, () => post(agent, `${this.args.url}/api/auth/login`, r.address, this.body(), 30_000)));
        attempts += batch.length;
        for (const a of batch) statuses[a.status] = (statuses[a.status] ?? 0) + 1;
        refused = batch.some((a) => a.status === 429);
      }
    } finally {
      agent.destroy();
    }
    return { attempts, statuses };
  }

  private begin(r: FloodRun): void {
    if (this.running) throw new Error('login-flood: already running');
    const timeoutMs = r.timeoutMs ?? 10_000;
    const url = `${this.args.url}/api/auth/login`;
    // Open loop: never wait for a free connection here, or the client's queue is measured, not the hub's.
    const agent = new http.Agent({ keepAlive: true, maxSockets: r.mode === 'open' ? 4096 : r.clients });
    const hist = newHistogram();
    const stats: LoginFloodStats = {
      mode: r.mode,
      address: r.address,
      rate: r.rate ?? null,
      clients: r.clients ?? null,
      elapsedMs: 0,
      sent: 0,
      answered: 0,
      skipped: 0,
      statuses: {},
      refusedPerS: 0,
      offShape: 0,
      hist: '',
    };
    const pending = new Set<Promise<void>>();
    let stopped = false;
    const one = (from: number): Promise<void> => {
      stats.sent++;
      const count = (key: string) => (stats.statuses[key] = (stats.statuses[key] ?? 0) + 1);
      const p = post(agent, url, r.address, this.body(), timeoutMs).then(
        (a) => {
          recordMs(hist, performance.now() - from);
          stats.answered++;
          count(String(a.status));
          if (a.status !== 429) return;
          const problem = shapeProblem(a);
          if (problem) {
            stats.offShape++;
            stats.firstOffShape ??= problem;
          }
        },
        (e: Error) => void count(/timeout/.test(e.message) ? 'timeout' : `error: ${e.message.slice(0, 60)}`),
      );
      const tracked = p.finally(() => pending.delete(tracked));
      pending.add(tracked);
      return tracked;
    };
    const t0 = performance.now();
    const loop =
      r.mode === 'open'
        ? (async () => {
            const rate = r.rate!;
            const cap = r.maxInFlight ?? 20_000;
            for (let k = 0; !stopped;) {
              const due = Math.floor(((performance.now() - t0) / 1000) * rate);
              for (; k < due; k++) {
                if (pending.size >= cap) stats.skipped++;
                else void one(t0 + (k * 1000) / rate);
              }
              await sleep(1);
            }
          })()
        : Promise.all(
            Array.from({ length: r.clients! }, async () => {
              while (!stopped) await one(performance.now());
            }),
          ).then(() => undefined);
    const done = loop.then(async () => {
      stats.elapsedMs = Math.round(performance.now() - t0);
      // Answers still on their way belong to the run (their latency counts).
      await Promise.race([Promise.all(pending), sleep(timeoutMs + 1000)]);
      agent.destroy();
      stats.refusedPerS = Math.round(((stats.statuses['429'] ?? 0) / stats.elapsedMs) * 1000);
      stats.hist = encode(hist);
      return stats;
    });
    this.running = { stop: () => (stopped = true), done };
  }

  private async end(): Promise<LoginFloodStats> {
    const r = this.running;
    if (!r) throw new Error('login-flood: not running');
    r.stop();
    this.running = undefined;
    return r.done;
  }

  async call(name: string, args: unknown): Promise<unknown> {
    if (name === 'prime') return this.prime(args as { address: string });
    if (name === 'begin') return this.begin(args as FloodRun) ?? null;
    if (name === 'end') return this.end();
    throw new Error(`login-flood: unknown command ${name}`);
  }

  async stop(): Promise<void> {
    if (this.running) await this.end();
  }
}
