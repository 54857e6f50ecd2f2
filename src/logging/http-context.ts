import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type { MetricsService } from '../metrics/metrics.service.js';
import { type JsonLogger, logContext } from './logger.js';

const REQUEST_ID = /^[\w.-]{1,128}$/;

/** The caller's X-Request-Id when sane, else a new one. */
export function requestIdOf(headers: Record<string, string | string[] | undefined>): string {
  const given = headers['x-request-id'];
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
}

/**
 * Per request: a request id (the caller's X-Request-Id when sane), X-Replica-Id,
 * log context for everything the request does, an access log line and the
 * HTTP counter labelled by route pattern (not raw path, which would explode).
 */
export function httpContext(replicaId: string, logger: JsonLogger, metrics: MetricsService) {
  return (req: Request, res: Response, next: NextFunction) => {
    const requestId = requestIdOf(req.headers);
    res.setHeader('X-Request-Id', requestId);
    res.setHeader('X-Replica-Id', replicaId);
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const route = (req.route as { path?: string } | undefined)?.path;
      const label = route ? `${req.baseUrl}${route}` : 'unmatched';
      metrics.httpRequests.inc({ method: req.method, route: label, status: String(res.statusCode) });
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      logger.event(res.statusCode >= 500 ? 'warn' : 'debug', 'http', { requestId, method: req.method, path: req.path, status: res.statusCode, ms: Math.round(ms * 10) / 10 });
    });
    logContext.run({ requestId }, next);
  };
}
