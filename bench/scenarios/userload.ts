// What the "users would ask next" scenarios share (many channels, one big
// room, connection rate, large bodies, through HAProxy, 15,000 idle sockets):
// a load of subscribers placed exactly (client k on channel k mod C, on the
// server its caller picks), a publisher, and one step that publishes at a
// fixed rate over every channel and counts each message against the
// subscribers of its own channel.
import type { JobHandle } from '../generators/pool.js';
import type { PublishStats } from '../generators/publishers.js';
import type { SubscribersStats } from '../generators/subscribers.js';
import { merge, summarize } from '../histogram.js';
import { cpuBetween, snapshot, type TrackedProcess } from '../procs.js';
import type { Server, Side } from '../topology.js';
import { type Ctx, cpuMsOf, round, type StepResult, step } from './context.js';
import { drainReceived, sumReceived } from './delivery.js';
import { lostOf, receiversPerChannel } from './userload-rules.js';

export interface Load {
  side: Side;
  subscribers: number;
  subs: JobHandle[];
  pub: JobHandle;
  servers: Server[];
  channelIds: string[];
  /** receivers[c]: the subscribers of channelIds[c]. */
  receivers: number[];
  /** Subscribers that failed to connect or subscribe (only where LoadOptions.tolerateConnectFailures). */
  connectFailures: number;
  firstConnectError?: string;
  /** Processes beside the topology's whose CPU counts as the server side's (HAProxy). */
  extra: TrackedProcess[];
  close(): Promise<void>;
}

export interface LoadOptions {
  side: Side;
  servers: Server[];
  subscribers: number;
  channelIds: string[];
  /** Where subscriber k connects (default: the servers in turn). */
  subUrl?: (k: number) => string;
  pubUrls?: string[];
  pubDoor?: 'socket' | 'rest';
  pubConnections?: number;
  bodyBytes: number;
  /** 'crowd' jobs also count presence events and time each handshake (bench/generators/crowd.ts). */
  kind?: 'subscribers' | 'crowd';
  extra?: TrackedProcess[];
  /** Sockets connecting at once per generator process (subscribers kind; 50 by default). */
  connectWidth?: number;
  /**
   * One channel only: subscribers that failed to connect are counted (Load.connectFailures)
   * instead of failing the scenario, and the channel's receivers are those connected.
   */
  tolerateConnectFailures?: boolean;
}

/** CPU of every tracked process and of `extra` over `fn`. */
export async function measuredWith<T>(ctx: Ctx, extra: TrackedProcess[], fn: () => Promise<T>): Promise<{ value: T; cpu: StepResult['cpu'] }> {
  const procs = [...ctx.topo.tracked(), ...extra];
  const a = snapshot(procs);
  const value = await fn();
  const b = snapshot(procs);
  return { value, cpu: cpuBetween(procs, a, b, ctx.cores) };
}

export async function openLoad(ctx: Ctx, o: LoadOptions): Promise<Load> {
  const users = await ctx.users(o.subscribers + 8);
  const tokens = o.side === 'hub' ? users.map((u) => u.token) : undefined;
  const gens = ctx.topo.generators.gens.length;
  const subUrl = o.subUrl ?? ((k: number) => o.servers[k % o.servers.length].url);
  const C = o.channelIds.length;
  const kind = o.kind ?? 'subscribers';
  ctx.progress(`${o.side}: connecting ${o.subscribers} subscribers over ${C} channel(s)`);
  // Per-client lists: client i of a job is global client offset + i, wherever the job's share starts.
  const subs = await ctx.topo.generators.spread(kind, o.subscribers, (count, offset) => {
    const urls = Array.from({ length: count }, (_, i) => subUrl(offset + i));
    const channelIds = Array.from({ length: count }, (_, i) => o.channelIds[(offset + i) % C]);
    const jobTokens = tokens?.slice(offset, offset + count);
    return kind === 'crowd' ? { urls, tokens: jobTokens, channelIds } : { urls, tokens: jobTokens, count, channelIds, connectWidth: o.connectWidth };
  });
  let connectFailures = 0;
  let firstConnectError: string | undefined;
  if (kind === 'crowd') {
    const results = await Promise.all(subs.map((j, i) => j.call<{ failed: number; firstError?: string }>('connect', { count: share(o.subscribers, subs.length, i), width: 50 })));
    const failed = results.find((r) => r.failed);
    if (failed) throw new Error(`${failed.failed} subscribers failed to connect/subscribe: ${failed.firstError}`);
  } else {
    for (const j of subs) {
      const s = j.started as { failed: number; firstError?: string };
      connectFailures += s.failed;
      firstConnectError ??= s.firstError;
      if (s.failed && !(o.tolerateConnectFailures && C === 1)) throw new Error(`${s.failed} subscribers failed to connect/subscribe: ${s.firstError}`);
    }
  }
  const pub = await ctx.topo.generators.job(gens - 1, 'publishers', {
    door: o.pubDoor ?? 'socket',
    urls: o.pubUrls ?? o.servers.map((s) => s.url),
    tokens: tokens?.slice(o.subscribers, o.subscribers + 8),
    connections: o.pubConnections ?? 8,
    bodyBytes: o.bodyBytes,
  });
  return {
    side: o.side,
    subscribers: o.subscribers,
    subs,
    pub,
    servers: o.servers,
    channelIds: o.channelIds,
    receivers: C === 1 ? [o.subscribers - connectFailures] : receiversPerChannel(o.subscribers, C),
    connectFailures,
    firstConnectError,
    extra: o.extra ?? [],
    async close() {
      await Promise.all([...subs, pub].map((j) => j.stop()));
    },
  };
}

