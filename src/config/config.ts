import { availableParallelism, hostname } from 'node:os';
import { z } from 'zod';

const int = (def: number, min = 0, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(min).max(max).default(def);

const bool = (def: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'])
    .default(def ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1' || v === 'yes');

const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

/** Durations like "24h", "30m", "90s", "1d" or plain seconds. */
const duration = z
  .string()
  .regex(/^\d+(s|m|h|d)?$/, 'expected seconds or a number with s, m, h or d')
  .default('24h')
  .transform((v) => {
    const n = Number.parseInt(v, 10);
    const unit = v.replace(/^\d+/, '') || 's';
    return n * { s: 1, m: 60, h: 3600, d: 86400 }[unit as 's' | 'm' | 'h' | 'd'];
  })
  .refine((s) => s > 0, 'must be positive');

/** A rate "points/window", e.g. "100/10s": at most `points` in each `seconds`-long window. */
const rate = (def: string) =>
  z
    .string()
    .regex(/^\d+\/\d+(s|m|h)$/, 'expected points/window, e.g. 100/10s')
    .default(def)
    .transform((v) => {
      const [points, window] = v.split('/') as [string, string];
      const n = Number.parseInt(window, 10);
      return { points: Number.parseInt(points, 10), seconds: n * { s: 1, m: 60, h: 3600 }[window.slice(-1) as 's' | 'm' | 'h'] };
    })
    .refine((r) => r.points > 0 && r.seconds > 0, 'points and window must be positive');

export type Rate = { points: number; seconds: number };

/** Test-only fault switches (FAULTS); all off in a deployment. */
export interface FaultSwitches {
  /** `exit-after-store`: exit (code 70) right after a message is stored, before any fan-out. */
  exitAfterStore: boolean;
  /** `stall-fanout`: stop reading the Redis bus connection once it is ready (fan-out stuck while Redis answers). */
  stallFanout: boolean;
  /** `stall-adapter`: stop reading the Socket.IO adapter's Redis subscriber connection once it is ready. */
  stallAdapter: boolean;
  /** `bus-lag=MS`: handle every frame of the bus connection MS late, in arrival order (a lagging subscriber connection). */
  busLagMs: number;
  /** `subscribe-delay=MS`: hold every channel:subscribe MS after its access check. */
  subscribeDelayMs: number;
  /** `request-delay=MS`: hold every /api request MS before it is handled. */
  requestDelayMs: number;
}

export const NO_FAULTS: FaultSwitches = Object.freeze({ exitAfterStore: false, stallFanout: false, stallAdapter: false, busLagMs: 0, subscribeDelayMs: 0, requestDelayMs: 0 });

const FAULT_FLAGS = { 'exit-after-store': 'exitAfterStore', 'stall-fanout': 'stallFanout', 'stall-adapter': 'stallAdapter' } as const;
const FAULT_DELAYS = { 'bus-lag': 'busLagMs', 'subscribe-delay': 'subscribeDelayMs', 'request-delay': 'requestDelayMs' } as const;

function parseFaults(v: string | undefined, ctx: z.RefinementCtx): FaultSwitches {
  const items = (v ?? '')
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
  if (items.length === 0) return NO_FAULTS;
  const out: Record<string, boolean | number> = { ...NO_FAULTS };
  for (const item of items) {
    const [name, value] = item.split('=', 2) as [string, string | undefined];
    if (name in FAULT_FLAGS && value === undefined) out[FAULT_FLAGS[name as keyof typeof FAULT_FLAGS]] = true;
    else if (name in FAULT_DELAYS && value !== undefined && /^\d{1,6}$/.test(value)) out[FAULT_DELAYS[name as keyof typeof FAULT_DELAYS]] = Number(value);
    else ctx.addIssue({ code: 'custom', message: `unknown fault '${item}' (known: ${[...Object.keys(FAULT_FLAGS), ...Object.keys(FAULT_DELAYS).map((d) => `${d}=MS`)].join(', ')})` });
  }
  return Object.freeze(out) as unknown as FaultSwitches;
}

const schema = z.object({
  PORT: int(3000, 0, 65535),
  HOST: z.string().default('0.0.0.0'),
  DATABASE_URL: optionalString.pipe(z.url({ protocol: /^postgres(ql)?$/ }).optional()),
  DATABASE_POOL_SIZE: int(10, 1, 500),
  // Connections of their own for live delivery's catch-up reads, so a hold-back
  // or the tick never queues behind publishes holding the main pool.
  DELIVERY_POOL_SIZE: int(2, 1, 50),
  DATA_DIR: z.string().default('.data'),
  EMBEDDED_PG_PORT: int(5433, 1, 65535),
  REDIS_URL: optionalString.pipe(z.url({ protocol: /^rediss?$/ }).optional()),
  JWT_SECRET: optionalString.pipe(z.string().min(32, 'must be at least 32 characters').optional()),
  JWT_SECRET_FILE: optionalString,
  JWT_TTL: duration,
  // scrypt runs on libuv's pool (4 threads, shared with DNS and zlib): at most this many at once,
  // at most PASSWORD_QUEUE waiting; past that, 503 rather than a starved replica.
  // Default: one core less than the machine has (at least 1), so the event loop keeps a core; measured by
  // test/cluster/login-flood.cluster.ts. The queue holds a burst of 64 rather than refusing it at once:
  // refused callers come straight back, and answering them costs the event loop more than waiting.
  PASSWORD_CONCURRENCY: int(Math.max(1, availableParallelism() - 1), 1, 16),
  PASSWORD_QUEUE: int(64, 0, 10_000),
  // Publishes admitted and not yet answered, per replica; one more is 503 at once (load shedding).
  // At the sustainable ~300/s measured by the bench this is under a second of waiting.
  PUBLISH_MAX_PENDING: int(256, 1, 100_000),
  // Abuse limits (SECURITY.md). Cluster-wide through Redis; per replica while Redis is away or slower
  // than RATE_LIMIT_TIMEOUT_MS. RATE_LIMITS=off turns every one of them off (tests that are not about them).
  RATE_LIMITS: z
    .enum(['on', 'off', 'true', 'false'])
    .default('on')
    .transform((v) => v === 'on' || v === 'true'),
  RATE_LIMIT_TIMEOUT_MS: int(50, 1, 5_000),
  RATE_REST_PER_USER: rate('300/5s'),
  RATE_PUBLISH_PER_USER: rate('150/5s'),
  RATE_CONNECT_PER_IP: rate('120/1m'),
  RATE_CONNECT_PER_USER: rate('60/1m'),
  RATE_AUTH_PER_IP: rate('30/1m'),
  /**
   * Milliseconds, default 1000; 0 answers at once. A sign-in from an address this replica already refused
   * in the current window of RATE_AUTH_PER_IP is refused before its body is read, and that 429 is held this
   * long first (never past the block): a client retrying the moment it is answered gets one answer per
   * connection per delay, instead of taking the event loop however cheap a refusal is.
   */
  AUTH_REFUSAL_DELAY_MS: int(1_000, 0, 60_000),
  /** Count, default 64: refusals held at once per address (AUTH_REFUSAL_DELAY_MS); past it they are answered at once. */
  AUTH_REFUSALS_HELD_PER_IP: int(64, 0, 10_000),
  // Wrong passwords for one account from one address before each further try waits 1 s, 2 s, 4 s … (at most 15 min).
  LOGIN_FAILS_BEFORE_BACKOFF: int(5, 1, 1_000),
  // Wrong passwords for one account from all addresses together; past it, the account's logins wait out the hour.
  RATE_LOGIN_FAILS_PER_ACCOUNT: rate('50/1h'),
  SUBSCRIPTIONS_PER_SOCKET: int(200, 1, 100_000),
  RATE_SUBSCRIBE_PER_SOCKET: rate('400/10s'),
  RATE_TYPING_PER_SOCKET: rate('10/5s'),
  // Operators' bearer token for /api/cluster and the cluster view (unset with REDIS_URL: they are off).
  ADMIN_TOKEN: optionalString.pipe(z.string().min(32, 'must be at least 32 characters').optional()),
  ADMIN_TOKEN_FILE: optionalString,
  // The built web pages (npm run build writes dist/web); unset: next to the running code.
  WEB_DIR: optionalString,
  // Proxies whose X-Forwarded-For is believed (addresses, CIDRs, or loopback / linklocal / uniquelocal); unset: none.
  TRUSTED_PROXIES: optionalString.transform((v) =>
    v === undefined
      ? undefined
      : v
          .split(',')
          .map((o) => o.trim())
          .filter(Boolean),
  ),
  CORS_ORIGINS: optionalString.transform((v) =>
    v === undefined
      ? undefined
      : v
          .split(',')
          .map((o) => o.trim())
          .filter(Boolean),
  ),
  REPLICA_ID: optionalString.transform((v) => v ?? `${hostname()}-${process.pid}`),
  MIGRATE_ON_START: bool(true),
  MESSAGE_MAX_BYTES: int(16_384, 1, 1_048_576),
  REQUEST_MAX_BYTES: int(65_536, 1024, 16_777_216),
  SOCKET_MAX_BYTES: int(100_000, 1024, 16_777_216),
  // A socket's send buffer (engine.io's queue plus the WebSocket's unsent bytes) past this closes its
  // transport: a client that stops reading costs at most this much, and the client resumes with sinceSeq.
  SOCKET_BUFFER_MAX_BYTES: int(2_097_152, 65_536, 268_435_456),
  /**
   * Bytes of messages one subscribe ack's `missed` may carry (each counted as its body's JSON plus a
   * 320-byte envelope), at most half of SOCKET_BUFFER_MAX_BYTES so an ack and the live messages behind it
   * fit in a socket's send buffer. Past it the ack says hasMore and the client asks again from its head;
   * one message is always carried, however large. Default: a quarter of SOCKET_BUFFER_MAX_BYTES, at most
   * 256 KiB (256 KiB with the default buffer).
   */
  SUBSCRIBE_ACK_MAX_BYTES: z.coerce.number().int().min(1024).max(134_217_728).optional(),
  DRAIN_MS: int(10_000),
  LEASE_TTL_MS: int(10_000, 100),
  PRESENCE_GRACE_MS: int(3_000),
  RECONCILE_MS: int(2_000, 50),
  // How long a seq that arrived early waits for the ones before it before they
  // are read from Postgres.
  HOLDBACK_MS: int(100, 1, 60_000),
  CANARY_INTERVAL_MS: int(1_000, 50),
  // How long a draining replica waits for the load balancer to see it not-ready
  // (HAProxy: fall 2 x inter 1s, plus a margin) before disconnecting sockets.
  DRAIN_NOTICE_MS: int(3_000),
  // /readyz's Postgres probe: its own connection (never the app's pool), every
  // READINESS_INTERVAL_MS, `down` when connecting or `SELECT 1` takes longer than READINESS_TIMEOUT_MS.
  READINESS_INTERVAL_MS: int(1_000, 50, 60_000),
  READINESS_TIMEOUT_MS: int(2_000, 50, 60_000),
  // On shutdown, how long requests already in flight may take to finish once
  // the listener is closed, before the pools and Redis are closed under them.
  SHUTDOWN_GRACE_MS: int(10_000, 0, 600_000),
  /**
   * Set only by the test and bench harnesses (`test` | `bench`) when they start a hub: the one
   * condition under which FAULTS is accepted. Deployments (compose, the cluster script) never set it.
   */
  CROSSWIRE_HARNESS: z.enum(['test', 'bench']).optional(),
  /** Fault switches for the harness, comma-separated (src/faults/faults.ts): refused at start-up without CROSSWIRE_HARNESS. */
  FAULTS: optionalString.transform((v, ctx) => parseFaults(v, ctx)),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
});

type Parsed = z.infer<typeof schema>;
/** The parsed environment, with the defaults that derive from other keys filled in. */
export type AppConfig = Readonly<Omit<Parsed, 'SUBSCRIBE_ACK_MAX_BYTES'> & { SUBSCRIBE_ACK_MAX_BYTES: number }>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/** The one parse of the environment; everything else receives the result. */
export function loadConfig(env: Record<string, string | undefined> = process.env): AppConfig {
  // An empty value means unset (compose's `KEY: ${KEY:-}`), never 0 or "".
  const given = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v.trim() !== ''));
  const result = schema.safeParse(given);
  if (!result.success) {
    throw new ConfigError(result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`));
  }
  const cfg = { ...result.data, SUBSCRIBE_ACK_MAX_BYTES: result.data.SUBSCRIBE_ACK_MAX_BYTES ?? Math.min(262_144, Math.floor(result.data.SOCKET_BUFFER_MAX_BYTES / 4)) };
  const problems: string[] = [];
  if (cfg.JWT_SECRET && cfg.JWT_SECRET_FILE) {
    problems.push('JWT_SECRET, JWT_SECRET_FILE: set one, not both');
  }
  if (cfg.ADMIN_TOKEN && cfg.ADMIN_TOKEN_FILE) {
    problems.push('ADMIN_TOKEN, ADMIN_TOKEN_FILE: set one, not both');
  }
  if (cfg.FAULTS !== NO_FAULTS && !cfg.CROSSWIRE_HARNESS) {
    problems.push('FAULTS: fault switches run only under the test or bench harness (CROSSWIRE_HARNESS), never in a deployment');
  }
  if (cfg.SOCKET_MAX_BYTES < cfg.MESSAGE_MAX_BYTES + 1024) {
    problems.push('SOCKET_MAX_BYTES: must exceed MESSAGE_MAX_BYTES plus the envelope (1 KiB)');
  }
  if (cfg.SUBSCRIBE_ACK_MAX_BYTES > cfg.SOCKET_BUFFER_MAX_BYTES / 2) {
    problems.push('SUBSCRIBE_ACK_MAX_BYTES: must be at most half of SOCKET_BUFFER_MAX_BYTES (an ack and the live messages behind it share a send buffer)');
  }
  if (problems.length) throw new ConfigError(problems);
  return Object.freeze(cfg);
}

export const APP_CONFIG = Symbol('APP_CONFIG');
