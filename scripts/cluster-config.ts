// Settings of `npm run cluster` and what it gives each replica. Kept apart
// from scripts/cluster.ts (which starts a cluster when run) so tests can import
// it: test/cluster/deploy-config.cluster.ts checks that docker-compose.yml
// gives its hubs the same environment keys.
import path from 'node:path';
import { LB_NOTICE_MS } from './haproxy-config.js';

/**
 * The environment keys the cluster script sets for every replica (on top of
 * the script's own environment, minus JWT_SECRET). docker-compose.yml's hubs
 * get the same set, plus `JWT_SECRET` (${JWT_SECRET:-}): when it is non-empty
 * their command unsets JWT_SECRET_FILE, so the app always sees exactly one.
 */
export const REPLICA_ENV_KEYS = [
  'PORT',
  'HOST',
  'REPLICA_ID',
  'DATABASE_URL',
  'REDIS_URL',
  'JWT_SECRET_FILE',
  'ADMIN_TOKEN_FILE',
  'TRUSTED_PROXIES',
  'MIGRATE_ON_START',
  'DRAIN_NOTICE_MS',
  'DRAIN_MS',
] as const;
export type ReplicaEnv = Record<(typeof REPLICA_ENV_KEYS)[number], string>;

/** The app's DRAIN_MS default (src/config/config.ts). */
export const DEFAULT_DRAIN_MS = 10_000;
/**
 * How long a draining replica waits before disconnecting sockets: HAProxy's
 * fall x inter (deploy/haproxy/haproxy.cfg.tmpl) plus a margin of one check.
 */
export const DEFAULT_DRAIN_NOTICE_MS = LB_NOTICE_MS + 1000;

export function replicaName(index: number): string {
  return `hub${index + 1}`;
}

export function replicaEnv(r: {
  id: string;
  host: string;
  port: number;
  databaseUrl: string;
  redisUrl: string;
  jwtSecretFile: string;
  adminTokenFile: string;
  /** The load balancer's address as the replicas see it. */
  trustedProxies: string;
  drainNoticeMs: number;
  drainMs: number;
}): ReplicaEnv {
  return {
    PORT: String(r.port),
    HOST: r.host,
    REPLICA_ID: r.id,
    DATABASE_URL: r.databaseUrl,
    REDIS_URL: r.redisUrl,
    JWT_SECRET_FILE: r.jwtSecretFile,
    ADMIN_TOKEN_FILE: r.adminTokenFile,
    TRUSTED_PROXIES: r.trustedProxies,
    MIGRATE_ON_START: 'false',
    DRAIN_NOTICE_MS: String(r.drainNoticeMs),
    DRAIN_MS: String(r.drainMs),
  };
}

export interface ClusterSettings {
  /** CLUSTER_DIR (.data/cluster): secret, generated HAProxy config, logs, state.json, embedded Postgres. */
  dir: string;
  /** CLUSTER_REPLICAS (3). */
  replicas: number;
  /** CLUSTER_BASE_PORT (3001): replica i listens on base + i. */
  basePort: number;
  /** Replicas and Redis listen on loopback only. */
  host: string;
  /** LB_PORT (8080). */
  lbPort: number;
  /** LB_HOST (127.0.0.1): HAProxy's bind address; 0.0.0.0 to reach it from elsewhere. */
  lbHost: string;
  /** REDIS_PORT (unset: a free port). */
  redisPort?: number;
  /** DATABASE_URL (unset: embedded Postgres under dir/postgres). */
  databaseUrl?: string;
  /** CLUSTER_PG_PORT (unset: a free port), for the embedded Postgres. */
  pgPort?: number;
  /** DRAIN_NOTICE_MS (LB fall x inter + 1 s = 3000), handed to the replicas. */
  drainNoticeMs: number;
  /** DRAIN_MS (10000), handed to the replicas; on stop the script waits notice + drain + 20 s for each to exit. */
  drainMs: number;
  /** CLUSTER_START_TIMEOUT_MS (90000): longest wait for any step of start-up. */
  startTimeoutMs: number;
}

