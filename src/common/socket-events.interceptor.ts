import { type CallHandler, type ExecutionContext, Injectable, type NestInterceptor } from '@nestjs/common';
import { tap } from 'rxjs';
import { MetricsService } from '../metrics/metrics.service.js';

/** Counts each client event that succeeded; the gateway filter counts the failures. */
@Injectable()
export class SocketEventsInterceptor implements NestInterceptor {
  constructor(private readonly metrics: MetricsService) {}

  intercept(ctx: ExecutionContext, next: CallHandler) {
    const event = String(ctx.switchToWs().getPattern());
    return next.handle().pipe(tap(() => this.metrics.socketEvents.inc({ event, outcome: 'ok' })));
  }
}
