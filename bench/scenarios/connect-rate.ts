// Connection rate: new clients arriving at a fixed rate (open loop, each
// connect + subscribe timed from its scheduled start), the rate raised step by
// step until the handshake p99 passes 1 s (userload-rules.ts, handshakeCall),
// for the hub and the baseline on one server each (the ladder starts at 25/s:
// in the first full run here the hub's p99 was 17 s at 200/s). Then the time
// to open 2,000 sockets as fast as they are accepted (25 at a time per
// generator process, as the idle scenario does for 5,000), three times, sides
// alternating.
import type { ConnectStats } from '../generators/crowd.js';
import { merge, summarize } from '../histogram.js';
import type { Server, Side } from '../topology.js';
import { type Ctx, quiesce, round, type ScenarioResult, type StepResult, step } from './context.js';
import { HANDSHAKE_RULE, highestKept, handshakeCall, type HandshakeStep, ratio, spread } from './userload-rules.js';
import { measuredWith, share } from './userload.js';

/** Sockets a channel: as in idle.ts, so the presence of a join reaches 49 others at most. */
const PER_CHANNEL = 50;
/** The hub's default PRESENCE_GRACE_MS: a user back within it cancels its leave, a cheaper path than a join. */
const PRESENCE_GRACE_MS = 3000;
/** Clients opened and closed before a side's ladder (not recorded). */
const WARMUP = 200;

export interface ConnectRateConfig {
  rates: number[];
  windowMs: number;
  burst: number;
  repeats: number;
}

export function connectRateConfig(quick: boolean): ConnectRateConfig {
  return quick ? { rates: [100, 300], windowMs: 1500, burst: 300, repeats: 1 } : { rates: [25, 50, 100, 200, 400, 700, 1000, 1500, 2200], windowMs: 5000, burst: 2000, repeats: 3 };
}

