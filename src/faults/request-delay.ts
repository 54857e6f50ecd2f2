import type { NextFunction, Request, Response } from 'express';
import type { JsonLogger } from '../logging/logger.js';

/**
 * Fault `request-delay=MS`: holds each /api request before it is handled,
 * logging that it is held, so a test can make a request be in flight when
 * something else happens (a shutdown) without racing it.
 */
export function requestDelay(ms: number, logger: JsonLogger) {
  return (req: Request, _res: Response, next: NextFunction) => {
    logger.event('info', 'fault: request held', { path: req.path, ms });
    setTimeout(next, ms);
  };
}
