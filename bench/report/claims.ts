// The seed article's claims (docs/CLAIMS.md), each with what this run
// measured on the same hub and a verdict computed from those figures by the
// rule printed beside it. Each rule is a pure function of plain figures
// (claims.spec.ts tests them); judgeClaims only gathers the figures. A claim
// no figure can decide is a 'design argument'; a rule whose figures are absent
// from the run says 'not measured', never a verdict.
//
// Figures read from a results file (`scenarios.<id>.…`); every one is optional:
//   idle.summary.hub / .baseline .heapKBPerConnection, .rssKBPerConnection  claims 1, 9
//   storm.summary.lost, .notBack                                             claim 1
//   polling.steps (params.mode, .rate) latency and metrics.bytesPerMessage  claims 2, 4, 8
//   claims.summary.duplex.receivedWhileAwaitingAck                           claim 3
//   claims.summary['connectionsPer1000Messages: <mode>']                     claim 5
//   claims.summary.slowReader: SlowReaderSummary (below)                     claim 9, buffer part
//   read.summary['cacheControl: …']                                          caching
//   scaling (claim 6): summary.verdict, the ScalingVerdict the scenario recorded
//     by rules/scaling.ts, decides it when present; else (older files):
//     steps with params.scaling, .replicas, .rate (not .coldChannel): hub CPU
//       (cpu.processes of kind 'hub') ÷ delivered, per replica count, at the
//       highest rate every count kept up; the median when a rate was repeated;
//     summary[N].coldChannelRedisBytesInPerMessage: {replicaName: bytes}, the
//       first replica the one with the channel's subscribers, the others
//       without (the widest N is read);
//     summary[N].ladderExhausted: the count kept up at the ladder's top rate
//       (its limit is above the ladder; shown, it does not decide the rule);
//     summary.pinned (optional boolean): each replica ran on a core of its own
//       (taskset); without it replicas, Redis, Postgres and the generators
//       shared the machine's cores, which the verdict's text says.
import { BODY_BYTES } from '../generators/body.js';
import type { ScenarioResult, StepResult } from '../scenarios/context.js';
import { keptUp } from '../scenarios/delivery.js';
import type { ClaimVerdict } from './results.js';
import { BUS_SHARE, CPU_TOLERANCE, SCALING_RULE, type ScalingVerdict } from './rules/scaling.js';
import { type Spread, spreadOf, spreadText } from './spread.js';

type Scenarios = Record<string, ScenarioResult>;
/** A rule's outcome: the verdict and the qualification the figures show (empty when none). */
export type Judged = Pick<ClaimVerdict, 'verdict' | 'condition'>;

const POLL100 = 'poll every 100 ms';
const POLL1S = 'poll every 1000 ms';
const PUSH = 'push (subscribed socket)';
const kb = (b: unknown) => (typeof b !== 'number' ? 'n/a' : b >= 1024 * 1024 ? `${(b / 1024 / 1024).toFixed(1)} MB` : b >= 1024 ? `${(b / 1024).toFixed(1)} KB` : `${Math.round(b)} B`);
const r2 = (v: number) => Math.round(v * 100) / 100;
const NOT_MEASURED = (why: string): Judged => ({ verdict: 'not measured', condition: why });

// ---- The rules -------------------------------------------------------------

/** Below this an idle socket's heap is noise: no per-connection state to speak of. */
export const STATE_MIN_KB = 1;

