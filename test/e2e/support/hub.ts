import { afterAll, beforeAll } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { createHub } from '../../../src/bootstrap.js';
import { loadConfig } from '../../../src/config/config.js';
import { JsonLogger } from '../../../src/logging/logger.js';
import { type Api, type ClientSocket, api, connect, emitAck, registerUser } from '../../support/client.js';
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
  const config = loadConfig({ JWT_SECRET: TEST_SECRET, REPLICA_ID: 'e2e-1', LOG_LEVEL: 'silent', PRESENCE_GRACE_MS: '300', RATE_LIMITS: 'off', CROSSWIRE_HARNESS: 'test', ...env });
  const app = await createHub({ config, databaseUrl: db.url, jwtSecret: TEST_SECRET, adminToken: config.ADMIN_TOKEN, logger: new JsonLogger('e2e-1', 'silent') }, 0, '127.0.0.1');
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

export type User = Awaited<ReturnType<typeof registerUser>>;

/**
 * One hub for a whole test file, closed afterwards together with every socket
 * opened through it, and the steps most tests start with.
 */
export function hubForFile(env: Record<string, string> = {}) {
  const sockets: ClientSocket[] = [];
  const cleanups: Array<() => unknown> = [];
  let n = 0;
  // Methods take `this: void`: they reach the context through `ctx`, so tests may take them off it (`const { call, open } = ctx`).
  const ctx = {
    hub: undefined as unknown as TestHub,
    /** REST calls to the hub (usable once the file's tests run). */
    call: ((...args: Parameters<Api>) => api(ctx.hub.url)(...args)) as Api,
    async open(this: void, token: string): Promise<ClientSocket> {
      const s = await connect(ctx.hub.url, token);
      sockets.push(s);
      return s;
    },
    /** A new channel owned by `owner`; its name is unique in the run. */
    async channel(this: void, owner: User, visibility: 'public' | 'private' = 'public', prefix = 'ch'): Promise<string> {
      const res = await ctx.call('POST', '/api/channels', { name: `${prefix}${++n}x${process.pid}x${Date.now()}`, visibility }, owner.token);
      if (res.status !== 201) throw new Error(`create channel: ${res.status} ${JSON.stringify(res.body)}`);
      return res.body.id;
    },
    async addMember(this: void, channelId: string, owner: User, user: User): Promise<void> {
      const res = await ctx.call('POST', `/api/channels/${channelId}/members`, { username: user.username }, owner.token);
      if (res.status !== 201) throw new Error(`add member: ${res.status} ${JSON.stringify(res.body)}`);
    },
    /** Runs `fn` after the file's tests, before the hub and its database go. */
    beforeClose(this: void, fn: () => unknown): void {
      cleanups.push(fn);
    },
    /** Subscribes and returns the ack, which must be ok. */
    async subscribe(this: void, s: ClientSocket, channelId: string, sinceSeq?: number): Promise<any> {
      const ack = await emitAck(s, 'channel:subscribe', { channelId, ...(sinceSeq === undefined ? {} : { sinceSeq }) });
      if (!ack.ok) throw new Error(`subscribe: ${JSON.stringify(ack.error)}`);
      return ack;
    },
  };
  beforeAll(async () => {
    ctx.hub = await startHub(env);
  });
  afterAll(async () => {
    sockets.forEach((s) => s.close());
    for (const fn of cleanups) await fn();
    await ctx.hub?.close();
  });
  return ctx;
}
