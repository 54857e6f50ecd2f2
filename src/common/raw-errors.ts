import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { requestIdOf } from '../logging/http-context.js';
import { AppError, type ErrorCode } from './errors.js';
import { errorBody } from './http-exception.filter.js';

/** A whole HTTP/1.1 answer in the error shape, for the places that answer before any framework (a bad request line, a refused upgrade). */
export function rawErrorResponse(status: number, code: ErrorCode, message: string, headers: Record<string, string>): string {
  const body = JSON.stringify(errorBody(new AppError(code, message), status));
  const lines = [
    `HTTP/1.1 ${status} ${errorBody(new AppError(code, message), status).error}`,
    'Connection: close',
    'Content-Type: application/json; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
  ];
  for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
  return `${lines.join('\r\n')}\r\n\r\n${body}`;
}

/**
 * Node refuses a request it cannot parse (a request line or headers over its
 * limit: 431; garbage: 400) before Express sees it, with a bare status line:
 * answer those in the error shape instead.
 */
export function shapeClientErrors(server: Server, replicaId: string): void {
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    if (!socket.writable || (socket as Duplex & { _httpMessage?: unknown })._httpMessage) return void socket.destroy();
    const tooLarge = err.code === 'HPE_HEADER_OVERFLOW';
    const headers = { 'X-Request-Id': requestIdOf({}), 'X-Replica-Id': replicaId };
    socket.end(rawErrorResponse(tooLarge ? 431 : 400, 'BAD_REQUEST', tooLarge ? 'request line or headers too large' : 'malformed HTTP request', headers));
  });
  // An Expect other than 100-continue gets Node's bare 417 unless someone listens; RFC 9110 lets a server
  // ignore it, so the request is served as if it had none (found by test/e2e/fuzz.e2e.ts).
  server.on('checkExpectation', (req: IncomingMessage, res: ServerResponse) => server.emit('request', req, res));
}

/**
 * engine.io answers its own refusals (400/403: an unknown session id, a bad
 * transport) and Socket.IO's CORS preflights before any middleware of ours:
 * give them X-Request-Id and X-Replica-Id, and the refusals the error shape.
 */
export function shapeEngineResponses(server: Server, path: string, replicaId: string): void {
  const ours = (req: IncomingMessage) => (req.url ?? '').startsWith(path);
  const requestListeners = server.listeners('request') as Array<(req: IncomingMessage, res: ServerResponse) => void>;
  server.removeAllListeners('request');
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (ours(req)) {
      res.setHeader('X-Request-Id', requestIdOf(req.headers));
      res.setHeader('X-Replica-Id', replicaId);
      reshapeRefusal(res);
    }
    for (const l of requestListeners) l.call(server, req, res);
  });
  const upgradeListeners = server.listeners('upgrade') as Array<(req: IncomingMessage, socket: Duplex, head: Buffer) => void>;
  server.removeAllListeners('upgrade');
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (ours(req)) reshapeUpgradeRefusal(socket, { 'X-Request-Id': requestIdOf(req.headers), 'X-Replica-Id': replicaId });
    for (const l of upgradeListeners) l.call(server, req, socket, head);
  });
}

/** engine.io's refusal body is `{code, message}` (a number and a string) with 400 or 403. */
function reshapeRefusal(res: ServerResponse) {
  const end = res.end.bind(res) as (chunk?: unknown) => ServerResponse;
  res.end = ((chunk?: unknown) => {
    if (res.statusCode !== 400 && res.statusCode !== 403) return end(chunk);
    let message = 'bad request';
    try {
      message = String((JSON.parse(String(chunk)) as { message?: string }).message ?? message);
    } catch {
      /* not engine.io's JSON: keep the generic message */
    }
    const body = JSON.stringify(errorBody(new AppError(res.statusCode === 403 ? 'FORBIDDEN' : 'BAD_REQUEST', message), res.statusCode));
    if (!res.headersSent) res.setHeader('Content-Length', Buffer.byteLength(body));
    return end(body);
  }) as ServerResponse['end'];
}

/** A refused WebSocket upgrade is written straight to the socket as text/html: rewrite it. Only the first write is looked at. */
function reshapeUpgradeRefusal(socket: Duplex, headers: Record<string, string>) {
  // eslint-disable-next-line @typescript-eslint/unbound-method -- only ever put back on this same socket (below), never called unbound
  const original = socket.write;
  const write = original.bind(socket) as (data: unknown, ...rest: unknown[]) => boolean;
  socket.write = ((data: unknown, ...rest: unknown[]) => {
    socket.write = original;
    const text = typeof data === 'string' ? data : '';
    const refused = /^HTTP\/1\.1 (40\d) /.exec(text);
    if (!refused) return write(data, ...rest);
    const status = Number(refused[1]);
    const message = text.slice(text.indexOf('\r\n\r\n') + 4) || 'bad request';
    return write(rawErrorResponse(status, status === 403 ? 'FORBIDDEN' : 'BAD_REQUEST', message, headers), ...rest);
  }) as Duplex['write'];
}