export const RULE_1 = `holds only when an idle subscribed socket holds ≥ ${STATE_MIN_KB} KB of server heap and, after a replica is SIGKILLed, every one of its subscribers is back with 0 lost (the state exists but nothing depends on it surviving); holds when the state exists and messages were lost; fails under ${STATE_MIN_KB} KB`;
export function rule1(f: { heapKBPerConnection: number | null; storm: { lost: number; notBack: number } | null }): Judged {
  if (f.heapKBPerConnection === null) return NOT_MEASURED('needs the idle scenario');
  if (f.heapKBPerConnection < STATE_MIN_KB) return { verdict: 'fails', condition: 'an idle socket holds no measurable state on the server' };
  if (!f.storm) return { verdict: 'holds', condition: 'the storm part (does the state matter when a replica dies?) was not measured in this run: the verdict covers the memory part alone' };
  if (f.storm.lost === 0 && f.storm.notBack === 0)
    return {
      verdict: 'holds only',
      condition: 'the hub keeps per-socket state in memory, but none that must survive a replica: the durable state is in Postgres, so a lost replica costs a reconnect, not messages',
    };
  return { verdict: 'holds', condition: `losing a replica lost what its sockets held (${f.storm.lost} lost, ${f.storm.notBack} clients not back)` };
}

/** Claim 2: a client that must ask waits half the poll interval on average; push waits for nothing. */
export const RULE_2 =
  'holds when the delivery p99 of a server-initiated push at 10 msg/s is under half the shortest poll interval measured (100 ms), a delay no poller reaches on average; fails otherwise';
export function rule2(f: { pushP99Ms: number | null; pollIntervalMs: number }): Judged {
  if (f.pushP99Ms === null) return NOT_MEASURED('no push p99 at 10 msg/s (the step did not run or had < 1,000 samples)');
  return f.pushP99Ms < f.pollIntervalMs / 2
    ? { verdict: 'holds', condition: `push p99 ${f.pushP99Ms} ms < ${f.pollIntervalMs / 2} ms: the server starts the exchange` }
    : { verdict: 'fails', condition: `push p99 ${f.pushP99Ms} ms ≥ ${f.pollIntervalMs / 2} ms: no faster than a 100 ms poller on average` };
}

export const RULE_3 = 'holds when at least one delivery reached a socket while that socket’s own publish still awaited its ack; fails when none did';
export function rule3(f: { receivedWhileAwaitingAck: number | null }): Judged {
  if (f.receivedWhileAwaitingAck === null) return NOT_MEASURED('needs the claims scenario');
  return f.receivedWhileAwaitingAck > 0 ? { verdict: 'holds', condition: '' } : { verdict: 'fails', condition: 'no socket received while its own request was open' };
}

/** Claim 4: push's bytes within 10% of the body itself would be "no overhead". */
export const NO_OVERHEAD = 1.1;
export const RULE_4 = `two parts: REST's holds when polling every 100 ms costs more wire bytes per delivered message than push at the lowest rate measured; WebSocket's "no overhead" holds when push costs ≤ ${NO_OVERHEAD}× the ${BODY_BYTES}-byte body per message. holds = both; holds only = REST's part alone; fails = REST's part fails`;
export function rule4(f: { bodyBytes: number; pushLow: number | null; pollLow: number | null; pushHigh: number | null; pollHigh: number | null; highRate: number | null }): Judged {
  if (f.pushLow === null || f.pollLow === null) return NOT_MEASURED('needs the polling scenario');
  const restPart = f.pollLow > f.pushLow;
  const noOverhead = f.pushLow <= NO_OVERHEAD * f.bodyBytes;
  if (!restPart) return { verdict: 'fails', condition: `polling costs no more than push per message (${kb(f.pollLow)} vs ${kb(f.pushLow)})` };
  if (noOverhead) return { verdict: 'holds', condition: '' };
  const closes =
    f.pushHigh !== null && f.pollHigh !== null && f.highRate !== null
      ? `; at ${f.highRate} msg/s polling costs ${r2(f.pollHigh / f.pushHigh)}× push: as the rate nears the poll rate, polling batches messages and the gap closes`
      : '';
  return {
    verdict: 'holds only',
    condition: `push is not free: ${r2(f.pushLow / f.bodyBytes)}× the body per message (Socket.IO framing and the full message envelope), but polling costs ${r2(f.pollLow / f.pushLow)}× push at the lowest rate${closes}`,
  };
}

