// The secrets every replica shares (the JWT secret, the admin token),
// generated once and kept: by `npm run cluster` (under its data dir) and by
// docker-compose.yml's `secret` one-shot (into a named volume), so both
// topologies make them the same way.
//
//   node dist/scripts/cluster-secret.js FILE [FILE…] [--owner UID:GID]
import { randomBytes } from 'node:crypto';
import { chownSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { isEntry } from './entry.js';

/** The app refuses a shorter secret (src/auth/secret.ts). */
export const MIN_SECRET_LENGTH = 32;

/**
 * Returns whether a new secret was written. An existing file with a usable
 * secret is kept; an unusable one (too short) is an error, never overwritten,
 * since tokens signed with it may be in use.
 */
export function ensureJwtSecret(file: string, owner?: { uid: number; gid: number }): { created: boolean } {
  let existing: string | undefined;
  try {
    existing = readFileSync(file, 'utf8').trim();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  if (existing !== undefined) {
    if (existing.length < MIN_SECRET_LENGTH) {
      throw new Error(`${file}: holds a secret shorter than ${MIN_SECRET_LENGTH} characters; remove it to have a new one made`);
    }
    return { created: false };
  }
  mkdirSync(path.dirname(file), { recursive: true });
  // 'wx': two starts racing cannot both write; mode 0600, readable by its owner only.
  writeFileSync(file, randomBytes(48).toString('base64url') + '\n', { mode: 0o600, flag: 'wx' });
  if (owner) chownSync(file, owner.uid, owner.gid);
  return { created: true };
}

function cli(args: string[]): number {
  const ownerArg = args.includes('--owner') ? args[args.indexOf('--owner') + 1] : undefined;
  const files = args.filter((a, i) => !a.startsWith('--') && args[i - 1] !== '--owner');
  const owner = ownerArg?.match(/^(\d+):(\d+)$/);
  if (files.length === 0 || (ownerArg !== undefined && !owner)) {
    console.error('usage: cluster-secret.js FILE [FILE…] [--owner UID:GID]');
    return 2;
  }
  try {
    for (const file of files) {
      const { created } = ensureJwtSecret(file, owner ? { uid: Number(owner[1]), gid: Number(owner[2]) } : undefined);
      console.log(created ? `secret: generated ${file}` : `secret: kept ${file}`);
    }
    return 0;
  } catch (e) {
    console.error(`secret: ${(e as Error).message}`);
    return 1;
  }
}

if (isEntry(import.meta.url)) {
  process.exitCode = cli(process.argv.slice(2));
}
