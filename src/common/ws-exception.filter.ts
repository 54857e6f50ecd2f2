import { type ArgumentsHost, Catch, type ExceptionFilter, Inject, Injectable } from '@nestjs/common';
import { LOGGER, type JsonLogger } from '../logging/logger.js';
import { MetricsService } from '../metrics/metrics.service.js';
import type { ErrorBody } from '../events/dto.js';
import { toAppError } from './unavailable.js';

/**
 * Global filters do not cover gateways: this one turns whatever a handler or
 * pipe threw into the negative ack `{ok:false, error}`. An event sent without
 * an ack callback has its answer dropped, as docs/SPEC.md says.
 */
@Catch()
@Injectable()
export class WsExceptionFilter implements ExceptionFilter {
  constructor(
    @Inject(LOGGER) private readonly logger: JsonLogger,
    private readonly metrics: MetricsService,
  ) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const err = toAppError(exception);
    const ws = host.switchToWs();
    const socket = ws.getClient<{ id?: string }>();
    if (err.code === 'INTERNAL') this.logger.event('error', 'socket handler failed', { socketId: socket?.id, err: String((exception as Error)?.stack ?? exception) });
    this.metrics.socketEvents.inc({ event: String(ws.getPattern()), outcome: err.code });
    const ack = host
      .getArgs()
      .slice(1)
      .find((a): a is (x: unknown) => void => typeof a === 'function');
    const error: ErrorBody = { code: err.code, message: err.message, ...(err.details ? { details: err.details } : {}), ...(err.retryAfterMs !== undefined ? { retryAfterMs: err.retryAfterMs } : {}) };
    ack?.({ ok: false, error });
  }
}
