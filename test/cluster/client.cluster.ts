import { jest } from '@jest/globals';
import pg from 'pg';
import { type CrosswireClient, type Recovery, connect } from '../../client/index.js';
import type { MessageDto } from '../../src/events/dto.js';
import { api, registerUser } from '../support/client.js';
import { until } from './support/cluster.js';
import { clusterBehindLbForFile } from './support/haproxy.js';

jest.setTimeout(120_000);

/** A client of the library through the LB, recording what it hands the app. */
function client(url: string, token: string, transports?: Array<'polling' | 'websocket'>) {
  const c = connect({ url, token, ...(transports ? { transports } : {}) });
  const got: MessageDto[] = [];
  const recoveries: Recovery[] = [];
  c.onRecovered((r) => recoveries.push(r));
  return { c, got, recoveries };
}

const connected = (c: CrosswireClient) =>
  new Promise<string>((resolve) => {
    const off = c.state.subscribe((s) => {
      if (s.status === 'connected') {
        queueMicrotask(() => off());
        resolve(s.replicaId);
      }
    });
  });

describe('the client library against three replicas behind HAProxy', () => {
  const ctx = clusterBehindLbForFile(3);

  it('across a SIGKILL of its replica: reconnects elsewhere, resubscribes, every message once in order; publishes during the loss are stored once', async () => {
    const { lb, cluster, closers } = ctx;
    const owner = await registerUser(api(lb.url), 'lib');
    const channelId = (await api(lb.url)('POST', '/api/channels', { name: `lib-${Date.now()}` }, owner.token)).body.id;
    // Clients until two sit on different replicas; each subscribes.
    const clients: Array<ReturnType<typeof client>> = [];
    const replicaOf = new Map<ReturnType<typeof client>, string>();
    while (new Set(replicaOf.values()).size < 2) {
      const x = client(lb.url, owner.token);
      closers.push({ close: () => x.c.close() });
      replicaOf.set(x, await connected(x.c));
      clients.push(x);
      await x.c.subscribe(channelId, { sinceSeq: 0, onMessage: (m) => x.got.push(m) }).ready;
    }
    const [a, b] = [clients[0], clients.find((x) => replicaOf.get(x) !== replicaOf.get(clients[0]))!];
    const victim = cluster.replicas.find((r) => r.id === replicaOf.get(a))!;

    const sent: Array<Promise<MessageDto>> = [];
    for (let i = 0; i < 20; i++) sent.push((i % 2 ? a : b).c.publish(channelId, { i }));
    await Promise.all(sent.splice(0));
    await victim.kill('SIGKILL');
    // A publishes while its replica is gone: the outbox keeps them and sends them once it is back.
    for (let i = 20; i < 40; i++) sent.push((i % 2 ? a : b).c.publish(channelId, { i }));
    const acked = await Promise.all(sent);
    expect(new Set(acked.map((m) => m.seq)).size).toBe(20);

    await until('a to recover on another replica', () => a.recoveries.length > 0, 30_000);
    expect(a.recoveries[0]).toMatchObject({ from: victim.id, reason: 'connection lost' });
    expect(a.recoveries[0].to).not.toBe(victim.id);
    for (const x of [a, b]) await until('every message delivered', () => x.got.length >= 40, 30_000);
    const db = new pg.Client({ connectionString: cluster.db.url });
    await db.connect();
    const stored = (await db.query('SELECT seq::int, body FROM messages WHERE channel_id = $1 ORDER BY seq', [channelId])).rows;
    await db.end();
    expect(stored.map((r) => r.seq)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    for (const x of [a, b]) {
      expect(x.got.map((m) => m.seq)).toEqual(stored.map((r) => r.seq));
      expect(x.got.map((m) => m.body)).toEqual(stored.map((r) => r.body));
    }
  });

  it('over long-polling alone (as where WebSocket is refused), through the sticky LB: subscribes, receives and publishes', async () => {
    const { lb, closers } = ctx;
    const owner = await registerUser(api(lb.url), 'poll');
    const channelId = (await api(lb.url)('POST', '/api/channels', { name: `libpoll-${Date.now()}` }, owner.token)).body.id;
    const p = client(lb.url, owner.token, ['polling']);
    const w = client(lb.url, owner.token);
    closers.push({ close: () => p.c.close() }, { close: () => w.c.close() });
    await p.c.subscribe(channelId, { onMessage: (m) => p.got.push(m) }).ready;
    await w.c.subscribe(channelId, { onMessage: (m) => w.got.push(m) }).ready;
    const mine = await p.c.publish(channelId, 'from polling');
    const theirs = await w.c.publish(channelId, 'from websocket');
    await until('both sides to see both', () => p.got.length === 2 && w.got.length === 2, 15_000);
    for (const x of [p, w]) expect(x.got.map((m) => m.id)).toEqual([mine.id, theirs.id]);
    const page = await p.c.history(channelId, { limit: 10 });
    expect(page.items.map((m) => m.id)).toEqual([mine.id, theirs.id]);
  });
});
