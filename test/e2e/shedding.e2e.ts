import { describe, expect, it, jest } from '@jest/globals';
import pg from 'pg';
import { emitAck, hubForFile, metricValue, registerUser } from './support/hub.js';
import { until } from '../support/wait.js';

jest.setTimeout(30_000);

const t = hubForFile({ PUBLISH_MAX_PENDING: '3' });

describe('load shedding: publishes waiting on a replica are bounded', () => {
  it('past PUBLISH_MAX_PENDING a publish is 503 / UNAVAILABLE at once; the waiting ones are stored, and the refused one retried with its clientMsgId is stored once', async () => {
    const author = await registerUser(t.call, 'shed');
    const channelId = await t.channel(author);
    const socket = await t.open(author.token);
    // A transaction from outside holds the channel's row: the first batch waits on it, the others queue behind.
    const locker = new pg.Client({ connectionString: t.hub.databaseUrl });
    await locker.connect();
    await locker.query('BEGIN');
    await locker.query('SELECT id FROM channels WHERE id = $1 FOR UPDATE', [channelId]);
    let waiting: Promise<any>[];
    try {
      waiting = [1, 2, 3].map((i) => emitAck(socket, 'message:publish', { channelId, body: i, clientMsgId: `shed-${i}` }));
      await until('three publishes pending', async () => (await metricValue(t.hub.url, 'crosswire_publishes_pending')) === 3);
      const shedBefore = await metricValue(t.hub.url, 'crosswire_shed_total', { what: 'publish' });
      const t0 = Date.now();
      const refused = await emitAck(socket, 'message:publish', { channelId, body: 4, clientMsgId: 'shed-4' });
      expect(refused).toEqual({ ok: false, error: { code: 'UNAVAILABLE', message: 'overloaded: 3 publishes are waiting on this replica, try again shortly' } });
      const rest = await t.call('POST', `/api/channels/${channelId}/messages`, { body: 5, clientMsgId: 'shed-5' }, author.token);
      expect(Date.now() - t0).toBeLessThan(1_000); // refused at once, not after the lock
      expect(rest.status).toBe(503);
      expect(rest.headers.get('retry-after')).toBe('1');
      expect(rest.body.code).toBe('UNAVAILABLE');
      expect((await metricValue(t.hub.url, 'crosswire_shed_total', { what: 'publish' })) - shedBefore).toBe(2);
    } finally {
      await locker.query('COMMIT');
      await locker.end();
    }
    const acks = await Promise.all(waiting);
    expect(acks.map((a) => a.ok && a.message.body)).toEqual([1, 2, 3]);
    expect(await emitAck(socket, 'message:publish', { channelId, body: 4, clientMsgId: 'shed-4' })).toMatchObject({ ok: true, message: { seq: 4, body: 4 } });
    const history = await t.call('GET', `/api/channels/${channelId}/messages`, undefined, author.token);
    expect(history.body.items.map((m: { seq: number; body: number }) => [m.seq, m.body])).toEqual([
      [1, 1],
      [2, 2],
      [3, 3],
      [4, 4],
    ]);
    expect(await metricValue(t.hub.url, 'crosswire_publishes_pending')).toBe(0);
  });
});
