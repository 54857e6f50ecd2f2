// Everything a run needs, as real processes: embedded Postgres (its own
// helper process), redis-server, hub replicas and baseline servers (each
// reaching Redis through a byte-counting proxy of its own), and the load
// generators. Every child is detached into its own process group, listed in a
// pids file (a killed run's leftovers are stopped at the next start), and
// stopped by stop(), which run.ts calls on success, error and signals alike.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Child, startChild, stopChild, stopLeftovers, tailLog, writePids } from '../scripts/cluster-children.js';
import { replicaEnv } from '../scripts/cluster-config.js';
import { ensureJwtSecret } from '../scripts/cluster-secret.js';
import { freePort } from '../scripts/free-port.js';
import { redisPing } from '../scripts/redis-ping.js';
import { migrate } from '../src/database/migrator.js';
import { type BaselineVariant, DEFAULT_BASELINE_VARIANT } from './baseline/options.js';
import { GeneratorPool } from './generators/pool.js';
import type { TrackedProcess } from './procs.js';
import { CountingProxy } from './proxy.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const HUB_MAIN = path.join(here, '..', 'src', 'main.js');
const BASELINE_MAIN = path.join(here, 'baseline', 'server.js');
const POSTGRES_HELPER = path.join(here, '..', 'scripts', 'cluster-postgres.js');

export type Side = 'hub' | 'baseline';

/** Hub settings the bench sets (beyond topology): stated in the report. */
export const HUB_BENCH_ENV: Record<string, string> = {
  // Default level; every replica logs to its own file in the run directory.
  LOG_LEVEL: 'info',
  // Every bench client comes from 127.0.0.1, and a handful of users drive thousands of requests a
  // second: these limits are raised (BENCH_LIMITS_RAISED), yet still checked on every call, so their cost is measured.
  RATE_REST_PER_USER: '100000000/10s',
  RATE_PUBLISH_PER_USER: '100000000/10s',
  RATE_CONNECT_PER_IP: '100000000/1m',
  RATE_CONNECT_PER_USER: '100000000/1m',
  RATE_AUTH_PER_IP: '100000000/1m',
};

/** What the report says about HUB_BENCH_ENV's limits. */
export const BENCH_LIMITS_RAISED = [
  'REST calls, publishes and connections per user, connections and sign-ins per address: to 10^8 per window (all clients share one address and a few users); each is still counted in Redis on every call',
];

export interface Server {
  side: Side;
  name: string;
  index: number;
  port: number;
  url: string;
  child: Child;
  /** Between this server and Redis: `down` = bytes Redis sent it. */
  redisProxy: CountingProxy;
  inspectPort: number;
  /** Baseline servers: which of socket.io's scale options it runs (bench/baseline/options.ts). */
  variant?: BaselineVariant;
}

export class Topology {
  readonly dir: string;
  readonly logs: string;
  private readonly pidsFile: string;
  private readonly children: Child[] = [];
  readonly servers: Record<Side, Array<Server | undefined>> = { hub: [], baseline: [] };
  redisPort = 0;
  redisChild?: Child;
  pgChild?: Child;
  databaseUrl = '';
  secretFile = '';
  readonly generators: GeneratorPool;
  private stopped?: Promise<void>;

  constructor(
    private readonly say: (msg: string) => void,
    stateDir: string,
  ) {
    this.dir = mkdtempSync(path.join(os.tmpdir(), 'crosswire-bench-'));
    chmodSync(this.dir, 0o755); // the postgres OS user must enter it
    this.logs = path.join(this.dir, 'logs');
    mkdirSync(this.logs, { recursive: true });
    mkdirSync(stateDir, { recursive: true });
    this.pidsFile = path.join(stateDir, 'pids.json');
    this.generators = new GeneratorPool(this.logs, (c) => this.track(c));
  }

  private track(child: Child): Child {
    this.children.push(child);
    writePids(this.pidsFile, this.children);
    void child.exited.then(() => !this.stopped && writePids(this.pidsFile, this.children));
    return child;
  }

