import { AppError } from './errors.js';

// Postgres and driver signals that mean "the dependency is not there right now",
// as opposed to a bug or bad input: connection refused or reset, the server
// shutting down or starting up, the pool timing out.
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH']);
const PG_CODES = new Set(['57P01', '57P02', '57P03', '53300', '08000', '08003', '08006', '08001', '08004']);
const PRISMA_CODES = new Set(['P1001', 'P1002', 'P1008', 'P1017', 'P2024']);
const KINDS = new Set(['DatabaseNotReachable', 'ConnectionClosed', 'SocketTimeout', 'TooManyConnections', 'TransactionAlreadyClosed']);
const MESSAGES =
  /Connection terminated|connection timeout|timeout exceeded when trying to connect|Can't reach database|Client has encountered a connection error|terminating connection|the database system is (starting up|shutting down)|Transaction API error|Server has closed the connection|not queryable/i;

export function isUnavailableError(err: unknown, depth = 0): boolean {
  if (!err || typeof err !== 'object' || depth > 5) return false;
  const e = err as Record<string, unknown>;
  if (typeof e.code === 'string' && (NETWORK_CODES.has(e.code) || PG_CODES.has(e.code) || PRISMA_CODES.has(e.code))) return true;
  if (typeof e.originalCode === 'string' && PG_CODES.has(e.originalCode)) return true;
  if (typeof e.kind === 'string' && KINDS.has(e.kind)) return true;
  if (typeof e.message === 'string' && MESSAGES.test(e.message)) return true;
  if (Array.isArray(e.errors) && e.errors.some((x) => isUnavailableError(x, depth + 1))) return true;
  return isUnavailableError(e.cause, depth + 1);
}

export const unavailable = (what = 'database') => new AppError('UNAVAILABLE', `${what} is unavailable, try again shortly`);

/** Maps any thrown value to an AppError; unknown failures become INTERNAL. */
export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  if (isUnavailableError(err)) return unavailable();
  return new AppError('INTERNAL', 'internal error');
}
