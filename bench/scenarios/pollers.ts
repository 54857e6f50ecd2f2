// Pollers against push on the same hub and channel, through a byte-counting
// proxy: one step = publish at a fixed rate, let the clients catch up, then
// count latency, deliveries and what crossed the wire (both ways, headers and
// empty polls included) and how many TCP connections were opened.
import { BODY_BYTES } from '../generators/body.js';
import type { JobHandle } from '../generators/pool.js';
import type { PublishStats } from '../generators/publishers.js';
import type { SubscribersStats } from '../generators/subscribers.js';
import { merge, summarize } from '../histogram.js';
import type { CountingProxy } from '../proxy.js';
import type { BenchUser } from '../seed.js';
import { type Ctx, cpuMsOf, measured, round, type StepResult, step } from './context.js';

export type Mode = { kind: 'poll'; intervalMs: number; keepAlive: boolean } | { kind: 'push' };

export const modeName = (m: Mode) => (m.kind === 'push' ? 'push (subscribed socket)' : `poll every ${m.intervalMs} ms${m.keepAlive ? '' : ', no keep-alive'}`);

export interface Clients {
  mode: Mode;
  count: number;
  jobs: JobHandle[];
  stop(): Promise<void>;
}

/** `count` clients of the mode, through `via` (a proxy URL) to one channel. */
export async function openClients(ctx: Ctx, mode: Mode, o: { url: string; users: BenchUser[]; count: number; channelId: string; afterSeq: number }): Promise<Clients> {
  const tokens = o.users.map((u) => u.token);
  const jobs =
    mode.kind === 'push'
      ? await ctx.topo.generators.spread('subscribers', o.count, (count, offset) => ({
          urls: [o.url],
          tokens: tokens.slice(offset, offset + count),
          count,
          channelIds: [o.channelId],
          connectWidth: 25,
        }))
      : await ctx.topo.generators.spread('pollers', o.count, (count, offset) => ({
          url: o.url,
          tokens: tokens.slice(offset, offset + count),
          count,
          channelId: o.channelId,
          intervalMs: mode.intervalMs,
          keepAlive: mode.keepAlive,
          afterSeq: o.afterSeq,
        }));
  for (const j of jobs) {
    const s = j.started as { failed?: number; firstError?: string };
    if (s.failed) throw new Error(`${s.failed} clients failed to connect: ${s.firstError}`);
  }
  return {
    mode,
    count: o.count,
    jobs,
    stop: async () => {
      await Promise.all(jobs.map((j) => j.stop()));
    },
  };
}

export async function clientsStep(
  ctx: Ctx,
  o: { name: string; clients: Clients; publisher: JobHandle; proxy?: CountingProxy; keepProxyCounts?: boolean; channelId: string; rate: number; durationMs: number; params?: StepResult['params'] },
): Promise<StepResult> {
  const { clients } = o;
  const tag = `cl-${Date.now()}-${Math.random().toString(36).slice(2, 6)}`;
  await Promise.all(clients.jobs.map((j) => j.call('reset', tag)));
  if (!o.keepProxyCounts) o.proxy?.reset();
  const { value, cpu } = await measured(ctx, async () => {
    const pub = await o.publisher.call<PublishStats>('run', { tag, channelIds: [o.channelId], durationMs: o.durationMs, rate: o.rate });
    // Let every client see the last messages: one poll interval, or a moment for push.
    await new Promise((r) => setTimeout(r, clients.mode.kind === 'poll' ? clients.mode.intervalMs + 300 : 300));
    return pub;
  });
  const wire = o.proxy?.read();
  const stats = await Promise.all(clients.jobs.map((j) => j.call<SubscribersStats & { polls?: number; errors?: number }>('collect')));
  const delivered = stats.reduce((a, s) => a + s.received, 0);
  const expected = value.acked * clients.count;
  const latency = summarize(merge(stats.map((s) => s.hist)));
  const serverMs = cpuMsOf(cpu, ['hub', 'postgres', 'redis']);
  const hubMs = cpuMsOf(cpu, ['hub']);
  const per = (v: number | undefined) => (v !== undefined && delivered ? round(v / delivered, 1) : null);
  const windowS = cpu.wallMs / 1000;
  return step(
    {
      name: o.name,
      side: 'hub',
      params: { mode: modeName(clients.mode), clients: clients.count, rate: o.rate, ...o.params },
      durationS: round(windowS, 1),
      latency,
      offeredPerS: o.rate * clients.count,
      delivered,
      deliveredPerS: round(delivered / windowS, 0),
      lost: Math.max(0, expected - delivered),
      sustained: null,
      cpu,
      metrics: {
        published: value.acked,
        bytesUpPerMessage: per(wire?.up),
        bytesDownPerMessage: per(wire?.down),
        bytesPerMessage: per(wire ? wire.up + wire.down : undefined),
        connectionsOpened: wire?.connections ?? null,
        connectionsPer1000Messages: wire && delivered ? round((wire.connections / delivered) * 1000, 1) : null,
        hubCpuMsPerMessage: delivered ? round(hubMs / delivered, 3) : null,
        serverCpuMsPerMessage: delivered ? round(serverMs / delivered, 3) : null,
        polls: stats.reduce((a, s) => a + (s.polls ?? 0), 0) || null,
        pollErrors: stats.reduce((a, s) => a + (s.errors ?? 0), 0),
        bodyBytes: BODY_BYTES,
      },
      notes: [...(latency.note ? [latency.note] : []), 'window includes one poll interval after the last publish so pollers can see it; bytes and CPU cover the same window'],
    },
    ['hub'],
  );
}
