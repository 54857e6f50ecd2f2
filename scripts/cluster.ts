// `npm run cluster`: the whole topology on one machine, without Docker.
//
//   Redis (redis-server from PATH), one Postgres (embedded unless DATABASE_URL),
//   the migration step once, CLUSTER_REPLICAS replicas (hub1..hubN on
//   CLUSTER_BASE_PORT + i), HAProxy (from PATH) on LB_PORT with the config
//   rendered from deploy/haproxy/haproxy.cfg.tmpl.
//
// Once every replica answers /readyz 200, directly and behind the LB, it
// prints the LB URL and writes <CLUSTER_DIR>/state.json. Ctrl-C (SIGINT) or
// SIGTERM stops the replicas first (SIGTERM: they drain), then HAProxy, Redis
// and Postgres, and exits 0. A child that dies on its own is reported, not
// restarted (the fault tests kill replicas on purpose). Each child's output
// goes to <CLUSTER_DIR>/logs/<name>.log; the console gets the script's own
// lines. Environment: scripts/cluster-config.ts.
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Child, describeExit, startChild, stopChild, stopLeftovers, tailLog, writeJsonAtomic, writePids } from './cluster-children.js';
import { ClusterConfigError, type ClusterSettings, type ClusterState, clusterFiles, clusterSettings, replicaEnv, replicaName } from './cluster-config.js';
import { ensureJwtSecret } from './cluster-secret.js';
import { freePort } from './free-port.js';
import { redisPing } from './redis-ping.js';
import { renderHaproxyConfig } from './haproxy-config.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const MAIN = path.join(here, '..', 'src', 'main.js');
const MIGRATE = path.join(here, 'migrate.js');
const POSTGRES_HELPER = path.join(here, 'cluster-postgres.js');

const say = (msg: string) => console.log(`[cluster] ${msg}`);
const warn = (msg: string) => console.error(`[cluster] ${msg}`);

let settings: ClusterSettings;
try {
  settings = clusterSettings();
} catch (e) {
  if (e instanceof ClusterConfigError) {
    console.error(e.message);
    process.exit(2);
  }
  throw e;
}
const cfg = settings;
const files = clusterFiles(cfg.dir);
const rel = (p: string) => {
  const r = path.relative(process.cwd(), p);
  return r.startsWith('..') ? p : r || '.';
};

const children: Child[] = [];
let phase: 'starting' | 'running' | 'stopping' = 'starting';
const abort = new AbortController();
class Aborted extends Error {}

process.on('SIGINT', () => void shutdown('SIGINT', 0));
process.on('SIGTERM', () => void shutdown('SIGTERM', 0));
process.on('SIGHUP', () => void shutdown('SIGHUP', 0));

function spawnTracked(opts: Parameters<typeof startChild>[0]): Child {
  if (phase === 'stopping') throw new Aborted();
  const child = startChild(opts);
  children.push(child);
  writePids(files.pids, children);
  void child.exited.then((exit) => {
    if (phase !== 'stopping') writePids(files.pids, children);
    // While starting, waitFor reports it (and start-up fails); once stopping, it is expected.
    if (child.stopping || phase !== 'running') return;
    const tail = tailLog(child.logFile);
    warn(`${child.name} (pid ${child.pid}) ${describeExit(exit)}, unexpectedly; not restarting it. Log: ${rel(child.logFile)}`);
    if (tail) warn(`last lines of ${child.name}:\n${tail.replace(/^/gm, `  ${child.name} | `)}`);
  });
  return child;
}

/**
 * Polls `check` until true; fails at the deadline, on shutdown, or when any
 * child but the migration step has exited (during start-up every one must live).
 */
