// The JSON a run writes (bench/results/<date>.json), and the fields it must have:
// the jest test checks a --quick run against REQUIRED_*.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ProfileResult } from '../profile.js';
import type { ScenarioResult } from '../scenarios/context.js';
import type { MachineInfo } from './machine.js';

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
  verdict: 'holds' | 'fails' | 'holds only' | 'not measured';
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
  config: Record<string, unknown>;
  scenarios: Record<string, ScenarioResult>;
  targets: Verdict[];
  claims: ClaimVerdict[];
  /** CPU profiles of the hub where a target failed (full runs), or under every load (--profile-all). */
  profiles: ProfileResult[];
  /** The targets of an earlier run (--before), shown beside this run's. */
  before?: { file: string; startedAt: string; command: string; targets: Verdict[] };
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

/** Names of the required fields a results object lacks (empty when complete). */
export function missingFields(r: Record<string, any>): string[] {
  const missing: string[] = [];
  const check = (obj: Record<string, unknown> | undefined, keys: readonly string[], at: string) => {
    for (const k of keys) if (!obj || !(k in obj)) missing.push(`${at}.${k}`);
  };
  check(r, REQUIRED_TOP, 'results');
  check(r.machine, REQUIRED_MACHINE, 'machine');
  for (const [id, s] of Object.entries<any>(r.scenarios ?? {})) {
    check(s, REQUIRED_SCENARIO, `scenarios.${id}`);
    (s.steps ?? []).forEach((st: any, i: number) => {
      check(st, REQUIRED_STEP, `scenarios.${id}.steps[${i}]`);
      check(st.cpu, REQUIRED_CPU, `scenarios.${id}.steps[${i}].cpu`);
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
