// The deployment files agree with each other and with `npm run cluster`:
// docker-compose.yml validated by Compose v1 (`docker-compose config`, offline;
// scripts/test.sh installs Debian's docker-compose), the committed HAProxy
// config is the generator's output, and HAProxy accepts every rendering.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DEFAULT_DRAIN_NOTICE_MS, REPLICA_ENV_KEYS, replicaEnv, replicaName } from '../../scripts/cluster-config.js';
import {
  CHECK,
  COMPOSE_CONFIG_FILE,
  COMPOSE_HUB_PORT,
  COMPOSE_LB_PORT,
  COMPOSE_REPLICAS,
  HEALTH_PATHS,
  LB_NOTICE_MS,
  MAX_MAXCONN,
  renderComposeConfig,
  renderHaproxyConfig,
} from '../../scripts/haproxy-config.js';
import { loadConfig } from '../../src/config/config.js';
import { projectRoot } from '../../src/database/paths.js';

const COMPOSE_FILE = path.join(projectRoot, 'docker-compose.yml');
const HUB_MAIN = 'dist/src/main.js';

/** The normalised config Compose v1 prints, as JSON (through the PyYAML its own interpreter carries). */
// An empty env file: a developer's .env must not change what is checked.
const EMPTY_ENV_FILE = path.join(mkdtempSync(path.join(tmpdir(), 'crosswire-env-')), 'empty.env');
writeFileSync(EMPTY_ENV_FILE, '');
afterAll(() => rmSync(path.dirname(EMPTY_ENV_FILE), { recursive: true, force: true }));

