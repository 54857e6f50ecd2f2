import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { MessageDto } from '../../src/events/dto.js';
import { type ClientSocket, api, connect, emitAck, metricValue, rawRequest, registerUser } from '../support/client.js';
import { ackedOutcome, expectedOutcome } from './support/acked.js';
import { type Cluster, startCluster, until } from './support/cluster.js';
import { type PublishedRecord, storedMessages } from './support/publisher.js';
import { Subscriber } from './support/subscriber.js';

jest.setTimeout(120_000);

const BOUND = 256 * 1024;
const PAD = 'x'.repeat(10_000);
// A healthy polling client holds packets only between a response and its next poll: at this rate it would
// have to stall for over a second to reach the bound.
const RATE_PER_S = 20;
// Live messages the polling client takes before it stops: it was a working client, not one that never read.
const LIVE_BEFORE_STOP = 5;
// Published after the cut, so the others are seen to go on receiving and the resume has a gap to fill.
const AFTER_CUT = 20;

/**
 * engine.io v4 long-polling by hand (socket.io-client always polls again, and
 * this client must be able to stop). One replica, reached directly, so no
 * sticky cookie is needed.
 */
class RawPollingClient {
  sid = '';
  pingInterval = 0;
  pingTimeout = 0;
  private nextAckId = 0;
  private readonly acks = new Map<number, unknown>();
  readonly events: Array<[string, any]> = [];

  constructor(private readonly base: string) {}

  get path() {
    return `/socket.io/?EIO=4&transport=polling&sid=${this.sid}`;
  }

  async open(token: string): Promise<void> {
    const hs = await fetch(`${this.base}/socket.io/?EIO=4&transport=polling`);
    const open = JSON.parse((await hs.text()).slice(1)) as { sid: string; pingInterval: number; pingTimeout: number };
    Object.assign(this, { sid: open.sid, pingInterval: open.pingInterval, pingTimeout: open.pingTimeout });
    await this.post(`40${JSON.stringify({ token })}`);
    let connected = false;
    while (!connected) {
      for (const p of await this.poll()) {
        if (p.startsWith('44')) throw new Error(`connect_error: ${p}`);
        if (p.startsWith('40')) connected = true;
      }
    }
  }

  /** Emits with an ack id and polls until the ack arrives (events meanwhile land in `events`). */
  async emitAck(event: string, payload: unknown): Promise<any> {
    const id = this.nextAckId++;
    await this.post(`42${id}${JSON.stringify([event, payload])}`);
    while (!this.acks.has(id)) await this.poll();
    return this.acks.get(id);
  }

  /** One long poll: resolves with what the server had queued, or with the next packets it queues. */
  async poll(): Promise<string[]> {
    const res = await fetch(this.base + this.path);
    const text = await res.text();
    if (res.status !== 200) throw new Error(`poll: ${res.status} ${text}`);
    const packets = text.split('\x1e');
    for (const p of packets) {
      if (p === '2') await this.post('3');
      else if (p.startsWith('42')) this.events.push(JSON.parse(p.slice(2)) as [string, any]);
      else if (p.startsWith('43')) {
        const [, id, args] = /^43(\d+)(.*)$/s.exec(p)!;
        this.acks.set(Number(id), (JSON.parse(args) as unknown[])[0]);
      }
    }
    return packets;
  }

  private async post(...packets: string[]): Promise<void> {
    const res = await fetch(this.base + this.path, { method: 'POST', body: packets.join('\x1e') });
    const text = await res.text();
    if (res.status !== 200 || text !== 'ok') throw new Error(`post: ${res.status} ${text}`);
  }
}

