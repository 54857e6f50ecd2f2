// Scenario 2: one channel, S subscribers connected directly to 1 or 2
// replicas, publishers at stepped rates: the hub against the baseline on the
// same machine in the same run. Both sides stay up side by side and take
// turns step by step (the order alternating), so a drift of the shared
// machine falls on both. Per configuration: an unjudged warm-up; a coarse
// ladder that both sides climb until neither keeps up; repeats of the
// equal-load step (100 msg/s) and of the step where both saturate; then, from
// each side's highest kept-up rate, sustain probes of ≥ 20 s in +10% steps.
import { formatBoundMs, histogramDelta, parseHistogram, type PromHistogram, quantileBound } from '../prometheus.js';
import type { Server, Side } from '../topology.js';
import { type Spread, spread } from '../stats.js';
import { type Ctx, quiesce, round, type ScenarioResult, type StepResult } from './context.js';
import { deliveryStep, keptUp, openRig, type Rig } from './delivery.js';

interface Config {
  subscribers: number;
  replicas: number;
  rates: number[];
  windowMs: number;
  /** A headline configuration: warm-up, repeats, sustain probes and their summaries. */
  headline: boolean;
  /** Sustain probes (≥ 20 s each, the costly part): where a target reads the sustained capacity. */
  probe: boolean;
}

/** The equal load at which both sides' latency is compared (issue 15: 100 msg/s to 500 subscribers). */
export const EQUAL_LOAD_RATE = 100;
/** Warm-up rate: low enough for both sides to keep up on any machine the bench runs on. */
export const WARMUP_RATE = 50;
/** Sustain probes above a side's highest kept-up ladder rate, as fractions of it (full run); quick runs only the first. */
export const PROBE_STEPS = [0, 0.1, 0.2];
/** Below the highest kept-up rate when even that is not sustained over ≥ 20 s. */
export const PROBE_DOWN = [0.8, 0.6];

