// Every verdict of a run, derived from its measured steps, so that a re-render
// applies the current rules to the same measurements. Kept apart from the
// report writer (charts pull in Vega) so that unit specs can judge a file.
import { ratioRows } from '../scenarios/fanout.js';
import { judgeClaims } from './claims.js';
import type { Results } from './results.js';
import { judgeTargets } from './targets.js';

export function judge(results: Results): void {
  const fo = results.scenarios.fanout;
  if (fo) for (const c of Object.values(fo.summary) as Array<{ subscribers: number; replicas: number; ratios: unknown }>) c.ratios = ratioRows(fo.steps, c.subscribers, c.replicas);
  results.targets = judgeTargets(results.scenarios);
  results.claims = judgeClaims(results.scenarios, results.machine?.cores);
}
