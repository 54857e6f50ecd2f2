// The shape most scenarios share: subscribers on some servers, a publisher,
// one step = publish at a fixed rate for a window, wait for late deliveries,
// then count latency, deliveries, loss, duplicates and order.
import { BODY_BYTES } from '../generators/body.js';
import { ORDER_RULE_TEXT } from '../generators/order.js';
import type { JobHandle } from '../generators/pool.js';
import type { PublishStats } from '../generators/publishers.js';
import type { SubscribersStats } from '../generators/subscribers.js';
import { merge, newHistogram, recordMs, summarize } from '../histogram.js';
import { cpuBetween, snapshot } from '../procs.js';
import type { Server, Side } from '../topology.js';
import { type Ctx, cpuMsOf, round, type StepResult, step } from './context.js';

export interface Rig {
  side: Side;
  subscribers: number;
  subs: JobHandle[];
  pub: JobHandle;
  servers: Server[];
  close(): Promise<void>;
}

export async function openRig(
  ctx: Ctx,
  o: { side: Side; subServers: Server[]; pubServers: Server[]; subscribers: number; channelId: string; pubDoor?: 'socket' | 'rest'; pubConnections?: number },
): Promise<Rig> {
  const users = await ctx.users(o.subscribers + 8);
  const tokens = o.side === 'hub' ? users.map((u) => u.token) : undefined;
  const gens = ctx.topo.generators.gens.length;
  ctx.progress(`${o.side}: connecting ${o.subscribers} subscribers to ${o.subServers.map((s) => s.name).join(', ')}`);
  const subs = await ctx.topo.generators.spread('subscribers', o.subscribers, (count, offset) => ({
    urls: o.subServers.map((s) => s.url),
    tokens: tokens?.slice(offset, offset + count),
    count,
    channelIds: [o.channelId],
    order: o.side === 'hub' ? 'seq' : 'publisher',
  }));
  for (const j of subs) {
    const s = j.started as { failed: number; firstError?: string };
    if (s.failed) throw new Error(`${s.failed} subscribers failed to connect/subscribe: ${s.firstError}`);
  }
  const pub = await ctx.topo.generators.job(gens - 1, 'publishers', {
    door: o.pubDoor ?? 'socket',
    urls: o.pubServers.map((s) => s.url),
    tokens: tokens?.slice(o.subscribers, o.subscribers + 8),
    connections: o.pubConnections ?? 8,
    bodyBytes: BODY_BYTES,
  });
  return {
    side: o.side,
    subscribers: o.subscribers,
    subs,
    pub,
    servers: o.subServers,
    async close() {
      await Promise.all([...subs, pub].map((j) => j.stop()));
    },
  };
}

/** What the subscriber jobs received so far, summed. */
export const sumReceived = async (subs: JobHandle[]) => (await Promise.all(subs.map((j) => j.call<number>('received')))).reduce((a, b) => a + b, 0);

/**
 * Late deliveries: waits until `want` arrived, or nothing arrived for 1 s
 * (four reads 250 ms apart), or `drainMs` ran out. The generators count
 * receipts but announce none, so this reads them.
 */
