import fc from 'fast-check';
import { fetchOperations } from './catalog.js';
import { Fixture, USER_ROLES } from './fixture.js';
import { type Ref } from './inputs.js';
import { restCase } from './rest.js';
import { eventCase, handshakeCase } from './socket.js';
import { runEvent, runHandshake, runRest, type Runner } from './steps.js';
import { StateProbe } from './state.js';

// The fuzz run: one hub, one fixture, three seeded phases (REST requests,
// socket events, handshakes), every case checked as it runs. Violations are
// collected rather than thrown, so one run reports all of them with the
// index that reproduces each (same seed, same counts).

export interface FuzzTarget {
  url: string;
  databaseUrl: string;
  /** The hub's JWT secret, to mint expired and otherwise-wrong tokens it signed. */
  secret: string;
  /** For a hub in another process: whether it is still running. */
  alive?: () => boolean;
}

export interface FuzzOptions {
  seed: number;
  restRuns: number;
  eventRuns: number;
  handshakeRuns: number;
  progress?: (line: string) => void;
}

export interface Violation {
  phase: 'rest' | 'event' | 'handshake' | 'hub';
  index: number;
  problem: string;
  case: string;
}

export interface FuzzReport {
  seed: number;
  cases: { rest: number; event: number; handshake: number };
  /** Per REST status, per ack outcome (`ok` or a code), per handshake outcome. */
  outcomes: { rest: Record<string, number>; event: Record<string, number>; handshake: Record<string, number> };
  /** Cases per catalogue entry, so a run shows it reached every route and event. */
  coverage: { operations: Record<string, number>; events: Record<string, number> };
  violations: Violation[];
  ms: number;
}

const ALIVE_EVERY = 200;

export async function runFuzz(target: FuzzTarget, opts: FuzzOptions): Promise<FuzzReport> {
  const started = Date.now();
  const probe = await StateProbe.open(target.databaseUrl);
  const fixture = await Fixture.create(target.url, target.secret);
  const ops = await fetchOperations(target.url);
  const report: FuzzReport = {
    seed: opts.seed,
    cases: { rest: 0, event: 0, handshake: 0 },
    outcomes: { rest: {}, event: {}, handshake: {} },
    coverage: { operations: Object.fromEntries(ops.map((o) => [`${o.method} ${o.template}`, 0])), events: {} },
    violations: [],
    ms: 0,
  };
  const runner: Runner = {
    target,
    fixture,
    probe,
    report,
    state: await probe.digest(),
    lookup: (r: Ref) => (r.as === 'id' ? fixture.ref(r.name) : USER_ROLES.includes(r.name as never) ? fixture.users[r.name as (typeof USER_ROLES)[number]].username : `nobody${r.name}`),
    sockets: new Map(),
    violation(phase, index, problem, c) {
      report.violations.push({ phase, index, problem, case: describe(c) });
    },
  };
  const phases = [
    { phase: 'rest' as const, runs: opts.restRuns, arb: restCase(ops) as fc.Arbitrary<unknown>, step: runRest },
    { phase: 'event' as const, runs: opts.eventRuns, arb: eventCase() as fc.Arbitrary<unknown>, step: runEvent },
    { phase: 'handshake' as const, runs: opts.handshakeRuns, arb: handshakeCase as fc.Arbitrary<unknown>, step: runHandshake },
  ];
  try {
    for (const [i, { phase, runs, arb, step }] of phases.entries()) {
      if (runs <= 0) continue;
      let n = 0;
      const property = fc.asyncProperty(arb, async (c) => {
        const index = n++;
        await step(runner, c as never, index);
        report.cases[phase]++;
        if (index % ALIVE_EVERY === ALIVE_EVERY - 1) {
          await checkAlive(runner, phase, index);
          opts.progress?.(`${phase}: ${index + 1}/${runs} cases, ${report.violations.length} violations`);
        }
        return true;
      });
      // Each phase has its own seed derived from the run's, so changing one phase's count leaves the others' cases alone.
      // Checks never throw (they collect violations): a throw is the harness or the hub failing outright. The
      // reporting plugin, in place of the default one, keeps fast-check from printing the case, which can be nested too deep to print.
      await fc.assert(property, {
        seed: opts.seed + i,
        numRuns: runs,
        endOnFailure: true,
        noDefaultPlugins: true,
        plugins: [
          () => ({
            onAllRunsComplete: (d) => {
              if (d.failed) throw new Error(`${phase} case ${n - 1} (seed ${opts.seed}) threw: ${String(d.errorInstance instanceof Error ? d.errorInstance.stack : d.errorInstance)}`);
            },
          }),
        ],
      });
      await checkAlive(runner, phase, n);
    }
  } finally {
    for (const s of runner.sockets.values()) s.close();
    await probe.close();
  }
  report.ms = Date.now() - started;
  return report;
}

async function checkAlive(runner: Runner, phase: Violation['phase'], index: number): Promise<void> {
  if (runner.target.alive && !runner.target.alive()) throw new Error(`the hub process is gone (${phase} case ${index})`);
  for (const path of ['/healthz', '/readyz']) {
    const status = await fetch(runner.target.url + path).then(
      (r) => r.status,
      (e: Error) => e.message,
    );
    if (status !== 200) runner.violation('hub', index, `${path} answered ${status} after ${phase} case ${index}`, null);
  }
}

/** What a run did and found, for people: counts, outcomes, the first violations. */
export function summary(r: FuzzReport): string {
  const lines = [
    `seed ${r.seed}: ${r.cases.rest} REST requests, ${r.cases.event} socket events, ${r.cases.handshake} handshakes in ${(r.ms / 1000).toFixed(1)} s`,
    `REST statuses ${JSON.stringify(r.outcomes.rest)}`,
    `acks ${JSON.stringify(r.outcomes.event)}`,
    `handshakes ${JSON.stringify(r.outcomes.handshake)}`,
    `${r.violations.length} violations`,
    ...r.violations.slice(0, 20).map((v) => `  ${v.phase} #${v.index}: ${v.problem}\n    ${v.case}`),
  ];
  return lines.join('\n');
}

/** A case as one bounded line: enough to recognise it; the seed and index reproduce it exactly. */
export function describe(c: unknown): string {
  const text = JSON.stringify(clip(c, 0)) ?? String(undefined);
  return text.length > 600 ? `${text.slice(0, 600)}…` : text;
}

/** A printable copy: long strings shortened, deep values cut (a 5,000-level body would overflow the stringifier). */
function clip(v: unknown, depth: number): unknown {
  if (typeof v === 'string') return v.length > 80 ? `${v.slice(0, 40)}…(${v.length} chars)` : v;
  if (!v || typeof v !== 'object') return v;
  if (depth > 6) return '…(deeper)';
  if (Array.isArray(v)) return v.slice(0, 10).map((x) => clip(x, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v).slice(0, 12)) Object.defineProperty(out, k, { value: clip(x, depth + 1), enumerable: true });
  return out;
}
