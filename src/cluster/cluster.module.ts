import { Module } from '@nestjs/common';
import { HealthModule } from '../health/health.module.js';
import { RedisModule } from '../redis/redis.module.js';
import { AdminGuard } from './admin.guard.js';
import { ClusterController } from './cluster.controller.js';
import { ClusterService } from './cluster.service.js';

/** The operators' view of the replicas (the page at /cluster reads it). */
@Module({
  imports: [HealthModule, RedisModule],
  controllers: [ClusterController],
  providers: [ClusterService, AdminGuard],
})
export class ClusterModule {}