/** Claim 5: ≥ 2× push's connections per 1,000 messages is "a connection per request". */
export const CONNECTIONS_FACTOR = 2;
export const RULE_5 = `holds when pollers with HTTP keep-alive open ≥ ${CONNECTIONS_FACTOR}× the TCP connections per 1,000 delivered messages that push does; holds only when only pollers without keep-alive do; fails when neither does`;
export function rule5(f: { keepAlive: number | null; noKeepAlive: number | null; push: number | null }): Judged {
  if (f.keepAlive === null || f.noKeepAlive === null || f.push === null) return NOT_MEASURED('needs the claims scenario');
  const more = (x: number) => x >= CONNECTIONS_FACTOR * Math.max(f.push!, 0.001);
  if (more(f.keepAlive)) return { verdict: 'holds', condition: '' };
  if (more(f.noKeepAlive)) return { verdict: 'holds only', condition: 'only without HTTP keep-alive; with it a poller holds one connection, as a socket does' };
  return { verdict: 'fails', condition: 'pollers open no more connections than sockets, even without keep-alive' };
}

/** Claim 6's thresholds live with the scaling scenario's rule (rules/scaling.ts), so both read the same numbers. */
export const CPU_DRIFT = CPU_TOLERANCE;
export { BUS_SHARE };
export const RULE_6 = `horizontal when both parts hold: (a) the hub's CPU ms per 1,000 deliveries at each replica count N > 1 is within ±${CPU_DRIFT * 100}% of one replica's, at the highest rate every N kept up (median of repeats); (b) a replica without subscribers of a channel receives under ${BUS_SHARE * 10}/10 of the bus bytes per message of the replica with them. Horizontal → the claim fails; either part broken → it holds; a part absent and the other holding → not measured`;
export function rule6(f: { cpuPer1000: Array<{ replicas: number; ms: number }>; bus: { subscribed: number; others: number[] } | null }): Judged {
  const one = f.cpuPer1000.find((x) => x.replicas === 1);
  const more = f.cpuPer1000.filter((x) => x.replicas > 1);
  const cpu = one && more.length ? more.map((x) => ({ ...x, drift: x.ms / one.ms - 1 })) : null;
  const cpuOk = cpu ? cpu.every((x) => Math.abs(x.drift) <= CPU_DRIFT) : null;
  const busOk = f.bus && f.bus.others.length ? f.bus.others.every((b) => b < BUS_SHARE * f.bus!.subscribed) : null;
  const cpuText = cpu ? cpu.map((x) => `${x.replicas} replicas ${x.drift >= 0 ? '+' : ''}${Math.round(x.drift * 100)}%`).join(', ') : 'not measured';
  const busText = busOk === null ? 'not measured' : busOk ? 'under a tenth' : 'not under a tenth';
  const parts = `CPU per 1,000 deliveries against one replica: ${cpuText}; bus bytes on a replica without subscribers: ${busText}`;
  if (cpuOk === false || busOk === false) return { verdict: 'holds', condition: `${parts}: the rule for horizontal scaling is not met on this machine` };
  if (cpuOk === null || busOk === null) return NOT_MEASURED(parts);
  return {
    verdict: 'fails',
    condition: `${parts}: the hub runs as N replicas with the same delivery promise, each doing the same work per delivery, and bus traffic follows where the subscribers are, not replicas × messages`,
  };
}

/** Claim 6 from the verdict the scaling scenario recorded (rules/scaling.ts), when the run has one. */
export const RULE_6_RECORDED = `${SCALING_RULE}. Horizontal → the claim fails; not horizontal → it holds; undecided → not measured`;
export function rule6Recorded(v: ScalingVerdict): Judged {
  const checks = v.checks.map((c) => `N = ${c.replicas} ${c.what === 'cpu' ? 'CPU per delivery ÷ N = 1' : 'bus bytes without ÷ with'} ${c.value ?? 'n/a'} (${c.limit})`).join('; ');
  if (v.verdict === 'horizontal') return { verdict: 'fails', condition: `${checks}: each replica does the same work per delivery and bus traffic follows the subscribers` };
  if (v.verdict === 'not horizontal') return { verdict: 'holds', condition: `${checks}: the rule for horizontal scaling is not met on this machine` };
  return NOT_MEASURED(checks || 'no replica count beyond one was measured');
}