export async function drainReceived(subs: JobHandle[], want: number, drainMs: number): Promise<void> {
  const deadline = Date.now() + drainMs;
  let last = -1;
  let still = 0;
  for (;;) {
    const n = await sumReceived(subs);
    if (n >= want || Date.now() > deadline) break;
    still = n === last ? still + 1 : 0;
    if (still >= 4) break;
    last = n;
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Per message index, the earliest receipt over every subscriber job (ms from its send time); -1 where none received it. */
export function firstReceipts(perJob: number[][]): number[] {
  const first: number[] = [];
  for (const list of perJob)
    list.forEach((ms, n) => {
      if (ms >= 0 && (first[n] === undefined || first[n] < 0 || ms < first[n])) first[n] = ms;
      else first[n] ??= -1;
    });
  return first;
}

/** Deliveries of acknowledged messages: for each acked index, the subscribers that got it (at most all of them). */
export function deliveredOfAcked(counts: number[], ackedNs: number[], subscribers: number): number {
  let n = 0;
  for (const k of ackedNs) n += Math.min(subscribers, counts[k] ?? 0);
  return n;
}

export async function deliveryStep(
  ctx: Ctx,
  rig: Rig,
  o: { name: string; tag: string; rate: number; durationMs: number; channelId: string; params?: StepResult['params']; watchRedis?: Server[] },
): Promise<StepResult> {
  await Promise.all(rig.subs.map((j) => j.call('reset', o.tag)));
  for (const s of o.watchRedis ?? []) s.redisProxy.reset();
  let receivedInWindow = 0;
  const procs = ctx.topo.tracked();
  const cpuAtStart = snapshot(procs);
  const sample = new Promise<void>((r) =>
    setTimeout(() => {
      void sumReceived(rig.subs).then((n) => {
        receivedInWindow = n;
        r();
      });
    }, o.durationMs),
  );
  const pubStats = await rig.pub.call<PublishStats>('run', { tag: o.tag, channelIds: [o.channelId], durationMs: o.durationMs, rate: o.rate });
  await sample;
  const cpuAtWindowEnd = snapshot(procs);
  const cpu = cpuBetween(procs, cpuAtStart, cpuAtWindowEnd, ctx.cores);
  const redisBytes = Object.fromEntries((o.watchRedis ?? []).map((s) => [s.name, s.redisProxy.read().down]));
  const drainStart = Date.now();
  await drainReceived(rig.subs, pubStats.acked * rig.subscribers, ctx.profile.drainMs);
  const drainMs = Date.now() - drainStart;
  // CPU per delivery covers the drain too: the deliveries counted include the late ones.
  const cpuWithDrain = cpuBetween(procs, cpuAtStart, snapshot(procs), ctx.cores);
  const stats = await Promise.all(rig.subs.map((j) => j.call<SubscribersStats>('collect')));
  const counts: number[] = [];
  for (const s of stats) s.counts.forEach((c, n) => (counts[n] = (counts[n] ?? 0) + c));
  let lost = 0;
  for (const n of pubStats.ackedNs) lost += Math.max(0, rig.subscribers - (counts[n] ?? 0));
  const latency = summarize(merge(stats.map((s) => s.hist)));
  const firstHist = newHistogram();
  for (const ms of firstReceipts(stats.map((s) => s.firstMs ?? []))) if (ms >= 0) recordMs(firstHist, ms);
  const first = summarize(firstHist);
  const delivered = stats.reduce((a, s) => a + s.received, 0);
  const ofAcked = deliveredOfAcked(counts, pubStats.ackedNs, rig.subscribers);
  const windowS = o.durationMs / 1000;
  const serverKinds = [rig.side, 'redis', 'postgres'] as const;
  const serverCpuMs = cpuMsOf(cpuWithDrain, [...serverKinds]);
  const ownCpuMs = cpuMsOf(cpuWithDrain, [rig.side]);
  const sustained = o.durationMs >= 20_000 ? latency.p99Ms !== null && latency.p99Ms < 1000 && lost === 0 && pubStats.errors === 0 && pubStats.skipped === 0 : null;
  const ack = summarize(merge([pubStats.hist]));
  const attempted = pubStats.sent + pubStats.skipped;
  const per1000 = (ms: number) => (delivered ? round((ms / delivered) * 1000, 1) : null);
  return step(
    {
      name: o.name,
      side: rig.side,
      params: { subscribers: rig.subscribers, rate: o.rate, replicas: rig.servers.length, ...o.params },
      durationS: windowS,
      latency,
      offeredPerS: o.rate * rig.subscribers,
      delivered,
      deliveredPerS: round(receivedInWindow / windowS, 0),
      lost,
      dups: stats.reduce((a, s) => a + s.dups, 0),
      ooo: stats.reduce((a, s) => a + s.ooo, 0),
      sustained,
      cpu,
      metrics: {
        published: pubStats.sent,
        acked: pubStats.acked,
        publishErrors: pubStats.errors,
        publishSkipped: pubStats.skipped,
        firstPublishError: pubStats.firstError ?? null,
        /** Publishes the server refused or that failed or timed out, and those the generator skipped (too many awaiting acks), of all due. */
        refusedShare: attempted ? round((pubStats.errors + pubStats.skipped) / attempted, 4) : null,
        /** Deliveries of acknowledged publishes by the end of the drain, late ones included. */
        deliveredOfAcked: ofAcked,
        /** Of every delivery the schedule offered (messages due × subscribers): what arrived by the end of the drain. */
        deliveredShare: attempted ? round(ofAcked / (attempted * rig.subscribers), 4) : null,
        lateDeliveries: Math.max(0, delivered - receivedInWindow),
        drainMs,
        ackP50Ms: ack.p50Ms,
        ackP99Ms: ack.p99Ms,
        /** From send to the first subscriber that got the message (the time before fan-out starts, plus one delivery). */
        firstDeliveryP50Ms: first.p50Ms,
        firstDeliveryP99Ms: first.p99Ms,
        serverCpuMsPer1000Deliveries: per1000(serverCpuMs),
        /** The side's own processes only (hub replicas, or baseline servers), over the window and the drain. */
        ownCpuMsPer1000Deliveries: per1000(ownCpuMs),
        disconnects: stats.reduce((a, s) => a + s.disconnects, 0),
        generatorLagP99Ms: Math.max(...stats.map((s) => s.lagP99Ms ?? 0)),
        publisherSendLagP99Ms: pubStats.sendLagP99Ms ?? null,
        latencyFrom: pubStats.latencyFrom ?? 'send',
        oooRule: stats[0]?.order ? ORDER_RULE_TEXT[stats[0].order] : null,
        ...Object.fromEntries(Object.entries(redisBytes).map(([k, v]) => [`redisBytesIn.${k}`, v])),
      },
      notes: [...(latency.note ? [latency.note] : []), ...(o.durationMs < 20_000 ? [`window ${windowS} s < 20 s: not long enough to call the rate sustained`] : [])],
    },
    [rig.side],
  );
}

/** A step failed when it lost messages, or p99 reached 1 s, or publishes failed or were skipped. */
export const keptUp = (s: StepResult) => (s.lost ?? 0) === 0 && (s.latency?.p99Ms ?? s.latency?.p50Ms ?? Infinity) < 1000 && s.metrics.publishErrors === 0 && s.metrics.publishSkipped === 0;
