// CPU accounting from /proc: per process tree (a replica, Postgres with its
// backends) and for the whole machine, so every step can say who was busy.
import { readdirSync, readFileSync } from 'node:fs';

const TICK_MS = 10; // CLK_TCK is 100 on Linux x86-64

interface Stat {
  pid: number;
  ppid: number;
  /** utime + stime + cutime + cstime, in ms: own time plus that of reaped children. */
  cpuMs: number;
}

function readStat(pid: number): Stat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
    // After the name: state(0) ppid(1) ... utime(11) stime(12) cutime(13) cstime(14)
    return { pid, ppid: Number(f[1]), cpuMs: (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) * TICK_MS };
  } catch {
    return undefined;
  }
}

function allStats(): Stat[] {
  const out: Stat[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const s = readStat(Number(name));
    if (s) out.push(s);
  }
  return out;
}

/**
 * CPU ms of each tree rooted at the given pids. Summing own + reaped-children
 * time over the live members counts every process of the tree once, exited
 * ones included (their time moved into a live ancestor's cutime).
 */
export function treeCpuMs(roots: number[]): Map<number, number> {
  const stats = allStats();
  const children = new Map<number, Stat[]>();
  for (const s of stats) {
    const list = children.get(s.ppid) ?? [];
    list.push(s);
    children.set(s.ppid, list);
  }
  const byPid = new Map(stats.map((s) => [s.pid, s]));
  const result = new Map<number, number>();
  for (const root of roots) {
    let total = 0;
    const stack = byPid.has(root) ? [byPid.get(root)!] : [];
    while (stack.length) {
      const s = stack.pop()!;
      total += s.cpuMs;
      stack.push(...(children.get(s.pid) ?? []));
    }
    result.set(root, total);
  }
  return result;
}

/** Busy and total jiffies of the whole machine (every core), as ms. */
export function machineCpuMs(): { busyMs: number; totalMs: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0];
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const idle = (v[3] ?? 0) + (v[4] ?? 0);
  const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
  return { busyMs: (total - idle) * TICK_MS, totalMs: total * TICK_MS };
}

export interface TrackedProcess {
  name: string;
  pid: number;
  kind: 'hub' | 'baseline' | 'generator' | 'redis' | 'postgres' | 'bench' | 'haproxy';
}

export interface CpuSnapshot {
  at: number;
  perPid: Map<number, number>;
  machine: { busyMs: number; totalMs: number };
  self: number;
}

export function snapshot(procs: TrackedProcess[]): CpuSnapshot {
  const u = process.cpuUsage();
  return {
    at: performance.now(),
    perPid: treeCpuMs(procs.filter((p) => p.kind !== 'bench').map((p) => p.pid)),
    machine: machineCpuMs(),
    self: (u.user + u.system) / 1000,
  };
}

export interface CpuReport {
  /** Per process: CPU ms used in the window and the share of one core (1 = a whole core). */
  processes: Array<{ name: string; kind: TrackedProcess['kind']; cpuMs: number; core: number }>;
  /** Share of all cores busy over the window, anything on the machine included. */
  machineBusy: number;
  /** Share of all cores used by processes outside this benchmark. */
  otherLoad: number;
  wallMs: number;
}

export function cpuBetween(procs: TrackedProcess[], a: CpuSnapshot, b: CpuSnapshot, cores: number): CpuReport {
  const wallMs = b.at - a.at;
  const processes = procs.map((p) => {
    const cpuMs = p.kind === 'bench' ? b.self - a.self : Math.max(0, (b.perPid.get(p.pid) ?? 0) - (a.perPid.get(p.pid) ?? 0));
    return { name: p.name, kind: p.kind, cpuMs: Math.round(cpuMs), core: round(cpuMs / wallMs, 3) };
  });
  const total = b.machine.totalMs - a.machine.totalMs || 1;
  const machineBusy = (b.machine.busyMs - a.machine.busyMs) / total;
  const ours = processes.reduce((s, p) => s + p.cpuMs, 0) / (wallMs * cores);
  return { processes, machineBusy: round(machineBusy, 3), otherLoad: round(Math.max(0, machineBusy - ours), 3), wallMs: Math.round(wallMs) };
}

export const round = (v: number, digits = 1) => {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
};
