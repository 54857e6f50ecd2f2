import { io, type Socket } from 'socket.io-client';
import type { Json } from '../../src/events/dto.js';
import type { ClientToServerEvents, ServerToClientEvents } from '../../src/events/events.js';

// Client-side helpers shared by the e2e and cluster tiers: REST calls, users,
// sockets and waiting for their events.

export type ClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

/** A message body as text: a string as it is, anything else as JSON (which writes numbers, booleans and null as String() does). */
export const bodyText = (body: Json): string => (typeof body === 'string' ? body : JSON.stringify(body));

export interface Api {
  (method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; body: any; headers: Headers }>;
}

export function api(base: string): Api {
  return async (method, path, body, token) => {
    const res = await fetch(base + path, {
      method,
      headers: {
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      /* not JSON: keep the text */
    }
    return { status: res.status, body: parsed, headers: res.headers };
  };
}

let userCounter = 0;
export async function registerUser(call: Api, prefix = 'user'): Promise<{ id: string; username: string; token: string }> {
  const username = `${prefix}${process.pid % 1000}_${++userCounter}`;
  const res = await call('POST', '/api/auth/register', { username, password: 'password123' });
  if (res.status !== 201) throw new Error(`register failed: ${res.status} ${JSON.stringify(res.body)}`);
  return { id: res.body.user.id, username, token: res.body.token };
}

/** Connects and resolves on `session` (so the server side is fully set up). */
export function connect(url: string, token: string | undefined, opts: Record<string, unknown> = {}): Promise<ClientSocket> {
  const socket: ClientSocket = io(url, { auth: token === undefined ? {} : { token }, transports: ['websocket'], reconnection: false, forceNew: true, ...opts });
  return new Promise((resolve, reject) => {
    socket.once('session', () => resolve(socket));
    socket.once('connect_error', (err) => {
      socket.close();
      reject(err);
    });
  });
}

export function connectError(url: string, token: string | undefined, opts: Record<string, unknown> = {}): Promise<string> {
  return connect(url, token, opts).then(
    (s) => {
      s.close();
      throw new Error('expected connect_error, got a session');
    },
    (e: Error) => e.message,
  );
}

export function emitAck<E extends keyof ClientToServerEvents>(socket: ClientSocket, event: E, payload: unknown): Promise<any> {
  return (socket as any).timeout(10_000).emitWithAck(event, payload);
}

/** Resolves with the first `n` payloads of `event`. */
export function collect<T = any>(socket: ClientSocket, event: keyof ServerToClientEvents, n: number, timeoutMs = 10_000): Promise<T[]> {
  return new Promise((resolve, reject) => {
    const got: T[] = [];
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${n} ${String(event)} (got ${got.length})`)), timeoutMs);
    const on = (p: T) => {
      got.push(p);
      if (got.length >= n) {
        clearTimeout(timer);
        (socket as any).off(event, on);
        resolve(got);
      }
    };
    (socket as any).on(event, on);
  });
}

export const once = <T = any>(socket: ClientSocket, event: keyof ServerToClientEvents, timeoutMs = 10_000) => collect<T>(socket, event, 1, timeoutMs).then((x) => x[0]);

export interface RawResponse {
  status: number;
  body: any;
  text: string;
  headers: Headers;
}

/** A request with exactly the given headers and body (nothing added): for bad-input tests. */
export async function rawRequest(
  base: string,
  method: string,
  path: string,
  init: { headers?: Record<string, string>; body?: string | Buffer | ReadableStream<Uint8Array> } = {},
): Promise<RawResponse> {
  const stream = typeof (init.body as ReadableStream | undefined)?.getReader === 'function';
  const res = await fetch(base + path, {
    method,
    headers: init.headers,
    body: init.body as BodyInit | undefined,
    ...(stream ? { duplex: 'half' } : {}),
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    /* not JSON: keep the text */
  }
  return { status: res.status, body, text, headers: res.headers };
}

/** Resolves with the reason of the socket's next `disconnect`; rejects after `timeoutMs`. */
export function disconnected(socket: ClientSocket, timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    if (!socket.connected) return reject(new Error('socket is not connected'));
    const timer = setTimeout(() => {
      socket.off('disconnect', on);
      reject(new Error(`no disconnect within ${timeoutMs} ms`));
    }, timeoutMs);
    const on = (reason: string) => {
      clearTimeout(timer);
      resolve(reason);
    };
    socket.once('disconnect', on);
  });
}

/** Like connect(), but also resolves with the `session` payload. */
export function connectSession(url: string, token: string, opts: Record<string, unknown> = {}): Promise<{ socket: ClientSocket; session: { userId: string; replicaId: string } }> {
  const socket: ClientSocket = io(url, { auth: { token }, transports: ['websocket'], reconnection: false, forceNew: true, ...opts });
  return new Promise((resolve, reject) => {
    socket.once('session', (session) => resolve({ socket, session }));
    socket.once('connect_error', (err) => {
      socket.close();
      reject(err);
    });
  });
}

/** Accumulates `event` payloads until `done(all)` holds. */
export function collectUntil<T = any>(socket: ClientSocket, event: keyof ServerToClientEvents, done: (all: T[]) => boolean, timeoutMs = 30_000): Promise<T[]> {
  return new Promise((resolve, reject) => {
    const got: T[] = [];
    const timer = setTimeout(() => {
      (socket as any).off(event, on);
      reject(new Error(`timed out collecting ${String(event)} (got ${got.length})`));
    }, timeoutMs);
    const on = (p: T) => {
      got.push(p);
      if (done(got)) {
        clearTimeout(timer);
        (socket as any).off(event, on);
        resolve(got);
      }
    };
    (socket as any).on(event, on);
  });
}

export interface Recorder<T> {
  /** Every payload of the event since the recorder was made, in arrival order. */
  readonly items: T[];
  /** Resolves with the first payload (already received or still to come) that matches. */
  waitFor(match: (p: T) => boolean, timeoutMs?: number): Promise<T>;
  stop(): void;
}

/** Records every payload of `event` on `socket`, so a test can wait for one that may already have arrived. */
export function record<T = any>(socket: ClientSocket, event: keyof ServerToClientEvents): Recorder<T> {
  const items: T[] = [];
  const waiters = new Set<{ match: (p: T) => boolean; resolve: (p: T) => void }>();
  const on = (p: T) => {
    items.push(p);
    for (const w of [...waiters]) {
      if (w.match(p)) {
        waiters.delete(w);
        w.resolve(p);
      }
    }
  };
  (socket as any).on(event, on);
  return {
    items,
    waitFor(match, timeoutMs = 10_000) {
      const found = items.find(match);
      if (found !== undefined) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const w = {
          match,
          resolve: (p: T) => {
            clearTimeout(timer);
            resolve(p);
          },
        };
        const timer = setTimeout(() => {
          waiters.delete(w);
          reject(new Error(`timed out waiting for a matching ${String(event)} (got ${items.length})`));
        }, timeoutMs);
        waiters.add(w);
      });
    },
    stop() {
      (socket as any).off(event, on);
    },
  };
}

/** A counter or gauge from the hub's /metrics (0 when absent), the sum over series matching `labels`. */
export async function metricValue(base: string, name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+)(\{[^}]*\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const series = m[2] ?? '';
    if (Object.entries(labels).every(([k, v]) => series.includes(`${k}="${v}"`))) sum += Number(m[3]);
  }
  return sum;
}
