// The README's benchmark summary: the block between the markers is generated
// from one results file (the file it names), by the report step of a full run
// and by `node dist/bench/report/render.js FILE`. readme-summary.spec.ts fails
// when the README's block differs from what its named file renders.
import { capitalize, headlineParts, userComparisonsText } from './headline.js';
import type { ClaimVerdict, Results } from './results.js';

export const SUMMARY_START = '<!-- bench:summary:start (generated from the results file named below by bench/report/summary.ts: do not edit by hand) -->';
export const SUMMARY_END = '<!-- bench:summary:end -->';
const START_PREFIX = '<!-- bench:summary:start';

/** The committed results file a summary names (its first `bench/results/….json`). */
export const namedFile = (block: string): string | null => /bench\/results\/[\w.-]+\.json/.exec(block)?.[0] ?? null;

const ORDER: Array<ClaimVerdict['verdict']> = ['holds', 'holds only', 'fails', 'not measured', 'design argument'];
const PLURAL: Record<ClaimVerdict['verdict'], [string, string]> = {
  holds: ['holds', 'hold'],
  'holds only': ['holds only under a condition', 'hold only under a condition'],
  fails: ['fails', 'fail'],
  'not measured': ['is not measured', 'are not measured'],
  'design argument': ['is a design argument', 'are design arguments'],
};

export function claimsCount(claims: ClaimVerdict[]): string {
  return ORDER.map((v) => [v, claims.filter((c) => c.verdict === v).length] as const)
    .filter(([, n]) => n > 0)
    .map(([v, n]) => `${n} ${PLURAL[v][n === 1 ? 0 : 1]}`)
    .join(', ');
}

/** The block's text, markers excluded. `file` is the results file's path from the repository root. */
export function renderSummary(r: Results, file: string): string {
  const min = Math.floor(r.durationS / 60);
  const run = `${r.mode === 'full' ? 'Last full run' : `Last run (${r.mode})`}: [\`${file}\`](${file}), ${r.startedAt.slice(0, 16).replace('T', ' ')} UTC${r.commit ? `, commit ${r.commit}` : ''}, on ${r.machine.cores} shared cores, \`${r.command}\`, which took ${min} min ${r.durationS % 60} s (build excluded)`;
  const claims = r.claims.length ? ` The seed article's claims, each decided by a rule printed beside it in the report: ${claimsCount(r.claims)}.` : '';
  const next = userComparisonsText(r);
  return `${run}. ${capitalize(headlineParts(r).join('; '))}.${next ? ` ${next}` : ''}${claims}`;
}

/** The README with its block replaced by `text`; throws when the markers are missing. */
export function replaceSummary(readme: string, text: string): string {
  const a = readme.indexOf(START_PREFIX);
  const b = readme.indexOf(SUMMARY_END);
  if (a < 0 || b < a) throw new Error(`README: no ${START_PREFIX} … ${SUMMARY_END} block`);
  return `${readme.slice(0, a)}${SUMMARY_START}\n${text}\n${readme.slice(b)}`;
}

/** The text between the markers, or null without them. */
export function readSummary(readme: string): string | null {
  const a = readme.indexOf(START_PREFIX);
  const b = readme.indexOf(SUMMARY_END);
  if (a < 0 || b < a) return null;
  return readme.slice(readme.indexOf('\n', a) + 1, b).replace(/\n$/, '');
}
