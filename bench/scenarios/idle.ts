// Scenario 4: the cost of idle, authenticated, subscribed sockets on one
// server: heap and RSS per connection after two forced GCs in the measured
// process (bench/memory.ts), hub and baseline measured the same way.
import { measureMemory, type MemoryUsage } from '../memory.js';
import { type Ctx, measured, round, type ScenarioResult, type StepResult, step } from './context.js';

export async function idle(ctx: Ctx): Promise<ScenarioResult> {
  const t0 = Date.now();
  const n = ctx.profile.quick ? 300 : 5000;
  const users = await ctx.users(n);
  const steps: StepResult[] = [];
  const summary: Record<string, unknown> = { connections: n };
  for (const side of ['baseline', 'hub'] as const) {
    await ctx.topo.ensure(side === 'hub' ? 'baseline' : 'hub', 0);
    const [server] = await ctx.topo.ensure(side, 1);
    // 50 sockets a channel: one channel of 5,000 would measure the presence fan-out of 5,000 joins (quadratic), not idle cost.
    const channelIds = await ctx.seed.channels(users[0], Math.ceil(n / 50), `idle-${side}`);
    const before: MemoryUsage = await measureMemory(server.child.pid, server.inspectPort);
    ctx.progress(`${side}: connecting and subscribing ${n} sockets`);
    const { value: jobs, cpu } = await measured(ctx, () =>
      ctx.topo.generators.spread('subscribers', n, (count, offset) => ({
        urls: [server.url],
        tokens: side === 'hub' ? users.slice(offset, offset + count).map((u) => u.token) : undefined,
        count,
        channelIds,
        connectWidth: 25,
      })),
    );
    const failed = jobs.reduce((a, j) => a + (j.started as { failed: number }).failed, 0);
    await new Promise((r) => setTimeout(r, 2000)); // let the connection burst's garbage settle
    ctx.progress(`${side}: measuring heap and RSS after two forced GCs`);
    const after = await measureMemory(server.child.pid, server.inspectPort);
    const connected = n - failed;
    const per = (k: keyof MemoryUsage) => round((after[k] - before[k]) / connected / 1024, 2);
    const result = {
      heapKBPerConnection: per('heapUsed'),
      rssKBPerConnection: per('rss'),
      externalKBPerConnection: per('external'),
      before,
      after,
      connected,
      failed,
      connectSeconds: round(cpu.wallMs / 1000, 1),
    };
    summary[side] = result;
    steps.push(
      step(
        {
          name: `${side}: ${connected} idle subscribed sockets`,
          side,
          params: { connections: n },
          durationS: round(cpu.wallMs / 1000, 1),
          delivered: connected,
          metrics: {
            heapKBPerConnection: result.heapKBPerConnection,
            rssKBPerConnection: result.rssKBPerConnection,
            externalKBPerConnection: result.externalKBPerConnection,
            connectFailures: failed,
            heapUsedBefore: before.heapUsed,
            heapUsedAfter: after.heapUsed,
            rssBefore: before.rss,
            rssAfter: after.rss,
          },
          cpu,
          notes: ['window = the time to connect and subscribe every socket; memory is measured after it, at rest'],
        },
        [side],
      ),
    );
    await Promise.all(jobs.map((j) => j.stop()));
  }
  const hub = summary.hub as { heapKBPerConnection: number } | undefined;
  const base = summary.baseline as { heapKBPerConnection: number } | undefined;
  if (hub && base) summary.heapRatio = round(hub.heapKBPerConnection / base.heapKBPerConnection, 2);
  await ctx.topo.ensure('baseline', 0);
  return {
    id: 'idle',
    title: 'Idle cost per connection',
    durationS: round((Date.now() - t0) / 1000),
    steps,
    summary,
    notes: [
      'Per connection = (after − before) / connections, each read in the server process after two HeapProfiler.collectGarbage calls, opened through SIGUSR1 on the port given with --inspect-port (no restart).',
      'RSS per connection stays noisy even after the GCs (the heap gives pages back to the OS on its own schedule); heap is the stable figure, RSS is reported beside it.',
      'Hub sockets are distinct users, authenticated by JWT, 50 to a public channel (100 channels for 5,000 sockets); baseline sockets join the same rooms without auth.',
    ],
  };
}
