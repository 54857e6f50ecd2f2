// `npm run cluster` for real: the built script with two replicas, its own
// Redis and HAProxy on free ports, a fresh empty database (so its migration
// step has work to do), then SIGINT to its process group.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { io, type Socket } from 'socket.io-client';
import { jest } from '@jest/globals';
import type { ClusterState } from '../../scripts/cluster-config.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { freePort } from '../support/free-port.js';

jest.setTimeout(60_000);

const SCRIPT = path.resolve('dist/scripts/cluster.js');

interface Res {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: any;
}

/** One request on a connection of its own, so HAProxy balances each one. */
function request(url: string, opts: { method?: string; body?: unknown; token?: string; cookie?: string } = {}): Promise<Res> {
  return new Promise((resolve, reject) => {
    const payload = opts.body === undefined ? undefined : JSON.stringify(opts.body);
    const req = http.request(
      url,
      {
        method: opts.method ?? 'GET',
        agent: false,
        timeout: 5000,
        headers: {
          ...(payload ? { 'content-type': 'application/json' } : {}),
          ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
          ...(opts.cookie ? { cookie: opts.cookie } : {}),
        },
      },
      (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => {
          let body: unknown = text;
          try {
            body = text ? JSON.parse(text) : undefined;
          } catch {
            /* keep the text */
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`timeout: ${url}`)));
    req.on('error', reject);
    req.end(payload);
  });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function portAccepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ port, host: '127.0.0.1' });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** Two consecutive free ports (replicas listen on base + i). */
async function freePortPair(): Promise<number> {
  for (let i = 0; i < 20; i++) {
    const p = await freePort();
    if (p < 65535 && !(await portAccepts(p + 1))) {
      const ok = await new Promise<boolean>((resolve) => {
        const srv = net.createServer();
        srv.once('error', () => resolve(false));
        srv.listen(p + 1, '127.0.0.1', () => srv.close(() => resolve(true)));
      });
      if (ok) return p;
    }
  }
  throw new Error('no two consecutive free ports');
}

function onceSocket<T = any>(socket: Socket, event: string, timeoutMs = 10_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${event}`)), timeoutMs);
    socket.once(event, (payload: T) => {
      clearTimeout(timer);
      resolve(payload);
    });
    socket.once('connect_error', (e: Error) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

function collect(socket: Socket, event: string, n: number, timeoutMs = 10_000): Promise<any[]> {
  return new Promise((resolve, reject) => {
    const got: any[] = [];
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${n} ${event} (got ${got.length})`)), timeoutMs);
    const on = (payload: any) => {
      got.push(payload);
      if (got.length < n) return;
      clearTimeout(timer);
      socket.off(event, on);
      resolve(got);
    };
    socket.on(event, on);
  });
}