export const RULE_7 = 'design argument: no figure decides how a protocol is addressed';

/** Claim 8: "much faster" read as at most a fifth of the 100 ms poller's median. */
export const MUCH_FASTER = 5;
export const RULE_8 = `at each rate of the polling scenario (same channel and load for both ways): push is much faster when its p50 ≤ 1/${MUCH_FASTER} of the p50 of polling every 100 ms; holds at every rate, holds only at some, fails at none`;
export function rule8(f: { byRate: Array<{ rate: number; pushP50Ms: number | null; pollP50Ms: number | null }> }): Judged {
  const rows = f.byRate.filter((x) => x.pushP50Ms !== null && x.pollP50Ms !== null);
  if (!rows.length) return NOT_MEASURED('needs the polling scenario');
  const fast = rows.filter((x) => x.pushP50Ms! * MUCH_FASTER <= x.pollP50Ms!);
  if (fast.length === rows.length) return { verdict: 'holds', condition: '' };
  const slow = rows.filter((x) => !fast.includes(x)).map((x) => `${x.rate} msg/s (push ${x.pushP50Ms} vs poll ${x.pollP50Ms} ms)`);
  return fast.length ? { verdict: 'holds only', condition: `not at ${slow.join(', ')}` } : { verdict: 'fails', condition: `at no rate: ${slow.join(', ')}` };
}

export const RULE_9 = `two parts: memory (an idle subscribed socket holds ≥ ${STATE_MIN_KB} KB of server heap) and buffers (a paused reader's server-side buffer grew). holds = both; holds only = the memory part, with a buffer that did not grow, or stayed ≤ SOCKET_BUFFER_MAX_BYTES and the reader was cut there (the cost per socket has a ceiling); fails = the memory part fails; not measured = either part has no figure`;
export function rule9(f: { heapKBPerConnection: number | null; buffer: { maxBufferedBytes: number; bound: number; cut: boolean } | null }): Judged {
  if (f.heapKBPerConnection === null) return NOT_MEASURED('needs the idle scenario');
  if (f.heapKBPerConnection < STATE_MIN_KB) return { verdict: 'fails', condition: 'an idle socket costs no measurable memory' };
  if (!f.buffer)
    return NOT_MEASURED(
      `the memory part holds (${f.heapKBPerConnection} KB ≥ ${STATE_MIN_KB} KB per idle socket), the buffer part has no figure in this run (claims.summary.slowReader), so the claim as a whole is not decided here; docs/reliability.md has the slow-consumer test's figures (test/cluster/slow-consumer.cluster.ts), which are not this run's`,
    );
  if (f.buffer.maxBufferedBytes <= 0) return { verdict: 'holds only', condition: 'for memory per connection; a paused reader’s buffer did not grow in this run' };
  if (f.buffer.maxBufferedBytes <= f.buffer.bound && f.buffer.cut)
    return {
      verdict: 'holds only',
      condition: `the cost is per connection, paid whether or not messages flow; a slow reader’s buffer is bounded: it reached ${kb(f.buffer.maxBufferedBytes)} of the ${kb(f.buffer.bound)} bound, then the socket was cut`,
    };
  return { verdict: 'holds', condition: `a paused reader’s buffer reached ${kb(f.buffer.maxBufferedBytes)} (bound ${kb(f.buffer.bound)})${f.buffer.cut ? '' : ' without being cut'}` };
}

export const RULE_CACHING =
  'holds when the latest page and a page below lastSeq both carry Cache-Control with max-age; holds only when only the page that can no longer change does; fails when neither does';
