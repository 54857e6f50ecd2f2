import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { AppModule } from './app.module.js';
import type { Request, Response } from 'express';
import { notFound } from './common/errors.js';
import { jsonBodyMiddleware } from './common/http-body.js';
import { errorBody } from './common/http-exception.filter.js';
import { shapeClientErrors } from './common/raw-errors.js';
import type { CoreOptions } from './core.module.js';
import { httpContext, requestIdOf } from './logging/http-context.js';
import helmet from 'helmet';
import { defaultWebDir, webPages } from './web/web-pages.js';
import { MetricsService } from './metrics/metrics.service.js';
import { originAllowed } from './realtime/transport/origin.js';
import { CrosswireIoAdapter } from './realtime/transport/io.adapter.js';
import { REDIS_CLIENTS } from './redis/redis.provider.js';
import { requestDelay } from './faults/request-delay.js';
import { trackInFlight, trackRequests } from './shutdown.js';
import cors from 'cors';
import { inFrontOf, signInGate } from './auth/sign-in-gate.js';
import { clientIpResolver } from './common/client-ip.js';
import { LimitsService } from './limits/limits.service.js';

/** Builds the hub and listens; used by main.ts and by the e2e tests (port 0). */
export async function createHub(core: CoreOptions, port = core.config.PORT, host = core.config.HOST): Promise<INestApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(core), {
    bodyParser: false,
    logger: core.logger,
  });
  app.disable('x-powered-by');
  // Only configured proxies' X-Forwarded-For is believed (req.ip).
  app.set('trust proxy', core.config.TRUSTED_PROXIES ?? false);
  app.use(trackRequests(app));
  app.use(httpContext(core.config.REPLICA_ID, core.logger, app.get(MetricsService)));
  if (core.config.FAULTS.requestDelayMs > 0) app.use('/api', requestDelay(core.config.FAULTS.requestDelayMs, core.logger));
  // Security headers everywhere; the strict CSP is the pages' own (Swagger UI needs inline script).
  const securityHeaders = helmet({ contentSecurityPolicy: false });
  app.use(securityHeaders);
  app.use(webPages(core.config.WEB_DIR ?? defaultWebDir()));
  app.use(...jsonBodyMiddleware(core.config.REQUEST_MAX_BYTES));
  const allowList = core.config.CORS_ORIGINS;
  const corsOptions = {
    origin: (origin: string | undefined, cb: (e: Error | null, allow: boolean) => void) => cb(null, !allowList || originAllowed(origin, undefined, allowList)),
    exposedHeaders: ['X-Replica-Id', 'X-Request-Id', 'Retry-After'],
  };
  app.enableCors(corsOptions);
  app.setGlobalPrefix('api', { exclude: ['healthz', 'readyz', 'metrics'] });
  app.useWebSocketAdapter(new CrosswireIoAdapter(app, core.config, app.get(REDIS_CLIENTS)));
  const doc = SwaggerModule.createDocument(
    app,
    new DocumentBuilder().setTitle('Crosswire').setDescription('REST half of the Crosswire contract; socket events are in docs/CONTRACT.md').setVersion('1').addBearerAuth().build(),
  );
  SwaggerModule.setup('api/docs', app, doc, { jsonDocumentUrl: 'api/docs-json' });
  await app.init();
  // Nest answers a 404 in the error shape only under /api and its excluded routes; anything else ends here.
  app.use((_req: Request, res: Response) => res.status(404).json(errorBody(notFound('route'))));
  shapeClientErrors(app.getHttpServer(), core.config.REPLICA_ID);
  // Refused sign-ins are answered in front of Express, with the headers it would have set (the same Helmet, CORS's options).
  const corsHeaders = cors(corsOptions);
  const gate = signInGate(
    {
      limits: app.get(LimitsService),
      metrics: app.get(MetricsService),
      logger: core.logger,
      clientIp: clientIpResolver(core.config.TRUSTED_PROXIES),
      headers: (req, res, then) => {
        res.setHeader('X-Request-Id', requestIdOf(req.headers));
        res.setHeader('X-Replica-Id', core.config.REPLICA_ID);
        securityHeaders(req, res, () => corsHeaders(req, res, then));
      },
      track: (res) => trackInFlight(app, res),
    },
    { delayMs: core.config.AUTH_REFUSAL_DELAY_MS, heldPerAddress: core.config.AUTH_REFUSALS_HELD_PER_IP },
  );
  inFrontOf(app.getHttpServer(), gate);
  await app.listen(port, host);
  return app;
}