function configs(ctx: Ctx): Config[] {
  const p = ctx.profile;
  if (p.quick) return [{ subscribers: 200, replicas: 1, rates: [25, EQUAL_LOAD_RATE], windowMs: p.ladderMs, headline: true, probe: true }];
  return [
    { subscribers: 500, replicas: 1, rates: [50, EQUAL_LOAD_RATE, 200, 300, 400], windowMs: p.ladderMs, headline: true, probe: true },
    // Two replicas: the target reads the ladder at 200 msg/s, so no probes (they would add ~3 minutes).
    { subscribers: 500, replicas: 2, rates: [50, EQUAL_LOAD_RATE, 200, 300, 400], windowMs: p.ladderMs, headline: true, probe: false },
    { subscribers: 1000, replicas: 1, rates: [25, 100], windowMs: p.ladderMs, headline: false, probe: false },
    { subscribers: 1000, replicas: 2, rates: [25, 100], windowMs: p.ladderMs, headline: false, probe: false },
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

/** The step's phase; results written before phases existed hold ladder steps and sustain checks only. */
const phaseOf = (s: StepResult) => String(s.params.phase ?? (s.params.confirm ? 'probe' : 'ladder'));

/** Hub/baseline pairs of one configuration: each ladder rate, then the sustain checks (repeats are summarised, not listed). */
export function ratioRows(steps: StepResult[], subscribers: number, replicas: number): RatioRow[] {
  const of = (side: string, confirm: boolean) =>
    steps.filter((s) => s.side === side && s.params.subscribers === subscribers && s.params.replicas === replicas && !!s.params.confirm === confirm && phaseOf(s) !== 'repeat');
  const rows: RatioRow[] = [];
  for (const confirm of [false, true]) {
    for (const h of of('hub', confirm)) {
      const b = of('baseline', confirm).find((x) => x.params.rate === h.params.rate);
      if (b) rows.push({ rate: Number(h.params.rate), sustainCheck: confirm, hubPerS: h.deliveredPerS, baselinePerS: b.deliveredPerS, ...ratioVerdict(h, b) });
    }
  }
  return rows;
}

/** The printed rule of the fan-out ratio (scenario summary, per configuration). */
export const RATIO_RULE =
  'ratio = hub ÷ baseline deliveries of acknowledged publishes (each acknowledged message × the subscribers that received it, late ones included until the drain ends, ≤ 3 s after the window) over the same window at the same offered rate, read at the lowest ladder rate where neither side kept up (both saturated); it counts only where no generator saturated (≥ 85% of a core or event-loop lag p99 > 100 ms); measured --repeat times, the sides alternating which goes first; median (min–max). Refused share = publishes refused, failed or timed out, or skipped by the generator (too many awaiting acks) ÷ publishes due.';

/** The printed rule of the sustained capacity. */
export const SUSTAIN_RULE =
  'a side sustains a rate when a step of ≥ 20 s at it loses nothing, refuses no publish and keeps p99 < 1 s; probes start at the side’s highest kept-up ladder rate and go up in +10% steps until one fails (or the next ladder rate, where it already fell behind, is reached); if the first fails, they go down to 80% and 60% of it. Capacity ratio = hub’s highest sustained rate ÷ baseline’s.';

/** One repeat of a hub/baseline pair at a rate: the fan-out ratio by delivered acknowledged messages. */
export function deliveredRatio(hub: StepResult, base: StepResult): number | null {
  const h = Number(hub.metrics.deliveredOfAcked);
  const b = Number(base.metrics.deliveredOfAcked);
  return Number.isFinite(h) && Number.isFinite(b) && b > 0 ? round(h / b, 3) : null;
}

const metric = (s: StepResult, k: string) => (typeof s.metrics[k] === 'number' ? s.metrics[k] : null);

/** Every replica's /metrics text, concatenated: a histogram parsed from it sums the replicas. */
async function scrapeAll(servers: Server[]): Promise<string | null> {
  try {
    const texts = await Promise.all(servers.map(async (s) => (await fetch(`${s.url}/metrics`, { signal: AbortSignal.timeout(10_000) })).text()));
    return texts.join('\n');
  } catch {
    // A replica too busy to answer leaves the stage figures out of this step, not the step out of the run.
    return null;
  }
}

export const PUBLISH_HISTOGRAM = 'crosswire_publish_duration_seconds';
export const DELIVERY_LAG_HISTOGRAM = 'crosswire_delivery_lag_seconds';

/**
 * The hub's own split of a step's latency, from its Prometheus histograms
 * read before and after: publish handled (stored in Postgres and handed to
 * fan-out) and stored → emitted to a replica's sockets. Means from sum/count;
 * p99 as the bucket bound the histogram can support.
 */
export function hubStages(before: string | null, after: string | null): Record<string, number | string | null> {
  if (before === null || after === null) return { hubStoreMeanMs: null, hubStoreP99Bound: null, hubStoredToEmitMeanMs: null, hubStoredToEmitP99Bound: null };
  const delta = (name: string) => {
    const b = parseHistogram(after, name);
    return b ? histogramDelta(b, parseHistogram(before, name)) : null;
  };
  const mean = (h: PromHistogram | null) => (h && h.count > 0 ? round((h.sum / h.count) * 1000, 2) : null);
  const p99 = (h: PromHistogram | null) => (h && h.count > 0 ? formatBoundMs(quantileBound(h, 0.99), h) : null);
  const store = delta(PUBLISH_HISTOGRAM);
  const lag = delta(DELIVERY_LAG_HISTOGRAM);
  return { hubStoreMeanMs: mean(store), hubStoreP99Bound: p99(store), hubStoredToEmitMeanMs: mean(lag), hubStoredToEmitP99Bound: p99(lag) };
}

/** Each side's figures at equal load, one value per repeat. */
export interface SideAtLoad {
  p50Ms: Spread | null;
  p99Ms: Spread | null;
  /** Publish → ack, at the publisher. */
  ackP50Ms: Spread | null;
  ackP99Ms: Spread | null;
  /** Publish → first subscriber to receive it. */
  firstDeliveryP50Ms: Spread | null;
  firstDeliveryP99Ms: Spread | null;
  /** CPU ms of the side's own server processes per 1,000 deliveries (window and drain). */
  ownCpuMsPer1000Deliveries: Spread | null;
  /** The same with Redis and Postgres. */
  serverCpuMsPer1000Deliveries: Spread | null;
  refusedShare: Spread | null;
  /** Hub only, from its own /metrics: publish → stored and handed to fan-out (mean), and stored → emitted to a replica's sockets (mean). */
  hubStoreMeanMs: Spread | null;
  hubStoredToEmitMeanMs: Spread | null;
  keptUp: boolean[];
}

export function sideAtLoad(steps: StepResult[]): SideAtLoad {
  const sp = (k: string) => spread(steps.map((s) => metric(s, k)));
  return {
    p50Ms: spread(steps.map((s) => s.latency?.p50Ms)),
    p99Ms: spread(steps.map((s) => s.latency?.p99Ms)),
    ackP50Ms: sp('ackP50Ms'),
    ackP99Ms: sp('ackP99Ms'),
    firstDeliveryP50Ms: sp('firstDeliveryP50Ms'),
    firstDeliveryP99Ms: sp('firstDeliveryP99Ms'),
    ownCpuMsPer1000Deliveries: sp('ownCpuMsPer1000Deliveries'),
    serverCpuMsPer1000Deliveries: sp('serverCpuMsPer1000Deliveries'),
    refusedShare: sp('refusedShare'),
    hubStoreMeanMs: sp('hubStoreMeanMs'),
    hubStoredToEmitMeanMs: sp('hubStoredToEmitMeanMs'),
    keptUp: steps.map(keptUp),
  };
}

/** Pairs (k-th hub step, k-th baseline step) → one value each. */
export function paired(hub: StepResult[], base: StepResult[], f: (h: StepResult, b: StepResult) => number | null): Spread | null {
  return spread(hub.slice(0, base.length).map((h, k) => f(h, base[k])));
}

const ratioOf = (get: (s: StepResult) => number | null | undefined) => (h: StepResult, b: StepResult) => {
  const x = get(h);
  const y = get(b);
  return typeof x === 'number' && typeof y === 'number' && y > 0 ? round(x / y, 2) : null;
};
const diffOf = (get: (s: StepResult) => number | null | undefined) => (h: StepResult, b: StepResult) => {
  const x = get(h);
  const y = get(b);
  return typeof x === 'number' && typeof y === 'number' ? round(x - y, 2) : null;
};

/** Equal load, both sides: latencies, their causes and CPU per delivery, each a spread over the repeats. */
export function equalLoadSummary(hub: StepResult[], base: StepResult[], rate: number) {
  return {
    rate,
    subscribers: hub[0]?.params.subscribers ?? base[0]?.params.subscribers ?? null,
    windowS: hub[0]?.durationS ?? null,
    repeats: Math.min(hub.length, base.length),
    hub: sideAtLoad(hub),
    baseline: sideAtLoad(base),
    p50Ratio: paired(
      hub,
      base,
      ratioOf((s) => s.latency?.p50Ms),
    ),
    p99Ratio: paired(
      hub,
      base,
      ratioOf((s) => s.latency?.p99Ms),
    ),
    /** Hub minus baseline, publish → first subscriber: the store before fan-out (and the hub's checks), as the subscriber sees it. */
    storeBeforeFanoutP50Ms: paired(
      hub,
      base,
      diffOf((s) => metric(s, 'firstDeliveryP50Ms')),
    ),
    storeBeforeFanoutP99Ms: paired(
      hub,
      base,
      diffOf((s) => metric(s, 'firstDeliveryP99Ms')),
    ),
    /** Hub minus baseline, publish → ack. */
    ackGapP50Ms: paired(
      hub,
      base,
      diffOf((s) => metric(s, 'ackP50Ms')),
    ),
    ownCpuRatio: paired(
      hub,
      base,
      ratioOf((s) => metric(s, 'ownCpuMsPer1000Deliveries')),
    ),
    /** The hub's own histograms: publish stored and handed to fan-out, and stored → emitted to sockets (means, every repeat; p99 as the bucket bound). */
    hubStages: {
      storeMeanMs: spread(hub.map((s) => metric(s, 'hubStoreMeanMs'))),
      storedToEmitMeanMs: spread(hub.map((s) => metric(s, 'hubStoredToEmitMeanMs'))),
      storeP99Bound: hub.map((s) => s.metrics.hubStoreP99Bound ?? null),
    },
    rule: `both sides at ${rate} msg/s to the same subscribers over the same window, pairs taken in turn (the first side alternating); p50/p99 from the due time of each message to its receipt; ack = publish → ack at the publisher; store before fan-out = hub minus baseline, publish → the first subscriber to receive it (p50); CPU = the side's own server processes' CPU ms over the window and the drain ÷ deliveries × 1,000`,
  };
}

/** The saturated comparison at one rate: ratio and refused shares, a spread over the repeats. */
export function saturatedSummary(hub: StepResult[], base: StepResult[], rate: number) {
  const n = Math.min(hub.length, base.length);
  const verdicts = hub.slice(0, n).map((h, k) => ratioVerdict(h, base[k]));
  const counted = hub.slice(0, n).filter((_, k) => verdicts[k].counts);
  const countedBase = base.slice(0, n).filter((_, k) => verdicts[k].counts);
  return {
    rate,
    windowS: hub[0]?.durationS ?? null,
    repeats: n,
    /** Over the repeats that count (no generator saturated). */
    ratio: paired(counted, countedBase, deliveredRatio),
    /** Every repeat, counted or not. */
    ratioAllRepeats: paired(hub, base, deliveredRatio),
    measurable: verdicts.map((v) => v.counts),
    why: verdicts.map((v) => v.why),
    /** The old figure, deliveries inside the window only, for comparison. */
    inWindowRatio: paired(
      hub,
      base,
      ratioOf((s) => s.deliveredPerS),
    ),
    hubRefusedShare: spread(hub.map((s) => metric(s, 'refusedShare'))),
    baselineRefusedShare: spread(base.map((s) => metric(s, 'refusedShare'))),
    hubDeliveredShare: spread(hub.map((s) => metric(s, 'deliveredShare'))),
    baselineDeliveredShare: spread(base.map((s) => metric(s, 'deliveredShare'))),
    rule: RATIO_RULE,
  };
}

/** The highest kept-up ladder rate below the first that failed, and that first failed rate (null: none). */
export function ladderLimits(steps: StepResult[]): { highestKeptUp: number | null; firstFailed: number | null } {
  let highestKeptUp: number | null = null;
  for (const s of [...steps].sort((a, b) => Number(a.params.rate) - Number(b.params.rate))) {
    if (!keptUp(s)) return { highestKeptUp, firstFailed: Number(s.params.rate) };
    highestKeptUp = Number(s.params.rate);
  }
  return { highestKeptUp, firstFailed: null };
}

/** Rates to probe for a side: from its highest kept-up rate up in the given steps, below the rate it already failed at. */
export function probeRates(highestKeptUp: number, firstFailed: number | null, steps: number[]): number[] {
  const rates = steps.map((f) => Math.round(highestKeptUp * (1 + f))).filter((r) => firstFailed === null || r < firstFailed);
  return [...new Set(rates)];
}

export async function fanout(ctx: Ctx): Promise<ScenarioResult> {
  const t0 = Date.now();
  const steps: StepResult[] = [];
  const summary: Record<string, unknown> = {};
  const [owner] = await ctx.users(1);
  const p = ctx.profile;
  for (const cfg of configs(ctx)) {
    const key = `${cfg.subscribers}x${cfg.replicas}`;
    const servers: Record<Side, Server[]> = { baseline: await ctx.topo.ensure('baseline', cfg.replicas), hub: await ctx.topo.ensure('hub', cfg.replicas) };
    const pids = [...servers.baseline, ...servers.hub].map((s) => s.child.pid);
    const channel: Record<Side, string> = { baseline: '', hub: '' };
    const rig = {} as Record<Side, Rig>;
    const open = async (side: Side) => (rig[side] = await openRig(ctx, { side, subServers: servers[side], pubServers: servers[side], subscribers: cfg.subscribers, channelId: channel[side] }));
    for (const side of ['baseline', 'hub'] as const) {
      channel[side] = (await ctx.seed.channels(owner, 1, `fanout-${side}`))[0];
      await open(side);
    }
    const run = async (side: Side, rate: number, windowMs: number, params: StepResult['params'], suffix = '') => {
      await quiesce(pids);
      ctx.progress(`${side} ${key}: ${rate} msg/s for ${windowMs / 1000} s${suffix}`);
      const before = side === 'hub' ? await scrapeAll(servers.hub) : null;
      const s = await deliveryStep(ctx, rig[side], {
        name: `${side} ${cfg.subscribers} subs × ${cfg.replicas} replica(s) @ ${rate} msg/s${suffix}`,
        tag: `fo-${side}-${key}-${rate}-${Date.now()}`,
        rate,
        durationMs: windowMs,
        channelId: channel[side],
        params,
      });
      if (before !== null) Object.assign(s.metrics, hubStages(before, await scrapeAll(servers.hub)));
      if (!keptUp(s)) {
        // An overloaded server keeps a backlog in its sockets' buffers: the next step starts afresh.
        await rig[side].close();
        await open(side);
      }
      return s;
    };
    /** Both sides at a rate, in the given order. */
    const pair = async (rate: number, windowMs: number, params: StepResult['params'], hubFirst: boolean, suffix = '') => {
      const out = {} as Record<Side, StepResult>;
      for (const side of hubFirst ? (['hub', 'baseline'] as const) : (['baseline', 'hub'] as const)) out[side] = await run(side, rate, windowMs, params, suffix);
      steps.push(out.baseline, out.hub);
      return out;
    };

    // Warm-up, not judged: the first step of a cold process (JIT, pools, caches) would bias whichever side went first.
    const warmup: unknown[] = [];
    if (cfg.headline && p.warmupMs > 0)
      for (const side of ['baseline', 'hub'] as const) {
        const s = await run(side, WARMUP_RATE, p.warmupMs, { phase: 'warmup' }, ', warm-up (not judged)');
        warmup.push({ side, rate: WARMUP_RATE, seconds: s.durationS, deliveredPerS: s.deliveredPerS, p50Ms: s.latency?.p50Ms ?? null, p99Ms: s.latency?.p99Ms ?? null, lost: s.lost });
      }

    // The coarse ladder: both sides at each rate, until a rate where neither kept up.
    const ladder: Record<Side, StepResult[]> = { baseline: [], hub: [] };
    let saturatedRate: number | null = null;
    for (const [i, rate] of cfg.rates.entries()) {
      const s = await pair(rate, cfg.windowMs, { phase: 'ladder', repeat: 1 }, i % 2 === 1);
      ladder.baseline.push(s.baseline);
      ladder.hub.push(s.hub);
      if (!keptUp(s.baseline) && !keptUp(s.hub)) {
        saturatedRate = rate;
        break;
      }
    }

    // Repeats of the headline pairs, the first side alternating.
    const at = (list: StepResult[], rate: number) => list.filter((s) => s.params.rate === rate);
    const repeated: Record<Side, StepResult[]> = { baseline: [], hub: [] };
    if (cfg.headline)
      for (let k = 2; k <= p.repeat; k++)
        for (const rate of new Set([EQUAL_LOAD_RATE, saturatedRate])) {
          if (rate === null || !cfg.rates.includes(rate)) continue;
          const s = await pair(rate, cfg.windowMs, { phase: 'repeat', repeat: k }, k % 2 === 0, `, repeat ${k}`);
          repeated.baseline.push(s.baseline);
          repeated.hub.push(s.hub);
        }

    // Sustain probes (≥ 20 s in a full run), each side from its own highest kept-up ladder rate.
    const limits = { baseline: ladderLimits(ladder.baseline), hub: ladderLimits(ladder.hub) };
    const probes: Record<Side, StepResult[]> = { baseline: [], hub: [] };
    if (cfg.probe) {
      const plan = (side: Side) => {
        const l = limits[side];
        return l.highestKeptUp === null ? [] : probeRates(l.highestKeptUp, l.firstFailed, p.quick ? [0] : PROBE_STEPS);
      };
      const queue: Record<Side, number[]> = { baseline: plan('baseline'), hub: plan('hub') };
      const done: Record<Side, boolean> = { baseline: !queue.baseline.length, hub: !queue.hub.length };
      for (let k = 0; !(done.baseline && done.hub); k++) {
        for (const side of k % 2 ? (['hub', 'baseline'] as const) : (['baseline', 'hub'] as const)) {
          if (done[side]) continue;
          const rate = queue[side].shift();
          if (rate === undefined) {
            done[side] = true;
            continue;
          }
          const s = await run(side, rate, p.sustainMs, { phase: 'probe', confirm: true }, `, ${p.sustainMs / 1000} s sustain check`);
          steps.push(s);
          probes[side].push(s);
          const sustainedOnce = probes[side].some((x) => x.sustained !== false && keptUp(x));
          if (!(s.sustained !== false && keptUp(s))) {
            // Not sustained: stop climbing; if nothing was sustained yet, go down instead.
            const down = sustainedOnce || p.quick ? [] : PROBE_DOWN.map((f) => Math.round(limits[side].highestKeptUp! * f)).filter((r) => r < rate && !probes[side].some((x) => x.params.rate === r));
            queue[side] = sustainedOnce ? [] : down;
            if (!queue[side].length) done[side] = true;
          } else if (probes[side].length > 1 && Number(s.params.rate) < Number(probes[side][0].params.rate)) done[side] = true;
        }
      }
    }
    const sustainedRate = (list: StepResult[]) => {
      const ok = list.filter((s) => s.sustained !== false && keptUp(s)).map((s) => Number(s.params.rate));
      return ok.length ? Math.max(...ok) : null;
    };
    const capacity = { baseline: sustainedRate(probes.baseline), hub: sustainedRate(probes.hub) };
    // The hub at the baseline's highest sustained rate, for the ratio there, when its own probes did not run it.
    if (cfg.probe && capacity.baseline !== null && !probes.hub.some((s) => s.params.rate === capacity.baseline)) {
      const s = await run('hub', capacity.baseline, p.sustainMs, { phase: 'probe', confirm: true, atBaselineCapacity: true }, `, ${p.sustainMs / 1000} s at the baseline's highest sustained rate`);
      steps.push(s);
      probes.hub.push(s);
    }
    await Promise.all([rig.baseline.close(), rig.hub.close()]);

    const hubAtBase = capacity.baseline === null ? undefined : probes.hub.find((s) => s.params.rate === capacity.baseline);
    const baseAtCap = capacity.baseline === null ? undefined : probes.baseline.find((s) => s.params.rate === capacity.baseline);
    const probeRow = (s: StepResult) => ({
      rate: Number(s.params.rate),
      seconds: s.durationS,
      sustained: s.sustained !== false && keptUp(s),
      deliveredPerS: s.deliveredPerS,
      p99Ms: s.latency?.p99Ms ?? null,
      lost: s.lost,
      refusedShare: metric(s, 'refusedShare'),
    });
    const eqHub = [...at(ladder.hub, EQUAL_LOAD_RATE), ...at(repeated.hub, EQUAL_LOAD_RATE)];
    const eqBase = [...at(ladder.baseline, EQUAL_LOAD_RATE), ...at(repeated.baseline, EQUAL_LOAD_RATE)];
    const satHub = saturatedRate === null ? [] : [...at(ladder.hub, saturatedRate), ...at(repeated.hub, saturatedRate)];
    const satBase = saturatedRate === null ? [] : [...at(ladder.baseline, saturatedRate), ...at(repeated.baseline, saturatedRate)];
    summary[key] = {
      subscribers: cfg.subscribers,
      replicas: cfg.replicas,
      windowS: cfg.windowMs / 1000,
      baselineHighestKeptUp: limits.baseline.highestKeptUp,
      hubHighestKeptUp: limits.hub.highestKeptUp,
      baselineSustained: baseAtCap ? { rate: capacity.baseline, sustained: true } : probes.baseline[0] ? { rate: Number(probes.baseline[0].params.rate), sustained: false } : null,
      hubAtThatRate: hubAtBase ? { rate: capacity.baseline, sustained: hubAtBase.sustained !== false && keptUp(hubAtBase), deliveredPerS: hubAtBase.deliveredPerS } : null,
      ratios: ratioRows(steps, cfg.subscribers, cfg.replicas),
      ...(cfg.headline
        ? {
            warmup,
            equalLoad: eqHub.length && eqBase.length ? equalLoadSummary(eqHub, eqBase, EQUAL_LOAD_RATE) : null,
            saturated: satHub.length && satBase.length ? saturatedSummary(satHub, satBase, saturatedRate!) : null,
            saturatedWhyNot: saturatedRate === null ? `no ladder rate up to ${cfg.rates[cfg.rates.length - 1]} msg/s left both sides behind` : null,
            sustain: !cfg.probe
              ? null
              : {
                  rule: SUSTAIN_RULE,
                  windowS: p.sustainMs / 1000,
                  baseline: {
                    ladderHighestKeptUp: limits.baseline.highestKeptUp,
                    ladderFirstFailed: limits.baseline.firstFailed,
                    highestSustainedRate: capacity.baseline,
                    probes: probes.baseline.map(probeRow),
                  },
                  hub: { ladderHighestKeptUp: limits.hub.highestKeptUp, ladderFirstFailed: limits.hub.firstFailed, highestSustainedRate: capacity.hub, probes: probes.hub.map(probeRow) },
                  capacityRatio: capacity.hub !== null && capacity.baseline ? round(capacity.hub / capacity.baseline, 2) : null,
                  /** At the baseline's highest sustained rate: the hub's deliveries of acknowledged messages ÷ the baseline's. */
                  ratioAtBaselineCapacity: hubAtBase && baseAtCap ? deliveredRatio(hubAtBase, baseAtCap) : null,
                },
            sustainWhyNot: cfg.probe ? null : 'no sustain probes in this configuration (its target reads the ladder)',
            ratioRule: RATIO_RULE,
          }
        : {}),
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
      'Subscribers connect to the replicas directly (no HAProxy), spread evenly; publishers use 8 sockets spread over the same replicas. Hub and baseline servers run side by side (the idle side holds its sockets and does nothing) and take turns step by step, the first side alternating.',
      'The ladder climbs until a rate where neither side kept up (lost nothing, p99 < 1 s, no publish refused); that rate and the equal-load rate are repeated (--repeat). Sustain probes of ≥ 20 s then look for each side’s highest sustained rate in +10% steps.',
      RATIO_RULE,
      SUSTAIN_RULE,
      'Latency runs from the time each message was due by the publisher’s schedule (open loop), not from when the publisher got it out: a publisher falling behind cannot hide the delay (coordinated omission). "ooo" counts deliveries out of the promised order: hub, seq per (client, channel); baseline, publish order per (client, publishing socket).',
    ],
  };
}
