// The overload scenario in the report: its two verdicts (sheds and recovers
// without a crash; nothing acknowledged lost) and its section of tables.
import type { Outcome } from '../generators/flood.js';
import type { Cell } from './markdown.js';
import type { ScenarioResult } from '../scenarios/context.js';
import type { ReplicaWatch } from '../scenarios/overload-monitor.js';
import type { LossCheck, WindowRow } from '../scenarios/overload-windows.js';
import type { Verdict } from './results.js';

type Counts = Record<Outcome, number>;
interface PhaseRow {
  name: string;
  rate: number;
  sent: number;
  skipped: number;
  rest: Counts;
  socket: Counts;
  okP50Ms: number | null;
  okP99Ms: number | null;
  okByDoor?: Record<'rest' | 'socket', { p50Ms: number | null; p99Ms: number | null }>;
  refusedP50Ms: number | null;
  refusedMaxMs: number | null;
  firstOther: string | null;
}
export interface OverloadSummary {
  sustainableRate: number;
  sustainableFound: boolean;
  overloadRate: number;
  lowRate: number;
  phaseMs: Record<string, number>;
  windowMs: number;
  phases: PhaseRow[];
  replicas: ReplicaWatch[];
  pre: { p99Ms: number | null; errorRate: number };
  recoveryMs: number | null;
  latencyRecoveryMs: number | null;
  loss: LossCheck;
  windows: WindowRow[];
}

/** Past the pool's 3 s wait (the 503) plus 2 s, an answered publish was queued, not shed. */
export const OVERLOAD_OK_P99_MAX_MS = 5000;

const sum = (ps: PhaseRow[], f: (p: PhaseRow) => number) => ps.reduce((s, p) => s + f(p), 0);
const counts = (c: Counts, door: 'rest' | 'socket') =>
  door === 'rest' ? `${c.ok} 2xx, ${c.limited} 429, ${c.unavailable} 503, ${c.other} other` : `${c.ok} ok, ${c.limited} RATE_LIMITED, ${c.unavailable} UNAVAILABLE, ${c.other} other`;

export function judgeOverload(sc: ScenarioResult | undefined, add: (v: Verdict) => void): void {
  const shedText = `Overload at 2× the sustainable publish rate: sheds with 429/503 (what it accepts answered with p99 ≤ ${OVERLOAD_OK_P99_MAX_MS / 1000} s), no crash, recovers when the load drops`;
  const lostText = 'Overload: no acknowledged publish lost (every 201 / ok ack stored exactly once, by clientMsgId)';
  if (!sc) {
    for (const [id, text] of [
      ['overload-shed', shedText],
      ['overload-lost', lostText],
    ] as const)
      add({ id, text, measured: 'not run', pass: null, note: 'scenario overload was not part of this run' });
    return;
  }
  const s = sc.summary as unknown as OverloadSummary;
  const over = s.phases.find((p) => p.name === 'overload')!;
  // Sent and never answered, even by the client's timeout, counts as other too.
  const unanswered = (p: PhaseRow) => p.sent - (['rest', 'socket'] as const).reduce((t, d) => t + p[d].ok + p[d].limited + p[d].unavailable + p[d].other, 0);
  const other = sum(s.phases, (p) => p.rest.other + p.socket.other + unanswered(p));
  const refused = over.rest.limited + over.rest.unavailable + over.socket.limited + over.socket.unavailable;
  const alive = s.replicas.every((r) => !r.exited && r.healthzFailed === 0);
  const keptUp = refused === 0 && (over.okP99Ms ?? Infinity) < 1000;
  const recovered = s.recoveryMs !== null;
  // Kept up at 2×: nothing was overloaded, so shedding was not tried (unless something else failed).
  const queued = (over.okP99Ms ?? 0) > OVERLOAD_OK_P99_MAX_MS;
  const preHeld = sc.steps.find((x) => x.name.startsWith('before:'))?.sustained;
  const failed = !alive || other > 0 || !recovered || queued || (refused === 0 && !keptUp);
  const pass = failed ? false : keptUp ? null : true;
  const why = [
    !alive && `replica: ${s.replicas.map((r) => r.exited ?? `/healthz failed ${r.healthzFailed}× (${r.firstHealthzFailure})`).join(', ')}`,
    other > 0 && `${other} answers neither ok nor 429/503 (first: ${s.phases.find((p) => p.firstOther)?.firstOther})`,
    !recovered && `p99 / refusals not back near the pre-overload values within the ${(s.phaseMs.low ?? 0) / 1000} s low phase`,
    queued && `ok p99 reached ${over.okP99Ms} ms during the overload (> ${OVERLOAD_OK_P99_MAX_MS} ms): publishes were queued rather than shed`,
    refused === 0 && !keptUp && !queued && `nothing shed at 2×, and ok p99 reached ${over.okP99Ms} ms`,
    preHeld === false && 'the pre-overload rate did not hold over its 20 s window (ok p99 ≥ 1 s): the ramp’s short steps overestimated it',
    over.skipped > 0 && `${over.skipped} publishes not sent: the generators' in-flight cap was reached (the hub queued rather than answered)`,
    keptUp && 'kept up at 2× (ok p99 < 1 s, nothing refused): the ramp underestimated the sustainable rate, so shedding was not exercised',
    !s.sustainableFound && 'no ramp step sustained its rate: 100/s was used',
  ].filter(Boolean);
  add({
    id: 'overload-shed',
    text: shedText,
    measured: `${s.sustainableRate}/s sustainable → ${s.overloadRate}/s for ${(s.phaseMs.overload ?? 0) / 1000} s: REST ${counts(over.rest, 'rest')}; acks ${counts(over.socket, 'socket')}; ${s.replicas.map((r) => `${r.name} ${r.exited ?? 'alive'}, /healthz 200 ${r.healthzOk}/${r.healthzOk + r.healthzFailed}`).join('; ')}; recovered ${recovered ? `${s.recoveryMs! / 1000} s after the drop` : 'not within the low phase'} (latency alone: ${s.latencyRecoveryMs == null ? 'not' : `${s.latencyRecoveryMs / 1000} s`})`,
    pass,
    note: why.join('; '),
  });
  const l = s.loss;
  add({
    id: 'overload-lost',
    text: lostText,
    measured: `${l.missing} of ${l.acked} acknowledged missing, ${l.duplicated} stored twice, ${l.seqMismatch} under another seq; histories gapless: ${l.gapless ? 'yes' : 'no'}`,
    pass: l.missing === 0 && l.duplicated === 0 && l.seqMismatch === 0 && l.gapless,
    note: `${l.storedWithoutOk} stored without an ok answer (timed out or refused after the commit: not acknowledged, so not a loss)`,
  });
}

