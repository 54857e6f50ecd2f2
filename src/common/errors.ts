/** The error codes shared by REST bodies and socket acks (docs/SPEC.md). */
export type ErrorCode = 'BAD_REQUEST' | 'UNAUTHORIZED' | 'FORBIDDEN' | 'NOT_FOUND' | 'CONFLICT' | 'PAYLOAD_TOO_LARGE' | 'RATE_LIMITED' | 'UNAVAILABLE' | 'INTERNAL';

export interface FieldProblem {
  field: string;
  reason: string;
}

export const STATUS_OF: Record<ErrorCode, number> = {
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  RATE_LIMITED: 429,
  UNAVAILABLE: 503,
  INTERNAL: 500,
};

/** What services throw; the HTTP and gateway filters translate it for their door. */
export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: FieldProblem[],
    /** RATE_LIMITED: when the caller may try again (Retry-After, and the ack's `retryAfterMs`). */
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'AppError';
  }

  get status(): number {
    return STATUS_OF[this.code];
  }
}

export const notFound = (what: string) => new AppError('NOT_FOUND', `${what} not found`);
export const forbidden = (message: string) => new AppError('FORBIDDEN', message);
export const conflict = (message: string) => new AppError('CONFLICT', message);
export const unauthorized = (message = 'unauthorized') => new AppError('UNAUTHORIZED', message);
export const badRequest = (message: string, details?: FieldProblem[]) => new AppError('BAD_REQUEST', message, details);
/** A RATE_LIMITED message: what there were too many of, and when to retry (none: a cap, not a rate). */
export const rateLimitedMessage = (what: string, retryAfterMs?: number) => (retryAfterMs === undefined ? `too many ${what}` : `too many ${what}; try again in ${Math.ceil(retryAfterMs / 1000)} s`);
/** Over a limit. Without `retryAfterMs` the caller must change something first (a cap, not a rate). */
export const rateLimited = (what: string, retryAfterMs?: number) => new AppError('RATE_LIMITED', rateLimitedMessage(what, retryAfterMs), undefined, retryAfterMs);