export class ClusterConfigError extends Error {}

export function clusterSettings(env: Record<string, string | undefined> = process.env): ClusterSettings {
  const problems: string[] = [];
  const int = (key: string, def: number | undefined, min: number, max: number): number | undefined => {
    const raw = env[key]?.trim();
    if (!raw) return def;
    const n = Number(raw);
    if (!/^\d+$/.test(raw) || n < min || n > max) {
      problems.push(`${key}: expected an integer ${min}..${max}, got ${JSON.stringify(raw)}`);
      return def;
    }
    return n;
  };
  const replicas = int('CLUSTER_REPLICAS', 3, 1, 32)!;
  const basePort = int('CLUSTER_BASE_PORT', 3001, 1, 65535)!;
  if (basePort + replicas - 1 > 65535) problems.push('CLUSTER_BASE_PORT: too high for CLUSTER_REPLICAS ports');
  const settings: ClusterSettings = {
    dir: path.resolve(env.CLUSTER_DIR?.trim() || path.join('.data', 'cluster')),
    replicas,
    basePort,
    host: '127.0.0.1',
    lbPort: int('LB_PORT', 8080, 1, 65535)!,
    lbHost: env.LB_HOST?.trim() || '127.0.0.1',
    redisPort: int('REDIS_PORT', undefined, 1, 65535),
    databaseUrl: env.DATABASE_URL?.trim() || undefined,
    pgPort: int('CLUSTER_PG_PORT', undefined, 1, 65535),
    drainNoticeMs: int('DRAIN_NOTICE_MS', DEFAULT_DRAIN_NOTICE_MS, 0, 600_000)!,
    drainMs: int('DRAIN_MS', DEFAULT_DRAIN_MS, 0, 600_000)!,
    startTimeoutMs: int('CLUSTER_START_TIMEOUT_MS', 90_000, 1000, 3_600_000)!,
  };
  if (settings.databaseUrl && !/^postgres(ql)?:\/\//.test(settings.databaseUrl)) {
    problems.push('DATABASE_URL: expected postgresql://…');
  }
  const ports = [
    ...Array.from({ length: replicas }, (_, i) => [`replica ${replicaName(i)}`, basePort + i] as const),
    ['LB_PORT', settings.lbPort] as const,
    ...(settings.redisPort ? [['REDIS_PORT', settings.redisPort] as const] : []),
    ...(settings.pgPort ? [['CLUSTER_PG_PORT', settings.pgPort] as const] : []),
  ];
  const seen = new Map<number, string>();
  for (const [what, port] of ports) {
    if (seen.has(port)) problems.push(`${what} and ${seen.get(port)} both use port ${port}`);
    seen.set(port, what);
  }
  if (problems.length) throw new ClusterConfigError(`npm run cluster: bad configuration:\n  - ${problems.join('\n  - ')}`);
  return settings;
}

/** Written to <dir>/state.json once every replica is ready behind the LB; removed on stop. */
export interface ClusterState {
  lb: { url: string };
  replicas: Array<{ id: string; url: string; pid: number }>;
  redis: { url: string; pid: number };
  postgres: { url: string };
}

export const clusterFiles = (dir: string) => ({
  state: path.join(dir, 'state.json'),
  /** Every child's pid while it runs (HAProxy's too, which state.json has no place for). */
  pids: path.join(dir, 'pids.json'),
  secret: path.join(dir, 'jwt-secret'),
  /** The operators' token for /cluster and /api/cluster. */
  adminToken: path.join(dir, 'admin-token'),
  haproxyConfig: path.join(dir, 'haproxy.cfg'),
  haproxySocket: path.join(dir, 'haproxy.sock'),
  logs: path.join(dir, 'logs'),
  postgres: path.join(dir, 'postgres'),
  redis: path.join(dir, 'redis'),
});
