import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AppConfig } from '../config/config.js';
import { ConfigError } from '../config/config.js';

/**
 * Every replica must verify every token, so a cluster needs one shared secret;
 * a lone dev hub may make its own and keep it under DATA_DIR across restarts.
 */
export function resolveJwtSecret(config: AppConfig, warn: (msg: string) => void): string {
  if (config.JWT_SECRET) return config.JWT_SECRET;
  if (config.JWT_SECRET_FILE) return secretFile('JWT_SECRET_FILE', config.JWT_SECRET_FILE);
  if (config.REDIS_URL) {
    throw new ConfigError(['JWT_SECRET: required when REDIS_URL is set (every replica must share it); or set JWT_SECRET_FILE']);
  }
  return devSecret(config.DATA_DIR, 'jwt-secret', (file) => warn(`JWT_SECRET unset: generated a development secret in ${file}; set JWT_SECRET in production`));
}

/**
 * The operators' token for /api/cluster and the cluster view. A cluster must
 * configure it (undefined: the view is off); a lone dev hub makes its own.
 */
export function resolveAdminToken(config: AppConfig, warn: (msg: string) => void): string | undefined {
  if (config.ADMIN_TOKEN) return config.ADMIN_TOKEN;
  if (config.ADMIN_TOKEN_FILE) return secretFile('ADMIN_TOKEN_FILE', config.ADMIN_TOKEN_FILE);
  if (config.REDIS_URL) return undefined;
  return devSecret(config.DATA_DIR, 'admin-token', (file) => warn(`ADMIN_TOKEN unset: generated a development admin token in ${file} (for /cluster)`));
}

/** A secret from a file (a mounted secret): at least 32 characters, trimmed. */
function secretFile(key: string, file: string): string {
  let secret: string;
  try {
    secret = readFileSync(file, 'utf8').trim();
  } catch (e) {
    throw new ConfigError([`${key}: cannot read ${file} (${(e as Error).message})`]);
  }
  if (secret.length < 32) throw new ConfigError([`${key}: the secret must be at least 32 characters`]);
  return secret;
}

/** A secret kept under DATA_DIR across restarts, made (mode 0600) the first time. */
function devSecret(dir: string, name: string, onCreated: (file: string) => void): string {
  const file = join(dir, name);
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    mkdirSync(dir, { recursive: true });
    const secret = randomBytes(48).toString('base64url');
    writeFileSync(file, secret + '\n', { mode: 0o600 });
    onCreated(file);
    return secret;
  }
}
