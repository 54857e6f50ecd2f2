import { type DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { AuthModule } from './auth/auth.module.js';
import { ChannelsModule } from './channels/channels.module.js';
import { ClusterModule } from './cluster/cluster.module.js';
import { HttpExceptionFilter } from './common/http-exception.filter.js';
import { CoreModule, type CoreOptions } from './core.module.js';
import { FaultsModule } from './faults/faults.module.js';
import { HealthModule } from './health/health.module.js';
import { MessagesModule } from './messages/messages.module.js';
import { MetricsModule } from './metrics/metrics.module.js';
import { RealtimeModule } from './realtime/realtime.module.js';

@Module({})
export class AppModule {
  static forRoot(core: CoreOptions): DynamicModule {
    return {
      module: AppModule,
      imports: [CoreModule.forRoot(core), MetricsModule, AuthModule, ChannelsModule, MessagesModule, RealtimeModule, HealthModule, ClusterModule, FaultsModule],
      providers: [{ provide: APP_FILTER, useClass: HttpExceptionFilter }],
    };
  }
}
