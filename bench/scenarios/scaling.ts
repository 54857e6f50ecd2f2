// Scenario 3: 1, 2 and 3 replicas under the same total load (subscribers
// spread evenly, publishers too): the highest rate kept up (p99 < 1 s, nothing
// lost), CPU per 1,000 deliveries, and the bytes each replica receives from
// Redis, including replicas with no subscriber of the channel published to.
import { type Ctx, cpuMsOf, quiesce, round, type ScenarioResult, type StepResult } from './context.js';
import { deliveryStep, keptUp, openRig } from './delivery.js';

/** summary['1'], ['2'] and ['3']: the figures for that many replicas. */
export interface ScalingRow {
  replicas: number;
  highestRateKeptUp: number | null;
  deliveriesPerS: number | null;
  hubCpuSecondsPer1000Deliveries: number | null;
  serverCpuSecondsPer1000Deliveries: number | null;
  /** Per replica name. */
  redisBytesInPerMessage: Record<string, number> | null;
  coldChannelRedisBytesInPerMessage: Record<string, number> | null;
  ladderExhausted: boolean;
}

export async function scaling(ctx: Ctx): Promise<ScenarioResult> {
  const t0 = Date.now();
  const q = ctx.profile.quick;
  const subscribers = q ? 150 : 1000;
  const rates = q ? [20] : [10, 20, 40, 80];
  const windowMs = ctx.profile.ladderMs;
  const [owner] = await ctx.users(1);
  const steps: StepResult[] = [];
  const summary: Record<string, unknown> = { subscribers };
  await ctx.topo.ensure('baseline', 0);
  for (const n of [1, 2, 3]) {
    const servers = await ctx.topo.ensure('hub', n);
    const [channelId] = await ctx.seed.channels(owner, 1, `scaling-${n}`);
    const rig = await openRig(ctx, { side: 'hub', subServers: servers, pubServers: servers, subscribers, channelId: channelId });
    let best: StepResult | undefined;
    for (const rate of rates) {
      await quiesce(servers.map((s) => s.child.pid));
      ctx.progress(`${n} replica(s): ${subscribers} subscribers, ${rate} msg/s`);
      const s = await deliveryStep(ctx, rig, {
        name: `${n} replica(s), ${subscribers} subs @ ${rate} msg/s`,
        tag: `sc-${n}-${rate}-${Date.now()}`,
        rate,
        durationMs: windowMs,
        channelId: channelId,
        watchRedis: servers,
        params: { scaling: true },
      });
      steps.push(s);
      if (!keptUp(s)) break;
      best = s;
    }
    await rig.close();
    // Bus traffic where it is not needed: a channel whose only subscribers are on the first replica.
    let cold: Record<string, number> | undefined;
    if (n > 1) {
      const [coldId] = await ctx.seed.channels(owner, 1, `scaling-cold-${n}`);
      // The main channel's 1,000 leaves turn into presence:left after the grace (3 s): let them pass first.
      await new Promise((r) => setTimeout(r, 5000));
      const coldRig = await openRig(ctx, { side: 'hub', subServers: [servers[0]], pubServers: [servers[0]], subscribers: 20, channelId: coldId, pubConnections: 1 });
      await quiesce(servers.map((s) => s.child.pid));
      ctx.progress(`${n} replica(s): channel with subscribers on ${servers[0].name} only`);
      const s = await deliveryStep(ctx, coldRig, {
        name: `${n} replica(s), channel subscribed on ${servers[0].name} only @ 20 msg/s`,
        tag: `cold-${n}-${Date.now()}`,
        rate: 20,
        durationMs: Math.min(windowMs, 5000),
        channelId: coldId,
        watchRedis: servers,
        params: { scaling: true, coldChannel: true },
      });
      steps.push(s);
      const published = Number(s.metrics.acked) || 1;
      cold = Object.fromEntries(servers.map((sv) => [sv.name, round(Number(s.metrics[`redisBytesIn.${sv.name}`]) / published, 0)]));
      await coldRig.close();
    }
    const hubMs = best ? cpuMsOf(best.cpu, ['hub']) : null;
    const allMs = best ? cpuMsOf(best.cpu, ['hub', 'redis', 'postgres']) : null;
    const row: ScalingRow = {
      replicas: n,
      highestRateKeptUp: best ? Number(best.params.rate) : null,
      deliveriesPerS: best?.deliveredPerS ?? null,
      hubCpuSecondsPer1000Deliveries: best && best.delivered ? round(((hubMs! / best.delivered) * 1000) / 1000, 3) : null,
      serverCpuSecondsPer1000Deliveries: best && best.delivered ? round(((allMs! / best.delivered) * 1000) / 1000, 3) : null,
      redisBytesInPerMessage: best ? Object.fromEntries(servers.map((sv) => [sv.name, round(Number(best.metrics[`redisBytesIn.${sv.name}`]) / (Number(best.metrics.acked) || 1), 0)])) : null,
      coldChannelRedisBytesInPerMessage: cold ?? null,
      ladderExhausted: best !== undefined && Number(best.params.rate) === rates[rates.length - 1],
    };
    summary[`${n}`] = row;
  }
  return {
    id: 'scaling',
    title: 'Scaling curve: 1, 2, 3 replicas, same total load',
    durationS: round((Date.now() - t0) / 1000),
    steps,
    summary,
    notes: [
      'Every replica reaches Redis through a byte-counting proxy of its own; "redisBytesIn" is what Redis sent that replica during the step (its background traffic, canary and presence, included).',
      'All replicas, Redis, Postgres and the generators share this machine’s cores: past one replica the curve is CPU-bound by the machine, so the figures that carry over to other machines are CPU and bus bytes per delivery.',
    ],
  };
}