async function waitFor(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + cfg.startTimeoutMs;
  for (;;) {
    if (abort.signal.aborted) throw new Aborted();
    const dead = children.find((c) => c.exit && c.role !== 'migrate');
    if (dead) {
      const hint =
        dead.exit!.error && (dead.role === 'redis' || dead.role === 'haproxy') ? ` (is ${dead.argv[0]} installed? Debian: apt-get install ${dead.role === 'redis' ? 'redis-server' : 'haproxy'})` : '';
      const tail = tailLog(dead.logFile);
      throw new Error(
        `${dead.name} (pid ${dead.pid}) ${describeExit(dead.exit!)}${hint} while waiting for ${what}. ` + `Log: ${rel(dead.logFile)}${tail ? `\n${tail.replace(/^/gm, `  ${dead.name} | `)}` : ''}`,
      );
    }
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${cfg.startTimeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

/** One GET on a connection of its own (so HAProxy balances each one). */
function httpGet(url: string, timeoutMs = 2000): Promise<{ status: number; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

/** HAProxy's view of the servers of one backend, from its runtime API (`show stat`). */
function haproxyServerStates(socketPath: string, backend: string): Promise<Map<string, { status: string; check: string }>> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(socketPath);
    let text = '';
    socket.setTimeout(2000, () => socket.destroy(new Error('timeout')));
    socket.on('connect', () => socket.write('show stat\n'));
    socket.on('data', (d) => (text += d.toString()));
    socket.on('error', reject);
    socket.on('close', () => {
      const [header, ...rows] = text.trim().split('\n');
      const cols = (header ?? '').replace(/^# /, '').split(',');
      const at = (name: string) => cols.indexOf(name);
      const states = new Map<string, { status: string; check: string }>();
      for (const row of rows) {
        const f = row.split(',');
        if (f[at('pxname')] !== backend || ['FRONTEND', 'BACKEND'].includes(f[at('svname')])) continue;
        states.set(f[at('svname')], { status: f[at('status')] ?? '', check: f[at('check_status')] ?? '' });
      }
      resolve(states);
    });
  });
}

function assertPortFree(port: number, host: string, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', (e: NodeJS.ErrnoException) => reject(new Error(`port ${port} on ${host} (${what}) is not free: ${e.code ?? e.message}`)));
    server.listen(port, host, () => server.close(() => resolve()));
  });
}

/** Runs a quick command of a tool from PATH; a missing tool or a failure stops start-up with a hint. */
function requireTool(command: string, args: string[], debianPackage: string): void {
  const res = spawnSync(command, args, { stdio: 'pipe', timeout: 10_000 });
  if (res.error) {
    throw new Error(`${command} is needed on PATH (${(res.error as NodeJS.ErrnoException).code ?? res.error.message}); Debian: apt-get install ${debianPackage}`);
  }
  if (res.status !== 0) throw new Error(`${command} ${args.join(' ')} failed:\n${res.stderr.toString()}${res.stdout.toString()}`);
}

function maskPassword(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
}

