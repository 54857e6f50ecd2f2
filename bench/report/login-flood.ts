// The login-flood scenario in the report: a verdict per flood phase, derived
// from its measurements by the rule printed beside it (so a re-render applies
// the current rule), and its section of tables.
import { type FloodPhaseSummary, type LoginFloodSummary, RULE, ruleText } from '../scenarios/login-flood.js';
import type { ScenarioResult } from '../scenarios/context.js';
import type { Cell } from './markdown.js';
import type { Verdict } from './results.js';

const ms = (v: number | null | undefined) => (v == null ? 'n/a' : `${v} ms`);
const n = (v: number) => v.toLocaleString('en-US');
const stores = (p: FloodPhaseSummary) =>
  Object.entries(p.refusedByStore)
    .map(([k, v]) => `${k} ${n(v)}`)
    .join(', ') || 'none';
const refusalTail = (p: FloodPhaseSummary) => (p.refusalP99Ms != null ? `p99 ${ms(p.refusalP99Ms)}` : `max ${ms(p.refusalMaxMs)}`);
const answers = (p: FloodPhaseSummary) =>
  Object.entries(p.statuses)
    .map(([k, v]) => `${n(v)} × ${k}`)
    .join(', ');
/** HTTP answers only: timeouts and connection errors are not answers. */
const answered = (p: FloodPhaseSummary) =>
  Object.entries(p.statuses)
    .filter(([k]) => /^\d+$/.test(k))
    .reduce((a, [, v]) => a + v, 0);

export interface PhaseVerdict {
  boundMs: number | null;
  pass: boolean | null;
  why: string[];
}

/** `p99_flood ≤ 5 × p99_quiet + 50 ms`, where the flood was what it says; a refusal outside §4 or a lost delivery fails. */
export function judgePhase(s: LoginFloodSummary, p: FloodPhaseSummary): PhaseVerdict {
  const boundMs = s.quiet.p99Ms === null ? null : Math.round((RULE.factor * s.quiet.p99Ms + RULE.slackMs) * 10) / 10;
  const notJudged = [
    s.quiet.p99Ms === null && 'no quiet p99 (fewer than 1,000 samples)',
    p.deliveryP99Ms === null && 'no p99 under the flood (fewer than 1,000 samples)',
    p.mode === 'open' && (p.sentPerS < 0.95 * (p.rate ?? 0) || p.skipped > 0) && `the generator sent ${n(p.sentPerS)} of the ${n(p.rate ?? 0)} requests/s offered (${n(p.skipped)} skipped)`,
    (p.statuses['429'] ?? 0) < 0.99 * answered(p) && 'fewer than 99% of the answers were 429',
  ].filter((x): x is string => !!x);
  const failed = [p.offShape > 0 && `${n(p.offShape)} refusals outside CONTRACT §4 (first: ${p.firstOffShape})`, p.lost > 0 && `${n(p.lost)} deliveries missing`].filter((x): x is string => !!x);
  const unanswered = p.sent - answered(p);
  // The machine is shared: what else ran beside the bench is said, not judged.
  const busy = (
    [
      ['quiet', s.quiet.otherLoad ?? 0],
      ['flood', p.otherLoad ?? 0],
    ] as const
  ).filter(([, v]) => v >= 0.1);
  const notes = [
    ...(unanswered > 0 ? [`${n(unanswered)} requests never answered (timeouts, reset connections)`] : []),
    ...(busy.length ? [`other processes took ${busy.map(([w, v]) => `${Math.round(v * 100)}% (${w})`).join(', ')} of the machine`] : []),
  ];
  if (notJudged.length) return { boundMs, pass: failed.length ? false : null, why: [...failed, ...notJudged.map((w) => `not judged: ${w}`), ...notes] };
  if (failed.length) return { boundMs, pass: false, why: [...failed, ...notes] };
  return { boundMs, pass: p.deliveryP99Ms! <= boundMs!, why: notes };
}

