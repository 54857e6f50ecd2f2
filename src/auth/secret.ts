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
  if (config.JWT_SECRET_FILE) {
    let secret: string;
    try {
      secret = readFileSync(config.JWT_SECRET_FILE, 'utf8').trim();
    } catch (e) {
      throw new ConfigError([`JWT_SECRET_FILE: cannot read ${config.JWT_SECRET_FILE} (${(e as Error).message})`]);
    }
    if (secret.length < 32) throw new ConfigError(['JWT_SECRET_FILE: the secret must be at least 32 characters']);
    return secret;
  }
  if (config.REDIS_URL) {
    throw new ConfigError(['JWT_SECRET: required when REDIS_URL is set (every replica must share it); or set JWT_SECRET_FILE']);
  }
  const file = join(config.DATA_DIR, 'jwt-secret');
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    mkdirSync(config.DATA_DIR, { recursive: true });
    const secret = randomBytes(48).toString('base64url');
    writeFileSync(file, secret + '\n', { mode: 0o600 });
    warn(`JWT_SECRET unset: generated a development secret in ${file}; set JWT_SECRET in production`);
    return secret;
  }
}
