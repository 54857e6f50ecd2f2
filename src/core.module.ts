import { type DynamicModule, Global, Module } from '@nestjs/common';
import { TOKEN_SIGNER, TokenSigner } from './auth/tokens.js';
import { APP_CONFIG, type AppConfig } from './config/config.js';
import { DATABASE_URL, DeliveryDb, PrismaService } from './database/prisma.service.js';
import { type JsonLogger, LOGGER } from './logging/logger.js';

export interface CoreOptions {
  config: AppConfig;
  databaseUrl: string;
  jwtSecret: string;
  /** Undefined: /api/cluster answers 404. */
  adminToken?: string;
  logger: JsonLogger;
}

export const ADMIN_TOKEN = Symbol('ADMIN_TOKEN');

/** What start-up resolved (config, database URL, secret, logger), for every module. */
@Global()
@Module({})
export class CoreModule {
  static forRoot(o: CoreOptions): DynamicModule {
    return {
      module: CoreModule,
      providers: [
        { provide: APP_CONFIG, useValue: o.config },
        { provide: DATABASE_URL, useValue: o.databaseUrl },
        { provide: LOGGER, useValue: o.logger },
        { provide: TOKEN_SIGNER, useValue: new TokenSigner(o.jwtSecret, o.config.JWT_TTL) },
        { provide: ADMIN_TOKEN, useValue: o.adminToken ?? null },
        PrismaService,
        DeliveryDb,
      ],
      exports: [APP_CONFIG, DATABASE_URL, LOGGER, TOKEN_SIGNER, ADMIN_TOKEN, PrismaService, DeliveryDb],
    };
  }
}