describe('npm run cluster (scripts/cluster.ts)', () => {
  let db: TestDatabase;
  let dir: string;
  let child: ChildProcess | undefined;
  let exited: Promise<number | null>;
  let output = '';
  const sockets: Socket[] = [];

  beforeAll(async () => {
    db = await createTestDatabase({ empty: true });
    dir = mkdtempSync(path.join(tmpdir(), 'crosswire-cluster-'));
  });

  afterAll(async () => {
    for (const s of sockets) s.close();
    // Only when an assertion failed half-way: leave nothing running.
    if (child?.exitCode === null && child.signalCode === null) {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    const pidsFile = path.join(dir, 'pids.json');
    if (existsSync(pidsFile)) {
      for (const c of JSON.parse(readFileSync(pidsFile, 'utf8')).children as Array<{ pid: number }>) {
        try {
          process.kill(-c.pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
    }
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts Redis, migrates once, runs two replicas behind HAProxy, serves through the LB, and SIGINT stops everything', async () => {
    const [basePort, lbPort, redisPort] = [await freePortPair(), await freePort(), await freePort()];
    child = spawn(process.execPath, [SCRIPT], {
      detached: true, // its own process group, as a terminal would make it
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        PATH: process.env.PATH!,
        CLUSTER_DIR: dir,
        CLUSTER_REPLICAS: '2',
        CLUSTER_BASE_PORT: String(basePort),
        LB_PORT: String(lbPort),
        REDIS_PORT: String(redisPort),
        DATABASE_URL: db.url,
        DRAIN_MS: '1000',
      },
    });
    child.stdout!.on('data', (d) => (output += d));
    child.stderr!.on('data', (d) => (output += d));
    exited = new Promise((resolve) => child!.once('exit', (code) => resolve(code)));

    // The script prints its ready line after it has written state.json: wait for
    // the line (stdout data), not for the file, which can appear before the line arrives.
    const lbUrl = `http://127.0.0.1:${lbPort}`;
    const stateFile = path.join(dir, 'state.json');
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => done(new Error(`no ready line after 40 s:\n${output}`)), 40_000);
      const check = () => output.includes(`ready: ${lbUrl}`) && done();
      const onExit = (code: number | null) => done(new Error(`cluster script exited ${code}:\n${output}`));
      function done(err?: Error): void {
        clearTimeout(timer);
        child!.stdout!.off('data', check);
        child!.off('exit', onExit);
        if (err) reject(err);
        else resolve();
      }
      child!.stdout!.on('data', check);
      child!.once('exit', onExit);
      check();
    });
    expect(existsSync(stateFile)).toBe(true);

    const state = JSON.parse(readFileSync(stateFile, 'utf8')) as ClusterState;
    expect(Object.keys(state).sort()).toEqual(['lb', 'postgres', 'redis', 'replicas']);
    expect(state.lb).toEqual({ url: lbUrl });
    expect(state.replicas.map((r) => Object.keys(r).sort())).toEqual([
      ['id', 'pid', 'url'],
      ['id', 'pid', 'url'],
    ]);
    expect(state.replicas.map(({ id, url }) => ({ id, url }))).toEqual([
      { id: 'hub1', url: `http://127.0.0.1:${basePort}` },
      { id: 'hub2', url: `http://127.0.0.1:${basePort + 1}` },
    ]);
    expect(Object.keys(state.redis).sort()).toEqual(['pid', 'url']);
    expect(state.redis.url).toBe(`redis://127.0.0.1:${redisPort}`);
    expect(state.postgres).toEqual({ url: db.url });
    const pids = JSON.parse(readFileSync(path.join(dir, 'pids.json'), 'utf8')).children as Array<{ name: string; pid: number }>;
    expect(pids.map((p) => p.name).sort()).toEqual(['haproxy', 'hub1', 'hub2', 'redis']);
    const allPids = [...new Set([...state.replicas.map((r) => r.pid), state.redis.pid, ...pids.map((p) => p.pid)])];
    expect(allPids.every(isAlive)).toBe(true);

    // The migration step ran once, against the empty database.
    expect(readFileSync(path.join(dir, 'logs', 'migrate.log'), 'utf8')).toMatch(/migrate: applied /);
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    const applied = await client.query('SELECT count(*)::int AS n FROM _prisma_migrations');
    await client.end();
    expect(applied.rows[0].n).toBeGreaterThan(0);
    // One secret for all, mode 0600.
    expect(statSync(path.join(dir, 'jwt-secret')).mode & 0o777).toBe(0o600);

    // Through the LB without a cookie: round robin over both, each answer setting its sticky cookie.
    expect((await request(`${lbUrl}/healthz`)).status).toBe(200);
    const seen: string[] = [];
    for (let i = 0; i < 6; i++) {
      const res = await request(`${lbUrl}/readyz`);
      expect(res.status).toBe(200);
      const id = res.headers['x-replica-id'] as string;
      seen.push(id);
      expect(res.headers['set-cookie']?.join(';')).toContain(`SRV=${id}`);
    }
    expect(new Set(seen)).toEqual(new Set(['hub1', 'hub2']));
    // With the cookie: always the same replica.
    for (let i = 0; i < 4; i++) {
      expect((await request(`${lbUrl}/healthz`, { cookie: 'SRV=hub2' })).headers['x-replica-id']).toBe('hub2');
    }

    // The REST API through the LB: one JWT secret, one database.
    const reg = await request(`${lbUrl}/api/auth/register`, { method: 'POST', body: { username: `cluster_${process.pid}`, password: 'password123' } });
    expect(reg.status).toBe(201);
    const token = reg.body.token as string;
    const meBy = new Set<string>();
    for (let i = 0; i < 4; i++) {
      const me = await request(`${lbUrl}/api/me`, { token });
      expect(me.status).toBe(200);
      meBy.add(me.headers['x-replica-id'] as string);
    }
    expect(meBy).toEqual(new Set(['hub1', 'hub2'])); // a token from one replica is good on the other
    const channel = await request(`${lbUrl}/api/channels`, { method: 'POST', token, body: { name: `cluster-${process.pid}` } });
    expect(channel.status).toBe(201);
    const channelId = channel.body.id as string;

    // Socket.IO through the LB: a WebSocket (the upgrade passes through HAProxy) and a
    // long-polling client (it keeps the SRV cookie, so all its requests reach one replica).
    const ws = io(lbUrl, { auth: { token }, transports: ['websocket'], reconnection: false, forceNew: true });
    const polling = io(lbUrl, { auth: { token }, transports: ['polling'], withCredentials: true, reconnection: false, forceNew: true });
    sockets.push(ws, polling);
    const sessions = await Promise.all([onceSocket(ws, 'session'), onceSocket(polling, 'session')]);
    for (const s of sockets) {
      const ack = await s.timeout(10_000).emitWithAck('channel:subscribe', { channelId });
      expect(ack.ok).toBe(true);
    }
    const received = sockets.map((s) => collect(s, 'message:created', 2));
    // Published on each replica in turn (cookie), so at least one socket gets it from the other replica, over Redis.
    const published = [];
    for (const id of ['hub1', 'hub2']) {
      const res = await request(`${lbUrl}/api/channels/${channelId}/messages`, { method: 'POST', token, cookie: `SRV=${id}`, body: { body: { text: `from ${id}` } } });
      expect(res.status).toBe(201);
      expect(res.headers['x-replica-id']).toBe(id);
      published.push(res.body);
    }
    // Live events may arrive out of seq order across replicas (docs/SPEC.md): compare sorted.
    for (const got of await Promise.all(received)) expect(got.map((m) => m.seq).sort()).toEqual([1, 2]);
    expect(sessions.map((s) => ['hub1', 'hub2'].includes(s.replicaId))).toEqual([true, true]);
    for (const r of state.replicas) {
      const history = await request(`${r.url}/api/channels/${channelId}/messages`, { token });
      expect(history.body.items.map((m: any) => m.body.text)).toEqual(['from hub1', 'from hub2']);
    }
    for (const s of sockets) s.close();

    // Ctrl-C: SIGINT to the script's process group. Replicas drain (DRAIN_MS 1 s), then the rest stop.
    process.kill(-child.pid!, 'SIGINT');
    let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([exited, new Promise((r) => (timer = setTimeout(() => r('still running after 30 s'), 30_000)))]);
    clearTimeout(timer);
    expect(code).toBe(0);
    expect(output).toMatch(/SIGINT: stopping/);
    expect(output).toMatch(/\[cluster\] stopped/);
    expect(allPids.filter(isAlive)).toEqual([]);
    expect(existsSync(stateFile)).toBe(false);
    expect(existsSync(path.join(dir, 'pids.json'))).toBe(false);
    expect(await portAccepts(lbPort)).toBe(false);
    expect(await portAccepts(redisPort)).toBe(false);
    expect(await portAccepts(basePort)).toBe(false);
  });
});
