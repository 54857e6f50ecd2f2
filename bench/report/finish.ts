// After the scenarios: verdicts on targets and claims, and on a full run the
// committed report (docs/benchmark.md) with its charts (docs/benchmark/*.svg).
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ProfileLoad } from '../profile.js';
import { ratioRows } from '../scenarios/fanout.js';
import { writeCharts } from './charts.js';
import { judgeClaims } from './claims.js';
import { renderMarkdown } from './markdown.js';
import type { Results } from './results.js';
import { judgeTargets } from './targets.js';

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

/** Every verdict derived from the measured steps (so a re-render applies the current rules to the same measurements). */
export function judge(results: Results): void {
  const fo = results.scenarios.fanout;
  if (fo) for (const c of Object.values(fo.summary) as Array<{ subscribers: number; replicas: number; ratios: unknown }>) c.ratios = ratioRows(fo.steps, c.subscribers, c.replicas);
  results.targets = judgeTargets(results.scenarios);
  results.claims = judgeClaims(results.scenarios);
}

export function headline(r: Results): string {
  const parts: string[] = [];
  const fo = (r.scenarios.fanout?.summary as Record<string, { ratios: Array<{ rate: number; hubPerS: number; baselinePerS: number; ratio: number | null }> }> | undefined)?.['500x1'];
  // The sustain check (the baseline's highest sustained rate) when there is one, else the ladder's top.
  const top = fo?.ratios.find((x) => (x as { sustainCheck?: boolean }).sustainCheck) ?? fo?.ratios[fo.ratios.length - 1];
  if (top)
    parts.push(
      `500 subscribers on one replica at ${top.rate} msg/s: hub ${top.hubPerS.toLocaleString('en-US')} deliveries/s vs plain socket.io ${top.baselinePerS.toLocaleString('en-US')} (${top.ratio}×)`,
    );
  const rest = r.targets.find((t) => t.id === 'publish-rest');
  if (rest) parts.push(`persisted REST publishes on one hot channel: ${rest.measured}`);
  const idle = r.targets.find((t) => t.id === 'idle-heap');
  if (idle) parts.push(`idle socket: ${idle.measured.split(';')[0]}`);
  const storm = r.scenarios.storm?.summary as { subscribers: number; allCaughtUpMs: number | null; lost: number } | undefined;
  if (storm)
    parts.push(`a SIGKILLed replica’s ${storm.subscribers} subscribers caught up in ${storm.allCaughtUpMs === null ? 'n/a' : `${(storm.allCaughtUpMs / 1000).toFixed(1)} s`} with ${storm.lost} lost`);
  const passed = r.targets.filter((t) => t.pass === true).length;
  const failed = r.targets.filter((t) => t.pass === false).length;
  parts.push(`targets: ${passed} PASS, ${failed} FAIL`);
  return `${parts.join('; ')}.`;
}

export async function writeReport(results: Results, root: string): Promise<string> {
  const docs = path.join(root, 'docs');
  const charts = await writeCharts(path.join(docs, 'benchmark'), results.scenarios);
  const file = path.join(docs, 'benchmark.md');
  writeFileSync(file, renderMarkdown(results, charts, 'benchmark', headline(results)));
  return file;
}
