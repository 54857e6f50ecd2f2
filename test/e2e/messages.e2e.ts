import pg from 'pg';
import { type Api, type ClientSocket, type TestHub, api, collect, connect, emitAck, record, registerUser, startHub } from './support/hub.js';

describe('messages: publish, idempotency, history', () => {
  let hub: TestHub;
  let call: Api;
  let alice: Awaited<ReturnType<typeof registerUser>>;
  let bob: Awaited<ReturnType<typeof registerUser>>;
  const sockets: ClientSocket[] = [];

  beforeAll(async () => {
    hub = await startHub();
    call = api(hub.url);
    alice = await registerUser(call, 'alice');
    bob = await registerUser(call, 'bob');
  });
  afterAll(async () => {
    sockets.forEach((s) => s.close());
    await hub.close();
  });

  const newChannel = async (name: string, token = alice.token) => {
    const res = await call('POST', '/api/channels', { name: `${name}-${Date.now()}` }, token);
    expect(res.status).toBe(201);
    return res.body.id as string;
  };
  const open = async (token: string) => {
    const s = await connect(hub.url, token);
    sockets.push(s);
    return s;
  };

  it('200 concurrent publishes by two authors through both doors, with duplicate clientMsgIds racing, commit gap-free and reach a subscriber exactly once, in order', async () => {
    const channelId = await newChannel('race');
    const watcher = await open((await registerUser(call, 'watch')).token);
    expect((await emitAck(watcher, 'channel:subscribe', { channelId })).ok).toBe(true);
    const sockA = await open(alice.token);
    const sockB = await open(bob.token);
    const N = 200;
    const seen = record<any>(watcher, 'message:created');

    type Outcome = { key: string; id: string; status: number | 'ack' };
    const viaRest = async (token: string, key: string, body: unknown): Promise<Outcome> => {
      const res = await call('POST', `/api/channels/${channelId}/messages`, { body, clientMsgId: key }, token);
      if (res.status !== 201 && res.status !== 200) throw new Error(`REST ${res.status} ${JSON.stringify(res.body)}`);
      return { key, id: res.body.id, status: res.status };
    };
    const viaSocket = async (socket: ClientSocket, key: string, body: unknown): Promise<Outcome> => {
      const ack = await emitAck(socket, 'message:publish', { channelId, body, clientMsgId: key });
      if (!ack.ok) throw new Error(`socket ${JSON.stringify(ack.error)}`);
      return { key, id: ack.message.id, status: 'ack' };
    };

    const jobs: Promise<Outcome>[] = [];
    for (let i = 0; i < N; i++) {
      const byAlice = i % 2 === 0;
      const [token, socket] = byAlice ? [alice.token, sockA] : [bob.token, sockB];
      const key = `k${i}`;
      const body = { i, text: `message ${i}` };
      jobs.push(i % 4 < 2 ? viaRest(token, key, body) : viaSocket(socket, key, body));
      // Every third message is also sent again at once through the other door.
      if (i % 3 === 0) jobs.push(i % 4 < 2 ? viaSocket(socket, key, { text: `message ${i}`, i }) : viaRest(token, key, body));
    }
    const outcomes = await Promise.all(jobs);

    // Each clientMsgId resolved to one message, whichever door and order.
    const idByKey = new Map<string, string>();
    for (const o of outcomes) {
      const first = idByKey.get(o.key);
      if (first) expect(o.id).toBe(first);
      else idByKey.set(o.key, o.id);
    }
    expect(idByKey.size).toBe(N);
    // Each clientMsgId created by one send, every other send of it a replay. The socket's ack is
    // {ok, message} either way; REST tells: a key sent once, through REST, is 201 (created). A key
    // sent through both doors at once is 201 there, or 200 when the socket's send stored it first
    // (the same message either way: above). Resent once more through each door below, each is a replay.
    const restOnly = outcomes.filter((o) => o.status !== 'ack' && outcomes.filter((x) => x.key === o.key).length === 1);
    expect(restOnly.length).toBeGreaterThan(N / 4);
    expect(restOnly.filter((o) => o.status !== 201)).toEqual([]);

    // The database: seq 1..N, no gap, lastSeq N, one row per clientMsgId.
    const client = new pg.Client({ connectionString: hub.databaseUrl });
    await client.connect();
    const rows = await client.query('SELECT seq::int, id, client_msg_id FROM messages WHERE channel_id = $1 ORDER BY seq', [channelId]);
    const last = await client.query('SELECT last_seq::int FROM channels WHERE id = $1', [channelId]);
    await client.end();
    expect(rows.rows.map((r) => r.seq)).toEqual(Array.from({ length: N }, (_, i) => i + 1));
    expect(last.rows[0].last_seq).toBe(N);
    for (const r of rows.rows) expect(idByKey.get(r.client_msg_id)).toBe(r.id);

    // The subscriber got seq 1..N in arrival order, each once (a replay is not broadcast again).
    await seen.waitFor((m) => m.seq === N, 60_000);
    expect(seen.items.map((m) => m.seq)).toEqual(Array.from({ length: N }, (_, i) => i + 1));
    expect(seen.items.map((m) => m.id)).toEqual(rows.rows.map((r) => r.id));

    // Every key again, through both doors (50 keys at a time, under PUBLISH_MAX_PENDING): a 200 or an
    // ack with the stored message, nothing created or broadcast.
    const again: Outcome[] = [];
    for (let from = 0; from < N; from += 50) {
      const chunk = Array.from({ length: 50 }, (_, j) => {
        const i = from + j;
        const [token, socket] = i % 2 === 0 ? [alice.token, sockA] : [bob.token, sockB];
        const body = { i, text: `message ${i}` };
        return Promise.all([viaRest(token, `k${i}`, body), viaSocket(socket, `k${i}`, body)]);
      });
      again.push(...(await Promise.all(chunk)).flat());
    }
    for (const o of again) expect([o.key, o.id, o.status === 201 ? 'created' : 'replay']).toEqual([o.key, idByKey.get(o.key), 'replay']);
    const sentinel = await call('POST', `/api/channels/${channelId}/messages`, { body: 'sentinel' }, alice.token);
    expect([sentinel.status, sentinel.body.seq]).toEqual([201, N + 1]);
    await seen.waitFor((m) => m.seq === N + 1);
    expect(seen.items.map((m) => m.seq)).toEqual(Array.from({ length: N + 1 }, (_, i) => i + 1));
  }, 120_000);

  it('a replay returns the first message with 200 and reaches subscribers once; another body is 409 on both doors', async () => {
    const channelId = await newChannel('idem');
    const sub = await open(bob.token);
    await emitAck(sub, 'channel:subscribe', { channelId });
    const seen = record<any>(sub, 'message:created');
    const first = await call('POST', `/api/channels/${channelId}/messages`, { body: { a: 1, b: [1, 2] }, clientMsgId: 'same' }, alice.token);
    const replay = await call('POST', `/api/channels/${channelId}/messages`, { body: { b: [1, 2], a: 1 }, clientMsgId: 'same' }, alice.token);
    expect(first.status).toBe(201);
    expect(replay.status).toBe(200);
    expect(replay.body).toEqual(first.body);

    const other = await call('POST', `/api/channels/${channelId}/messages`, { body: { a: 2 }, clientMsgId: 'same' }, alice.token);
    expect(other.status).toBe(409);
    expect(other.body.code).toBe('CONFLICT');
    const sock = await open(alice.token);
    const ack = await emitAck(sock, 'message:publish', { channelId, body: 'different', clientMsgId: 'same' });
    expect(ack).toEqual({ ok: false, error: { code: 'CONFLICT', message: expect.any(String) } });
    const sameByBob = await call('POST', `/api/channels/${channelId}/messages`, { body: 'bob', clientMsgId: 'same' }, bob.token);
    expect(sameByBob.status).toBe(201);
    expect(sameByBob.body.seq).toBe(2);
    await seen.waitFor((m) => m.seq === 2);
    expect(seen.items.map((m) => [m.seq, m.id])).toEqual([
      [1, first.body.id],
      [2, sameByBob.body.id],
    ]);
    const channel = await call('GET', `/api/channels/${channelId}`, undefined, alice.token);
    expect(channel.body.lastSeq).toBe(2);
  });

  it('the publisher gets its own message on its sockets; the ack carries the stored message', async () => {
    const channelId = await newChannel('own');
    const sock = await open(alice.token);
    await emitAck(sock, 'channel:subscribe', { channelId });
    const echoed = collect<any>(sock, 'message:created', 1);
    const ack = await emitAck(sock, 'message:publish', { channelId, body: ['x', null, 1.5] });
    expect(ack).toEqual({
      ok: true,
      message: { id: expect.any(String), channelId, seq: 1, authorId: alice.id, body: ['x', null, 1.5], clientMsgId: null, createdAt: expect.any(String) },
    });
    expect((await echoed)[0]).toEqual(ack.message);
  });

  it('history: latest, afterSeq, beforeSeq, both, limits, lastSeq', async () => {
    const channelId = await newChannel('hist');
    for (let i = 1; i <= 12; i++) {
      const res = await call('POST', `/api/channels/${channelId}/messages`, { body: i }, alice.token);
      expect(res.body.seq).toBe(i);
    }
    const get = (q: string) => call('GET', `/api/channels/${channelId}/messages${q}`, undefined, bob.token);
    const seqs = (r: { body: any }) => r.body.items.map((m: any) => m.seq);
    const all = await get('');
    expect(seqs(all)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(all.body.lastSeq).toBe(12);
    expect(seqs(await get('?limit=3'))).toEqual([10, 11, 12]);
    expect(seqs(await get('?afterSeq=4&limit=3'))).toEqual([5, 6, 7]);
    expect(seqs(await get('?beforeSeq=4&limit=2'))).toEqual([2, 3]);
    expect(seqs(await get('?afterSeq=2&beforeSeq=6'))).toEqual([3, 4, 5]);
    expect(seqs(await get('?afterSeq=12'))).toEqual([]);
    expect((await get('?afterSeq=12')).body.lastSeq).toBe(12);
    expect(seqs(await get('?limit=500'))).toHaveLength(12);
    for (const bad of ['?limit=0', '?limit=501', '?limit=x', '?afterSeq=-1', '?beforeSeq=1.5', '?since=1']) {
      const res = await get(bad);
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('BAD_REQUEST');
      expect(res.body.details.length).toBeGreaterThan(0);
    }
  });

  it('history: items are exactly what was published, and a page every seq of which is committed may be cached by the client; others are revalidated', async () => {
    const channelId = await newChannel('cache');
    const published = [];
    for (const body of [{ t: 'é ü \u2028 "q" \\' }, null, [1, 2.5, { k: true }], 'plain']) {
      published.push((await call('POST', `/api/channels/${channelId}/messages`, { body, clientMsgId: `c${published.length}` }, alice.token)).body);
    }
    const get = (q: string) => call('GET', `/api/channels/${channelId}/messages${q}`, undefined, bob.token);
    const all = await get('');
    expect(all.body).toEqual({ items: published, lastSeq: 4 });
    expect(all.headers.get('content-type')).toBe('application/json; charset=utf-8');
    const cache = async (q: string) => (await get(q)).headers.get('cache-control');
    const immutable = 'private, max-age=86400, immutable';
    expect(await cache('')).toBe('private, no-cache'); // the latest page grows
    expect(await cache('?beforeSeq=5')).toBe(immutable); // every seq below 5 is committed
    expect(await cache('?beforeSeq=6')).toBe('private, no-cache'); // seq 5 is still to come
    expect(await cache('?afterSeq=1&limit=3')).toBe(immutable); // 2, 3, 4: full
    expect(await cache('?afterSeq=2&limit=3')).toBe('private, no-cache'); // 3, 4 and room for 5
    expect(await cache('?afterSeq=1&beforeSeq=4')).toBe(immutable);
    // Access is still checked on every request that reaches the hub.
    expect((await call('GET', `/api/channels/${channelId}/messages?beforeSeq=5`)).status).toBe(401);
  });
});