export function ruleCaching(f: { latest: string | null; below: string | null }): Judged {
  const cacheable = (h: string | null) => /max-age=\d*[1-9]/.test(h ?? '') && !/no-store/.test(h ?? '');
  if (cacheable(f.latest) && cacheable(f.below)) return { verdict: 'holds', condition: '' };
  if (cacheable(f.below))
    return {
      verdict: 'holds only',
      condition:
        'for pages that can no longer change: a page every seq of which is committed carries Cache-Control: private, max-age=…, immutable, so a client fetches it once; the latest page must be revalidated (ETag), and access is checked on every request that reaches the hub',
    };
  return { verdict: 'fails', condition: 'the hub marks no page cacheable, so every read reaches a replica' };
}

// ---- Gathering the figures -------------------------------------------------

function pollStep(sc: Scenarios, mode: string, rate: number): StepResult | undefined {
  return sc.polling?.steps.find((s) => s.params.mode === mode && s.params.rate === rate && !s.params.capacity);
}

/** Hub CPU ms per 1,000 deliveries of each replica count, at the highest rate every count kept up (median over repeats). */
export function scalingCpu(steps: StepResult[]): { rate: number | null; rows: Array<{ replicas: number; ms: number; spread: Spread }> } {
  const ladder = steps.filter((s) => s.params.scaling && !s.params.coldChannel && s.side !== 'baseline');
  const counts = [...new Set(ladder.map((s) => Number(s.params.replicas)))].sort((a, b) => a - b);
  const keptAt = (n: number) => new Set(ladder.filter((s) => Number(s.params.replicas) === n && keptUp(s)).map((s) => Number(s.params.rate)));
  const common = counts.length ? [...keptAt(counts[0])].filter((r) => counts.every((n) => keptAt(n).has(r))).sort((a, b) => a - b) : [];
  const rate = common.length ? common[common.length - 1] : null;
  if (rate === null) return { rate, rows: [] };
  const rows = counts.flatMap((n) => {
    const per = ladder
      .filter((s) => Number(s.params.replicas) === n && Number(s.params.rate) === rate && keptUp(s) && s.delivered)
      .map((s) => (s.cpu.processes.filter((p) => p.kind === 'hub').reduce((a, p) => a + p.cpuMs, 0) / s.delivered!) * 1000);
    const sp = spreadOf(per.map((x) => Math.round(x * 100) / 100));
    return sp ? [{ replicas: n, ms: sp.median, spread: sp }] : [];
  });
  return { rate, rows };
}

/** Bus bytes per message of a channel only the first replica serves, from the widest run of the cold-channel step. */
export function coldBus(sc: Scenarios): { first: string; perReplica: Array<[string, number]> } | null {
  const rows = Object.values(sc.scaling?.summary ?? {}).filter(
    (v): v is { replicas: number; coldChannelRedisBytesInPerMessage: Record<string, number> } =>
      typeof v === 'object' &&
      v !== null &&
      typeof (v as { coldChannelRedisBytesInPerMessage?: unknown }).coldChannelRedisBytesInPerMessage === 'object' &&
      (v as { coldChannelRedisBytesInPerMessage?: unknown }).coldChannelRedisBytesInPerMessage !== null,
  );
  const widest = rows.sort((a, b) => b.replicas - a.replicas)[0];
  if (!widest) return null;
  const perReplica = Object.entries(widest.coldChannelRedisBytesInPerMessage);
  return perReplica.length > 1 ? { first: perReplica[0][0], perReplica } : null;
}

/** The slow-reader figures of the claims scenario (summary.slowReader), when the run has them. */
export interface SlowReaderSummary {
  /** SOCKET_BUFFER_MAX_BYTES of the replica. */
  bound: number;
  /** The largest server-side send buffer seen for the paused socket. */
  maxBufferedBytes: number;
  /** Whether the replica cut the paused socket at the bound. */
  cut: boolean;
  /** The other subscribers' delivery p99 while the reader was paused, and in the same run without it. */
  othersP99Ms: number | null;
  othersP99MsQuiet: number | null;
}

/**
 * What a machine of `cores` cores can show about claim 6: replicas sharing
 * cores with Redis, Postgres and the generators cannot add throughput, so the
 * run shows the work per delivery and the bus traffic per replica, not a
 * throughput curve.
 */