/** The windows worth reading: the last two before the overload, through three after the recovery (or to the end). */
function around(s: OverloadSummary): WindowRow[] {
  const first = s.windows.findIndex((w) => w.phase === 'overload');
  const lowStart = s.windows.findIndex((w) => w.phase === 'low');
  const rec = s.recoveryMs == null || lowStart < 0 ? s.windows.length : lowStart + Math.ceil(s.recoveryMs / s.windowMs) + 3;
  return s.windows.slice(Math.max(0, first - 2), rec);
}

export function overloadSection(sc: ScenarioResult, table: (header: string[], rows: Cell[][]) => string): string[] {
  const s = sc.summary as unknown as OverloadSummary;
  const ms = (v: number | null) => (v === null ? '–' : String(v));
  return [
    `Sustainable: ${s.sustainableRate} publishes/s; overload: ${s.overloadRate}/s; low: ${s.lowRate}/s. Pre-overload ok p99 ${ms(s.pre.p99Ms)} ms, refused ${Math.round(s.pre.errorRate * 1000) / 10}%. Recovered ${s.recoveryMs == null ? 'not within the low phase' : `${s.recoveryMs / 1000} s after the drop`} (ok p99 alone: ${s.latencyRecoveryMs == null ? 'not within the low phase' : `${s.latencyRecoveryMs / 1000} s`}).`,
    '',
    table(
      [
        'phase',
        'rate/s',
        'sent',
        'REST 2xx',
        '429',
        '503',
        'other',
        'acks ok',
        'RATE_LIMITED',
        'UNAVAILABLE',
        'other',
        'not sent (cap)',
        'ok p50 / p99 ms',
        'ok p99 REST / socket ms',
        'refusal p50 / max ms',
      ],
      s.phases.map((p) => [
        p.name,
        p.rate,
        p.sent,
        p.rest.ok,
        p.rest.limited,
        p.rest.unavailable,
        p.rest.other,
        p.socket.ok,
        p.socket.limited,
        p.socket.unavailable,
        p.socket.other,
        p.skipped,
        `${ms(p.okP50Ms)} / ${ms(p.okP99Ms)}`,
        p.okByDoor ? `${ms(p.okByDoor.rest.p99Ms)} / ${ms(p.okByDoor.socket.p99Ms)}` : '–',
        `${ms(p.refusedP50Ms)} / ${ms(p.refusedMaxMs)}`,
      ]),
    ),
    '',
    table(
      ['replica', 'process', '/healthz 200', '/readyz', 'max RSS MB'],
      s.replicas.map((r) => [
        r.name,
        r.exited ?? 'alive',
        `${r.healthzOk} of ${r.healthzOk + r.healthzFailed}`,
        Object.entries(r.readyz)
          .map(([k, v]) => `${k}: ${v}`)
          .join(', '),
        r.maxRssMB,
      ]),
    ),
    '',
    `**Windows** (${s.windowMs} ms, by send time), from just before the overload to a little after the recovery (every window is in the results file):`,
    '',
    table(
      ['t s', 'phase', 'sent', 'ok', 'limited', 'unavailable', 'other', 'refused %', 'ok p99 ms'],
      around(s).map((w) => [w.tMs / 1000, w.phase, w.sent, w.ok, w.limited, w.unavailable, w.other, Math.round(w.errorRate * 1000) / 10, ms(w.p99Ms)]),
    ),
    '',
    `**Loss check**: ${s.loss.acked} acknowledged, ${s.loss.missing} missing, ${s.loss.duplicated} duplicated, ${s.loss.seqMismatch} under another seq, ${s.loss.storedWithoutOk} stored without an ok answer; histories gapless: ${s.loss.gapless ? 'yes' : 'no'}.`,
  ];
}
