// The few figures a reader sees first, in docs/benchmark.md's headline and in
// the README's summary: latency at equal load before any capacity figure (a
// hub that keeps up at a higher latency must not hide behind its throughput),
// then capacity, publishes, memory, recovery and the count of verdicts. Every
// figure is read from the results; a missing one is left out, never invented.
import type { ScenarioResult, StepResult } from '../scenarios/context.js';
import type { VariantRow } from '../scenarios/variants.js';
import type { Results } from './results.js';
import { central, type Figure, isSpread, spreadOf, spreadText } from './spread.js';

/** The equal load the headline compares at (issue 15: 100 msg/s to 500 subscribers). */
export const EQUAL_LOAD = { rate: 100, subscribers: 500 };

export interface SideAtLoad {
  p50Ms: Figure;
  p99Ms: Figure;
  /** The server's own processes (hub replicas, or baseline servers): CPU ms per 1,000 deliveries. */
  ownCpuMsPer1000: Figure;
  ackP50Ms: Figure;
  runs: number;
}

export interface EqualLoadRow {
  replicas: number;
  subscribers: number;
  rate: number;
  hub: SideAtLoad;
  baseline: SideAtLoad;
  /** Hub p99 ÷ baseline p99 of each repeat pair, when the run recorded it (equalLoad.p99Ratio); else the ratio of the medians is printed. */
  p99Ratio?: Figure;
  /** Hub minus baseline, publish → first subscriber, p50: the store before fan-out as a subscriber sees it (equalLoad.storeBeforeFanoutP50Ms). */
  storeBeforeFanoutP50Ms?: Figure;
  /** The measuring scenario's own rule for these figures (equalLoad.rule). */
  rule?: string;
}

/**
 * The figures a fan-out configuration records at equal load when the run has
 * them (fanout.summary[<subscribers>x<replicas>].equalLoad; each a Spread over
 * --repeat): rate, subscribers, repeats, hub / baseline .p50Ms .p99Ms
 * .ackP50Ms .ownCpuMsPer1000Deliveries, p99Ratio, storeBeforeFanoutP50Ms, rule.
 */
interface RecordedEqualLoad {
  rate: number;
  subscribers: number | null;
  repeats?: number;
  hub: Partial<Record<'p50Ms' | 'p99Ms' | 'ackP50Ms' | 'ownCpuMsPer1000Deliveries', Figure>>;
  baseline: Partial<Record<'p50Ms' | 'p99Ms' | 'ackP50Ms' | 'ownCpuMsPer1000Deliveries', Figure>>;
  p99Ratio?: Figure;
  storeBeforeFanoutP50Ms?: Figure;
  rule?: string;
}

function recordedSide(x: RecordedEqualLoad['hub'], runs: number): SideAtLoad {
  return { p50Ms: x.p50Ms ?? null, p99Ms: x.p99Ms ?? null, ackP50Ms: x.ackP50Ms ?? null, ownCpuMsPer1000: x.ownCpuMsPer1000Deliveries ?? null, runs };
}

/** Equal-load rows as the run recorded them (see RecordedEqualLoad); empty when it recorded none. */
export function recordedEqualLoad(fanout: ScenarioResult | undefined): EqualLoadRow[] {
  const rows: EqualLoadRow[] = [];
  for (const c of Object.values(fanout?.summary ?? {})) {
    if (typeof c !== 'object' || c === null) continue;
    const cfg = c as { replicas?: unknown; subscribers?: unknown; equalLoad?: RecordedEqualLoad | null };
    const e = cfg.equalLoad;
    if (!e || typeof e !== 'object' || !e.hub || !e.baseline || typeof cfg.replicas !== 'number') continue;
    const runs = e.repeats ?? 1;
    rows.push({
      replicas: cfg.replicas,
      subscribers: Number(e.subscribers ?? cfg.subscribers),
      rate: e.rate,
      hub: recordedSide(e.hub, runs),
      baseline: recordedSide(e.baseline, runs),
      p99Ratio: e.p99Ratio ?? null,
      storeBeforeFanoutP50Ms: e.storeBeforeFanoutP50Ms ?? null,
      rule: e.rule,
    });
  }
  return rows.sort((a, b) => a.replicas - b.replicas);
}

const nums = (xs: Array<number | null | undefined>) => xs.filter((x): x is number => typeof x === 'number' && Number.isFinite(x));
/** One run's figure as a number, several as their spread. */
const fig = (xs: number[]): Figure => (xs.length === 1 ? xs[0] : (spreadOf(xs) ?? null));

