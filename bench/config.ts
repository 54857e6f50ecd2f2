// Command line of `npm run bench` and the two profiles. Bench-only knobs live
// here, parsed once; the hub gets its settings through its environment only.
import { existsSync } from 'node:fs';
import path from 'node:path';

/**
 * What users would ask next (issue 15), hub and baseline side by side. The
 * quick run has room for the tiny forms of many-channels and bodies only; the
 * others are full-run only (USERLOAD_FULL_RUN_ONLY), `--quick --only <id>`
 * still runs each one's small form.
 */
export const USERLOAD_SCENARIOS = ['many-channels', 'big-room', 'connect-rate', 'bodies', 'through-lb', 'idle-15k'] as const;
export const SCENARIOS = ['publish', 'fanout', 'scaling', 'polling', 'read', 'idle', 'reconcile', 'claims', 'overload', 'login-flood', 'storm', 'variants', ...USERLOAD_SCENARIOS] as const;
export type ScenarioId = (typeof SCENARIOS)[number];
/** Scenarios too long for --quick's 3 minutes: a quick run leaves them out, and refuses them by name. */
export const FULL_ONLY: readonly ScenarioId[] = ['reconcile'];

/**
 * Left out of a --quick run of every scenario: with it the quick run took
 * 175-184 s here (155-163 s without it), at or past its 3-minute budget on a
 * shared machine. `--quick --only login-flood` still runs its small form
 * (about 20 s).
 */
const USERLOAD_FULL_RUN_ONLY: readonly ScenarioId[] = USERLOAD_SCENARIOS.filter((id) => id !== 'many-channels' && id !== 'bodies');
export const FULL_RUN_ONLY: readonly ScenarioId[] = ['login-flood', 'variants', ...USERLOAD_FULL_RUN_ONLY];

export interface Options {
  quick: boolean;
  only: ScenarioId[];
  /** Where results/<date>.json goes (bench/results by default). */
  out: string;
  /** Whether docs/benchmark.md and its charts are rewritten (a full run of every scenario only). */
  writeReport: boolean;
  keepTemp: boolean;
  generators: number;
  /** Profile the hub where a target fails: full runs unless --no-profile; quick ones with --profile. */
  profile: boolean;
  /** Profile every profiled load, passing targets' included (--profile-all). */
  profileAll: boolean;
  /** A previous results file whose target figures the report shows beside this run's (--before). */
  before?: string;
  /** Another build's dist/ folder, whose hub the reconcile scenario measures beside this one (--base-hub). */
  baseHub?: string;
  argv: string[];
  /** How often each headline figure is measured (--repeat; 3 in a full run, 1 in --quick). */
  repeat: number;
}

export interface Profile {
  quick: boolean;
  /** Measuring window of an ordinary step (targets are judged on these). */
  stepMs: number;
  /** Window of the steps of a ladder that only looks for where a side stops keeping up. */
  ladderMs: number;
  /** Window of steps that may call a rate sustained (the issue: at least 20 s). */
  sustainMs: number;
  /** Longest wait for late deliveries after a step. */
  drainMs: number;
  /** How often each headline figure is measured; the report shows median (min–max). */
  repeat: number;
  /** An unjudged step before the judged ones where a cold process would bias the first (fan-out, the publish ladder); 0: none. */
  warmupMs: number;
}

export const SUSTAIN_MIN_MS = 20_000;

export const DEFAULT_REPEAT = { full: 3, quick: 1 } as const;

export function profileFor(quick: boolean, repeat: number = quick ? DEFAULT_REPEAT.quick : DEFAULT_REPEAT.full): Profile {
  return quick
    ? { quick, stepMs: 1500, ladderMs: 1500, sustainMs: 2500, drainMs: 3000, repeat, warmupMs: 0 }
    : { quick, stepMs: 8000, ladderMs: 6000, sustainMs: SUSTAIN_MIN_MS, drainMs: 3000, repeat, warmupMs: 5000 };
}

export class UsageError extends Error {}

export function parseArgs(argv: string[], root: string): Options {
  const opts: Options = { quick: false, only: [], out: path.join(root, 'bench', 'results'), writeReport: false, keepTemp: false, generators: 3, profile: true, profileAll: false, argv, repeat: 0 };
  let outGiven = false;
  let forceProfile = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${a} needs a value`);
      return v;
    };
    if (a === '--quick') opts.quick = true;
    else if (a === '--only') {
      for (const s of value().split(',')) {
        if (!(SCENARIOS as readonly string[]).includes(s)) throw new UsageError(`unknown scenario ${s}; one of ${SCENARIOS.join(', ')}`);
        opts.only.push(s as ScenarioId);
      }
    } else if (a === '--out') {
      opts.out = path.resolve(value());
      outGiven = true;
    } else if (a === '--generators') {
      opts.generators = Number(value());
      if (!Number.isInteger(opts.generators) || opts.generators < 1 || opts.generators > 16) throw new UsageError('--generators: 1..16');
    } else if (a === '--keep-temp') opts.keepTemp = true;
    else if (a === '--no-profile') opts.profile = false;
    else if (a === '--profile') forceProfile = true;
    else if (a === '--profile-all') forceProfile = opts.profileAll = true;
    else if (a === '--before') opts.before = path.resolve(root, value());
    else if (a === '--base-hub') opts.baseHub = builtHub(value());
    else if (a === '--repeat') {
      opts.repeat = Number(value());
      if (!Number.isInteger(opts.repeat) || opts.repeat < 1 || opts.repeat > 10) throw new UsageError('--repeat: 1..10');
    } else if (a === '--help' || a === '-h') throw new UsageError(USAGE);
    else throw new UsageError(`unknown argument ${a}\n${USAGE}`);
  }
  const tooLong = opts.quick ? opts.only.filter((s) => FULL_ONLY.includes(s)) : [];
  if (tooLong.length) throw new UsageError(`${tooLong.join(', ')}: full runs only (not --quick)`);
  opts.writeReport = !opts.quick && opts.only.length === 0 && !outGiven;
  opts.profile = forceProfile || (opts.profile && !opts.quick);
  opts.repeat ||= opts.quick ? DEFAULT_REPEAT.quick : DEFAULT_REPEAT.full;
  return opts;
}

function builtHub(dir: string): string {
  const dist = path.resolve(dir);
  if (!existsSync(path.join(dist, 'src', 'main.js'))) throw new UsageError(`--base-hub: no src/main.js under ${dist} (give a built checkout's dist/ folder)`);
  return dist;
}

export const USAGE = `usage: npm run bench -- [--quick] [--only ${SCENARIOS.join('|')}[,…]] [--out DIR] [--generators N] [--keep-temp] [--no-profile|--profile|--profile-all] [--before FILE] [--base-hub DIST] [--repeat N]
  --quick     short steps and small loads (under 3 minutes; ${FULL_RUN_ONLY.join(', ')} only when named with --only, ${FULL_ONLY.join(', ')} never); results only
  --only      run these scenarios; results only
  --out DIR   write results/<date>.json under DIR instead of bench/results (never the committed report)
  --profile-all   profile the hub under every profiled load, not only where a target fails
  --before FILE   a previous results file: the report shows its target figures beside this run's
  --base-hub DIST another build's dist/ folder (its npm run build): the reconcile scenario measures its hub too
  --repeat N      measure each headline figure N times (default ${DEFAULT_REPEAT.full}, ${DEFAULT_REPEAT.quick} with --quick); the report shows median (min–max)`;
