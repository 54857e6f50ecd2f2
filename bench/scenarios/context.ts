// What every scenario gets, and the pieces of a step: CPU accounting around
// it, who saturated, and the step's record in the results.
import os from 'node:os';
import type { Profile } from '../config.js';
import type { LatencySummary } from '../histogram.js';
import { type CpuReport, cpuBetween, round, snapshot, type TrackedProcess, treeCpuMs } from '../procs.js';
import type { BenchUser, Seeder } from '../seed.js';
import type { Topology } from '../topology.js';

export type Saturation = 'server' | 'generator' | 'both' | 'machine' | 'none';

export interface StepResult {
  name: string;
  side: 'hub' | 'baseline' | null;
  params: Record<string, number | string | boolean>;
  /** Measuring window. */
  durationS: number;
  latency: LatencySummary | null;
  offeredPerS: number | null;
  delivered: number | null;
  deliveredPerS: number | null;
  lost: number | null;
  dups: number | null;
  ooo: number | null;
  /** p99 < 1 s and nothing lost over ≥ 20 s; null where the window was shorter. */
  sustained: boolean | null;
  saturated: Saturation;
  cpu: CpuReport;
  metrics: Record<string, number | string | boolean | null>;
  notes: string[];
}

export interface ScenarioResult {
  id: string;
  title: string;
  durationS: number;
  steps: StepResult[];
  summary: Record<string, unknown>;
  notes: string[];
}

export interface Ctx {
  topo: Topology;
  seed: Seeder;
  profile: Profile;
  cores: number;
  /** A line under the running task (listr2). */
  progress(msg: string): void;
  /** Users shared by all scenarios (tokens included), created once, grown on demand. */
  users(n: number): Promise<BenchUser[]>;
  /** --base-hub: another build's dist/ folder, measured beside this build where a scenario compares builds. */
  baseHub?: string;
}

/** A process at or above this share of one core counts as saturated (Node runs JavaScript on one core). */
export const SATURATED_CORE = 0.85;
/** The machine counts as saturated above this share of all its cores. */
export const SATURATED_MACHINE = 0.9;

export function saturation(cpu: CpuReport, serverKinds: Array<TrackedProcess['kind']>): Saturation {
  const busy = (kinds: Array<TrackedProcess['kind']>) => cpu.processes.some((p) => kinds.includes(p.kind) && p.core >= SATURATED_CORE);
  const server = busy(serverKinds);
  const generator = busy(['generator']);
  if (server && generator) return 'both';
  if (server) return 'server';
  if (generator) return 'generator';
  return cpu.machineBusy >= SATURATED_MACHINE ? 'machine' : 'none';
}

/** Runs `fn` and reports the CPU every tracked process used meanwhile. */
export async function measured<T>(ctx: Ctx, fn: () => Promise<T>): Promise<{ value: T; cpu: CpuReport }> {
  const procs = ctx.topo.tracked();
  const a = snapshot(procs);
  const value = await fn();
  const b = snapshot(procs);
  return { value, cpu: cpuBetween(procs, a, b, ctx.cores) };
}

/** Waits until the given servers are idle (< 20% of a core over 500 ms), at most `ms` (10 s): a backlog from one step must not bleed into the next. */
export async function quiesce(pids: number[], ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const a = treeCpuMs(pids);
    await new Promise((r) => setTimeout(r, 500));
    const b = treeCpuMs(pids);
    if (pids.every((p) => (b.get(p) ?? 0) - (a.get(p) ?? 0) < 100)) return;
  }
}

/** CPU ms the named kinds used in a step. */
export const cpuMsOf = (cpu: CpuReport, kinds: Array<TrackedProcess['kind']>) => cpu.processes.filter((p) => kinds.includes(p.kind)).reduce((s, p) => s + p.cpuMs, 0);

export function step(partial: Partial<StepResult> & Pick<StepResult, 'name' | 'cpu' | 'durationS'>, serverKinds: Array<TrackedProcess['kind']>): StepResult {
  return {
    side: null,
    params: {},
    latency: null,
    offeredPerS: null,
    delivered: null,
    deliveredPerS: null,
    lost: null,
    dups: null,
    ooo: null,
    sustained: null,
    metrics: {},
    notes: [],
    saturated: saturation(partial.cpu, serverKinds),
    ...partial,
  };
}

export function machineCores(): number {
  return os.cpus().length;
}

export { round };
