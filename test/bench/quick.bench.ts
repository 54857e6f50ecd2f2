// The benchmark must not rot: `npm run bench -- --quick --only read` end to
// end (its own Postgres, Redis, replica and generator processes) into a
// temporary folder, then the results file must carry every field. Speed is
// not checked here.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { missingFields } from '../../bench/report/results.js';

const RUN = resolve('dist/bench/run.js');

describe('npm run bench -- --quick (smallest scenario)', () => {
  const out = mkdtempSync(join(tmpdir(), 'crosswire-bench-test-'));
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('completes and writes results with every field', async () => {
    const child = spawn(process.execPath, [RUN, '--quick', '--only', 'read', '--out', out], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CI: 'true' } });
    let log = '';
    child.stdout.on('data', (d) => (log += d));
    child.stderr.on('data', (d) => (log += d));
    const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    if (code !== 0) throw new Error(`bench exited ${code}:\n${log.slice(-4000)}`);
    const files = readdirSync(out).filter((f) => f.endsWith('.json'));
    expect(files).toHaveLength(1);
    const results = JSON.parse(readFileSync(join(out, files[0]), 'utf8'));
    expect(missingFields(results)).toEqual([]);
    expect(results.mode).toBe('quick');
    expect(Object.keys(results.scenarios)).toEqual(['read']);
    expect(results.scenarios.read.steps.length).toBeGreaterThan(0);
    for (const s of results.scenarios.read.steps) expect(s.cpu.processes.length).toBeGreaterThan(0);
    expect(results.targets.map((t: { id: string }) => t.id)).toEqual(expect.arrayContaining(['read-get', 'read-push-p50']));
    expect(results.claims.length).toBeGreaterThan(0);
    // Nothing of the run is left behind: its temporary folder is gone.
    const runDir = log.match(/run directory \(logs[^)]*\): (\S+)/)?.[1];
    expect(runDir).toBeDefined();
    expect(existsSync(runDir!)).toBe(false);
  }, 150_000);
});