export async function connectRate(ctx: Ctx): Promise<ScenarioResult> {
  const t0 = Date.now();
  const cfg = connectRateConfig(ctx.profile.quick);
  const most = Math.max(cfg.burst, ...cfg.rates.map((r) => Math.ceil((r * cfg.windowMs) / 1000)));
  const users = await ctx.users(most);
  const steps: StepResult[] = [];
  const [hub] = await ctx.topo.ensure('hub', 1);
  const [base] = await ctx.topo.ensure('baseline', 1);
  const servers: Record<Side, Server> = { hub, baseline: base };
  const channels = await ctx.seed.channels(users[0], Math.ceil(most / PER_CHANNEL), 'connect-rate');
  const gens = ctx.topo.generators.gens.length;

  /** `count` clients, each generator process opening its share (open loop at rate/gens, or `width` at a time). */
  const arrive = async (side: Side, count: number, mode: { rate?: number; width?: number }) => {
    const server = servers[side];
    const tokens = side === 'hub' ? users.map((u) => u.token) : undefined;
    const jobs = await ctx.topo.generators.spread('crowd', count, (c, offset) => ({
      urls: [server.url],
      tokens: tokens?.slice(offset, offset + c),
      channelIds: Array.from({ length: c }, (_, i) => channels[Math.floor((offset + i) / PER_CHANNEL) % channels.length]),
    }));
    const { value, cpu } = await measuredWith(ctx, [], () =>
      Promise.all(jobs.map((j, i) => j.call<ConnectStats>('connect', { count: share(count, jobs.length, i), rate: mode.rate ? mode.rate / jobs.length : undefined, width: mode.width }))),
    );
    await Promise.all(jobs.map((j) => j.stop()));
    // Their leaves: disconnect handling now, the hub's presence leaves after its grace.
    await quiesce([server.child.pid]);
    if (side === 'hub') await new Promise((r) => setTimeout(r, PRESENCE_GRACE_MS + 500));
    await quiesce([server.child.pid]);
    return { stats: value, cpu };
  };

  const ladder: Record<Side, HandshakeStep[]> = { hub: [], baseline: [] };
  for (const side of ['baseline', 'hub'] as const) {
    // Warm-up, not judged: the first clients of a fresh server pay for its cold code paths (in one run here the hub's first 125 at 25/s had a 1.1 s max).
    ctx.progress(`${side}: warm-up, ${WARMUP} clients`);
    await arrive(side, WARMUP, { width: 10 });
    for (const rate of cfg.rates) {
      const count = Math.ceil((rate * cfg.windowMs) / 1000);
      ctx.progress(`${side}: ${rate} connects + subscribes/s for ${cfg.windowMs / 1000} s`);
      const { stats, cpu } = await arrive(side, count, { rate });
      const hs = summarize(merge(stats.map((s) => s.hist)));
      const gensCpu = cpu.processes.filter((p) => p.kind === 'generator').map((p) => p.core);
      const h: HandshakeStep = {
        rate,
        connects: count,
        failed: stats.reduce((a, s) => a + s.failed, 0),
        samples: hs.samples,
        p99Ms: hs.p99Ms,
        maxMs: hs.maxMs,
        lateStarts: stats.reduce((a, s) => a + s.lateStarts, 0),
        generatorLagP99Ms: Math.max(...stats.map((s) => s.lagP99Ms)),
        generatorMaxCore: gensCpu.length ? Math.max(...gensCpu) : 0,
      };
      ladder[side].push(h);
      const call = handshakeCall(h);
      steps.push(
        step(
          {
            name: `${side}: ${rate} connects + subscribes/s`,
            side,
            params: { rate, connects: count, phase: 'ladder' },
            durationS: round(cpu.wallMs / 1000, 1),
            latency: hs,
            offeredPerS: rate,
            delivered: count - h.failed,
            deliveredPerS: round((count - h.failed) / (cpu.wallMs / 1000), 0),
            cpu,
            metrics: {
              failed: h.failed,
              firstError: stats.find((s) => s.firstError)?.firstError ?? null,
              lateStarts: h.lateStarts,
              generatorLagP99Ms: h.generatorLagP99Ms,
              kept: call.kept,
              judged: call.judged,
              why: call.why,
            },
            notes: ['latency = each connect + subscribe from its scheduled start; window = first start to last answer'],
          },
          [side],
        ),
      );
      if (!call.kept) break;
    }
  }

  const bursts: Record<Side, number[]> = { hub: [], baseline: [] };
  for (let r = 0; r < cfg.repeats; r++) {
    for (const side of ['baseline', 'hub'] as const) {
      ctx.progress(`${side}: ${cfg.burst} sockets as fast as accepted (${r + 1}/${cfg.repeats})`);
      const { stats, cpu } = await arrive(side, cfg.burst, { width: 25 });
      const failed = stats.reduce((a, s) => a + s.failed, 0);
      const seconds = round(Math.max(...stats.map((s) => s.elapsedMs)) / 1000, 2);
      if (!failed) bursts[side].push(seconds);
      steps.push(
        step(
          {
            name: `${side}: ${cfg.burst} sockets, 25 at a time per generator (${r + 1}/${cfg.repeats})`,
            side,
            params: { connects: cfg.burst, repeat: r + 1, phase: 'burst' },
            durationS: seconds,
            latency: summarize(merge(stats.map((s) => s.hist))),
            delivered: cfg.burst - failed,
            deliveredPerS: round((cfg.burst - failed) / seconds, 0),
            cpu,
            metrics: { failed, firstError: stats.find((s) => s.firstError)?.firstError ?? null, generatorLagP99Ms: Math.max(...stats.map((s) => s.lagP99Ms)) },
            notes: ['window = the slowest generator process’s first connect to its last subscribe ack'],
          },
          [side],
        ),
      );
    }
  }
  const hubBurst = spread(bursts.hub);
  const baseBurst = spread(bursts.baseline);
  await ctx.topo.ensure('baseline', 0);
  return {
    id: 'connect-rate',
    title: 'Connection rate: connects + subscribes per second until the handshake p99 passes 1 s',
    durationS: round((Date.now() - t0) / 1000),
    steps,
    summary: {
      ...cfg,
      perChannel: PER_CHANNEL,
      generatorProcesses: gens,
      ladder,
      hubHighestKept: highestKept(ladder.hub),
      baselineHighestKept: highestKept(ladder.baseline),
      highestKeptRule: HANDSHAKE_RULE,
      burstSeconds: { hub: hubBurst, baseline: baseBurst },
      burstRatio: ratio(hubBurst?.median, baseBurst?.median),
      burstRatioRule: 'hub ÷ baseline of the median seconds to open the burst (min / median / max beside it, failed repeats left out); a figure, no verdict',
    },
    notes: [
      `Clients are distinct users on the hub (JWT), unauthenticated on the baseline; each subscribes to a channel of ${PER_CHANNEL} (as the idle scenario), so a join's presence reaches at most ${PER_CHANNEL - 1} others.`,
      `Before each side's ladder, ${WARMUP} clients connect and leave (10 at a time per generator process; not recorded): a warm-up, so the first step does not measure a cold server.`,
      'Each step opens rate × window new clients on one server, spread over the generator processes, then closes them all and waits for the server to be idle again (on the hub past the presence grace as well) before the next.',
      'Both servers run through the whole scenario (one idle while the other is measured), so bursts can alternate sides.',
    ],
  };
}