  private async waitFor(what: string, child: Child | undefined, check: () => Promise<boolean>, ms = 90_000): Promise<void> {
    const deadline = Date.now() + ms;
    for (;;) {
      if (this.stopped) throw new Error('stopping');
      if (child?.exit) throw new Error(`${child.name} exited while waiting for ${what}; log ${child.logFile}:\n${tailLog(child.logFile)}`);
      if (await check().catch(() => false)) return;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Postgres, migrations, Redis, the secret and the generator processes. */
  async start(generators: number): Promise<void> {
    if (spawnSync('redis-server', ['--version']).error) throw new Error('redis-server is needed on PATH (Debian: apt-get install redis-server)');
    await stopLeftovers(this.pidsFile, 5000, this.say);
    this.secretFile = path.join(this.dir, 'jwt-secret');
    ensureJwtSecret(this.secretFile);

    this.redisPort = await freePort();
    this.redisChild = this.track(
      startChild({
        name: 'redis',
        role: 'redis',
        command: 'redis-server',
        args: ['--port', String(this.redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', this.dir],
        env: process.env,
        logDir: this.logs,
      }),
    );
    const pgPort = await freePort();
    const pg = (this.pgChild = this.track(
      startChild({
        name: 'postgres',
        role: 'postgres',
        command: process.execPath,
        args: [POSTGRES_HELPER, path.join(this.dir, 'postgres'), String(pgPort)],
        env: process.env,
        logDir: this.logs,
        ipc: true,
      }),
    ));
    let reported: { ready: boolean; url?: string; error?: string } | undefined;
    pg.proc.on('message', (m) => (reported = m as typeof reported));
    await this.waitFor('the embedded Postgres', pg, async () => {
      if (reported && !reported.ready) throw new Error(reported.error);
      return reported?.ready === true;
    });
    this.databaseUrl = reported!.url!;
    await migrate(this.databaseUrl);
    await this.waitFor('Redis', this.redisChild, () => redisPing(this.redisPort));
    this.generators.start(generators);
  }

  /** Exactly `n` servers of that side running (the others stopped), each ready; baseline servers of `variant` (another variant's are replaced). */
  async ensure(side: Side, n: number, nodeArgs: string[] = [], variant: BaselineVariant = DEFAULT_BASELINE_VARIANT): Promise<Server[]> {
    const slots = this.servers[side];
    await Promise.all(slots.map((s, i) => (s && (i >= n || (side === 'baseline' && s.variant !== variant)) ? this.stopServer(side, i) : Promise.resolve())));
    const started: Promise<Server>[] = [];
    for (let i = 0; i < n; i++) if (!slots[i]) started.push(this.startServer(side, i, nodeArgs, {}, HUB_MAIN, variant));
    await Promise.all(started);
    return slots.slice(0, n) as Server[];
  }

  /**
   * `hubEnv` overrides HUB_BENCH_ENV for this replica (undefined: unset, so the hub's default applies).
   * `hubMain`: another build's dist/src/main.js, for a before/after on the same database and Redis.
   */
  async startServer(
    side: Side,
    index: number,
    nodeArgs: string[] = [],
    hubEnv: Record<string, string | undefined> = {},
    hubMain = HUB_MAIN,
    variant: BaselineVariant = DEFAULT_BASELINE_VARIANT,
  ): Promise<Server> {
    const name = `${side}${index + 1}`;
    const port = await freePort();
    const redisProxy = await new CountingProxy(`${name}-redis`, this.redisPort).start();
    const inspectPort = await freePort();
    const redisUrl = `redis://127.0.0.1:${redisProxy.port}`;
    const env: NodeJS.ProcessEnv =
      side === 'hub'
        ? {
            ...process.env,
            ...HUB_BENCH_ENV,
            // The bench never opens the cluster view: its admin token may be the run's secret.
            ...replicaEnv({
              id: name,
              host: '127.0.0.1',
              port,
              databaseUrl: this.databaseUrl,
              redisUrl,
              jwtSecretFile: this.secretFile,
              adminTokenFile: this.secretFile,
              trustedProxies: 'loopback',
              drainNoticeMs: 0,
              drainMs: 0,
            }),
          }
        : { ...process.env, PORT: String(port), REDIS_URL: redisUrl, BASELINE_ID: name, BASELINE_VARIANT: variant };
    delete env.JWT_SECRET;
    for (const [k, v] of Object.entries(side === 'hub' ? hubEnv : {})) {
      if (v === undefined) delete env[k];
      else env[k] = v;
    }
    const child = this.track(
      startChild({
        name,
        role: side === 'hub' ? 'replica' : 'baseline',
        command: process.execPath,
        // The inspector port is only where SIGUSR1 opens it (bench/memory.ts), never opened before.
        args: [`--inspect-port=127.0.0.1:${inspectPort}`, ...nodeArgs, side === 'hub' ? hubMain : BASELINE_MAIN],
        env,
        logDir: this.logs,
      }),
    );
    const url = `http://127.0.0.1:${port}`;
    await this.waitFor(`${name} to answer /readyz 200`, child, async () => (await fetch(`${url}/readyz`)).status === 200);
    const server: Server = { side, name, index, port, url, child, redisProxy, inspectPort, ...(side === 'baseline' ? { variant } : {}) };
    this.servers[side][index] = server;
    return server;
  }

  /** SIGINT: the hub closes without draining; the group is SIGKILLed after 10 s. */
  async stopServer(side: Side, index: number, signal: NodeJS.Signals = 'SIGINT'): Promise<void> {
    const s = this.servers[side][index];
    if (!s) return;
    this.servers[side][index] = undefined;
    await stopChild(s.child, 10_000, signal);
    await s.redisProxy.stop();
  }

  /** The reconnect storm's fault: SIGKILL, no warning. */
  async killServer(side: Side, index: number): Promise<void> {
    const s = this.servers[side][index];
    if (!s) return;
    s.child.proc.kill('SIGKILL');
    await s.child.exited;
    this.servers[side][index] = undefined;
    await s.redisProxy.stop();
  }

  /** A child a scenario starts itself (HAProxy in front of the servers): in the pids file, stopped with the rest. */
  adopt(child: Child): Child {
    return this.track(child);
  }

  running(side: Side): Server[] {
    return this.servers[side].filter((s): s is Server => !!s);
  }

  tracked(): TrackedProcess[] {
    const out: TrackedProcess[] = [];
    for (const side of ['hub', 'baseline'] as const) for (const s of this.running(side)) out.push({ name: s.name, pid: s.child.pid, kind: side });
    if (this.redisChild) out.push({ name: 'redis', pid: this.redisChild.pid, kind: 'redis' });
    if (this.pgChild) out.push({ name: 'postgres', pid: this.pgChild.pid, kind: 'postgres' });
    out.push(...this.generators.tracked(), { name: 'orchestrator', pid: process.pid, kind: 'bench' });
    return out;
  }

  /** Stops everything, servers first, Postgres last; safe to call more than once. */
  stop(keepDir = false): Promise<void> {
    this.stopped ??= (async () => {
      const byRole = (roles: Child['role'][]) => this.children.filter((c) => roles.includes(c.role));
      await Promise.all(byRole(['generator', 'replica', 'baseline', 'haproxy']).map((c) => stopChild(c, 5000, 'SIGINT')));
      for (const side of ['hub', 'baseline'] as const) for (const s of this.running(side)) await s.redisProxy.stop();
      await Promise.all(byRole(['redis']).map((c) => stopChild(c, 5000)));
      await Promise.all(byRole(['postgres']).map((c) => stopChild(c, 20_000)));
      writePids(this.pidsFile, []);
      if (!keepDir) rmSync(this.dir, { recursive: true, force: true });
    })();
    return this.stopped;
  }
}
