// Scenario 2: one channel, S subscribers connected directly to 1 or 2
// replicas, publishers at stepped rates: the hub against the baseline on the
// same machine in the same run. The baseline climbs first, until a step fails;
// the hub then runs the same rates, so every step has a ratio.
import type { Side } from '../topology.js';
import { type Ctx, quiesce, round, type ScenarioResult, type StepResult } from './context.js';
import { deliveryStep, keptUp, openRig, type Rig } from './delivery.js';

interface Config {
  subscribers: number;
  replicas: number;
  rates: number[];
  windowMs: number;
  /** Re-run the baseline's highest kept-up rate, then the hub's, over the sustain window (≥ 20 s). */
  confirm: boolean;
}

function configs(ctx: Ctx): Config[] {
  const p = ctx.profile;
  if (p.quick) return [{ subscribers: 200, replicas: 1, rates: [25, 100], windowMs: p.ladderMs, confirm: true }];
  return [
    { subscribers: 500, replicas: 1, rates: [50, 100, 200, 400], windowMs: p.ladderMs, confirm: true },
    { subscribers: 500, replicas: 2, rates: [50, 100, 200, 400], windowMs: p.ladderMs, confirm: false },
    { subscribers: 1000, replicas: 1, rates: [25, 100], windowMs: p.ladderMs, confirm: false },
    { subscribers: 1000, replicas: 2, rates: [25, 100], windowMs: p.ladderMs, confirm: false },
  ];
}

/** Above this event-loop delay (p99) a generator process counts as falling behind itself. */
export const GENERATOR_LAG_MS = 100;

/**
 * Whether a hub/baseline ratio at this step means something: the servers, not
 * the generators, set the pace. A generator counts as saturated when it used
 * ≥ 85% of a core or its event loop lagged (p99 > 100 ms). On a saturated
 * machine the ratio still counts when every generator kept up (low lag) and a
 * server side fell behind: the servers were starved of CPU, not the clients.
 */
export function ratioVerdict(hub: StepResult, base: StepResult): { ratio: number | null; counts: boolean; why: string } {
  const ratio = hub.deliveredPerS && base.deliveredPerS ? round(hub.deliveredPerS / base.deliveredPerS, 2) : null;
  const lag = (s: StepResult) => Number(s.metrics.generatorLagP99Ms ?? 0);
  const gen = [hub, base].find((s) => s.saturated === 'generator' || s.saturated === 'both' || lag(s) > GENERATOR_LAG_MS);
  if (gen)
    return {
      ratio,
      counts: false,
      why: `not measurable here: a generator saturated on the ${gen.side} side (busiest ${Math.round(Math.max(...gen.cpu.processes.filter((p) => p.kind === 'generator').map((p) => p.core)) * 100)}% of a core, event-loop lag p99 ${lag(gen)} ms)`,
    };
  const behind = [hub, base].filter((s) => s.saturated === 'server' || !keptUp(s));
  if (!behind.length) return { ratio, counts: false, why: 'not measurable here: neither side was saturated (both delivered the offered load)' };
  if (behind.some((s) => s.saturated === 'server')) return { ratio, counts: true, why: 'servers saturated, generators not' };
  return { ratio, counts: true, why: `the ${behind.map((s) => s.side).join(' and ')} fell behind while every generator kept up (lag p99 ≤ ${GENERATOR_LAG_MS} ms)` };
}

export interface RatioRow {
  rate: number;
  sustainCheck: boolean;
  hubPerS: number | null;
  baselinePerS: number | null;
  ratio: number | null;
  counts: boolean;
  why: string;
}

/** Hub/baseline pairs of one configuration: each ladder rate, then the sustain check. */
export function ratioRows(steps: StepResult[], subscribers: number, replicas: number): RatioRow[] {
  const of = (side: string, confirm: boolean) => steps.filter((s) => s.side === side && s.params.subscribers === subscribers && s.params.replicas === replicas && !!s.params.confirm === confirm);
  const rows: RatioRow[] = [];
  for (const confirm of [false, true]) {
    for (const h of of('hub', confirm)) {
      const b = of('baseline', confirm).find((x) => x.params.rate === h.params.rate);
      if (b) rows.push({ rate: Number(h.params.rate), sustainCheck: confirm, hubPerS: h.deliveredPerS, baselinePerS: b.deliveredPerS, ...ratioVerdict(h, b) });
    }
  }
  return rows;
}

