import type { ErrorCode } from '../../src/common/errors.js';

// The documented error shapes (CONTRACT §4 for REST, §5 for acks): each
// check returns what is wrong, or nothing.

const CODE_OF: Record<number, ErrorCode> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  409: 'CONFLICT',
  413: 'PAYLOAD_TOO_LARGE',
  429: 'RATE_LIMITED',
  // Node's own refusal of oversized headers, answered in the shape (src/common/raw-errors.ts)
  431: 'BAD_REQUEST',
};

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

function detailsProblem(details: unknown): string | undefined {
  if (details === undefined) return undefined;
  if (!Array.isArray(details) || details.length === 0) return 'details is not a non-empty array';
  const bad = (details as unknown[]).find((d) => !isObject(d) || typeof d.field !== 'string' || typeof d.reason !== 'string' || Object.keys(d).length !== 2);
  return bad === undefined ? undefined : `a detail is not {field, reason}: ${JSON.stringify(bad)}`;
}

/** `{statusCode, error, code, message, details?}` with the code that belongs to the status. */
export function restErrorProblem(status: number, text: string): string | undefined {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return `body is not JSON: ${JSON.stringify(text.slice(0, 120))}`;
  }
  if (!isObject(body) || Array.isArray(body)) return 'body is not an object';
  const extra = Object.keys(body).filter((k) => !['statusCode', 'error', 'code', 'message', 'details', 'retryAfterMs'].includes(k));
  if (extra.length) return `unexpected keys ${extra.join(', ')}`;
  if (body.statusCode !== status) return `statusCode ${String(body.statusCode)} on a ${status}`;
  if (CODE_OF[status] === undefined) return `status ${status} is not in the contract`;
  if (body.code !== CODE_OF[status]) return `code ${String(body.code)} on a ${status}`;
  if (typeof body.error !== 'string' || !body.error) return 'error is not a reason phrase';
  if (typeof body.message !== 'string') return 'message is not a string';
  return detailsProblem(body.details);
}

/** `{ok: true, ...}` or `{ok: false, error: {code, message, details?}}` with a code the event may answer. */
export function ackProblem(ack: unknown, codes: readonly string[]): string | undefined {
  if (!ack || typeof ack !== 'object') return `ack is not an object: ${JSON.stringify(ack)}`;
  const a = ack as { ok?: unknown; error?: unknown };
  if (a.ok === true) return undefined;
  if (a.ok !== false) return 'ack.ok is neither true nor false';
  const e = a.error;
  if (!isObject(e)) return 'ack.error is missing';
  const extra = Object.keys(e).filter((k) => !['code', 'message', 'details', 'retryAfterMs'].includes(k));
  if (extra.length) return `unexpected ack.error keys ${extra.join(', ')}`;
  if (typeof e.code !== 'string' || !codes.includes(e.code)) return `ack code ${String(e.code)} is not one of ${codes.join(', ')}`;
  if (typeof e.message !== 'string') return 'ack.error.message is not a string';
  return detailsProblem(e.details);
}