function composeConfig(env: Record<string, string> = {}): any {
  const yaml = execFileSync('docker-compose', ['--env-file', EMPTY_ENV_FILE, '-f', COMPOSE_FILE, 'config'], {
    cwd: projectRoot,
    env: { PATH: process.env.PATH!, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const composePath = execFileSync('sh', ['-c', 'command -v docker-compose']).toString().trim();
  const python = readFileSync(composePath, 'utf8')
    .split('\n')[0]
    .replace(/^#!\s*/, '')
    .trim()
    .split(/\s+/);
  const json = execFileSync(python[0], [...python.slice(1), '-c', 'import sys, json, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)'], {
    input: yaml,
  });
  return JSON.parse(json.toString());
}

const seconds = (v: string): number => {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(v);
  if (!m) throw new Error(`not a duration: ${v}`);
  return Number(m[1]) * { ms: 0.001, s: 1, m: 60, h: 3600 }[m[2] as 'ms' | 's' | 'm' | 'h'];
};

const isHub = (svc: any) => Array.isArray(svc.command) && svc.command.join(' ').includes(`node ${HUB_MAIN}`);

describe('docker-compose.yml, Dockerfile and the HAProxy configs', () => {
  let compose: any;
  let services: Record<string, any>;
  let hubNames: string[];
  let haproxyCfg: string;
  beforeAll(() => {
    compose = composeConfig();
    services = compose.services;
    hubNames = Object.keys(services)
      .filter((n) => isHub(services[n]))
      .sort();
    haproxyCfg = readFileSync(COMPOSE_CONFIG_FILE, 'utf8');
  });

  it('Compose v1 validates it; it has the roles of the cluster script: postgres, redis, secret, migrate, the hubs, the LB', () => {
    expect(Object.keys(services).sort()).toEqual(['haproxy', 'migrate', 'postgres', 'redis', 'secret', ...COMPOSE_REPLICAS].sort());
    expect(hubNames).toEqual([...COMPOSE_REPLICAS]);
    // The hubs are named as the cluster script names its replicas.
    expect(hubNames).toEqual(COMPOSE_REPLICAS.map((_, i) => replicaName(i)));
    const raw = readFileSync(COMPOSE_FILE, 'utf8');
    // Keys current `docker compose` takes and Compose v1 rejects, or that v2 calls obsolete.
    expect(raw).not.toMatch(/^(version|name):/m);
    expect(raw).not.toMatch(/^\s+(required|start_interval):/m);
  });

  it('no deployment names a fault switch or the harness marker, so none can turn one on (the hub refuses FAULTS without CROSSWIRE_HARNESS)', () => {
    const files = [
      COMPOSE_FILE,
      path.join(projectRoot, 'Dockerfile'),
      path.join(projectRoot, 'deploy/haproxy/haproxy.cfg.tmpl'),
      COMPOSE_CONFIG_FILE,
      path.join(projectRoot, 'scripts/cluster.ts'),
      path.join(projectRoot, 'scripts/cluster-config.ts'),
    ];
    const naming = files.filter((f) => /\bFAULTS\b|CROSSWIRE_HARNESS/.test(readFileSync(f, 'utf8')));
    expect(naming).toEqual([]);
    for (const name of hubNames) expect(Object.keys(services[name].environment)).not.toEqual(expect.arrayContaining(['FAULTS']));
  });

  it('the hubs get the environment keys the cluster script gives its replicas (plus JWT_SECRET, see below)', () => {
    const fromScript = Object.keys(
      replicaEnv({
        id: 'hub1',
        host: '127.0.0.1',
        port: 3001,
        databaseUrl: 'postgresql://x',
        redisUrl: 'redis://x',
        jwtSecretFile: '/x',
        adminTokenFile: '/y',
        trustedProxies: 'x',
        drainNoticeMs: 1,
        drainMs: 1,
      }),
    ).sort();
    expect(fromScript).toEqual([...REPLICA_ENV_KEYS].sort());
    for (const name of hubNames) {
      const env = services[name].environment;
      expect(
        Object.keys(env)
          .filter((k) => k !== 'JWT_SECRET')
          .sort(),
      ).toEqual(fromScript);
      expect(env.JWT_SECRET).toBe(''); // ${JWT_SECRET:-}: unset here
      expect(env.REPLICA_ID).toBe(name);
      expect(Number(env.PORT)).toBe(COMPOSE_HUB_PORT);
      expect(env.HOST).toBe('0.0.0.0');
      expect(env.MIGRATE_ON_START).toBe('false');
      expect(new URL(env.REDIS_URL).hostname).toBe('redis');
      expect(new URL(env.DATABASE_URL).hostname).toBe('postgres');
      // Every replica has the same everything but its REPLICA_ID.
      expect({ ...env, REPLICA_ID: '' }).toEqual({ ...services[hubNames[0]].environment, REPLICA_ID: '' });
    }
  });

  it('hubs: init, a stop grace above DRAIN_MS plus the LB notice, healthcheck on /healthz, and every dependency ready first', () => {
    for (const name of hubNames) {
      const hub = services[name];
      expect(hub.init).toBe(true);
      const drainMs = Number(hub.environment.DRAIN_MS);
      const noticeMs = Number(hub.environment.DRAIN_NOTICE_MS);
      // The drain waits at least until HAProxy has seen the replica not-ready (fall x inter) …
      expect(noticeMs).toBeGreaterThanOrEqual(LB_NOTICE_MS);
      expect(noticeMs).toBe(DEFAULT_DRAIN_NOTICE_MS);
      // … and Docker's SIGKILL comes well after notice + drain.
      expect(seconds(hub.stop_grace_period) * 1000).toBeGreaterThanOrEqual(noticeMs + drainMs + 10_000);
      expect(hub.healthcheck.test.join(' ')).toContain(`:${COMPOSE_HUB_PORT}${HEALTH_PATHS.alive}`);
      expect(hub.depends_on).toEqual({
        postgres: { condition: 'service_healthy' },
        redis: { condition: 'service_healthy' },
        migrate: { condition: 'service_completed_successfully' },
        secret: { condition: 'service_completed_successfully' },
      });
      expect(hub.ports).toBeUndefined(); // reached through HAProxy only
      // The secret volume is mounted where JWT_SECRET_FILE points, read-only.
      expect(hub.volumes).toContain(`jwt-secret:${path.dirname(hub.environment.JWT_SECRET_FILE)}:ro`);
      expect(hub.build).toBeDefined();
    }
  });

  it('the one-shots, Postgres and Redis', () => {
    const secretFile = services.hub1.environment.JWT_SECRET_FILE;
    expect(services.secret.command).toEqual(['node', 'dist/scripts/cluster-secret.js', secretFile, '/run/crosswire/admin-token', '--owner', '1000:1000']);
    // Compose v1 spells out the default mode.
    const volume = (svc: string, spec: string) => expect(services[svc].volumes.map((v: string) => v.replace(/:rw$/, ''))).toContain(spec);
    volume('secret', `jwt-secret:${path.dirname(secretFile)}`);
    expect(services.migrate.command).toEqual(['node', 'dist/scripts/migrate.js']);
    expect(services.migrate.environment.DATABASE_URL).toBe(services.hub1.environment.DATABASE_URL);
    expect(services.migrate.depends_on).toEqual({ postgres: { condition: 'service_healthy' } });
    for (const oneShot of ['secret', 'migrate']) expect(services[oneShot].restart).toBe('no');
    expect(services.postgres.image).toBe('postgres:18');
    expect(services.postgres.healthcheck.test.join(' ')).toContain('pg_isready');
    volume('postgres', 'pgdata:/var/lib/postgresql');
    expect(services.redis.image).toMatch(/^redis:7/);
    expect(services.redis.healthcheck.test).toEqual(['CMD', 'redis-cli', 'ping']);
    expect(Object.keys(compose.volumes).sort()).toEqual(['jwt-secret', 'pgdata']);
  });

  it('the LB: haproxy:2.6 on 8080 with the committed config, after the hubs', () => {
    const lb = services.haproxy;
    expect(lb.image).toBe('haproxy:2.6');
    expect(lb.ports).toEqual([{ published: COMPOSE_LB_PORT, target: COMPOSE_LB_PORT }]);
    expect(COMPOSE_LB_PORT).toBe(8080);
    expect(lb.volumes).toEqual([`${COMPOSE_CONFIG_FILE}:/usr/local/etc/haproxy/haproxy.cfg:ro`]);
    expect(Object.keys(lb.depends_on).sort()).toEqual(hubNames);
  });

  it('a hub gets exactly one of JWT_SECRET and JWT_SECRET_FILE, and the app accepts what it gets', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'crosswire-compose-'));
    try {
      // A stand-in `node` that records the environment the hub command hands it.
      const out = path.join(dir, 'env.json');
      writeFileSync(path.join(dir, 'node'), `#!/bin/sh\nexec ${process.execPath} -e 'require("fs").writeFileSync(${JSON.stringify(out)}, JSON.stringify(process.env))'\n`);
      chmodSync(path.join(dir, 'node'), 0o755);
      const run = (secret: string) => {
        const hub = composeConfig(secret ? { JWT_SECRET: secret } : {}).services.hub2;
        expect(hub.environment.JWT_SECRET).toBe(secret);
        // Compose turns `$$` into `$` when it runs the command.
        const [sh, ...args] = hub.command.map((a: string) => a.replaceAll('$$', '$'));
        const env: Record<string, string> = { ...hub.environment, PATH: `${dir}:${process.env.PATH}` };
        const res = spawnSync(sh, args, { env, stdio: 'pipe' });
        expect(res.status).toBe(0);
        const got = JSON.parse(readFileSync(out, 'utf8')) as Record<string, string>;
        rmSync(out);
        return got;
      };
      const fileOnly = run('');
      expect(fileOnly.JWT_SECRET_FILE).toBe('/run/crosswire/jwt-secret');
      expect(fileOnly.JWT_SECRET ?? '').toBe('');
      expect(loadConfig(fileOnly).JWT_SECRET_FILE).toBe('/run/crosswire/jwt-secret');

      const secret = 's'.repeat(40);
      const envOnly = run(secret);
      expect(envOnly.JWT_SECRET).toBe(secret);
      expect(envOnly.JWT_SECRET_FILE).toBeUndefined();
      const cfg = loadConfig(envOnly);
      expect([cfg.JWT_SECRET, cfg.JWT_SECRET_FILE]).toEqual([secret, undefined]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("the committed deploy/haproxy/haproxy.compose.cfg is the generator's output (else: npm run haproxy:config)", () => {
    expect(haproxyCfg).toBe(renderComposeConfig());
  });

  it('the HAProxy config: /readyz and /healthz backends, fallback, stickiness, redispatch, timeouts, maxconn', () => {
    const lines = haproxyCfg
      .split('\n')
      .map((l) => l.replace(/#.*/, '').trim())
      .filter(Boolean);
    const section = (head: string) => {
      const start = lines.indexOf(head);
      expect(start).toBeGreaterThanOrEqual(0);
      const end = lines.findIndex((l, i) => i > start && /^(global|defaults|frontend|backend|listen|resolvers)\b/.test(l));
      return lines.slice(start + 1, end < 0 ? undefined : end);
    };
    const frontend = section('frontend hub');
    expect(frontend).toContain(`bind :${COMPOSE_LB_PORT}`);
    expect(frontend).toContain('use_backend ready if { nbsrv(ready) gt 0 }');
    expect(frontend).toContain('default_backend alive');
    const servers = COMPOSE_REPLICAS.map((n) => `server ${n} ${n}:${COMPOSE_HUB_PORT} check cookie ${n}`);
    for (const [backend, check] of [
      ['ready', HEALTH_PATHS.ready],
      ['alive', HEALTH_PATHS.alive],
    ] as const) {
      const b = section(`backend ${backend}`);
      expect(b).toContain(`option httpchk GET ${check}`);
      expect(b).toContain('cookie SRV insert indirect nocache');
      expect(b.find((l) => l.startsWith('default-server'))).toContain(`inter ${CHECK.interMs / 1000}s fall ${CHECK.fall} rise ${CHECK.rise}`);
      expect(b.filter((l) => l.startsWith('server '))).toEqual(servers);
    }
    expect(HEALTH_PATHS.ready).toBe('/readyz');
    const defaults = section('defaults');
    for (const opt of ['option redispatch', 'option forwardfor', 'mode http']) expect(defaults).toContain(opt);
    const timeout = (name: string) => seconds(defaults.find((l) => l.startsWith(`timeout ${name} `))!.split(/\s+/)[2]);
    expect(timeout('tunnel')).toBeGreaterThanOrEqual(3600);
    // Socket.IO: ping interval 25 s + ping timeout 20 s.
    expect(timeout('client')).toBeGreaterThan(45);
    expect(timeout('server')).toBeGreaterThan(45);
    const maxconn = Number(
      section('global')
        .find((l) => l.startsWith('maxconn'))!
        .split(/\s+/)[1],
    );
    expect(maxconn).toBeLessThanOrEqual(MAX_MAXCONN);
    expect(() => renderHaproxyConfig({ bindPort: 1, servers: [{ name: 'a', host: 'h', port: 1 }], maxconn: 20_000 })).toThrow(/maxconn/);
    expect(() =>
      renderHaproxyConfig({
        bindPort: 1,
        servers: [
          { name: 'a', host: 'h', port: 1 },
          { name: 'a', host: 'h', port: 2 },
        ],
      }),
    ).toThrow(/twice/);
  });

  it('haproxy -c accepts the compose config and a cluster rendering', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'crosswire-haproxy-'));
    try {
      const cluster = path.join(dir, 'cluster.cfg');
      writeFileSync(
        cluster,
        renderHaproxyConfig({
          bindPort: 18080,
          bindAddress: '127.0.0.1',
          servers: [1, 2, 3].map((i) => ({ name: replicaName(i - 1), host: '127.0.0.1', port: 3000 + i })),
          statsSocket: path.join(dir, 'haproxy.sock'),
        }),
      );
      for (const file of [COMPOSE_CONFIG_FILE, cluster]) {
        const res = spawnSync('haproxy', ['-c', '-f', file], { stdio: 'pipe' });
        expect({ file, status: res.status, out: res.status === 0 ? '' : res.stderr.toString() }).toEqual({ file, status: 0, out: '' });
        expect(res.stdout.toString()).toMatch(/Configuration file is valid/);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('Dockerfile: multi-stage, non-root, runs the hub; .dockerignore keeps local state out', () => {
    const dockerfile = readFileSync(path.join(projectRoot, 'Dockerfile'), 'utf8');
    const froms = dockerfile.match(/^FROM .*/gm) ?? [];
    expect(froms.length).toBeGreaterThanOrEqual(2);
    expect(froms[0]).toMatch(/ AS build$/);
    expect(dockerfile).toMatch(/RUN npm ci\b/);
    expect(dockerfile).toMatch(/npm run build && npm prune --omit=dev/);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/^EXPOSE 3000$/m);
    expect(dockerfile).toMatch(/^CMD \["node", "dist\/src\/main\.js"\]$/m);
    for (const copied of ['dist', 'node_modules', 'prisma/migrations', 'package.json']) {
      expect(dockerfile).toMatch(new RegExp(`^COPY --from=build /app/${copied} `, 'm'));
    }
    const ignored = readFileSync(path.join(projectRoot, '.dockerignore'), 'utf8').split('\n');
    for (const entry of ['node_modules', 'dist', '.data', '.git', 'coverage']) expect(ignored).toContain(entry);
  });

  it('Dockerfile: the build stage copies everything `npm run build` reads (every folder tsconfig.build.json includes, web/, the configs)', () => {
    const dockerfile = readFileSync(path.join(projectRoot, 'Dockerfile'), 'utf8');
    const build = dockerfile.slice(0, dockerfile.indexOf('RUN npm run build'));
    const copied = [...build.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) => m[1].split(/\s+/)).map((p) => p.replace(/\/$/, ''));
    const includes = (JSON.parse(readFileSync(path.join(projectRoot, 'tsconfig.build.json'), 'utf8')) as { include: string[] }).include;
    const needed = [...includes, 'web', 'prisma', 'prisma.config.ts', 'tsconfig.json', 'tsconfig.build.json', 'package.json', 'package-lock.json'];
    expect(needed.filter((p) => !copied.includes(p))).toEqual([]);
  });
});
