// The README's benchmark summary is generated from the results file it names
// (bench/report/summary.ts): this fails when the block is stale, i.e. differs
// from what that file renders under the current rules. Regenerate it with
// `npm run bench:report -- <the file>`.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import { judge } from './judge.js';
import { readResults, type Results } from './results.js';
import { namedFile, readSummary, renderSummary, replaceSummary, SUMMARY_END, SUMMARY_START } from './summary.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');

describe("README's benchmark summary", () => {
  const block = readSummary(readme);

  it('is there, between the markers, and names a committed results file', () => {
    expect(block).not.toBeNull();
    const file = namedFile(block!);
    expect(file).not.toBeNull();
    expect(existsSync(path.join(ROOT, file!))).toBe(true);
  });

  it('is what the results file it names renders (npm run bench:report -- FILE regenerates it)', () => {
    const file = namedFile(block ?? '');
    const results = readResults(path.join(ROOT, file!));
    judge(results);
    expect(block).toBe(renderSummary(results, file!));
  });

  it('carries the sentence on the comparisons users ask next after the headline figures, before the claims', () => {
    const r = {
      mode: 'full',
      durationS: 61,
      startedAt: '2026-12-07T23:00:00.000Z',
      machine: { cores: 2 },
      command: 'npm run bench',
      targets: [],
      claims: [],
      scenarios: { 'idle-15k': { id: 'idle-15k', title: '', durationS: 1, steps: [], summary: { connections: 15000, heapRatio: 1.19 }, notes: [] } },
    } as unknown as Results;
    expect(renderSummary(r, 'bench/results/x.json')).toMatch(/\. Next to socket\.io: heap per idle socket at 15,000 on one server: hub 1\.19× the baseline’s\.$/);
  });

  it('is replaced whole, the text around it kept', () => {
    const doc = `intro\n${SUMMARY_START}\nold\n${SUMMARY_END}\noutro\n`;
    const next = replaceSummary(doc, 'new');
    expect(next).toBe(`intro\n${SUMMARY_START}\nnew\n${SUMMARY_END}\noutro\n`);
    expect(readSummary(next)).toBe('new');
    expect(() => replaceSummary('no markers', 'x')).toThrow(/bench:summary:start/);
  });
});

describe('committed results files', () => {
  const cited = (text: string) => new Set([...text.matchAll(/bench\/results\/[\w.-]+\.json/g)].map((m) => m[0]));
  const docs = ['README.md', 'docs/performance.md', 'docs/benchmark.md', 'docs/reliability.md'].map((f) => readFileSync(path.join(ROOT, f), 'utf8')).join('\n');
  const tracked = spawnSync('git', ['ls-files', 'bench/results/*.json'], { cwd: ROOT, encoding: 'utf8' });

  it('exist for every file the docs cite', () => {
    for (const f of cited(docs)) expect([f, existsSync(path.join(ROOT, f))]).toEqual([f, true]);
  });

  it('are each cited by the docs (bench/results/README.md: only cited files are kept)', () => {
    const files = tracked.status === 0 ? tracked.stdout.split('\n').filter(Boolean) : [];
    const c = cited(docs);
    for (const f of files) expect([f, c.has(f)]).toEqual([f, true]);
  });
});
