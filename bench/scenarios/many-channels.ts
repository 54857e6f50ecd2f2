// Many channels: 1,000 channels of 10 subscribers each on 2 replicas, publishes
// spread over every channel (message n to channel n mod 1,000), hub and
// baseline at the same rates. Each channel's subscribers are split over both
// replicas (subscriber k of channel c on replica k mod 2): every replica needs
// every channel, the case the hub's per-channel bus saves nothing on.
import { BODY_BYTES } from '../generators/body.js';
import type { Side } from '../topology.js';
import { type Ctx, quiesce, round, type ScenarioResult, type StepResult } from './context.js';
import { keptUp } from './delivery.js';
import { loadStep, openLoad } from './userload.js';
import { EQUAL_LOAD_RULE, LADDER_RULE, ladderTop, sideBySide } from './userload-rules.js';

export interface ManyChannelsConfig {
  channels: number;
  perChannel: number;
  replicas: number;
  rates: number[];
  windowMs: number;
}

export function manyChannelsConfig(ctx: Ctx): ManyChannelsConfig {
  const p = ctx.profile;
  // Quick: a tiny form that still spreads every channel over both replicas (a few seconds).
  return p.quick ? { channels: 20, perChannel: 4, replicas: 2, rates: [40], windowMs: 1000 } : { channels: 1000, perChannel: 10, replicas: 2, rates: [100, 200, 300, 600, 1000], windowMs: p.ladderMs };
}

export async function manyChannels(ctx: Ctx): Promise<ScenarioResult> {
  const t0 = Date.now();
  const cfg = manyChannelsConfig(ctx);
  const n = cfg.channels * cfg.perChannel;
  const [owner] = await ctx.users(1);
  const steps: StepResult[] = [];
  // Hub first: a run reaches here with hub replicas up (one hub start fewer in --quick).
  for (const side of ['hub', 'baseline'] as Side[]) {
    await ctx.topo.ensure(side === 'hub' ? 'baseline' : 'hub', 0);
    const servers = await ctx.topo.ensure(side, cfg.replicas);
    const channelIds = await ctx.seed.channels(owner, cfg.channels, `many-${side}`);
    // Subscriber k: channel k mod C, replica (k div C) mod R, so each channel's subscribers alternate over the replicas.
    const load = await openLoad(ctx, {
      side,
      servers,
      subscribers: n,
      channelIds,
      subUrl: (k) => servers[Math.floor(k / cfg.channels) % servers.length].url,
      bodyBytes: BODY_BYTES,
    });
    for (const rate of cfg.rates) {
      await quiesce(servers.map((s) => s.child.pid));
      ctx.progress(`${side}: ${rate} msg/s over ${cfg.channels} channels`);
      const s = await loadStep(ctx, load, {
        name: `${side} ${cfg.channels} channels × ${cfg.perChannel} subs, ${cfg.replicas} replicas @ ${rate} msg/s`,
        tag: `mc-${side}-${rate}-${Date.now()}`,
        rate,
        durationMs: cfg.windowMs,
      });
      steps.push(s);
      // Past the first rate a side could not keep up with, higher ones say nothing more.
      if (!keptUp(s)) break;
    }
    ctx.progress(`${side}: closing ${n} sockets`);
    await load.close();
    await quiesce(servers.map((s) => s.child.pid));
  }
  await ctx.topo.ensure('baseline', 0);
  return {
    id: 'many-channels',
    title: `Many channels: ${cfg.channels.toLocaleString('en-US')} channels × ${cfg.perChannel} subscribers, ${cfg.replicas} replicas`,
    durationS: round((Date.now() - t0) / 1000),
    steps,
    summary: {
      ...cfg,
      subscribers: n,
      bodyBytes: BODY_BYTES,
      highestKept: { hub: ladderTop(steps, 'hub'), baseline: ladderTop(steps, 'baseline'), rule: LADDER_RULE },
      atEqualLoad: { byRate: sideBySide(steps, (s) => String(s.params.rate)), rule: EQUAL_LOAD_RULE },
    },
    notes: [
      `Message n goes to channel n mod ${cfg.channels}; it is lost when one of that channel's ${cfg.perChannel} subscribers lacks it after the step and its drain wait.`,
      'Publishers: 8 sockets spread over the replicas (socket door, acked), bodies of ~200 bytes. Subscribers connect to the replicas directly (no HAProxy).',
      'A side stops climbing at the first rate it did not keep up with (a message lost, p99 ≥ 1 s, or a publish refused or skipped).',
    ],
  };
}
