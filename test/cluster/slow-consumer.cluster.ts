import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { MessageDto } from '../../src/events/dto.js';
import { type ClientSocket, api, connect, emitAck, metricValue, registerUser } from '../support/client.js';
import { type Cluster, startCluster, until } from './support/cluster.js';
import { PausedClient } from './support/paused-client.js';

jest.setTimeout(240_000);

const BOUND = 256 * 1024;
const PAD = 'x'.repeat(10_000);
const RATE_PER_S = 60;
const HEALTHY = 6;
const ROUNDS = 3;
// About as long as a slow span (the kernel's buffers fill first, then the bound): both weigh alike in the p99s.
const QUIET_MS = 7_000;

const p99 = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * 0.99))];
};

describe('a slow consumer (a client that stops reading its TCP socket)', () => {
  let cluster: Cluster;
  const closers: Array<{ close(): void }> = [];
  beforeAll(async () => {
    cluster = await startCluster(1, { SOCKET_BUFFER_MAX_BYTES: String(BOUND) });
  });
  afterAll(async () => {
    closers.forEach((c) => c.close());
    await cluster?.stop();
  });

  it("is cut at SOCKET_BUFFER_MAX_BYTES (the buffer never passes it), resumes with sinceSeq, and the others' delivery p99 stays within 2x of the same run without it", async () => {
    const [r] = cluster.replicas;
    const user = await registerUser(api(r.url), 'slow');
    const channelId = (await api(r.url)('POST', '/api/channels', { name: `slow-${Date.now()}` }, user.token)).body.id as string;

    // Healthy subscribers: every message in seq order, and its latency from the publish (one clock: this process).
    const latencies: Array<{ t: number; ms: number }> = [];
    const healthy: Array<{ socket: ClientSocket; seqs: number[] }> = [];
    for (let i = 0; i < HEALTHY; i++) {
      const socket = await connect(r.url, user.token);
      closers.push(socket);
      const ack = await emitAck(socket, 'channel:subscribe', { channelId });
      expect(ack.ok).toBe(true);
      const h = { socket, seqs: [] as number[] };
      socket.on('message:created', (m: MessageDto) => {
        h.seqs.push(m.seq);
        const { t } = m.body as { t: number };
        latencies.push({ t, ms: Date.now() - t });
      });
      healthy.push(h);
    }

    // One publisher at a steady rate for the whole test, a few publishes in flight at most.
    const publisher = await connect(r.url, user.token);
    closers.push(publisher);
    let lastAcked = 0;
    let inFlight = 0;
    let failed = 0;
    const pacer = setInterval(() => {
      if (inFlight >= 16) return;
      inFlight++;
      void emitAck(publisher, 'message:publish', { channelId, body: { t: Date.now(), pad: PAD } }).then((a) => {
        inFlight--;
        if (a.ok) lastAcked = Math.max(lastAcked, a.message.seq);
        else failed++;
      });
    }, 1000 / RATE_PER_S);

    const quiet: Array<[number, number]> = [];
    const slow: Array<[number, number]> = [];
    const bufferSamples: number[] = [];
    const slowOnes: PausedClient[] = [];
    const metric = (name: string) => metricValue(r.url, name);
    /** One scrape: records the largest socket buffer now, returns the cuts so far. */
    const sampleMetrics = async () => {
      const text = await (await fetch(`${r.url}/metrics`)).text();
      const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
      bufferSamples.push(value('crosswire_socket_buffer_max_bytes'));
      return value('crosswire_slow_consumer_disconnects_total');
    };
    try {
      await until('the first deliveries', () => latencies.length > HEALTHY * 10);
      for (let round = 0; round < ROUNDS; round++) {
        // The same /metrics polling in both kinds of span, so it weighs on both alike.
        const q0 = Date.now();
        await until(
          'the end of a quiet span',
          async () => {
            await sampleMetrics();
            return Date.now() - q0 >= QUIET_MS;
          },
          QUIET_MS * 3,
          100,
        );
        quiet.push([q0, Date.now()]);

        const cutsBefore = await sampleMetrics();
        const s = new PausedClient(r.url, user.token, channelId, lastAcked);
        slowOnes.push(s);
        closers.push(s);
        await s.live();
        const s0 = Date.now();
        await s.pause();
        // The cut is the server's own event; its counter and the buffer gauge are read together until it comes.
        await until('the slow consumer to be cut', async () => (await sampleMetrics()) > cutsBefore, 60_000, 100);
        slow.push([s0, Date.now()]);
        // Reading again, it takes what the kernel held, sees the transport close and resumes with sinceSeq.
        const resumed = s.live();
        s.resume();
        await resumed;
        await s.reach(lastAcked);
      }
    } finally {
      clearInterval(pacer);
    }
    await until('the last publishes acked', () => inFlight === 0);
    const last = lastAcked;
    for (const s of slowOnes) await s.reach(last);
    await until('every healthy subscriber to hold the last message', () => healthy.every((h) => h.seqs[h.seqs.length - 1] === last), 30_000);

    const inside = (spans: Array<[number, number]>) => latencies.filter((l) => spans.some(([a, b]) => l.t >= a && l.t < b)).map((l) => l.ms);
    const quietMs = inside(quiet);
    const slowMs = inside(slow);
    const highwater = await metric('crosswire_socket_buffer_highwater_bytes');
    const figures = {
      bound: BOUND,
      highwater,
      maxSampled: Math.max(...bufferSamples),
      samples: bufferSamples.length,
      slowSpansMs: slow.map(([a, b]) => b - a),
      quietP99: p99(quietMs),
      slowP99: p99(slowMs),
      quietN: quietMs.length,
      slowN: slowMs.length,
      cutReasons: slowOnes.map((s) => s.disconnects[0]),
      cutAtBytes: r.logged<{ bufferedBytes: number }>('slow consumer cut').map((c) => c.bufferedBytes),
      oversizedAlone: await metric('crosswire_socket_oversized_packets_total'),
      published: last,
    };
    console.log(`slow consumer figures: ${JSON.stringify(figures)}`);

    expect(failed).toBe(0);
    // Bounded: never past the bound, and it did fill up to it (the bound is what cut it, not a timeout).
    expect(figures.maxSampled).toBeLessThanOrEqual(BOUND);
    expect(highwater).toBeLessThanOrEqual(BOUND);
    // Per socket, from the replica's log line for each cut (which names the replica and the socket).
    const cuts = r.logged<{ bufferedBytes: number; socketId?: string; replicaId: string }>('slow consumer cut');
    expect(cuts).toHaveLength(ROUNDS);
    for (const c of cuts) {
      expect(c.bufferedBytes).toBeLessThanOrEqual(BOUND);
      expect(c.socketId).toEqual(expect.any(String));
      expect(c.replicaId).toBe('r1');
    }
    expect(highwater).toBeGreaterThan(BOUND - 2 * (PAD.length + 1024));
    // Each slow one was cut, and no healthy one.
    expect(await metric('crosswire_slow_consumer_disconnects_total')).toBe(ROUNDS);
    // What each slow client saw: the transport closed (it reconnects by itself), once.
    expect(slowOnes.map((s) => s.disconnects)).toEqual(Array(ROUNDS).fill(['transport close']));
    expect(healthy.every((h) => h.socket.connected)).toBe(true);
    // The healthy ones got every message once, in order; the slow ones resumed without a gap or a repeat.
    for (const h of healthy) expect(h.seqs).toEqual(Array.from({ length: h.seqs.length }, (_, i) => h.seqs[0] + i));
    for (const s of slowOnes) {
      expect((await s.state()).violations).toEqual([]);
      expect(s.errors).toEqual([]);
    }
    expect(await metric('crosswire_subscribe_resumes_total')).toBeGreaterThanOrEqual(2 * ROUNDS);
    // The others did not wait on it.
    expect(slowMs.length).toBeGreaterThan(500);
    expect(quietMs.length).toBeGreaterThan(500);
    expect(figures.slowP99).toBeLessThanOrEqual(2 * figures.quietP99);
  });
});
