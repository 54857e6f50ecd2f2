// REST pollers: each client GETs …/messages?afterSeq=<highest seq it holds>
// every `intervalMs` (measured from the start of its previous poll), over a
// keep-alive connection of its own, or a new connection per request.
import http from 'node:http';
import { encode, newHistogram, nowMs, recordMs } from '../histogram.js';
import { isBenchBody } from './body.js';
import { sleep } from './clients.js';
import { type MessagesPage, request } from './http.js';
import type { Job } from './protocol.js';

export interface PollersArgs {
  url: string;
  tokens: string[];
  count: number;
  channelId: string;
  intervalMs: number;
  keepAlive: boolean;
  afterSeq: number;
}

export class PollersJob implements Job {
  private running = true;
  private loops: Promise<void>[] = [];
  private agents: http.Agent[] = [];
  private tag = '';
  private hist = newHistogram();
  private received = 0;
  private polls = 0;
  private errors = 0;
  private firstError?: string;

  constructor(private readonly args: PollersArgs) {}

  async start(): Promise<unknown> {
    const a = this.args;
    for (let i = 0; i < a.count; i++) {
      const agent = a.keepAlive ? new http.Agent({ keepAlive: true, maxSockets: 1 }) : false;
      if (agent) this.agents.push(agent);
      this.loops.push(this.loop(i, agent));
    }
    return { pollers: a.count };
  }

  private async loop(i: number, agent: http.Agent | false): Promise<void> {
    const a = this.args;
    let afterSeq = a.afterSeq;
    await sleep((a.intervalMs * i) / a.count); // spread the polls over the interval
    while (this.running) {
      const started = performance.now();
      try {
        const r = await request(`${a.url}/api/channels/${a.channelId}/messages?afterSeq=${afterSeq}&limit=500`, { method: 'GET', token: a.tokens[i % a.tokens.length], agent });
        this.polls++;
        if (r.status !== 200) throw new Error(`HTTP ${r.status}`);
        const now = nowMs();
        for (const m of (r.body as MessagesPage).items) {
          afterSeq = Math.max(afterSeq, m.seq);
          if (isBenchBody(m.body) && m.body.s === this.tag) {
            recordMs(this.hist, now - m.body.t);
            this.received++;
          }
        }
      } catch (e) {
        this.errors++;
        this.firstError ??= (e as Error).message;
      }
      await sleep(Math.max(0, a.intervalMs - (performance.now() - started)));
    }
  }

  async call(name: string, args: unknown): Promise<unknown> {
    if (name === 'reset') {
      this.tag = String(args);
      this.hist = newHistogram();
      this.received = this.polls = this.errors = 0;
      this.firstError = undefined;
      return null;
    }
    if (name === 'collect') return { tag: this.tag, received: this.received, polls: this.polls, errors: this.errors, firstError: this.firstError, hist: encode(this.hist) };
    throw new Error(`pollers: unknown command ${name}`);
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.race([Promise.all(this.loops), sleep(5000)]);
    for (const a of this.agents) a.destroy();
  }
}
