import { Global, Module } from '@nestjs/common';
import { Background } from './background.js';
import { MetricsService } from './metrics.service.js';

/** Global; it imports nothing and its providers use only CoreModule's logger (global, importing nothing): no cycle can hide behind either. */
@Global()
@Module({ providers: [MetricsService, Background], exports: [MetricsService, Background] })
export class MetricsModule {}
