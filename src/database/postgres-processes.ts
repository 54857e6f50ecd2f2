import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DbLog } from './log.js';

// Every postmaster we start carries the pid of the Node process that owns it,
// so a later start on the same data dir can tell an orphan (its owner was
// killed) from a server another live process is using.
export const ownerFlag = (pid = process.pid) => `cluster_name=crosswire-owner-${pid}`;
const OWNER = /cluster_name=crosswire-owner-(\d+)/;

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function waitForExit(pid: number, ms: number): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(50)) {
    if (!isAlive(pid)) return true;
  }
  return !isAlive(pid);
}

/** Fast shutdown, then immediate shutdown, then SIGKILL. */
export async function terminatePostmaster(pid: number): Promise<void> {
  for (const [signal, ms] of [
    ['SIGINT', 15_000],
    ['SIGQUIT', 5_000],
    ['SIGKILL', 5_000],
  ] as const) {
    if (!isAlive(pid)) return;
    process.kill(pid, signal);
    if (await waitForExit(pid, ms)) return;
  }
  throw new Error(`postgres (pid ${pid}) did not exit after SIGKILL`);
}

/** Argument list of a live process, or null where /proc cannot tell. */
async function processArgs(pid: number): Promise<string[] | null> {
  const text = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => null);
  return text === null ? null : text.split('\0');
}

/**
 * Postgres itself ignores a postmaster.pid whose process is gone, but not one
 * whose pid was reused, nor one whose postmaster outlived a killed owner.
 */
export async function clearStalePostmaster(dataDir: string, log: DbLog): Promise<void> {
  const pidFile = path.join(dataDir, 'postmaster.pid');
  if (!existsSync('/proc') || !existsSync(pidFile)) return;
  const pid = Number((await readFile(pidFile, 'utf8')).split('\n')[0]);
  const args = Number.isInteger(pid) && pid > 0 ? await processArgs(pid) : null;
  const isOurs = args !== null && args.includes(path.resolve(dataDir));
  if (!isOurs) {
    log('removing stale postmaster.pid', { pid, dataDir });
    await rm(pidFile, { force: true });
    return;
  }
  const owner = Number(OWNER.exec(args.join(' '))?.[1]);
  if (!owner || isAlive(owner)) {
    const by = !owner ? 'not started by Crosswire' : owner === process.pid ? 'started by this process' : `started by live process ${owner}`;
    throw new Error(`${dataDir} is in use by a running postgres (pid ${pid}, ${by}); stop it or use another data directory`);
  }
  log('stopping orphaned postgres left by a killed run', { pid, owner });
  await terminatePostmaster(pid);
}
