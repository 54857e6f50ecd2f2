// `npm run bench`: starts its own topology, runs the scenarios with progress,
// prints a table, writes bench/results/<date>.json, and on a full run rewrites
// docs/benchmark.md with its charts. Leaves nothing running: every child is
// stopped on success, on error and on SIGINT/SIGTERM/SIGHUP.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Listr } from 'listr2';
import { isEntry } from '../scripts/entry.js';
import { FULL_ONLY, FULL_RUN_ONLY, type Options, parseArgs, profileFor, SCENARIOS, UsageError } from './config.js';
import { machineInfo } from './report/machine.js';
import { gitCommit, type Results, readResults, writeResults } from './report/results.js';
import { renderTable } from './report/table.js';
import type { Ctx, ScenarioResult } from './scenarios/context.js';
import { machineCores } from './scenarios/context.js';
import { SCENARIO_RUNNERS } from './scenarios/index.js';
import { type BenchUser, Seeder } from './seed.js';
import { BASELINE_ADAPTER_OPTIONS, BASELINE_REDIS_OPTIONS, BASELINE_SERVER_OPTIONS } from './baseline/options.js';
import { BENCH_LIMITS_RAISED, HUB_BENCH_ENV, Topology } from './topology.js';
import { judge, PROFILE_FOR, writeReport } from './report/finish.js';
import { type ProfileResult, profileHub, type ProfileLoad } from './profile.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

