import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Inject } from '@nestjs/common';
import type { Response } from 'express';
import { LOGGER, type JsonLogger } from '../logging/logger.js';
import { AppError, type ErrorCode, STATUS_OF } from './errors.js';
import { toAppError } from './unavailable.js';

const CODE_OF_STATUS: Record<number, ErrorCode> = Object.fromEntries(Object.entries(STATUS_OF).map(([code, status]) => [status, code as ErrorCode]));
const REASON: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Payload Too Large',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** docs/SPEC.md's error body: {statusCode, error, code, message, details?}. */
export function errorBody(err: Pick<AppError, 'code' | 'message' | 'details' | 'retryAfterMs' | 'status'>, status = err.status) {
  return {
    statusCode: status,
    error: REASON[status] ?? 'Error',
    code: err.code,
    message: err.message,
    ...(err.details ? { details: err.details } : {}),
    ...(err.retryAfterMs !== undefined ? { retryAfterMs: err.retryAfterMs } : {}),
  };
}

/** Retry-After for a RATE_LIMITED answer: whole seconds, at least 1 (CONTRACT §4). */
export const retryAfterSeconds = (retryAfterMs: number | undefined) => Math.max(1, Math.ceil((retryAfterMs ?? 1000) / 1000));

/** Nest's own exceptions (unknown route, …) keep their status in our shape. */
function fromHttpException(e: HttpException): AppError {
  const status = e.getStatus();
  const response = e.getResponse();
  // Nest's response object: {statusCode, message, error}, the message a string or (ValidationPipe-style) a list of them.
  const message = typeof response === 'string' ? response : String((response as { message?: string | string[] }).message ?? e.message);
  return new AppError(CODE_OF_STATUS[status] ?? (status >= 500 ? 'INTERNAL' : 'BAD_REQUEST'), message);
}

@Catch()
export class HttpExceptionFilter implements ExceptionFilter {
  constructor(@Inject(LOGGER) private readonly logger: JsonLogger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    const err = exception instanceof HttpException ? fromHttpException(exception) : toAppError(exception);
    const status = exception instanceof HttpException ? exception.getStatus() : err.status;
    if (err.code === 'INTERNAL') this.logger.error(exception);
    else if (err.code === 'UNAVAILABLE') this.logger.event('warn', 'dependency unavailable', { err: String(exception) });
    if (res.headersSent) return;
    if (err.code === 'UNAVAILABLE') res.setHeader('Retry-After', '1');
    if (err.code === 'RATE_LIMITED') res.setHeader('Retry-After', String(retryAfterSeconds(err.retryAfterMs)));
    res.status(status).json(errorBody(err, status));
  }
}