function side(steps: StepResult[]): SideAtLoad | null {
  if (!steps.length) return null;
  const ownCpu = steps.map((s) => (s.delivered ? (s.cpu.processes.filter((p) => p.kind === s.side).reduce((a, p) => a + p.cpuMs, 0) / s.delivered) * 1000 : null));
  return {
    p50Ms: fig(nums(steps.map((s) => s.latency?.p50Ms))),
    p99Ms: fig(nums(steps.map((s) => s.latency?.p99Ms))),
    ownCpuMsPer1000: fig(nums(ownCpu).map((x) => Math.round(x * 10) / 10)),
    ackP50Ms: fig(nums(steps.map((s) => s.metrics.ackP50Ms as number | null | undefined))),
    runs: steps.length,
  };
}

/**
 * Hub and baseline at EQUAL_LOAD's rate, for each replica count of the
 * fan-out ladder (its ladder steps, not the sustain checks: each repeat of a
 * step is one run). A quick run has fewer subscribers: the largest count that
 * has both sides at that rate is used.
 */
export function equalLoad(fanout: ScenarioResult | undefined): EqualLoadRow[] {
  const recorded = recordedEqualLoad(fanout);
  if (recorded.length) return recorded;
  const at = (fanout?.steps ?? []).filter((s) => Number(s.params.rate) === EQUAL_LOAD.rate && !s.params.confirm && (s.side === 'hub' || s.side === 'baseline'));
  const pairs = new Map<string, { replicas: number; subscribers: number; hub: StepResult[]; baseline: StepResult[] }>();
  for (const s of at) {
    const replicas = Number(s.params.replicas);
    const subscribers = Number(s.params.subscribers);
    const key = `${subscribers}x${replicas}`;
    const p = pairs.get(key) ?? { replicas, subscribers, hub: [], baseline: [] };
    p[s.side as 'hub' | 'baseline'].push(s);
    pairs.set(key, p);
  }
  const complete = [...pairs.values()].filter((p) => p.hub.length && p.baseline.length);
  const subs = complete.some((p) => p.subscribers === EQUAL_LOAD.subscribers) ? EQUAL_LOAD.subscribers : Math.max(...complete.map((p) => p.subscribers));
  return complete
    .filter((p) => p.subscribers === subs)
    .sort((a, b) => a.replicas - b.replicas)
    .map((p) => ({ replicas: p.replicas, subscribers: p.subscribers, rate: EQUAL_LOAD.rate, hub: side(p.hub)!, baseline: side(p.baseline)! }));
}

/** The hub ÷ baseline p99 of a row: the recorded per-pair ratios with their spread, else the ratio of the medians. */
export function p99Times(r: EqualLoadRow): string {
  return r.p99Ratio !== undefined && r.p99Ratio !== null ? `${spreadText(r.p99Ratio, 1)}×` : times(r.hub.p99Ms, r.baseline.p99Ms);
}

/** hub / baseline of the central values, as "4.8×"; "n/a" when either is missing. */
export function times(hub: Figure, base: Figure): string {
  const h = central(hub);
  const b = central(base);
  return h !== null && b ? `${(Math.round((h / b) * 10) / 10).toLocaleString('en-US')}×` : 'n/a';
}

export function equalLoadText(rows: EqualLoadRow[]): string | null {
  if (!rows.length) return null;
  const one = (r: EqualLoadRow) =>
    `${r.replicas === 1 ? 'one replica' : `${r.replicas} replicas`}: hub ${spreadText(r.hub.p50Ms)} / ${spreadText(r.hub.p99Ms)} ms against ${spreadText(r.baseline.p50Ms)} / ${spreadText(r.baseline.p99Ms)} ms (hub p99 ${p99Times(r)} the baseline’s)${r.storeBeforeFanoutP50Ms !== undefined && r.storeBeforeFanoutP50Ms !== null ? `, the store before fan-out adding ${spreadText(r.storeBeforeFanoutP50Ms)} ms at p50 (publish → first subscriber, hub minus baseline)` : ''}, publish ack p50 ${spreadText(r.hub.ackP50Ms)} against ${spreadText(r.baseline.ackP50Ms)} ms, each server’s own CPU ${spreadText(r.hub.ownCpuMsPer1000)} against ${spreadText(r.baseline.ownCpuMsPer1000)} ms per 1,000 deliveries`;
  return `at equal load (${rows[0].rate} msg/s to ${rows[0].subscribers.toLocaleString('en-US')} subscribers), delivery p50 / p99 of the hub against plain socket.io: ${rows.map(one).join('; ')}`;
}

/** fanout.summary[…].saturated when the run recorded it: the ratio of delivered acknowledged messages over the repeats, and each side's refused share (0–1). */
interface RecordedSaturated {
  rate: number;
  ratio?: Figure;
  hubRefusedShare?: Figure;
  baselineRefusedShare?: Figure;
}

