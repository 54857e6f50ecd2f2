import { type ChildProcess, spawn } from 'node:child_process';
import { RedisProcess, killAndWait } from '../../support/redis.js';
import { resolve } from 'node:path';
import { afterAll, beforeAll } from '@jest/globals';
import { type ClientSocket, connect, emitAck } from '../../support/client.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';
import { freePort } from '../../support/free-port.js';
import { until } from '../../support/wait.js';

export { RedisProcess, killAndWait, until };

export const CLUSTER_SECRET = 'cluster-test-secret-'.padEnd(48, 'z');
const MAIN = resolve('dist/src/main.js');

/** Timings short enough for tests, long enough for two slow cores. */
export const FAST_ENV = {
  RECONCILE_MS: '1000',
  LEASE_TTL_MS: '4000',
  PRESENCE_GRACE_MS: '500',
  CANARY_INTERVAL_MS: '500',
  DRAIN_NOTICE_MS: '2500', // HAProxy's fall 2 x inter 1s, plus a margin
  DRAIN_MS: '1000',
  LOG_LEVEL: 'info',
  // Tests drive one user and one address hard; the limits' own tests switch them on.
  RATE_LIMITS: 'off',
  // The test harness: the only processes allowed fault switches (FAULTS).
  CROSSWIRE_HARNESS: 'test',
};

export class Replica {
  child!: ChildProcess;
  exited!: Promise<number | null>;
  log = '';
  constructor(
    readonly id: string,
    readonly port: number,
    private readonly env: Record<string, string>,
  ) {}

  get url() {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The JSON log lines this replica wrote with that `msg`, parsed; a line still being written is not one yet. */
  logged<T = Record<string, unknown>>(msg: string): Array<T & { msg: string }> {
    const complete = this.log.split('\n').slice(0, -1);
    return complete.filter((l) => l.includes(`"msg":"${msg}"`)).map((l) => JSON.parse(l) as T & { msg: string });
  }

  /** Starts the built hub and resolves once it listens. */
  start(extraEnv: Record<string, string> = {}): Promise<void> {
    this.log = '';
    this.child = spawn(process.execPath, [MAIN], {
      env: { PATH: process.env.PATH!, ...this.env, ...extraEnv, PORT: String(this.port), REPLICA_ID: this.id },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const child = this.child;
    this.exited = new Promise((r) => child.on('exit', (code, signal) => r(code ?? (signal ? -1 : null))));
    child.stderr!.on('data', (d) => (this.log += d));
    return new Promise((ok, fail) => {
      child.stdout!.on('data', (d) => {
        this.log += d;
        if (this.log.includes('"crosswire listening"')) ok();
      });
      void this.exited.then((code) => fail(new Error(`${this.id} exited ${code} before listening:\n${this.log.slice(-2000)}`)));
    });
  }

  get alive() {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<number | null> {
    if (this.alive) this.child.kill(signal);
    return this.exited;
  }
}

export interface Cluster {
  replicas: Replica[];
  /** What every replica was started with, for starting more like them. */
  env: Record<string, string>;
  redis: RedisProcess;
  db: TestDatabase;
  stop(): Promise<void>;
}

export interface ClusterOptions {
  /**
   * An already migrated database the replicas use instead of a fresh test
   * database (e.g. a Postgres server the test stops and restarts); the caller
   * owns it, so stop() leaves it alone.
   */
  databaseUrl?: string;
}

/** N replicas (separate processes, built code) on one real Redis and one Postgres database. */
export async function startCluster(n = 3, env: Record<string, string> = {}, opts: ClusterOptions = {}): Promise<Cluster> {
  const db: TestDatabase = opts.databaseUrl ? { name: new URL(opts.databaseUrl).pathname.slice(1), url: opts.databaseUrl, drop: async () => undefined } : await createTestDatabase();
  const redis = new RedisProcess(await freePort());
  await redis.start();
  const common = { ...FAST_ENV, DATABASE_URL: db.url, REDIS_URL: redis.url, JWT_SECRET: CLUSTER_SECRET, MIGRATE_ON_START: 'false', ...env };
  const replicas: Replica[] = [];
  for (let i = 1; i <= n; i++) replicas.push(new Replica(`r${i}`, await freePort(), common));
  await Promise.all(replicas.map((r) => r.start()));
  return {
    replicas,
    env: common,
    redis,
    db,
    async stop() {
      await Promise.all(replicas.map((r) => r.kill('SIGKILL')));
      await redis.stop();
      await db.drop();
    },
  };
}

/**
 * One cluster for a whole test file, stopped afterwards together with every
 * socket opened through it.
 */
export function clusterForFile(n = 3, env: Record<string, string> = {}) {
  const sockets: ClientSocket[] = [];
  const ctx = {
    cluster: undefined as unknown as Cluster,
    /** A socket on `url`, subscribed to the channel (the ack is returned too). */
    async subscribed(url: string, token: string, channelId: string) {
      const socket = await connect(url, token);
      sockets.push(socket);
      const ack = await emitAck(socket, 'channel:subscribe', { channelId });
      if (!ack.ok) throw new Error(`subscribe failed: ${JSON.stringify(ack.error)}`);
      return { socket, ack };
    },
  };
  beforeAll(async () => {
    ctx.cluster = await startCluster(n, env);
  });
  afterAll(async () => {
    sockets.forEach((s) => s.close());
    await ctx.cluster?.stop();
  });
  return ctx;
}

/**
 * Publishes through an extra replica that exits right after storing, before
 * any fan-out (fault exit-after-store): the request gets no answer, the
 * process exits 70, and the message is stored but was sent to nobody.
 */
export async function publishThroughDoomedReplica(cluster: Cluster, token: string, channelId: string, body: unknown): Promise<void> {
  const doomed = new Replica('doomed', await freePort(), cluster.env);
  await doomed.start({ FAULTS: 'exit-after-store' });
  const outcome = await fetch(`${doomed.url}/api/channels/${channelId}/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ body }),
  }).then(
    (r) => `answered ${r.status}`,
    (e: Error) => `failed: ${e.message}`,
  );
  if (outcome !== 'failed: fetch failed') throw new Error(`the doomed replica ${outcome}`);
  const code = await doomed.exited;
  if (code !== 70) throw new Error(`the doomed replica exited ${code}, not 70`);
}
