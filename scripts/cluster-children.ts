// Child processes of `npm run cluster`: each detached (its own process group,
// so a Ctrl-C at the terminal reaches only the script, which then stops them
// in order), its stdout and stderr written to <dir>/logs/<name>.log.
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { isAlive } from '../src/database/postgres-processes.js';

export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  error?: Error;
}

export interface Child {
  name: string;
  role: 'postgres' | 'migrate' | 'redis' | 'replica' | 'haproxy' | 'baseline' | 'generator';
  argv: string[];
  pid: number;
  /** Its start time in /proc/<pid>/stat, to tell it from a later process with the same pid. */
  startTime?: string;
  proc: ChildProcess;
  logFile: string;
  exited: Promise<ChildExit>;
  /** Set once it has exited. */
  exit?: ChildExit;
  /** Set when the script stops it: its exit is then expected. */
  stopping: boolean;
}

export function startChild(opts: { name: string; role: Child['role']; command: string; args: string[]; env: NodeJS.ProcessEnv; logDir: string; ipc?: boolean }): Child {
  const logFile = path.join(opts.logDir, `${opts.name}.log`);
  const fd = openSync(logFile, 'w');
  let proc: ChildProcess;
  try {
    proc = spawn(opts.command, opts.args, {
      env: opts.env,
      detached: true,
      stdio: ['ignore', fd, fd, ...(opts.ipc ? (['ipc'] as const) : [])],
    });
  } finally {
    closeSync(fd);
  }
  const exited = new Promise<ChildExit>((resolve) => {
    proc.once('error', (error) => resolve({ code: null, signal: null, error }));
    proc.once('exit', (code, signal) => resolve({ code, signal }));
  });
  const child: Child = {
    name: opts.name,
    role: opts.role,
    argv: [opts.command, ...opts.args],
    pid: proc.pid ?? -1,
    startTime: proc.pid ? processStartTime(proc.pid) : undefined,
    proc,
    logFile,
    exited,
    stopping: false,
  };
  void exited.then((e) => (child.exit = e));
  return child;
}

export function describeExit(e: ChildExit): string {
  if (e.error) return `could not run: ${e.error.message}`;
  return e.signal ? `killed by ${e.signal}` : `exited with code ${e.code}`;
}

/** The last lines of a child's log, for messages about its exit. */
export function tailLog(file: string, lines = 12): string {
  try {
    const text = readFileSync(file, 'utf8').trimEnd();
    return text.split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/**
 * Sends `signal` and waits up to `timeoutMs` for the exit, then SIGKILLs the
 * child's whole process group (Postgres under its helper, say).
 */
export async function stopChild(child: Child, timeoutMs: number, signal: NodeJS.Signals = 'SIGTERM'): Promise<ChildExit> {
  child.stopping = true;
  if (child.exit || child.pid < 0) return child.exited;
  try {
    process.kill(child.pid, signal);
  } catch {
    /* already gone */
  }
  let timer: NodeJS.Timeout | undefined;
  const timedOut = await Promise.race([child.exited.then(() => false), new Promise<boolean>((r) => (timer = setTimeout(() => r(true), timeoutMs)))]);
  clearTimeout(timer);
  if (timedOut) killGroup(child.pid);
  const exit = await child.exited;
  // Anything it left in its group (it exited, its children may not have).
  killGroup(child.pid);
  return exit;
}

function killGroup(pgid: number): void {
  try {
    process.kill(-pgid, 'SIGKILL');
  } catch {
    /* no such group */
  }
}

/** The pids file: what runs now, so a later start can stop what a crashed run left behind. */
export interface PidRecord {
  name: string;
  pid: number;
  argv: string[];
  startTime?: string;
}

/** Field 22 of /proc/<pid>/stat (clock ticks after boot): the same for a process's whole life, exec included. */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may hold spaces.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

export function writePids(file: string, children: Child[]): void {
  const records: PidRecord[] = children.filter((c) => !c.exit && c.pid > 0).map((c) => ({ name: c.name, pid: c.pid, argv: c.argv, startTime: c.startTime }));
  writeJsonAtomic(file, { children: records });
}

export function writeJsonAtomic(file: string, value: unknown): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(value, null, 2) + '\n');
  renameSync(tmp, file);
}

/** Whether the recorded process still runs (same pid and start time: not a reused pid). */
function stillRunning(record: PidRecord): boolean {
  return record.startTime !== undefined && isAlive(record.pid) && processStartTime(record.pid) === record.startTime;
}

/**
 * Stops the children a previous run left running (the script was SIGKILLed,
 * say): SIGTERM, then SIGKILL of their groups after `timeoutMs`.
 */
export async function stopLeftovers(file: string, timeoutMs: number, say: (msg: string) => void): Promise<void> {
  if (!existsSync(file)) return;
  let records: PidRecord[];
  try {
    records = (JSON.parse(readFileSync(file, 'utf8')) as { children: PidRecord[] }).children ?? [];
  } catch {
    return;
  }
  const live = records.filter(stillRunning);
  if (live.length === 0) return;
  say(`stopping what a previous run left running: ${live.map((r) => `${r.name} (pid ${r.pid})`).join(', ')}`);
  for (const r of live) {
    try {
      process.kill(r.pid, 'SIGTERM');
    } catch {
      /* gone */
    }
  }
  const deadline = Date.now() + timeoutMs;
  while (live.some((r) => isAlive(r.pid)) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
  }
  for (const r of live.filter((x) => isAlive(x.pid))) killGroup(r.pid);
}