/** A figure times k (a share as a percentage). */
function scale(f: Figure, k: number): Figure {
  if (typeof f === 'number') return f * k;
  if (!isSpread(f)) return null;
  return { values: f.values.map((v) => v * k), min: f.min * k, median: f.median * k, max: f.max * k };
}

interface RatioRowLike {
  rate: number;
  sustainCheck?: boolean;
  hubPerS: number | null;
  baselinePerS: number | null;
  ratio: Figure;
  counts: boolean;
  why: string;
}

/** Where the servers, not the generators, set the pace (the ladder's rule, bench/scenarios/fanout.ts ratioVerdict): the highest such rate, with the share of the hub's publishes refused there. */
export function saturatedRatioText(fanout: ScenarioResult | undefined, replicas: number): string | null {
  const cfg = Object.values(fanout?.summary ?? {}).find(
    (c): c is { subscribers: number; replicas: number; ratios: RatioRowLike[] } =>
      typeof c === 'object' && c !== null && (c as { replicas?: unknown }).replicas === replicas && Array.isArray((c as { ratios?: unknown }).ratios),
  );
  const where = (rate: number, subscribers: number) =>
    `where the servers saturate (${rate} msg/s to ${subscribers.toLocaleString('en-US')} subscribers on ${replicas === 1 ? 'one replica' : `${replicas} replicas`})`;
  const sat = (cfg as { saturated?: RecordedSaturated | null } | undefined)?.saturated;
  if (cfg && sat && typeof sat === 'object' && (sat.ratio ?? null) !== null) {
    const pct = (f: Figure | undefined) => (f === undefined || f === null ? 'n/a' : spreadText(scale(f, 100), 0, '%'));
    return `${where(sat.rate, cfg.subscribers)} the hub delivered ${spreadText(sat.ratio ?? null, 2)}× the baseline’s deliveries of acknowledged messages, refusing ${pct(sat.hubRefusedShare)} of its publishes (the baseline ${pct(sat.baselineRefusedShare)})`;
  }
  const counted = (cfg?.ratios ?? []).filter((x) => x.counts && !x.sustainCheck);
  const top = counted[counted.length - 1];
  if (!cfg || !top) return null;
  const hubSteps = (fanout?.steps ?? []).filter(
    (s) => s.side === 'hub' && s.params.subscribers === cfg.subscribers && s.params.replicas === replicas && s.params.rate === top.rate && !s.params.confirm,
  );
  const published = hubSteps.reduce((a, s) => a + Number(s.metrics.published ?? 0), 0);
  const refused = hubSteps.reduce((a, s) => a + Number(s.metrics.publishErrors ?? 0), 0);
  const share = published ? `, the hub refusing or timing out ${refused.toLocaleString('en-US')} of ${published.toLocaleString('en-US')} publishes (${Math.round((refused / published) * 100)}%)` : '';
  return `${where(top.rate, cfg.subscribers)} the hub delivered ${spreadText(top.ratio, 2)}× the baseline’s deliveries/s${share}`;
}

export function headlineParts(r: Results): string[] {
  const parts: string[] = [];
  const fo = r.scenarios.fanout;
  const eq = equalLoadText(equalLoad(fo));
  if (eq) parts.push(eq);
  for (const n of [1, 2]) {
    const s = saturatedRatioText(fo, n);
    if (s) parts.push(s);
  }
  const target = (id: string) => r.targets.find((t) => t.id === id && t.pass !== null);
  const rest = target('publish-rest');
  const sock = target('publish-socket');
  if (rest || sock) parts.push(`persisted publishes on one hot channel: ${[rest && `${rest.measured} over REST`, sock && `${sock.measured} over the socket`].filter(Boolean).join(', ')}`);
  const idle = target('idle-heap');
  if (idle) parts.push(`heap per idle subscribed socket: ${idle.measured.split(';')[0]}`);
  const get = target('read-get');
  if (get) parts.push(`GET history ${get.measured} on one replica`);
  const storm = r.scenarios.storm?.summary as { subscribers: number; allCaughtUpMs: number | null; lost: number; duplicates?: number; outOfOrder?: number; notBack?: number } | undefined;
  if (storm)
    parts.push(
      `a SIGKILLed replica’s ${storm.subscribers.toLocaleString('en-US')} subscribers ${storm.notBack ? `(${storm.notBack} not back within the wait) ` : ''}caught up in ${storm.allCaughtUpMs === null ? 'n/a' : `${(storm.allCaughtUpMs / 1000).toFixed(1)} s`} with ${storm.lost} lost${storm.duplicates === undefined ? '' : `, ${storm.duplicates} duplicates`}${storm.outOfOrder === undefined ? '' : `, ${storm.outOfOrder} out of order`}`,
    );
  const ran = r.targets.filter((t) => t.measured !== 'not run');
  const count = (pass: boolean | null) => ran.filter((t) => t.pass === pass).length;
  const notRun = r.targets.length - ran.length;
  if (r.targets.length)
    parts.push(`performance targets: ${count(true)} PASS, ${count(false)} FAIL${count(null) ? `, ${count(null)} undecided` : ''}${notRun ? ` (${notRun} more whose scenario this run left out)` : ''}`);
  return parts;
}