async function start(): Promise<void> {
  mkdirSync(cfg.dir, { recursive: true, mode: 0o755 });
  mkdirSync(files.logs, { recursive: true });
  mkdirSync(files.redis, { recursive: true });
  rmSync(files.state, { force: true });
  await stopLeftovers(files.pids, cfg.drainNoticeMs + cfg.drainMs + 5000, say);

  const replicaPorts = Array.from({ length: cfg.replicas }, (_, i) => cfg.basePort + i);
  await Promise.all([
    ...replicaPorts.map((p, i) => assertPortFree(p, cfg.host, `replica ${replicaName(i)}; set CLUSTER_BASE_PORT`)),
    assertPortFree(cfg.lbPort, cfg.lbHost, 'HAProxy; set LB_PORT'),
    ...(cfg.redisPort ? [assertPortFree(cfg.redisPort, '127.0.0.1', 'Redis; set REDIS_PORT')] : []),
    ...(cfg.pgPort && !cfg.databaseUrl ? [assertPortFree(cfg.pgPort, '127.0.0.1', 'Postgres; set CLUSTER_PG_PORT')] : []),
  ]);

  // HAProxy's config depends on the settings only: render and check it (and that
  // haproxy and redis-server are installed) before anything is started.
  const lbUrl = `http://${['0.0.0.0', '::', ''].includes(cfg.lbHost) ? '127.0.0.1' : cfg.lbHost}:${cfg.lbPort}`;
  writeFileSync(
    files.haproxyConfig,
    renderHaproxyConfig({
      bindPort: cfg.lbPort,
      bindAddress: cfg.lbHost,
      servers: replicaPorts.map((port, i) => ({ name: replicaName(i), host: cfg.host, port })),
      statsSocket: files.haproxySocket,
      renderedBy: 'npm run cluster',
    }),
  );
  requireTool('redis-server', ['--version'], 'redis-server');
  requireTool('haproxy', ['-c', '-q', '-f', files.haproxyConfig], 'haproxy');

  const { created } = ensureJwtSecret(files.secret);
  say(`${created ? 'generated' : 'reusing'} the replicas' JWT secret: ${rel(files.secret)}`);
  const admin = ensureJwtSecret(files.adminToken);
  say(`${admin.created ? 'generated' : 'reusing'} the admin token for /cluster: ${rel(files.adminToken)}`);

  // Redis: a bus, nothing durable in it.
  const redisPort = cfg.redisPort ?? (await freePort());
  const redisUrl = `redis://127.0.0.1:${redisPort}`;
  const redis = spawnTracked({
    name: 'redis',
    role: 'redis',
    command: 'redis-server',
    args: ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', files.redis],
    env: process.env,
    logDir: files.logs,
  });
  await waitFor('Redis to answer PING', () => redisPing(redisPort));
  say(`redis ${redisUrl} (pid ${redis.pid})`);

  let databaseUrl = cfg.databaseUrl;
  if (databaseUrl) {
    say(`postgres: DATABASE_URL ${maskPassword(databaseUrl)}`);
  } else {
    const pgPort = cfg.pgPort ?? (await freePort());
    const pg = spawnTracked({
      name: 'postgres',
      role: 'postgres',
      command: process.execPath,
      args: [POSTGRES_HELPER, files.postgres, String(pgPort)],
      env: process.env,
      logDir: files.logs,
      ipc: true,
    });
    let reported: { ready: boolean; url?: string; error?: string } | undefined;
    pg.proc.on('message', (m) => (reported = m as typeof reported));
    await waitFor('the embedded Postgres', async () => {
      if (reported && !reported.ready) throw new Error(reported.error);
      return reported?.ready === true;
    });
    databaseUrl = reported!.url!;
    say(`postgres (embedded, ${rel(files.postgres)}) ${maskPassword(databaseUrl)} (pid ${pg.pid})`);
  }

  // Migrations once; the replicas start with MIGRATE_ON_START=false.
  const migrate = spawnTracked({
    name: 'migrate',
    role: 'migrate',
    command: process.execPath,
    args: [MIGRATE],
    env: { ...process.env, DATABASE_URL: databaseUrl },
    logDir: files.logs,
  });
  await waitFor('the migrations', async () => migrate.exit !== undefined);
  const migrated = migrate.exit!;
  if (migrated.code !== 0) {
    throw new Error(`migrate ${describeExit(migrated)}:\n${tailLog(migrate.logFile)}`);
  }
  say(`migrations: ${tailLog(migrate.logFile, 1).replace(/^migrate: /, '')}`);

  const inherited = { ...process.env };
  delete inherited.JWT_SECRET; // the app refuses JWT_SECRET and JWT_SECRET_FILE together
  const replicas = replicaPorts.map((port, i) => {
    const id = replicaName(i);
    const env = replicaEnv({
      id,
      host: cfg.host,
      port,
      databaseUrl,
      redisUrl,
      jwtSecretFile: files.secret,
      adminTokenFile: files.adminToken,
      trustedProxies: 'loopback',
      drainNoticeMs: cfg.drainNoticeMs,
      drainMs: cfg.drainMs,
    });
    const child = spawnTracked({ name: id, role: 'replica', command: process.execPath, args: [MAIN], env: { ...inherited, ...env }, logDir: files.logs });
    return { id, url: `http://${cfg.host}:${port}`, child };
  });
  say(`started ${replicas.map((r) => `${r.id} ${r.url} (pid ${r.child.pid})`).join(', ')}`);
  await Promise.all(replicas.map((r) => waitFor(`${r.id} to answer /readyz 200`, async () => (await httpGet(`${r.url}/readyz`)).status === 200)));

  rmSync(files.haproxySocket, { force: true });
  const haproxy = spawnTracked({
    name: 'haproxy',
    role: 'haproxy',
    command: 'haproxy',
    args: ['-db', '-f', files.haproxyConfig],
    env: process.env,
    logDir: files.logs,
  });
  await waitFor('HAProxy to see every replica ready', async () => {
    const states = await haproxyServerStates(files.haproxySocket, 'ready');
    return replicas.every((r) => states.get(r.id)?.status.startsWith('UP') && states.get(r.id)?.check === 'L7OK');
  });
  const seen = new Set<string>();
  await waitFor(`every replica to answer /readyz through ${lbUrl}`, async () => {
    const res = await httpGet(`${lbUrl}/readyz`);
    const id = res.headers['x-replica-id'];
    if (res.status === 200 && typeof id === 'string') seen.add(id);
    return replicas.every((r) => seen.has(r.id));
  });

  const state: ClusterState = {
    lb: { url: lbUrl },
    replicas: replicas.map((r) => ({ id: r.id, url: r.url, pid: r.child.pid })),
    redis: { url: redisUrl, pid: redis.pid },
    postgres: { url: databaseUrl },
  };
  if (phase === 'stopping') throw new Aborted();
  writeJsonAtomic(files.state, state);
  phase = 'running';
  say(`HAProxy (pid ${haproxy.pid}) config ${rel(files.haproxyConfig)}`);
  say(`logs: ${rel(files.logs)}/<name>.log; state: ${rel(files.state)}; Ctrl-C stops everything`);
  say(`ready: ${lbUrl}`);
}

