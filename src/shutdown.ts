import type { INestApplication } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import type { Server, ServerResponse } from 'node:http';
import { withTimeout } from './common/with-timeout.js';
import type { JsonLogger } from './logging/logger.js';

interface InFlight {
  count: number;
  onIdle: Array<() => void>;
}

const inFlight = new WeakMap<INestApplication, InFlight>();

/** Counts `res` as a request of the app in flight until it closes, for closeHub. */
export function trackInFlight(app: INestApplication, res: ServerResponse): void {
  let state = inFlight.get(app);
  if (!state) inFlight.set(app, (state = { count: 0, onIdle: [] }));
  const s = state;
  s.count++;
  res.once('close', () => {
    if (--s.count === 0) s.onIdle.splice(0).forEach((f) => f());
  });
}

/**
 * Counts the app's HTTP requests in flight (Express's, and the refused
 * sign-ins answered in front of it; engine.io answers its own requests before
 * Express, so long-polls are not counted), for closeHub.
 */
export function trackRequests(app: INestApplication) {
  return (_req: Request, res: Response, next: NextFunction) => {
    trackInFlight(app, res);
    next();
  };
}

/**
 * Closes the hub in the order a request in flight needs: stop accepting
 * connections, let the requests already in flight finish (at most `graceMs`),
 * then app.close(). Nest's close runs the modules' onModuleDestroy (the
 * Postgres pools, Redis) before it closes the HTTP server, so closing the app
 * first would pull the pool from under those requests.
 */
export async function closeHub(app: INestApplication, graceMs: number, logger: JsonLogger): Promise<void> {
  const server = app.getHttpServer() as Server;
  const state = inFlight.get(app);
  // Node closes the idle keep-alive connections too; Nest's own close() later waits for the rest.
  server.close();
  if (state && state.count > 0) {
    logger.event('info', 'waiting for requests in flight', { count: state.count, graceMs });
    const idle = new Promise<boolean>((r) => state.onIdle.push(() => r(true)));
    const finished = await withTimeout(idle, graceMs, false);
    logger.event(finished ? 'info' : 'warn', finished ? 'requests in flight finished' : 'requests still in flight after the grace', { count: state.count });
    // Keep-alive connections that carried them are idle now.
    server.closeIdleConnections();
  }
  await app.close();
}