export const capitalize = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/** The headline as Markdown bullets, one figure each. */
export function headline(r: Results): string {
  const parts = headlineParts(r);
  return parts.length ? parts.map((p) => `- ${capitalize(p)}.`).join('\n') : '- No headline figure in this run.';
}

const n2 = (v: number) => v.toLocaleString('en-US', { maximumFractionDigits: 2 });
const list = (xs: string[]) => (xs.length > 1 ? `${xs.slice(0, -1).join(', ')} and ${xs[xs.length - 1]}` : xs[0]);

/**
 * One sentence on the comparisons issue 15 added (socket.io's scale options,
 * the storm on baselines, connection rate, 15k idle sockets, one big room),
 * each figure as its scenario's summary holds it; a part absent from the run
 * is left out, and with none the sentence is null.
 */
export function userComparisonsText(r: Results): string | null {
  const sc = r.scenarios;
  const clauses: string[] = [];
  const rows = (sc.variants?.summary as { rows?: VariantRow[] } | undefined)?.rows ?? [];
  if (rows.length) {
    const by = (v: boolean) => rows.filter((x) => x.perRoomBus === v).map((x) => x.variant);
    const bus = [by(true).length ? `per-room bus for ${list(by(true))}` : '', by(false).length ? `not for ${list(by(false))}` : ''].filter(Boolean).join(', ');
    const share = rows.map((x) => `${x.variant} ${x.idleToMemberBusShare === null ? 'n/a' : n2(x.idleToMemberBusShare)}`).join(', ');
    const p99 = rows.map((x) => `${x.variant} ${x.p99Ms ? n2(x.p99Ms.median) : 'n/a'}`).join(', ');
    clauses.push(
      `socket.io’s own scale options at equal load (${rows[0].rate} msg/s to ${rows[0].subscribers}): ${bus || 'per-room bus undecided'} (idle ÷ member server bus bytes: ${share}; p99 ms: ${p99})`,
    );
  }
  const storm = sc.storm?.summary as { lost?: number; baselines?: Record<string, { lost: number }> } | undefined;
  const stormBase = Object.entries(storm?.baselines ?? {});
  if (storm && stormBase.length) clauses.push(`messages lost when a replica is SIGKILLed: hub ${storm.lost ?? 'n/a'}, ${stormBase.map(([part, x]) => `${part} ${x.lost}`).join(', ')}`);
  const cr = sc['connect-rate']?.summary as { hubHighestKept?: { rate: number | null }; baselineHighestKept?: { rate: number | null } } | undefined;
  if (cr?.hubHighestKept && cr.baselineHighestKept) {
    const rate = (x: { rate: number | null }) => (x.rate === null ? 'none' : `${n2(x.rate)}/s`);
    clauses.push(`connects + subscribes kept with a handshake p99 ≤ 1 s: hub ${rate(cr.hubHighestKept)}, baseline ${rate(cr.baselineHighestKept)}`);
  }
  const idle = sc['idle-15k']?.summary as { connections?: number; heapRatio?: number | null } | undefined;
  if (typeof idle?.heapRatio === 'number') clauses.push(`heap per idle socket at ${n2(idle.connections ?? 0)} on one server: hub ${n2(idle.heapRatio)}× the baseline’s`);
  const room = sc['big-room']?.summary as { subscribers?: number; hub?: { allSubscribedS: number; connected: number }; baseline?: { allSubscribedS: number } } | undefined;
  if (room?.hub && room.baseline)
    clauses.push(
      `${n2(room.subscribers ?? 0)} subscribers in one room: all subscribed in ${n2(room.hub.allSubscribedS)} s on the hub (${n2(room.hub.connected)} of ${n2(room.subscribers ?? 0)} connected) against ${n2(room.baseline.allSubscribedS)} s on the baseline`,
    );
  return clauses.length ? `Next to socket.io: ${clauses.join('; ')}.` : null;
}
