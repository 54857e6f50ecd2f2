import { jest } from '@jest/globals';
import { api, registerUser } from '../support/client.js';
import { freePort } from '../support/free-port.js';
import { type Cluster, Replica, startCluster, until } from './support/cluster.js';

jest.setTimeout(90_000);

// Long enough that the shutdown reaches app.close() while the request is still
// held (the drain's notice and steps below take well under a second).
const HOLD_MS = 4_000;

/**
 * Nest's close() runs onModuleDestroy (Postgres pools, Redis) before it closes
 * the HTTP server: a request in flight when shutdown starts must still find
 * its pool. The fault request-delay holds the request until after the shutdown
 * has begun, so the race is not left to timing.
 */
describe('shutdown order: a request in flight when the signal arrives completes 2xx', () => {
  let cluster: Cluster;
  let token: string;
  let channelId: string;
  beforeAll(async () => {
    cluster = await startCluster(1, { DRAIN_NOTICE_MS: '200', DRAIN_MS: '200' });
    const call = api(cluster.replicas[0].url);
    token = (await registerUser(call, 'shut')).token;
    channelId = (await call('POST', '/api/channels', { name: `shutdown-${Date.now()}` }, token)).body.id;
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it.each(['SIGTERM', 'SIGINT'] as const)('%s while a publish is held in flight: the publish is answered 201 and stored, the replica waited for it, then exited 0', async (signal) => {
    const held = new Replica(`held-${signal}`, await freePort(), cluster.env);
    await held.start({ FAULTS: `request-delay=${HOLD_MS}` });
    const sent = Date.now();
    const answer = fetch(`${held.url}/api/channels/${channelId}/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ body: signal, clientMsgId: `shutdown-${signal}` }),
    }).then(async (r) => ({ status: r.status, body: await r.json(), at: Date.now() }));
    await until('the publish is held in the replica', () => held.logged('fault: request held').length === 1, 10_000, 20);

    const exit = held.kill(signal);
    const res = await answer;
    expect({ status: res.status, body: res.body.body }).toEqual({ status: 201, body: signal });
    expect(await exit).toBe(0);
    // The shutdown reached its close while the request was held, and waited for it.
    expect(held.logged('waiting for requests in flight')).toHaveLength(1);
    expect(held.logged('requests in flight finished')).toHaveLength(1);
    expect(res.at - sent).toBeGreaterThanOrEqual(HOLD_MS);
    const stored = await api(cluster.replicas[0].url)('GET', `/api/channels/${channelId}/messages`, undefined, token);
    expect(stored.body.items.filter((m: any) => m.clientMsgId === `shutdown-${signal}`)).toHaveLength(1);
  });
});