export function twoCores(cores: number, pinned: boolean, maxReplicas: number): string {
  if (pinned && cores > maxReplicas) return `Each replica ran pinned to a core of its own (${cores} cores), so throughput against N is shown as well`;
  return `What ${cores} shared cores can show: ${maxReplicas > cores ? `${maxReplicas} replicas on ${cores} cores time-share them, ` : ''}with Redis, Postgres and the generators on the same cores no replica count can add throughput, so throughput against N is not evidence either way here; the CPU per delivery and the bus bytes per replica are (they are what a capacity model for separate machines uses)`;
}

export function judgeClaims(sc: Scenarios, cores?: number): ClaimVerdict[] {
  const out: ClaimVerdict[] = [];
  const add = (n: string, claim: string, measured: string, rule: string, j: Judged) => out.push({ n, claim, measured, rule, ...j });
  const idle = sc.idle?.summary as { hub?: { heapKBPerConnection: number; rssKBPerConnection: number }; baseline?: { heapKBPerConnection: number } } | undefined;
  const storm = sc.storm?.summary as { subscribers: number; allCaughtUpMs: number | null; lost: number; notBack?: number } | undefined;

  // 1. stateless vs stateful
  add(
    '1',
    'REST is stateless; WebSocket keeps per-connection state',
    [
      idle?.hub ? `an idle subscribed socket holds ${idle.hub.heapKBPerConnection} KB of heap on the hub (RSS ${idle.hub.rssKBPerConnection} KB)` : 'idle: not run',
      storm ? `after SIGKILL of a replica holding ${storm.subscribers} subscribers, all were back and caught up in ${storm.allCaughtUpMs ?? 'n/a'} ms with ${storm.lost} lost` : 'storm: not run',
    ].join('; '),
    RULE_1,
    rule1({ heapKBPerConnection: idle?.hub?.heapKBPerConnection ?? null, storm: storm ? { lost: storm.lost, notBack: storm.notBack ?? 0 } : null }),
  );

  // 2 and 8: who starts an exchange; delivery latency
  const push10 = pollStep(sc, PUSH, 10);
  const p100 = pollStep(sc, POLL100, 10);
  const p1s = pollStep(sc, POLL1S, 10);
  const l = (s: StepResult | undefined) => (s ? `p50 ${s.latency?.p50Ms ?? 'n/a'} / p95 ${s.latency?.p95Ms ?? 'n/a'} / p99 ${s.latency?.p99Ms ?? 'n/a'} ms` : 'not run');
  add(
    '2',
    'REST is one-way (only the client starts); WebSocket lets both sides send',
    `at 10 msg/s the server-initiated delivery took ${l(push10)}; a client that must ask saw ${l(p100)} polling every 100 ms and ${l(p1s)} polling every 1 s`,
    RULE_2,
    push10 ? rule2({ pushP99Ms: push10.latency?.p99Ms ?? null, pollIntervalMs: 100 }) : NOT_MEASURED('needs the polling scenario at 10 msg/s'),
  );
  const rates = (sc.polling?.summary.rates as number[] | undefined) ?? [];
  const byRate = rates.map((rate) => ({ rate, pushP50Ms: pollStep(sc, PUSH, rate)?.latency?.p50Ms ?? null, pollP50Ms: pollStep(sc, POLL100, rate)?.latency?.p50Ms ?? null }));
  add(
    '8',
    'REST is slower to deliver; WebSocket delivers much faster',
    byRate.length
      ? `publish-to-receive p50, push vs polling every 100 ms: ${byRate.map((x) => `${x.rate} msg/s ${x.pushP50Ms ?? 'n/a'} vs ${x.pollP50Ms ?? 'n/a'} ms`).join('; ')}; every 1 s at 10 msg/s ${l(p1s)}`
      : 'polling: not run',
    RULE_8,
    rule8({ byRate }),
  );

  // 3. full duplex
  const dx = sc.claims?.summary.duplex as { sockets: number; sent: number; received: number; receivedWhileAwaitingAck: number; ackP50Ms: number } | undefined;
  add(
    '3',
    'REST is request/response; WebSocket is full duplex',
    dx
      ? `${dx.sockets} sockets each publishing while receiving everyone's messages: ${dx.receivedWhileAwaitingAck} of ${dx.received} deliveries arrived on a socket while its own publish still awaited its ack (ack p50 ${dx.ackP50Ms} ms)`
      : 'claims: not run',
    RULE_3,
    rule3({ receivedWhileAwaitingAck: dx?.receivedWhileAwaitingAck ?? null }),
  );

  // 4. overhead per message
  const b = (m: string, r: number | undefined) => (r === undefined ? null : ((pollStep(sc, m, r)?.metrics.bytesPerMessage as number | undefined) ?? null));
  const lo = rates[0];
  const hi = rates.length > 1 ? rates[rates.length - 1] : undefined;
  add(
    '4',
    'every REST request carries headers; WebSocket has "no overhead" per message',
    rates.length
      ? `bytes on the wire per delivered ${BODY_BYTES}-byte message, both ways: push ${kb(b(PUSH, lo))} at ${lo} msg/s and ${kb(b(PUSH, hi))} at ${hi} msg/s; polling every 100 ms ${kb(b(POLL100, lo))} and ${kb(b(POLL100, hi))}; every 1 s ${kb(b(POLL1S, lo))} and ${kb(b(POLL1S, hi))}`
      : 'polling: not run',
    RULE_4,
    rule4({ bodyBytes: BODY_BYTES, pushLow: b(PUSH, lo), pollLow: b(POLL100, lo), pushHigh: b(PUSH, hi), pollHigh: b(POLL100, hi), highRate: hi ?? null }),
  );

  // 5. connections
  const conn = sc.claims?.summary as Record<string, number | null | undefined> | undefined;
  const c = (k: string) => conn?.[`connectionsPer1000Messages: ${k}`] ?? null;
  add(
    '5',
    'REST opens a new TCP connection per request; WebSocket uses one',
    conn
      ? `TCP connections opened per 1,000 delivered messages (20 clients, 10 msg/s, connection set-up included): pollers with keep-alive ${c('poll every 100 ms')}, without keep-alive ${c('poll every 100 ms, no keep-alive')}, push ${c(PUSH)}`
      : 'claims: not run',
    RULE_5,
    rule5({ keepAlive: c('poll every 100 ms'), noKeepAlive: c('poll every 100 ms, no keep-alive'), push: c(PUSH) }),
  );

  // 6. scaling
  const cpu = scalingCpu(sc.scaling?.steps ?? []);
  const bus = coldBus(sc);
  const rows6 = Object.values(sc.scaling?.summary ?? {}).filter(
    (v): v is { replicas: number; ladderExhausted?: boolean } => typeof v === 'object' && v !== null && typeof (v as { replicas?: unknown }).replicas === 'number',
  );
  const exhausted = rows6.filter((x) => x.ladderExhausted).map((x) => x.replicas);
  const pinned = sc.scaling?.summary.pinned === true;
  const recorded = sc.scaling?.summary.verdict as ScalingVerdict | undefined;
  const rule6Result = recorded ? rule6Recorded(recorded) : rule6({ cpuPer1000: cpu.rows, bus: bus ? { subscribed: bus.perReplica[0][1], others: bus.perReplica.slice(1).map(([, v]) => v) } : null });
  add(
    '6',
    'REST scales horizontally and vertically; WebSocket scales only vertically',
    sc.scaling
      ? [
          cpu.rows.length
            ? `hub CPU ms per 1,000 deliveries at ${cpu.rate} msg/s (the highest rate every replica count kept up): ${cpu.rows.map((x) => `${x.replicas} replica(s) ${spreadText(x.spread, 2)}`).join(', ')}`
            : 'no rate every replica count kept up',
          bus
            ? `bytes from Redis per message of a channel only ${bus.first} serves: ${bus.perReplica.map(([n, v]) => `${n} ${v} B`).join(', ')}`
            : 'bus bytes of a channel on one replica: not measured',
          exhausted.length ? `${exhausted.join(', ')} replica(s) kept up at the ladder’s top rate (their limit lies above it)` : '',
        ]
          .filter(Boolean)
          .join('; ')
      : 'scaling: not run',
    recorded ? RULE_6_RECORDED : RULE_6,
    cores && sc.scaling ? { ...rule6Result, condition: `${rule6Result.condition}. ${twoCores(cores, pinned, Math.max(0, ...rows6.map((x) => x.replicas)))}` } : rule6Result,
  );

  // 7. addressing: not a number
  add('7', 'REST is addressed by HTTP methods and URLs; WebSocket by IP and port', 'no figure: see the argument', RULE_7, {
    verdict: 'design argument',
    condition: 'Socket.IO is reached by URL (path /socket.io) on the same host and port as REST, through the same HAProxy, with named events: the claim does not describe it',
  });

  // 9. memory and buffers
  const slow = sc.claims?.summary.slowReader as SlowReaderSummary | undefined;
  add(
    '9',
    'REST needs no memory or buffers; WebSocket needs memory and buffers',
    [
      idle?.hub && idle.baseline
        ? `per idle subscribed connection: hub ${idle.hub.heapKBPerConnection} KB heap, ${idle.hub.rssKBPerConnection} KB RSS; plain socket.io ${idle.baseline.heapKBPerConnection} KB heap`
        : 'idle: not run',
      slow
        ? `a paused reader’s server-side buffer: largest ${kb(slow.maxBufferedBytes)} against SOCKET_BUFFER_MAX_BYTES ${kb(slow.bound)}, ${slow.cut ? 'then cut' : 'not cut'}; the other subscribers’ p99 ${slow.othersP99Ms ?? 'n/a'} ms while it was paused, ${slow.othersP99MsQuiet ?? 'n/a'} ms without it`
        : 'buffers for slow readers: not measured in this run',
      'what a poller holds between requests: not measured',
    ].join('; '),
    RULE_9,
    rule9({ heapKBPerConnection: idle?.hub?.heapKBPerConnection ?? null, buffer: slow ?? null }),
  );

  // bench/scenarios/read.ts: requests/s (numbers) and the Cache-Control and ETag headers (string, or null when absent).
  const read = sc.read?.summary as Record<string, number | string | null> | undefined;
  const BELOW = 'a page below lastSeq (seq 101-150)';
  add(
    'caching',
    'REST supports caching',
    read
      ? `GET history: ${read['requestsPerS: latest 50']} req/s (latest page), ${read[`requestsPerS: ${BELOW}`]} req/s (a page entirely below lastSeq); headers in this run: latest page Cache-Control ${read['cacheControl: latest 50'] ?? 'absent'}, a page below lastSeq Cache-Control ${read[`cacheControl: ${BELOW}`] ?? 'absent'}, ETag ${read[`etag: ${BELOW}`] ? 'weak, from Express' : 'absent'}`
      : 'read: not run',
    RULE_CACHING,
    read
      ? ruleCaching({ latest: (read['cacheControl: latest 50'] as string | null) ?? null, below: (read[`cacheControl: ${BELOW}`] as string | null) ?? null })
      : NOT_MEASURED('needs the read scenario'),
  );
  add('security', 'WebSocket is harder to secure', 'no figure: each defence and its test are listed in docs/CONTRACT.md and docs/TEST-MATRIX.md', 'design argument: no benchmark figure decides it', {
    verdict: 'design argument',
    condition: 'the socket handshake takes the same bearer token as REST, its frames are size-bounded (SOCKET_MAX_BYTES) and its publishes share the per-user limits with REST (docs/CONTRACT.md)',
  });
  add('fallback', 'older browsers need a fallback', 'not measured here', 'decided by a test, not by this run: Socket.IO long-polling through HAProxy is exercised by test/cluster/lb.cluster.ts', {
    verdict: 'not measured',
    condition: '',
  });
  return out;
}
