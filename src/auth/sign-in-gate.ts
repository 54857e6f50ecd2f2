import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { rateLimitedMessage } from '../common/errors.js';
import { errorBody, retryAfterSeconds } from '../common/http-exception.filter.js';
import { type LimitsService, SIGN_IN_ATTEMPTS } from '../limits/limits.service.js';
import type { JsonLogger } from '../logging/logger.js';
import type { MetricsService } from '../metrics/metrics.service.js';

/** Refusals held at once on this replica, all addresses together: each keeps a socket and a timer. */
const MAX_HELD = 10_000;

/** The sign-in routes, as Express matches them (case-insensitive, a trailing slash allowed, the query ignored). */
const ROUTES = new Set(['/api/auth/login', '/api/auth/register']);

export interface SignInGateOptions {
  /** How long a refusal is held before it is answered (never past the address's block); 0: at once. */
  delayMs: number;
  /** Refusals held at once per address; past it, answered at once. */
  heldPerAddress: number;
}

export interface SignInGateDeps {
  limits: LimitsService;
  metrics: MetricsService;
  logger: JsonLogger;
  /** The caller's address, as Express's req.ip (the limiter's key) has it. */
  clientIp: (req: IncomingMessage) => string;
  /** Sets what every answer of the hub carries (request and replica ids, Helmet's and CORS headers), then calls `then`. */
  headers: (req: IncomingMessage, res: ServerResponse, then: () => void) => void;
  /** Counts the answer as a request in flight until it is sent, so a graceful close waits for a held one. */
  track: (res: ServerResponse) => void;
}

/** The route of a sign-in request, or undefined for any other request. */
function signInRoute(req: IncomingMessage): string | undefined {
  if (req.method !== 'POST' || !req.url) return undefined;
  const q = req.url.indexOf('?');
  let path = (q < 0 ? req.url : req.url.slice(0, q)).toLowerCase();
  if (path.length > 1 && path.endsWith('/')) path = path.slice(0, -1);
  return ROUTES.has(path) ? path : undefined;
}

/**
 * The sign-in routes' first check, in front of Express and Nest (CONTRACT
 * §3): a sign-in from an address this replica already refused in the current
 * window of RATE_AUTH_PER_IP is answered 429 here, in CONTRACT §4's shape,
 * before its body is read. Measured on one refused login (docs/performance.md):
 * through Nest it paid body parsing, the pipeline, a Redis round trip, an
 * exception and its filter; through Express alone, its router and middleware
 * still cost about twice what this does.
 *
 * A client that retries the moment it is answered adapts to whatever a
 * refusal costs and takes the event loop either way, so the refusal is held
 * `delayMs` first: each of its connections then gets one answer per delay.
 * Holding is bounded (`heldPerAddress`, MAX_HELD); past the bound the answer
 * goes at once, still cheap.
 *
 * Returns the request handler: true when it took the request (answered or
 * holding it), false to pass it on.
 */
export function signInGate(deps: SignInGateDeps, o: SignInGateOptions): (req: IncomingMessage, res: ServerResponse) => boolean {
  const held = new Map<string, number>();
  let total = 0;

  const answer = (req: IncomingMessage, res: ServerResponse, route: string, retryAfterMs: number, started: number) =>
    deps.headers(req, res, () => {
      const body = JSON.stringify(errorBody({ code: 'RATE_LIMITED', status: 429, message: rateLimitedMessage(SIGN_IN_ATTEMPTS, retryAfterMs), retryAfterMs }));
      res.statusCode = 429;
      res.setHeader('Retry-After', String(retryAfterSeconds(retryAfterMs)));
      res.setHeader('Content-Type', 'application/json; charset=utf-8');
      res.setHeader('Content-Length', Buffer.byteLength(body));
      res.end(body);
      deps.metrics.httpRequests.inc({ method: 'POST', route, status: '429' });
      deps.logger.event('debug', 'http', { requestId: res.getHeader('X-Request-Id'), method: 'POST', path: route, status: 429, ms: Math.round((performance.now() - started) * 10) / 10 });
    });

  return (req, res) => {
    const route = signInRoute(req);
    if (!route) return false;
    const ip = deps.clientIp(req);
    const blockedMs = deps.limits.blockedSignIn(ip);
    if (blockedMs === 0) return false;
    const started = performance.now();
    deps.track(res);
    const n = held.get(ip) ?? 0;
    if (o.delayMs === 0 || n >= o.heldPerAddress || total >= MAX_HELD) {
      answer(req, res, route, blockedMs, started);
      return true;
    }
    held.set(ip, n + 1);
    total++;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      total--;
      const left = (held.get(ip) ?? 1) - 1;
      if (left > 0) held.set(ip, left);
      else held.delete(ip);
    };
    const timer = setTimeout(
      () => {
        release();
        answer(req, res, route, Math.max(1, deps.limits.signInBlockLeft(ip)), started);
      },
      Math.min(o.delayMs, blockedMs),
    );
    // The client gave up first: nothing to answer.
    res.once('close', () => {
      clearTimeout(timer);
      release();
    });
    return true;
  };
}

/** Puts `handle` in front of the server's request listeners (engine.io's, then Express's): what it takes goes no further. */
export function inFrontOf(server: Server, handle: (req: IncomingMessage, res: ServerResponse) => boolean): void {
  const listeners = server.listeners('request') as Array<(req: IncomingMessage, res: ServerResponse) => void>;
  server.removeAllListeners('request');
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (handle(req, res)) return;
    for (const l of listeners) l.call(server, req, res);
  });
}
