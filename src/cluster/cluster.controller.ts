import { Controller, Get, Header, UseGuards } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { AdminGuard } from './admin.guard.js';
import { type ClusterView, ClusterService } from './cluster.service.js';

// An operators' route, like /metrics: not part of the public API's document.
@ApiExcludeController()
@UseGuards(AdminGuard)
@Controller('cluster')
export class ClusterController {
  constructor(private readonly cluster: ClusterService) {}

  /** Every replica heard from in the last 5 s, Redis and Postgres: what /cluster shows. */
  @Get()
  @Header('Cache-Control', 'no-store')
  view(): Promise<ClusterView> {
    return this.cluster.view();
  }
}
