import { Module } from '@nestjs/common';
import { EventsModule } from '../events/events.module.js';
import { HealthController } from './health.controller.js';
import { ReadinessService } from './readiness.service.js';

@Module({ imports: [EventsModule], controllers: [HealthController], providers: [ReadinessService], exports: [ReadinessService] })
export class HealthModule {}
