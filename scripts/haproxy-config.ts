// The one HAProxy config generator: deploy/haproxy/haproxy.cfg.tmpl rendered
// for `npm run cluster` (scripts/cluster.ts, servers on loopback) and for
// docker-compose.yml (deploy/haproxy/haproxy.compose.cfg, committed).
//
//   npm run haproxy:config            rewrites deploy/haproxy/haproxy.compose.cfg
//   npm run haproxy:config -- --check exits 1 when the committed file is stale
//   npm run haproxy:config -- --stdout prints the compose rendering
import { readFileSync, realpathSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { projectRoot } from '../src/database/paths.js';

export const TEMPLATE_FILE = path.join(projectRoot, 'deploy', 'haproxy', 'haproxy.cfg.tmpl');
export const COMPOSE_CONFIG_FILE = path.join(projectRoot, 'deploy', 'haproxy', 'haproxy.compose.cfg');

/** Active health checks of both backends. */
export const CHECK = { interMs: 1000, fall: 2, rise: 2 } as const;
/**
 * How long HAProxy takes to stop sending new traffic to a replica that turned
 * not-ready: fall x inter. A draining replica waits at least this long (plus a
 * margin) before it disconnects its sockets.
 */
export const LB_NOTICE_MS = CHECK.interMs * CHECK.fall;
export const HEALTH_PATHS = { ready: '/readyz', alive: '/healthz' } as const;
/**
 * The LB's own sign-in limit (CONTRACT §9): past `requests` sign-ins from one
 * address in the last `windowMs`, 429 without reaching a replica, with
 * Retry-After of the window. Far above the hubs' RATE_AUTH_PER_IP (30/1m).
 */
export const SIGN_IN_EDGE = { requests: 50, windowMs: 10_000 } as const;
/**
 * The open-file limit on the CI machines is 20,000 (hard), and HAProxy needs
 * about two descriptors per connection: it refuses to start ("Cannot raise FD
 * limit") when maxconn needs more than that.
 */
export const MAX_MAXCONN = 9000;
export const DEFAULT_MAXCONN = 8000;

export interface HaproxyServer {
  /** Server name, also its SRV cookie value: the replica's REPLICA_ID. */
  name: string;
  host: string;
  port: number;
}

export interface HaproxyOptions {
  bindPort: number;
  /** Empty (the default): every address. */
  bindAddress?: string;
  servers: HaproxyServer[];
  maxconn?: number;
  /**
   * Resolve server names through Docker's embedded DNS (127.0.0.11), follow
   * address changes, and start even while a replica's name does not resolve.
   */
  dockerDns?: boolean;
  /** A runtime API socket (`show stat`), level user: the cluster script reads server states from it. */
  statsSocket?: string;
  /** One comment line saying what rendered this file. */
  renderedBy?: string;
}

/** The compose topology: hub1..hub3 on 3000, HAProxy on 8080 (docker-compose.yml). */
export const COMPOSE_REPLICAS = ['hub1', 'hub2', 'hub3'] as const;
export const COMPOSE_HUB_PORT = 3000;
export const COMPOSE_LB_PORT = 8080;

export function composeHaproxyOptions(): HaproxyOptions {
  return {
    bindPort: COMPOSE_LB_PORT,
    servers: COMPOSE_REPLICAS.map((name) => ({ name, host: name, port: COMPOSE_HUB_PORT })),
    dockerDns: true,
    renderedBy: 'docker-compose.yml (npm run haproxy:config)',
  };
}

const NAME = /^[A-Za-z0-9_.-]{1,64}$/;

export function renderHaproxyConfig(opts: HaproxyOptions, template = readFileSync(TEMPLATE_FILE, 'utf8')): string {
  const problems: string[] = [];
  const validPort = (p: number) => Number.isInteger(p) && p >= 1 && p <= 65535;
  if (!validPort(opts.bindPort)) problems.push(`bindPort: ${opts.bindPort} is not a port`);
  if (opts.servers.length === 0) problems.push('servers: at least one');
  const names = new Set<string>();
  for (const s of opts.servers) {
    if (!NAME.test(s.name)) problems.push(`server name ${JSON.stringify(s.name)}: 1-64 of [A-Za-z0-9_.-]`);
    if (names.has(s.name)) problems.push(`server name ${s.name}: used twice`);
    names.add(s.name);
    if (!/^[A-Za-z0-9_.:-]+$/.test(s.host)) problems.push(`server ${s.name}: bad host ${JSON.stringify(s.host)}`);
    if (!validPort(s.port)) problems.push(`server ${s.name}: ${s.port} is not a port`);
  }
  const maxconn = opts.maxconn ?? DEFAULT_MAXCONN;
  if (!Number.isInteger(maxconn) || maxconn < 1 || maxconn > MAX_MAXCONN) {
    problems.push(`maxconn: 1..${MAX_MAXCONN} (file-descriptor limit), got ${maxconn}`);
  }
  if (opts.statsSocket !== undefined && /\s/.test(opts.statsSocket)) problems.push('statsSocket: no whitespace');
  if (problems.length) throw new Error(`renderHaproxyConfig: ${problems.join('; ')}`);

  const bindHost = opts.bindAddress ?? '';
  const serverDefaults = [`inter ${duration(CHECK.interMs)} fall ${CHECK.fall} rise ${CHECK.rise}`, ...(opts.dockerDns ? ['resolvers docker resolve-prefer ipv4 init-addr last,libc,none'] : [])].join(
    ' ',
  );
  const values: Record<string, string> = {
    RENDERED_BY: `# Rendered for ${opts.renderedBy ?? 'npm run cluster'} by scripts/haproxy-config.ts: do not edit.`,
    CHECK_INTER: duration(CHECK.interMs),
    CHECK_FALL: String(CHECK.fall),
    CHECK_RISE: String(CHECK.rise),
    LB_NOTICE_MS: String(LB_NOTICE_MS),
    MAXCONN: String(maxconn),
    GLOBAL_EXTRA: opts.statsSocket ? `    stats socket ${opts.statsSocket} mode 600 level user` : '',
    RESOLVERS: opts.dockerDns
      ? [
          "# Docker's embedded DNS: replicas that restart come back on new addresses.",
          'resolvers docker',
          '    nameserver dns 127.0.0.11:53',
          '    resolve_retries 3',
          '    timeout resolve 1s',
          '    timeout retry 1s',
          '    hold valid 10s',
          '    hold other 10s',
          '    hold refused 10s',
          '    hold nx 10s',
          '    hold timeout 10s',
        ].join('\n')
      : '',
    BIND: `${bindHost.includes(':') ? `[${bindHost}]` : bindHost}:${opts.bindPort}`,
    SERVER_DEFAULTS: serverDefaults,
    SERVERS: opts.servers.map((s) => `    server ${s.name} ${s.host}:${s.port} check cookie ${s.name}`).join('\n'),
    SIGN_IN_EDGE_REQUESTS: String(SIGN_IN_EDGE.requests),
    SIGN_IN_EDGE_WINDOW: duration(SIGN_IN_EDGE.windowMs),
    SIGN_IN_EDGE_RETRY_S: String(Math.ceil(SIGN_IN_EDGE.windowMs / 1000)),
    SIGN_IN_EDGE_RETRY_MS: String(SIGN_IN_EDGE.windowMs),
  };

  const out: string[] = [];
  for (const line of template.split('\n')) {
    const block = /^\s*\{\{([A-Z_]+)\}\}\s*$/.exec(line);
    const rendered = block ? lookup(values, block[1]) : line.replace(/\{\{([A-Z_]+)\}\}/g, (_, k: string) => lookup(values, k));
    if (block && rendered === '') continue;
    out.push(...rendered.split('\n'));
  }
  // No runs of blank lines where optional blocks were left out; one final newline.
  return out
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .replace(/\s*$/, '\n');
}

/** HAProxy time: whole seconds as `1s`, else milliseconds. */
function duration(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

function lookup(values: Record<string, string>, key: string): string {
  const v = values[key];
  if (v === undefined) throw new Error(`haproxy template: unknown placeholder {{${key}}}`);
  return v;
}

export function renderComposeConfig(): string {
  return renderHaproxyConfig(composeHaproxyOptions());
}

function cli(args: string[]): number {
  const rendered = renderComposeConfig();
  const rel = path.relative(process.cwd(), COMPOSE_CONFIG_FILE);
  if (args.includes('--stdout')) {
    process.stdout.write(rendered);
    return 0;
  }
  let current: string | undefined;
  try {
    current = readFileSync(COMPOSE_CONFIG_FILE, 'utf8');
  } catch {
    current = undefined;
  }
  if (args.includes('--check')) {
    if (current === rendered) {
      console.log(`${rel} is up to date`);
      return 0;
    }
    console.error(`${rel} is stale: run \`npm run haproxy:config\``);
    return 1;
  }
  if (current === rendered) {
    console.log(`${rel} unchanged`);
  } else {
    writeFileSync(COMPOSE_CONFIG_FILE, rendered);
    console.log(`wrote ${rel}`);
  }
  return 0;
}

const invokedAs = process.argv[1];
if (invokedAs && import.meta.url === pathToFileURL(realpathSync(invokedAs)).href) {
  process.exitCode = cli(process.argv.slice(2));
}
