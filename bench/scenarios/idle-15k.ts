// Memory at 15,000 idle sockets on one server (idle.ts at three times its
// size): authenticated, subscribed 50 to a channel, heap and RSS after two
// forced GCs in the measured process (bench/memory.ts), hub and baseline. The
// open-file limit here is 20,000 per process: no generator process holds more
// than MAX_PER_GENERATOR sockets; with too few generator processes the count
// is cut to what they may hold (and said so).
import type { ConnectStats } from '../generators/crowd.js';
import { measureMemory, type MemoryUsage } from '../memory.js';
import { type Ctx, quiesce, round, type ScenarioResult, type StepResult, step } from './context.js';
import { perConnectionKB, ratio } from './userload-rules.js';
import { measuredWith, share } from './userload.js';

export const MAX_PER_GENERATOR = 7000;
const PER_CHANNEL = 50;

/** Sockets to open: `wanted`, or fewer when `generators` processes of MAX_PER_GENERATOR each cannot hold them. */
export const idleCount = (wanted: number, generators: number) => Math.min(wanted, generators * MAX_PER_GENERATOR);

export async function idle15k(ctx: Ctx): Promise<ScenarioResult> {
  const t0 = Date.now();
  const wanted = ctx.profile.quick ? 600 : 15_000;
  const gens = ctx.topo.generators.gens.length;
  const n = idleCount(wanted, gens);
  const users = await ctx.users(n);
  const steps: StepResult[] = [];
  const summary: Record<string, unknown> = { wanted, connections: n, generatorProcesses: gens, perGenerator: Math.ceil(n / gens), perChannel: PER_CHANNEL };
  for (const side of ['baseline', 'hub'] as const) {
    await ctx.topo.ensure(side === 'hub' ? 'baseline' : 'hub', 0);
    const [server] = await ctx.topo.ensure(side, 1);
    const pid = server.child.pid;
    const channels = await ctx.seed.channels(users[0], Math.ceil(n / PER_CHANNEL), `idle15k-${side}`);
    await quiesce([pid]);
    const before: MemoryUsage = await measureMemory(pid, server.inspectPort);
    const tokens = side === 'hub' ? users.map((u) => u.token) : undefined;
    const jobs = await ctx.topo.generators.spread('crowd', n, (c, offset) => ({
      urls: [server.url],
      tokens: tokens?.slice(offset, offset + c),
      channelIds: Array.from({ length: c }, (_, i) => channels[Math.floor((offset + i) / PER_CHANNEL)]),
    }));
    ctx.progress(`${side}: connecting and subscribing ${n} sockets`);
    const { value: conns, cpu } = await measuredWith(ctx, [], () => Promise.all(jobs.map((j, i) => j.call<ConnectStats>('connect', { count: share(n, jobs.length, i), width: 25 }))));
    const failed = conns.reduce((a, c) => a + c.failed, 0);
    const connected = n - failed;
    await quiesce([pid]);
    ctx.progress(`${side}: heap and RSS after two forced GCs`);
    const after = await measureMemory(pid, server.inspectPort);
    const r = {
      connected,
      failed,
      firstError: conns.find((c) => c.firstError)?.firstError ?? null,
      connectSeconds: round(cpu.wallMs / 1000, 1),
      heapKBPerConnection: perConnectionKB(before.heapUsed, after.heapUsed, connected),
      rssKBPerConnection: perConnectionKB(before.rss, after.rss, connected),
      externalKBPerConnection: perConnectionKB(before.external, after.external, connected),
      heapAfterMB: round(after.heapUsed / 2 ** 20, 1),
      rssAfterMB: round(after.rss / 2 ** 20, 1),
      before,
      after,
    };
    summary[side] = r;
    steps.push(
      step(
        {
          name: `${side}: ${connected} idle subscribed sockets`,
          side,
          params: { connections: n },
          durationS: r.connectSeconds,
          delivered: connected,
          metrics: {
            heapKBPerConnection: r.heapKBPerConnection,
            rssKBPerConnection: r.rssKBPerConnection,
            externalKBPerConnection: r.externalKBPerConnection,
            heapAfterMB: r.heapAfterMB,
            rssAfterMB: r.rssAfterMB,
            connectFailures: failed,
            firstError: r.firstError,
          },
          cpu,
          notes: ['window = the time to connect and subscribe every socket; memory is measured after it, at rest'],
        },
        [side],
      ),
    );
    ctx.progress(`${side}: closing ${n} sockets`);
    await Promise.all(jobs.map((j) => j.stop()));
    await quiesce([pid]);
  }
  const hub = summary.hub as { heapKBPerConnection: number | null; rssKBPerConnection: number | null } | undefined;
  const base = summary.baseline as { heapKBPerConnection: number | null; rssKBPerConnection: number | null } | undefined;
  summary.heapRatio = ratio(hub?.heapKBPerConnection, base?.heapKBPerConnection);
  summary.rssRatio = ratio(hub?.rssKBPerConnection, base?.rssKBPerConnection);
  summary.ratioRule = 'hub ÷ baseline of KB per connection, each (after − before) ÷ connections, read after two forced GCs; a figure, no verdict (no target is set for it)';
  await ctx.topo.ensure('baseline', 0);
  return {
    id: 'idle-15k',
    title: `Memory at ${n.toLocaleString('en-US')} idle sockets on one server`,
    durationS: round((Date.now() - t0) / 1000),
    steps,
    summary,
    notes: [
      `Sockets spread over ${gens} generator processes (at most ${MAX_PER_GENERATOR.toLocaleString('en-US')} each: the open-file limit is 20,000 per process), 25 connecting at a time in each.`,
      'Per connection = (after − before) ÷ connections, heap and RSS read in the server process after two HeapProfiler.collectGarbage calls (bench/memory.ts). RSS also counts pages the heap has not given back; heap is the steadier figure.',
      `Hub sockets are distinct users (JWT), ${PER_CHANNEL} to a public channel; baseline sockets join the same rooms without auth.`,
    ],
  };
}