const TEXT = {
  open: (s: LoginFloodSummary) =>
    `Login flood, open loop: ${n(s.open.rate ?? 0)} refused logins/s from one address (a separate process); delivery p99 of REST publishes on the same replica: ${ruleText}`,
  closed: (s: LoginFloodSummary) => `Login flood, closed loop: ${s.closed.clients} clients retrying wrong logins as fast as answered; delivery p99: ${ruleText}`,
};

function verdict(s: LoginFloodSummary, p: FloodPhaseSummary): Omit<Verdict, 'id' | 'text'> {
  const v = judgePhase(s, p);
  const measured = `quiet p99 ${ms(s.quiet.p99Ms)} → ${ms(p.deliveryP99Ms)} under the flood; bound ${ms(v.boundMs)}; ${n(p.refusedPerS)} refusals/s (${answers(p)}; refused from ${stores(p)}), refusal p50 ${ms(p.refusalP50Ms)}, ${refusalTail(p)}; hub ≈ ${p.hubCpuMsPerRefusal ?? 'n/a'} ms CPU per refusal`;
  return { measured, pass: v.pass, note: v.why.join('; ') };
}

export function judgeLoginFlood(sc: ScenarioResult | undefined, add: (v: Verdict) => void): void {
  if (!sc) {
    for (const mode of ['open', 'closed'])
      add({ id: `login-flood-${mode}`, text: `Login flood, ${mode} loop: delivery p99 ${ruleText}`, measured: 'not run', pass: null, note: 'scenario login-flood was not part of this run' });
    return;
  }
  const s = sc.summary as unknown as LoginFloodSummary;
  add({ id: 'login-flood-open', text: TEXT.open(s), ...verdict(s, s.open) });
  add({ id: 'login-flood-closed', text: TEXT.closed(s), ...verdict(s, s.closed) });
}

export function loginFloodSection(sc: ScenarioResult, table: (header: string[], rows: Cell[][]) => string): string[] {
  const s = sc.summary as unknown as LoginFloodSummary;
  const row = (name: string, p: FloodPhaseSummary) => {
    const v = judgePhase(s, p);
    return [
      name,
      n(p.refusedPerS),
      answers(p),
      stores(p),
      `${ms(p.refusalP50Ms)} / ${refusalTail(p)}`,
      p.hubCpuMsPerRefusal ?? '–',
      `${Math.round(p.hubCoreShare * 100)}%`,
      `${ms(p.hubLoopDelayP99Ms)} / ${ms(p.hubLoopDelayMaxMs)}`,
      `${ms(p.deliveryP50Ms)} / ${ms(p.deliveryP99Ms)}`,
      `${ruleText} = ${ms(v.boundMs)}`,
      `${v.pass == null ? 'n/a' : v.pass ? '**PASS**' : '**FAIL**'}${v.why.length ? ` (${v.why.join('; ')})` : ''}`,
    ];
  };
  return [
    `Quiet: delivery p50 ${ms(s.quiet.p50Ms)}, p99 ${ms(s.quiet.p99Ms)} (${n(s.quiet.samples)} samples; the hub at ${Math.round(s.quiet.hubCoreShare * 100)}% of a core, its event-loop delay at most ${ms(s.quiet.hubLoopDelayMaxMs)}). ${s.subscribers} subscribers, ${s.publishRate} REST publishes/s.`,
    '',
    table(
      ['flood', 'refused/s', 'answers', 'refused from', 'refusal p50 / p99', 'hub CPU ms / refusal (≈)', 'hub CPU', 'hub event-loop delay p99 / max', 'delivery p50 / p99', 'rule: bound', 'verdict'],
      [row(`open loop, ${n(s.open.rate ?? 0)}/s offered`, s.open), row(`closed loop, ${s.closed.clients} clients`, s.closed)],
    ),
  ];
}