describe('a slow consumer on long-polling (a client that stops polling)', () => {
  let cluster: Cluster;
  const closers: Array<{ close(): void }> = [];
  beforeAll(async () => {
    cluster = await startCluster(1, { SOCKET_BUFFER_MAX_BYTES: String(BOUND) });
  });
  afterAll(async () => {
    closers.forEach((c) => c.close());
    await cluster?.stop();
  });

  it('is cut when its queue would pass SOCKET_BUFFER_MAX_BYTES (never above it), long before the ping timeout; its session is gone, the others get every message once in order, and it resumes with sinceSeq', async () => {
    const [r] = cluster.replicas;
    const user = await registerUser(api(r.url), 'pollslow');
    const channelId = (await api(r.url)('POST', '/api/channels', { name: `pollslow-${Date.now()}` }, user.token)).body.id as string;

    // Healthy subscribers on both transports: the bound must tell a polling client that polls from one that stopped.
    const healthy = [new Subscriber(() => [r.url], user.token, channelId), new Subscriber(() => [r.url], user.token, channelId, { transports: ['polling'] })];
    closers.push(...healthy);
    await Promise.all(healthy.map((h) => h.start(0)));

    const raw = new RawPollingClient(r.url);
    const openedAt = Date.now();
    await raw.open(user.token);
    const sub = await raw.emitAck('channel:subscribe', { channelId });
    expect(sub).toMatchObject({ ok: true, head: 0, missed: [], hasMore: false });

    const publisher = await connect(r.url, user.token);
    closers.push(publisher);
    const acked: PublishedRecord[] = [];
    let inFlight = 0;
    let failed = 0;
    let lastAcked = 0;
    let i = 0;
    const pacer = setInterval(() => {
      if (inFlight >= 16) return;
      inFlight++;
      const sentAt = Date.now();
      const n = i++;
      void emitAck(publisher, 'message:publish', { channelId, body: { i: n, pad: PAD } }).then(
        (a) => {
          inFlight--;
          if (!a.ok) {
            failed++;
            return;
          }
          acked.push({ i: n, seq: a.message.seq, id: a.message.id, statuses: [], sentAt, ackedAt: Date.now() });
          lastAcked = Math.max(lastAcked, a.message.seq);
        },
        () => {
          inFlight--;
          failed++;
        },
      );
    }, 1000 / RATE_PER_S);

    const bufferSamples: number[] = [];
    let stoppedAt: number;
    let cutAt: number;
    let lastGot: number;
    try {
      const live = () => raw.events.filter(([e]) => e === 'message:created').map(([, m]) => m as MessageDto);
      while (live().length < LIVE_BEFORE_STOP) await raw.poll();
      // No poll is outstanding now (an aborted one would end the session as a transport error, not the bound).
      stoppedAt = Date.now();
      const got = live().map((m) => m.seq);
      expect(got).toEqual(Array.from({ length: got.length }, (_, k) => k + 1));
      lastGot = got[got.length - 1];

      await until(
        'the polling client to be cut',
        async () => {
          const [max, cuts] = await Promise.all([metricValue(r.url, 'crosswire_socket_buffer_max_bytes'), metricValue(r.url, 'crosswire_slow_consumer_disconnects_total')]);
          bufferSamples.push(max);
          return cuts > 0;
        },
        30_000,
        50,
      );
      cutAt = Date.now();
      const seqAtCut = lastAcked;
      await until('more publishes after the cut', () => lastAcked >= seqAtCut + AFTER_CUT, 30_000, 20);
    } finally {
      clearInterval(pacer);
    }
    await until('the last publishes acked', () => inFlight === 0);
    const stored = await storedMessages(r.url, user.token, channelId);
    const last = stored.length;
    await Promise.all(healthy.map((h) => h.waitFor(last, 20_000)));

    // The session is gone on the server, not merely idle: its next poll is refused.
    const after = await rawRequest(r.url, 'GET', raw.path);

    // Coming back: a new socket resumes from the highest seq it held.
    const back: ClientSocket = await connect(r.url, user.token, { transports: ['polling'] });
    closers.push(back);
    // Page by page while the ack says hasMore (each ack within SUBSCRIBE_ACK_MAX_BYTES: 64 KiB with this bound).
    const pages: any[] = [];
    for (let since = lastGot; ;) {
      pages.push(await emitAck(back, 'channel:subscribe', { channelId, sinceSeq: since }));
      const page = pages[pages.length - 1];
      if (!page.ok || !page.hasMore) break;
      since = page.head;
    }
    const resumed = { ...pages[pages.length - 1], missed: pages.flatMap((p) => p.missed ?? []) };

    const cuts = r.logged<{ sid: string; socketId?: string; bufferedBytes: number; bound: number }>('slow consumer cut');
    const highwater = await metricValue(r.url, 'crosswire_socket_buffer_highwater_bytes');
    const figures = {
      bound: BOUND,
      cutAtBytes: cuts.map((c) => c.bufferedBytes),
      maxSampled: Math.max(...bufferSamples),
      samples: bufferSamples.length,
      highwater,
      stoppedToCutMs: cutAt - stoppedAt,
      openedToCutMs: cutAt - openedAt,
      pingIntervalMs: raw.pingInterval,
      pingTimeoutMs: raw.pingTimeout,
      lastGot,
      published: last,
      resumedMissed: resumed.missed?.length,
    };
    console.log(`slow consumer (polling) figures: ${JSON.stringify(figures)}`);

    expect(failed).toBe(0);
    // Bounded: never past the bound, and filled up to it before the cut.
    expect(figures.maxSampled).toBeLessThanOrEqual(BOUND);
    expect(highwater).toBeLessThanOrEqual(BOUND);
    expect(highwater).toBeGreaterThan(BOUND - 2 * (PAD.length + 1024));
    // One cut, of that session, at most the bound buffered; no healthy socket and not the resumed one.
    expect(cuts).toEqual([expect.objectContaining({ sid: raw.sid, socketId: expect.any(String), bound: BOUND })]);
    expect(cuts[0].bufferedBytes).toBeLessThanOrEqual(BOUND);
    // Not early either: only a whole message (body plus at most 1 KiB of envelope) no longer fitted.
    expect(cuts[0].bufferedBytes).toBeGreaterThan(BOUND - (PAD.length + 1024));
    expect(await metricValue(r.url, 'crosswire_slow_consumer_disconnects_total')).toBe(1);
    // The bound, not the heartbeat: engine.io v4 closes for a missing pong no earlier than pingInterval +
    // pingTimeout after the handshake, and this cut came before the first ping was even due.
    expect(raw.pingInterval).toBeGreaterThan(0);
    expect(figures.openedToCutMs).toBeLessThan(raw.pingInterval);
    expect({ status: after.status, body: after.body }).toEqual({
      status: 400,
      body: { statusCode: 400, error: 'Bad Request', code: 'BAD_REQUEST', message: 'Session ID unknown' },
    });
    // Every acknowledged message stored once and held by each healthy subscriber once, in order, without a reconnect.
    expect(ackedOutcome(acked, stored, healthy)).toEqual(expectedOutcome(healthy));
    expect(healthy.map((h) => h.reconnects)).toEqual([0, 0]);
    // Exactly what it missed, in order, over as many acks as the ack bound needs.
    expect(resumed).toMatchObject({ ok: true, hasMore: false, head: last });
    expect(pages.every((p) => p.ok)).toBe(true);
    expect((resumed.missed as MessageDto[]).map((m) => m.id)).toEqual(stored.slice(lastGot).map((m) => m.id));
  });
});
