// Claim 3 (full duplex): each socket publishes with an ack while it receives
// everyone's messages on the same connection. Counts deliveries that arrived
// while that socket still awaited one of its own acks.
import { encode, newHistogram, nowMs, recordMs } from '../histogram.js';
import { isBenchBody, makeBody } from './body.js';
import { connectSocket, emitAck, sleep, type Sock } from './clients.js';
import type { Job } from './protocol.js';

export interface DuplexArgs {
  url: string;
  tokens: string[];
  sockets: number;
  channelId: string;
  /** Publishes per second, per socket. */
  ratePerSocket: number;
  durationMs: number;
  bodyBytes: number;
  tag: string;
}

export class DuplexJob implements Job {
  private sockets: Sock[] = [];
  constructor(private readonly args: DuplexArgs) {}

  async start(): Promise<unknown> {
    const a = this.args;
    for (let i = 0; i < a.sockets; i++) {
      const s = await connectSocket(a.url, a.tokens[i % a.tokens.length]);
      const ack = await emitAck(s, 'channel:subscribe', { channelId: a.channelId });
      if (!ack?.ok) throw new Error('subscribe refused');
      this.sockets.push(s);
    }
    return { sockets: this.sockets.length };
  }

  private async run(): Promise<unknown> {
    const a = this.args;
    const ackHist = newHistogram();
    const deliveryHist = newHistogram();
    let sent = 0;
    let acked = 0;
    let received = 0;
    let receivedWhileAwaitingAck = 0;
    const awaiting = new Array<number>(this.sockets.length).fill(0);
    this.sockets.forEach((s, i) =>
      s.on('message:created', (m: { body: unknown }) => {
        if (!isBenchBody(m.body) || m.body.s !== a.tag) return;
        received++;
        if (awaiting[i] > 0) receivedWhileAwaitingAck++;
        recordMs(deliveryHist, nowMs() - m.body.t);
      }),
    );
    const end = performance.now() + a.durationMs;
    await Promise.all(
      this.sockets.map(async (s, i) => {
        const pending: Promise<void>[] = [];
        for (let k = 0; performance.now() < end; k++) {
          const t = nowMs();
          const n = i * 1_000_000 + k;
          awaiting[i]++;
          sent++;
          pending.push(
            emitAck(s, 'message:publish', { channelId: a.channelId, body: makeBody(t, a.tag, n, a.bodyBytes), clientMsgId: `${a.tag}-${n}` })
              .then((ack) => {
                if (ack?.ok) acked++;
                recordMs(ackHist, nowMs() - t);
              })
              .catch(() => undefined)
              .finally(() => awaiting[i]--),
          );
          await sleep(1000 / a.ratePerSocket);
        }
        await Promise.all(pending);
      }),
    );
    await sleep(1000);
    return { sent, acked, received, receivedWhileAwaitingAck, ackHist: encode(ackHist), deliveryHist: encode(deliveryHist) };
  }

  async call(name: string): Promise<unknown> {
    if (name === 'run') return this.run();
    throw new Error(`duplex: unknown command ${name}`);
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.close();
  }
}
