import type { INestApplication } from '@nestjs/common';
import { createHub } from '../../../src/bootstrap.js';
import { loadConfig } from '../../../src/config/config.js';
import { JsonLogger } from '../../../src/logging/logger.js';
import { createTestDatabase } from '../../support/database.js';

export interface TestHub {
  app: INestApplication;
  url: string;
  databaseUrl: string;
  secret: string;
  close(): Promise<void>;
}

export const TEST_SECRET = 'e2e-secret-'.padEnd(48, 'x');

/** The real app on port 0 against its own database cloned from the migrated template. */
export async function startHub(env: Record<string, string> = {}): Promise<TestHub> {
  const db = await createTestDatabase();
  const config = loadConfig({ JWT_SECRET: TEST_SECRET, REPLICA_ID: 'e2e-1', LOG_LEVEL: 'silent', PRESENCE_GRACE_MS: '300', ...env });
  const app = await createHub({ config, databaseUrl: db.url, jwtSecret: TEST_SECRET, logger: new JsonLogger('e2e-1', 'silent') }, 0, '127.0.0.1');
  const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  return {
    app,
    url,
    databaseUrl: db.url,
    secret: TEST_SECRET,
    async close() {
      await app.close();
      await db.drop();
    },
  };
}

export * from '../../support/client.js';