export async function fanout(ctx: Ctx): Promise<ScenarioResult> {
  const t0 = Date.now();
  const steps: StepResult[] = [];
  const summary: Record<string, unknown> = {};
  const [owner] = await ctx.users(1);
  for (const cfg of configs(ctx)) {
    const key = `${cfg.subscribers}x${cfg.replicas}`;
    const ran: Record<Side, StepResult[]> = { baseline: [], hub: [] };
    const runSide = async (side: Side, rates: number[], windowMs: number, confirm: boolean) => {
      await ctx.topo.ensure(side === 'hub' ? 'baseline' : 'hub', 0);
      const servers = await ctx.topo.ensure(side, cfg.replicas);
      const channelId = (await ctx.seed.channels(owner, 1, `fanout-${side}`))[0];
      const open = () => openRig(ctx, { side, subServers: servers, pubServers: servers, subscribers: cfg.subscribers, channelId });
      let rig: Rig = await open();
      for (const rate of rates) {
        await quiesce(servers.map((s) => s.child.pid));
        ctx.progress(`${side} ${key}: ${rate} msg/s for ${windowMs / 1000} s${confirm ? ' (sustain check)' : ''}`);
        const s = await deliveryStep(ctx, rig, {
          name: `${side} ${cfg.subscribers} subs × ${cfg.replicas} replica(s) @ ${rate} msg/s${confirm ? `, ${windowMs / 1000} s sustain check` : ''}`,
          tag: `fo-${side}-${key}-${rate}-${Date.now()}`,
          rate,
          durationMs: windowMs,
          channelId,
          params: confirm ? { confirm: true } : {},
        });
        steps.push(s);
        if (!confirm) ran[side].push(s);
        if (!keptUp(s)) {
          if (side === 'baseline' && !confirm) break;
          // An overloaded hub keeps a backlog in its sockets' buffers: start the next step afresh.
          await rig.close();
          rig = await open();
        }
      }
      await rig.close();
    };
    await runSide('baseline', cfg.rates, cfg.windowMs, false);
    await runSide(
      'hub',
      ran.baseline.map((s) => Number(s.params.rate)),
      cfg.windowMs,
      false,
    );
    const keptUpRates = ran.baseline.filter(keptUp).map((s) => Number(s.params.rate));
    const confirmRate = keptUpRates[keptUpRates.length - 1];
    const confirmed: StepResult[] = [];
    if (cfg.confirm && confirmRate !== undefined) {
      for (const side of ['baseline', 'hub'] as const) {
        const before = steps.length;
        await runSide(side, [confirmRate], ctx.profile.sustainMs, true);
        confirmed.push(...steps.slice(before));
      }
    }
    const ratios = ratioRows(steps, cfg.subscribers, cfg.replicas);
    const highest = (list: StepResult[]) => {
      const ok = list.filter((s) => keptUp(s) && s.sustained !== false);
      return ok.length ? Number(ok[ok.length - 1].params.rate) : null;
    };
    summary[key] = {
      subscribers: cfg.subscribers,
      replicas: cfg.replicas,
      windowS: cfg.windowMs / 1000,
      baselineHighestKeptUp: highest(ran.baseline),
      hubHighestKeptUp: highest(ran.hub),
      baselineSustained: confirmed[0] ? { rate: confirmRate, sustained: confirmed[0].sustained } : null,
      hubAtThatRate: confirmed[1] ? { rate: confirmRate, sustained: confirmed[1].sustained, deliveredPerS: confirmed[1].deliveredPerS } : null,
      ratios,
    };
  }
  await ctx.topo.ensure('baseline', 0);
  return {
    id: 'fanout',
    title: 'Fan-out: the hub against plain socket.io + redis-adapter',
    durationS: round((Date.now() - t0) / 1000),
    steps,
    summary,
    notes: [
      'Subscribers connect to the replicas directly (no HAProxy), spread evenly; publishers use 8 sockets spread over the same replicas.',
      'A step that lost messages or reached p99 ≥ 1 s ends the baseline’s climb; the hub runs the rates the baseline ran.',
    ],
  };
}