let stopped: Promise<void> | undefined;
function shutdown(reason: string, code: number): Promise<void> {
  if (stopped) {
    say(`${reason}: already stopping`);
    return stopped;
  }
  phase = 'stopping';
  abort.abort();
  stopped = (async () => {
    say(`${reason}: stopping (replicas drain first: ${cfg.drainNoticeMs} ms notice + up to ${cfg.drainMs} ms)`);
    rmSync(files.state, { force: true });
    const stopRole = async (roles: Child['role'][], timeoutMs: number) => {
      await Promise.all(
        children
          .filter((c) => roles.includes(c.role))
          .map(async (c) => {
            const running = !c.exit;
            const exit = await stopChild(c, timeoutMs);
            if (running) say(`${c.name} (pid ${c.pid}) ${describeExit(exit)}`);
          }),
      );
    };
    // Replicas get SIGTERM and drain: not-ready, wait for HAProxy to notice,
    // paced disconnects over DRAIN_MS. Then what they depend on.
    await stopRole(['replica', 'migrate'], cfg.drainNoticeMs + cfg.drainMs + 20_000);
    await stopRole(['haproxy'], 5_000);
    await stopRole(['redis'], 10_000);
    await stopRole(['postgres'], 30_000);
    rmSync(files.pids, { force: true });
    rmSync(files.haproxySocket, { force: true });
    say('stopped');
    process.exit(code);
  })();
  return stopped;
}

start().catch((e: unknown) => {
  if (e instanceof Aborted || phase === 'stopping') return;
  warn(`start-up failed: ${e instanceof Error ? e.message : String(e)}`);
  void shutdown('start-up failure', 1);
});
