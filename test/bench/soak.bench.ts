// A 3-minute soak (`npm run soak -- --minutes 3`) on the built code: its own
// Postgres, Redis and three replicas, clients that churn and resume,
// publishers, and the third replica restarted by SIGTERM and SIGKILL in turn.
// The two replicas never restarted are sampled every 10 s after a forced GC;
// after the 60 s warm-up their heap must not grow by 1 MB/min or more
// (least-squares slope).
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import type { SoakResults } from '../../bench/soak/report.js';

const RUN = resolve('dist/bench/soak/run.js');
const MB = 1024 * 1024;

describe('npm run soak -- --minutes 3', () => {
  const out = mkdtempSync(join(tmpdir(), 'crosswire-soak-test-'));
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('after a 60 s warm-up, the heap after forced GC of the replicas never restarted grows by less than 1 MB/min, with restarts, reconnects and no delivery gap', async () => {
    const args = [RUN, '--minutes', '3', '--sample-s', '10', '--warmup-s', '60', '--restart-every-s', '40', '--out', out];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    child.stdout.on('data', (d) => (log += d));
    child.stderr.on('data', (d) => (log += d));
    const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    if (code !== 0) throw new Error(`soak exited ${code}:\n${log.slice(-4000)}`);
    const files = readdirSync(out);
    const json = files.find((f) => f.endsWith('.json'));
    expect(files.some((f) => f.endsWith('.svg'))).toBe(true);
    const svg = readFileSync(
      join(
        out,
        files.find((f) => f.endsWith('.svg'))!,
      ),
      'utf8',
    );
    expect(svg).toContain('<svg');
    const r = JSON.parse(readFileSync(join(out, json!), 'utf8')) as SoakResults;
    console.log(
      `soak: ${JSON.stringify({ slopes: r.slopes, counters: { ...r.counters, violations: r.counters.violations.length }, restarts: r.restarts, lagP99: r.deliveryLag.map((l) => l.p99Ms) })}`,
    );

    expect(r.measured).toEqual(['hub1', 'hub2']);
    for (const name of r.measured) {
      const s = r.slopes[name];
      // 60 s warm-up, then a sample every 10 s until 180 s.
      expect(s.samples).toBeGreaterThanOrEqual(12);
      expect(s.heapAfterGcBytesPerMin).not.toBeNull();
      expect(s.heapAfterGcBytesPerMin!).toBeLessThan(1 * MB);
    }
    // The run did what it says: restarts of both kinds, clients resuming, messages flowing, none lost or repeated.
    expect(r.restarts.map((x) => x.signal)).toEqual(['SIGTERM', 'SIGKILL', 'SIGTERM', 'SIGKILL']);
    expect(r.counters.reconnects).toBeGreaterThan(100);
    expect(r.counters.published).toBeGreaterThan(1000);
    expect(r.counters.delivered).toBeGreaterThan(r.counters.published);
    expect(r.counters.violations).toEqual([]);
    expect(r.deliveryLag.filter((l) => l.samples > 0).length).toBeGreaterThanOrEqual(15);
    // The survivors reaped the SIGKILLed replica's presence leases, and clients resumed with sinceSeq.
    const lastOf = (name: string) => r.replicaSamples.filter((s) => s.replica === name).at(-1)!;
    expect(r.measured.reduce((n, name) => n + (lastOf(name).presenceReaps ?? 0), 0)).toBeGreaterThanOrEqual(1);
    expect(r.measured.every((name) => (lastOf(name).resumes ?? 0) > 0)).toBe(true);
    // Nothing of the run is left behind.
    const runDir = log.match(/run directory \(logs[^)]*\): (\S+)/)?.[1];
    expect(runDir).toBeDefined();
    expect(existsSync(runDir!)).toBe(false);
  }, 300_000);
});
