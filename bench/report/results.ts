// The JSON a run writes (bench/results/<date>.json), and the fields it must have:
// the jest test checks a --quick run against REQUIRED_*.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Profile } from '../config.js';
import type { ProfileResult } from '../profile.js';
import type { ScenarioResult } from '../scenarios/context.js';
import type { MachineInfo } from './machine.js';

/** How the run was made (bench/run.ts), printed in the report's Configuration section. */
export interface RunConfig {
  profile: Profile;
  generatorProcesses: number;
  hubEnv: Record<string, string>;
  limitsRaised: string[];
  /** The baseline's Socket.IO server, redis-adapter and ioredis options (bench/baseline/options.ts). */
  baseline: { server: object; adapter: object; redis: object };
}

export interface Verdict {
  id: string;
  text: string;
  measured: string;
  /** PASS / FAIL, or null when this run could not tell (say why in `note`). */
  pass: boolean | null;
  note: string;
}

export interface ClaimVerdict {
  n: string;
  claim: string;
  measured: string;
  /** Computed by `rule` from the figures in `measured`; 'design argument' where no figure can decide the claim. */
  verdict: 'holds' | 'fails' | 'holds only' | 'not measured' | 'design argument';
  /** How the verdict follows from the figures, printed beside it (bench/report/claims.ts). */
  rule: string;
  condition: string;
}

export interface Results {
  version: 1;
  mode: 'quick' | 'full';
  command: string;
  startedAt: string;
  finishedAt: string;
  durationS: number;
  machine: MachineInfo;
  config: RunConfig;
  scenarios: Record<string, ScenarioResult>;
  targets: Verdict[];
  claims: ClaimVerdict[];
  /** CPU profiles of the hub where a target failed (full runs), or under every load (--profile-all). */
  profiles: ProfileResult[];
  /** The targets of an earlier run (--before), shown beside this run's. */
  before?: { file: string; startedAt: string; command: string; commit?: string; targets: Verdict[] };
  /** The commit the run measured (`git describe --always --dirty`); absent from files written before it was recorded. */
  commit?: string;
}

export const REQUIRED_TOP = ['version', 'mode', 'command', 'startedAt', 'finishedAt', 'durationS', 'machine', 'config', 'scenarios', 'targets', 'claims', 'profiles'] as const;
export const REQUIRED_MACHINE = ['cpuModel', 'cores', 'memoryGiB', 'os', 'node', 'postgres', 'redis'] as const;
export const REQUIRED_SCENARIO = ['id', 'title', 'durationS', 'steps', 'summary', 'notes'] as const;
export const REQUIRED_STEP = [
  'name',
  'side',
  'params',
  'durationS',
  'latency',
  'offeredPerS',
  'delivered',
  'deliveredPerS',
  'lost',
  'dups',
  'ooo',
  'sustained',
  'saturated',
  'cpu',
  'metrics',
  'notes',
] as const;
export const REQUIRED_CPU = ['processes', 'machineBusy', 'otherLoad', 'wallMs'] as const;

type Fields = Record<string, unknown>;

/** Names of the required fields a results object lacks (empty when complete). */
export function missingFields(results: object): string[] {
  // Read as JSON objects: any field may be missing (scenarios and steps are expected to be objects).
  const r = results as Fields;
  const missing: string[] = [];
  const check = (obj: Fields | undefined, keys: readonly string[], at: string) => {
    for (const k of keys) if (!obj || !(k in obj)) missing.push(`${at}.${k}`);
  };
  check(r, REQUIRED_TOP, 'results');
  check(r.machine as Fields | undefined, REQUIRED_MACHINE, 'machine');
  for (const [id, s] of Object.entries((r.scenarios ?? {}) as Record<string, Fields>)) {
    check(s, REQUIRED_SCENARIO, `scenarios.${id}`);
    ((s.steps ?? []) as Fields[]).forEach((st, i) => {
      check(st, REQUIRED_STEP, `scenarios.${id}.steps[${i}]`);
      check(st.cpu as Fields | undefined, REQUIRED_CPU, `scenarios.${id}.steps[${i}].cpu`);
    });
  }
  return missing;
}

export function readResults(file: string): Results {
  return JSON.parse(readFileSync(file, 'utf8')) as Results;
}

export function writeResults(dir: string, r: Results): string {
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${r.startedAt.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify(r, null, 2) + '\n');
  return file;
}

/** The checked-out commit, `-dirty` when the work tree has changes; undefined outside a git checkout. */
export function gitCommit(root: string): string | undefined {
  const r = spawnSync('git', ['describe', '--always', '--dirty', '--abbrev=12'], { cwd: root, encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() || undefined : undefined;
}
