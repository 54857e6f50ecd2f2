// After the scenarios: verdicts on targets and claims, and on a full run the
// committed report (docs/benchmark.md) with its charts (docs/benchmark/*.svg),
// and the README's summary of it.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ProfileLoad } from '../profile.js';
import { writeCharts } from './charts.js';
import { headline } from './headline.js';
import { judge } from './judge.js';
import { renderMarkdown } from './markdown.js';
import type { Results } from './results.js';
import { renderSummary, replaceSummary } from './summary.js';

export { judge };

/** Which load to profile for a failing target. */
export const PROFILE_FOR: Record<string, ProfileLoad> = {
  'publish-rest': 'publish-rest',
  'publish-socket': 'publish-rest',
  'publish-p99-rest': 'publish-rest',
  'publish-p99-socket': 'publish-rest',
  'fanout-1': 'fanout',
  'fanout-p99': 'fanout',
  'fanout-2': 'fanout',
  'fanout-lost': 'fanout',
  'read-get': 'read-get',
  'read-push-p50': 'read-get',
  'login-flood-open': 'login-flood',
  'login-flood-closed': 'login-flood',
};

/**
 * docs/benchmark.md with its charts, and the README's summary block, from one
 * results file (`resultsFile`, the path it was written to; by default where a
 * full run writes it).
 */
export async function writeReport(results: Results, root: string, resultsFile?: string): Promise<string> {
  const docs = path.join(root, 'docs');
  const charts = await writeCharts(path.join(docs, 'benchmark'), results.scenarios);
  const file = path.join(docs, 'benchmark.md');
  const cited = resultsFile ? path.relative(root, path.resolve(resultsFile)) : `bench/results/${results.startedAt.replace(/[:.]/g, '-')}.json`;
  writeFileSync(file, renderMarkdown(results, charts, 'benchmark', headline(results)));
  const readme = path.join(root, 'README.md');
  writeFileSync(readme, replaceSummary(readFileSync(readme, 'utf8'), renderSummary(results, cited)));
  return file;
}