async function run(opts: Options): Promise<number> {
  const started = new Date();
  // Read before anything runs: the full run rewrites tracked files (docs/benchmark.md, README.md) at its end.
  const commit = gitCommit(ROOT);
  const profile = profileFor(opts.quick, opts.repeat);
  const topo = new Topology((m) => console.log(`[bench] ${m}`), path.join(ROOT, '.data', 'bench'));
  console.log(`[bench] run directory (logs; removed at the end unless --keep-temp): ${topo.dir}`);
  let interrupted = false;
  const onSignal = (sig: string) => {
    if (interrupted) return;
    interrupted = true;
    // Whatever breaks while the children go away must not stop the stopping.
    process.on('uncaughtException', (e) => console.error(`[bench] while stopping: ${e.message}`));
    console.error(`\n[bench] ${sig}: stopping every process of this run …`);
    void topo.stop().finally(() => process.exit(130));
  };
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => onSignal(sig));

  // Full-run scenarios stay out of a --quick run of everything; FULL_ONLY ones are refused with --quick even by name (config.ts).
  const ids = SCENARIOS.filter((id) => (opts.only.length ? opts.only.includes(id) : !(opts.quick && (FULL_RUN_ONLY.includes(id) || FULL_ONLY.includes(id)))))
    .filter((id) => SCENARIO_RUNNERS[id])
    .filter((id) => !(opts.quick && FULL_ONLY.includes(id)));
  const scenarios: Record<string, ScenarioResult> = {};
  let seed: Seeder | undefined;
  let postgresVersion = 'unknown';
  const pool: BenchUser[] = [];
  const profiles: ProfileResult[] = [];
  let progress: (msg: string) => void = () => undefined;
  const ctx = (): Ctx => ({
    topo,
    seed: seed!,
    profile,
    cores: machineCores(),
    progress: (m) => progress(m),
    baseHub: opts.baseHub,
    async users(n) {
      if (pool.length < n) pool.push(...(await seed!.users(n - pool.length)));
      return pool.slice(0, n);
    },
  });
  try {
    const tasks = new Listr(
      [
        {
          title: `Starting Postgres, Redis and ${opts.generators} generator processes`,
          task: async () => {
            await topo.start(opts.generators);
            seed = new Seeder(topo.databaseUrl, topo.secretFile);
            postgresVersion = await seed.serverVersion();
          },
        },
        ...ids.map((id) => ({
          title: SCENARIO_RUNNERS[id].title,
          task: async (_: unknown, task: { output: string; title: string }) => {
            progress = (m) => (task.output = m);
            const t0 = Date.now();
            scenarios[id] = await SCENARIO_RUNNERS[id].run(ctx());
            task.title = `${SCENARIO_RUNNERS[id].title} (${Math.round((Date.now() - t0) / 1000)} s)`;
          },
        })),
        {
          title: opts.profileAll ? 'Profiling the hub under each profiled load' : 'Profiling the hub where a target fails',
          enabled: () => opts.profile,
          task: async (_: unknown, task: { output: string; title: string }) => {
            const partial = { scenarios } as Results;
            judge(partial);
            const loads = new Map<ProfileLoad, string>();
            for (const t of partial.targets) if ((opts.profileAll || t.pass === false) && PROFILE_FOR[t.id] && !loads.has(PROFILE_FOR[t.id])) loads.set(PROFILE_FOR[t.id], t.text);
            for (const [load, target] of loads) {
              task.output = `${load} (${target})`;
              profiles.push(await profileHub(ctx(), load, target));
            }
          },
        },
      ],
      { exitOnError: true, registerSignalListeners: false, rendererOptions: { collapseSubtasks: false } },
    );
    await tasks.run();
    const finished = new Date();
    const results: Results = {
      version: 1,
      mode: opts.quick ? 'quick' : 'full',
      command: `npm run bench${opts.argv.length ? ` -- ${opts.argv.join(' ')}` : ''}`,
      startedAt: started.toISOString(),
      finishedAt: finished.toISOString(),
      durationS: Math.round((finished.getTime() - started.getTime()) / 1000),
      machine: machineInfo(postgresVersion),
      config: {
        profile,
        generatorProcesses: opts.generators,
        hubEnv: HUB_BENCH_ENV,
        limitsRaised: BENCH_LIMITS_RAISED,
        baseline: { server: BASELINE_SERVER_OPTIONS, adapter: BASELINE_ADAPTER_OPTIONS, redis: BASELINE_REDIS_OPTIONS },
      },
      scenarios,
      targets: [],
      claims: [],
      profiles,
      ...(opts.before ? { before: earlierTargets(opts.before, ROOT) } : {}),
      commit,
    };
    judge(results);
    const file = writeResults(opts.out, results);
    if (opts.writeReport) console.log(`[bench] report: ${path.relative(process.cwd(), await writeReport(results, ROOT, file))}`);
    console.log(`\n${renderTable(Object.values(scenarios))}\n`);
    for (const t of results.targets) console.log(`[bench] ${t.pass === null ? 'n/a ' : t.pass ? 'PASS' : 'FAIL'}  ${t.text}: ${t.measured}`);
    console.log(`[bench] results: ${path.relative(process.cwd(), file)} (${results.durationS} s)`);
    return 0;
  } catch (e) {
    if (!interrupted) console.error(`[bench] failed: ${(e as Error).stack ?? String(e)}\n[bench] logs: ${topo.logs}`);
    return 1;
  } finally {
    await seed?.close().catch(() => undefined);
    // After a signal this awaits the stop the handler started (it exits once done).
    await topo.stop(opts.keepTemp);
  }
}

/** An earlier run's targets, judged by today's rules, for the report's before/after column. */
function earlierTargets(file: string, root: string): NonNullable<Results['before']> {
  const earlier = readResults(file);
  judge(earlier);
  return { file: path.relative(root, file), startedAt: earlier.startedAt, command: earlier.command, ...(earlier.commit ? { commit: earlier.commit } : {}), targets: earlier.targets };
}

async function main(): Promise<void> {
  let opts: Options;
  try {
    opts = parseArgs(process.argv.slice(2), ROOT);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(e.message);
    process.exit(2);
  }
  const code = await run(opts);
  process.exitCode = code;
  // Sockets and agents of the orchestrator itself may hold the loop open.
  setTimeout(() => process.exit(), 500).unref();
}

if (isEntry(import.meta.url)) void main();