/** The i-th of `parts` shares of `total`, as GeneratorPool.spread splits it. */
export const share = (total: number, parts: number, i: number) => Math.floor(total / parts) + (i < total % parts ? 1 : 0);

/**
 * Publish at `rate` for the window over every channel of the load, wait for
 * late deliveries (until all arrived, nothing came for 1 s, or the drain
 * grace ran out), then count as deliveryStep does (bench/scenarios/delivery.ts).
 */
export async function loadStep(ctx: Ctx, load: Load, o: { name: string; tag: string; rate: number; durationMs: number; params?: StepResult['params'] }): Promise<StepResult> {
  await Promise.all(load.subs.map((j) => j.call('reset', o.tag)));
  let receivedInWindow = 0;
  const { value: pubStats, cpu } = await measuredWith(ctx, load.extra, async () => {
    const sample = new Promise<void>((r) =>
      setTimeout(() => {
        void sumReceived(load.subs).then((n) => {
          receivedInWindow = n;
          r();
        });
      }, o.durationMs),
    );
    const stats = await load.pub.call<PublishStats>('run', { tag: o.tag, channelIds: load.channelIds, durationMs: o.durationMs, rate: o.rate });
    await sample;
    return stats;
  });
  const want = pubStats.ackedNs.reduce((a, n) => a + load.receivers[n % load.receivers.length], 0);
  await drainReceived(load.subs, want, ctx.profile.drainMs);
  const stats = await Promise.all(load.subs.map((j) => j.call<SubscribersStats>('collect')));
  const counts: number[] = [];
  for (const s of stats) s.counts.forEach((c, n) => (counts[n] = (counts[n] ?? 0) + c));
  const lost = lostOf(pubStats.ackedNs, counts, load.receivers);
  const latency = summarize(merge(stats.map((s) => s.hist)));
  const delivered = stats.reduce((a, s) => a + s.received, 0);
  const windowS = o.durationMs / 1000;
  const serverKinds: TrackedProcess['kind'][] = [load.side, 'redis', 'postgres', ...load.extra.map((p) => p.kind)];
  const serverCpuMs = cpuMsOf(cpu, serverKinds);
  const sideCpuMs = cpuMsOf(cpu, [load.side]);
  const ack = summarize(merge([pubStats.hist]));
  const perMessage = load.subscribers / load.channelIds.length;
  return step(
    {
      name: o.name,
      side: load.side,
      params: { subscribers: load.subscribers, channels: load.channelIds.length, rate: o.rate, replicas: load.servers.length, ...o.params },
      durationS: windowS,
      latency,
      offeredPerS: round(o.rate * perMessage, 0),
      delivered,
      deliveredPerS: round(receivedInWindow / windowS, 0),
      lost,
      dups: stats.reduce((a, s) => a + s.dups, 0),
      ooo: stats.reduce((a, s) => a + s.ooo, 0),
      sustained: o.durationMs >= 20_000 ? latency.p99Ms !== null && latency.p99Ms < 1000 && lost === 0 && pubStats.errors === 0 && pubStats.skipped === 0 : null,
      cpu,
      metrics: {
        published: pubStats.sent,
        acked: pubStats.acked,
        publishErrors: pubStats.errors,
        publishSkipped: pubStats.skipped,
        firstPublishError: pubStats.firstError ?? null,
        ackP50Ms: ack.p50Ms,
        ackP99Ms: ack.p99Ms,
        serverCpuMsPer1000Deliveries: delivered ? round((serverCpuMs / delivered) * 1000, 1) : null,
        sideCpuMsPer1000Deliveries: delivered ? round((sideCpuMs / delivered) * 1000, 1) : null,
        lbCpuMsPer1000Deliveries: load.extra.length && delivered ? round((cpuMsOf(cpu, ['haproxy']) / delivered) * 1000, 1) : null,
        disconnects: stats.reduce((a, s) => a + s.disconnects, 0),
        generatorLagP99Ms: Math.max(...stats.map((s) => s.lagP99Ms ?? 0)),
      },
      notes: [...(latency.note ? [latency.note] : []), ...(o.durationMs < 20_000 ? [`window ${windowS} s < 20 s: not long enough to call the rate sustained`] : [])],
    },
    serverKinds.filter((k) => k !== 'redis' && k !== 'postgres'),
  );
}

/** Closed loop: `inFlight` publishes awaiting their ack over the load's publisher, no subscriber needed; publishes/s and ack latency. */
export async function publishStep(
  ctx: Ctx,
  o: { side: Side; servers: Server[]; pub: JobHandle; channelIds: string[]; name: string; tag: string; inFlight: number; durationMs: number; params?: StepResult['params'] },
): Promise<StepResult> {
  const { value, cpu } = await measuredWith(ctx, [], () => o.pub.call<PublishStats>('run', { tag: o.tag, channelIds: o.channelIds, durationMs: o.durationMs, concurrency: o.inFlight }));
  const latency = summarize(merge([value.hist]));
  const serverMs = cpuMsOf(cpu, [o.side, 'redis', 'postgres']);
  const perS = round(value.acked / (o.durationMs / 1000), 0);
  return step(
    {
      name: o.name,
      side: o.side,
      params: { inFlight: o.inFlight, replicas: o.servers.length, ...o.params },
      durationS: o.durationMs / 1000,
      latency,
      delivered: value.acked,
      deliveredPerS: perS,
      metrics: {
        publishesPerS: perS,
        publishErrors: value.errors,
        firstPublishError: value.firstError ?? null,
        serverCpuMsPerPublish: value.acked ? round(serverMs / value.acked, 2) : null,
      },
      cpu,
      notes: latency.note ? [latency.note] : [],
    },
    [o.side],
  );
}
