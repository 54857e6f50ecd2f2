import { jest } from '@jest/globals';
import pg from 'pg';
import { api, connect, registerUser, type ClientSocket } from '../support/client.js';
import { ackedOutcome, expectedOutcome, spread } from './support/acked.js';
import { type Cluster, type Replica, startCluster, until } from './support/cluster.js';
import type { PublishedRecord } from './support/publisher.js';
import { storedMessages } from './support/publisher.js';
import { Subscriber } from './support/subscriber.js';

jest.setTimeout(120_000);

const POOL = 10; // DATABASE_POOL_SIZE's default
const POOL_WAIT_MS = 3_000; // the pool's connectionTimeoutMillis (src/database/prisma.service.ts)
const HOLD_MS = 6_000; // how long the pool stays exhausted: past the pool's wait, so some requests give up
const CHANNELS = POOL + 2;

interface Answer {
  k: number;
  status: number;
  retryAfter: string | null;
  ms: number;
  at: number;
  body: any;
}

/**
 * Every connection of one replica's pool held by a publish that waits on a
 * row lock (a transaction from outside holds the channels' rows), for longer
 * than a request waits for a connection.
 */
describe('Postgres pool exhausted on one replica of three', () => {
  let cluster: Cluster;
  let hot: Replica;
  const subs: Subscriber[] = [];
  const sockets: ClientSocket[] = [];
  afterAll(async () => {
    subs.forEach((s) => s.close());
    sockets.forEach((s) => s.close());
    await cluster?.stop();
  });

  it('its requests wait, then get 201 when a connection frees or 503 UNAVAILABLE + Retry-After after the pool wait; other replicas keep answering publishes 201; it never crashes; retried with their clientMsgId every publish is stored once and reaches every subscriber once, in order', async () => {
    cluster = await startCluster(3);
    const replicas = cluster.replicas;
    hot = replicas[0];
    const call = api(replicas[1].url);
    const user = await registerUser(call, 'pool');
    const channels: string[] = [];
    for (let k = 0; k < CHANNELS; k++) channels.push((await call('POST', '/api/channels', { name: `pool-${k}-${Date.now()}` }, user.token)).body.id);
    const free = (await call('POST', '/api/channels', { name: `pool-free-${Date.now()}` }, user.token)).body.id;
    // Per channel a subscriber on each replica, the hot one included.
    const subsOf: Subscriber[][] = [];
    for (const id of channels) {
      const mine: Subscriber[] = [];
      for (const [i, r] of replicas.entries()) {
        const s = new Subscriber(() => [...replicas.slice(i), ...replicas.slice(0, i)].map((x) => x.url), user.token, id);
        await s.start();
        expect(s.replicas).toEqual([r.id]);
        mine.push(s);
        subs.push(s);
      }
      subsOf.push(mine);
    }
    const socket = await connect(hot.url, user.token);
    sockets.push(socket);

    const locker = new pg.Client({ connectionString: cluster.db.url });
    const observer = new pg.Client({ connectionString: cluster.db.url });
    await Promise.all([locker.connect(), observer.connect()]);
    await locker.query('BEGIN');
    await locker.query('SELECT id FROM channels WHERE id = ANY($1::uuid[]) FOR UPDATE', [channels]);

    const publish = (k: number, attempt: number): Promise<Answer> => {
      const sent = Date.now();
      return api(hot.url)('POST', `/api/channels/${channels[k]}/messages`, { body: { k }, clientMsgId: `pool-${k}` }, user.token).then((r) => ({
        k,
        status: r.status,
        retryAfter: r.headers.get('retry-after'),
        ms: Date.now() - sent,
        at: Date.now(),
        body: attempt >= 0 ? r.body : undefined,
      }));
    };
    const first = channels.map((_, k) => publish(k, 0));
    await until(
      'every pooled connection waiting on the lock',
      async () => {
        const { rows } = await observer.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> $1", [
          (locker as any).processID,
        ]);
        return rows[0].n === POOL;
      },
      15_000,
      50,
    );
    const exhaustedAt = Date.now();

    // While exhausted: a socket publish on the hot replica waits in its channel's queue behind the held batch;
    // a read that needs a connection waits, then 503; another replica publishes at its usual speed.
    const socketAck: Promise<{ ack: any; at: number }> = (socket as any)
      .timeout(HOLD_MS + 10_000)
      .emitWithAck('message:publish', { channelId: channels[0], body: 'by socket', clientMsgId: 'pool-socket' })
      .then((ack: any) => ({ ack, at: Date.now() }));
    const meSent = Date.now();
    const me = await api(hot.url)('GET', '/api/me', undefined, user.token);
    const meMs = Date.now() - meSent;
    const elsewhere: number[] = [];
    for (let n = 0; n < 5; n++) {
      const t = Date.now();
      const r = await api(replicas[1 + (n % 2)].url)('POST', `/api/channels/${free}/messages`, { body: n, clientMsgId: `free-${n}` }, user.token);
      expect(r.status).toBe(201);
      elsewhere.push(Date.now() - t);
    }
    const ready = await fetch(`${hot.url}/readyz`);
    expect({ status: ready.status, body: await ready.json() }).toEqual({
      status: 200,
      body: { status: 'degraded', checks: { postgres: 'busy', redis: 'ok', fanout: 'ok', draining: false } },
    });
    await new Promise((r) => setTimeout(r, exhaustedAt + HOLD_MS - Date.now()));
    const releasedAt = Date.now();
    await locker.query('COMMIT');
    await Promise.all([locker.end(), observer.end()]);

    const answers = await Promise.all(first);
    const { ack, at: ackAt } = await socketAck;
    // 201 for those that held a connection (answered after the release); 503 + Retry-After for those that waited past the pool wait.
    expect(answers.filter((a) => a.status !== 201 && a.status !== 503)).toEqual([]);
    const stored201 = answers.filter((a) => a.status === 201);
    const refused = answers.filter((a) => a.status === 503);
    expect(stored201.length).toBeGreaterThanOrEqual(POOL - 2);
    for (const a of stored201) expect(a.at).toBeGreaterThanOrEqual(releasedAt);
    for (const a of refused) {
      expect({ retryAfter: a.retryAfter, code: a.body.code }).toEqual({ retryAfter: '1', code: 'UNAVAILABLE' });
      expect(a.ms).toBeGreaterThanOrEqual(POOL_WAIT_MS - 100);
    }
    expect({ status: me.status, code: me.body.code }).toEqual({ status: 503, code: 'UNAVAILABLE' });
    expect(meMs).toBeGreaterThanOrEqual(POOL_WAIT_MS - 100);
    expect(ack).toMatchObject({ ok: true, message: { body: 'by socket' } });

    // The client's retry of a refused publish, same clientMsgId: stored once, answered 201.
    const retried = await Promise.all(refused.map((a) => publish(a.k, 1)));
    expect(retried.map((a) => a.status)).toEqual(refused.map(() => 201));
    // A replay of one that was stored: the stored message again (200), not a second one.
    const replay = await publish(stored201[0].k, 1);
    expect({ status: replay.status, seq: replay.body.seq }).toEqual({ status: 200, seq: stored201[0].body.seq });

    expect(hot.alive).toBe(true);
    expect(hot.log).not.toMatch(/unhandled rejection|"status":500/i);
    for (const [k, id] of channels.entries()) {
      const stored = await storedMessages(replicas[2].url, user.token, id);
      const acked: PublishedRecord[] = [...stored201, ...retried].filter((a) => a.k === k).map((a) => ({ i: k, seq: a.body.seq, id: a.body.id, statuses: [a.status], sentAt: 0, ackedAt: a.at }));
      if (k === 0) acked.push({ i: -1, seq: ack.message.seq, id: ack.message.id, statuses: [201], sentAt: 0, ackedAt: 0 });
      expect(stored).toHaveLength(k === 0 ? 2 : 1);
      await Promise.all(subsOf[k].map((s) => s.waitFor(stored.length, 10_000)));
      expect({ channel: k, ...ackedOutcome(acked, stored, subsOf[k]) }).toEqual({ channel: k, ...expectedOutcome(subsOf[k]) });
    }
    console.log(
      `pool exhausted: ${stored201.length} publishes waited ${JSON.stringify(spread(stored201.map((a) => a.ms)))} ms then 201; ` +
        `${refused.length} refused 503 after ${JSON.stringify(spread(refused.map((a) => a.ms)))} ms; /api/me 503 after ${meMs} ms; ` +
        `201 within ${JSON.stringify(spread(stored201.map((a) => a.at - releasedAt)))} ms of the release; ` +
        `other replicas' publishes ${JSON.stringify(spread(elsewhere))} ms; socket publish acked ${ackAt - releasedAt} ms after the release`,
    );
  });
});
