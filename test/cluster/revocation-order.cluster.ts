import { jest } from '@jest/globals';
import { type ClientSocket, api, bodyText, connect, emitAck, once, registerUser } from '../support/client.js';
import { freePort } from '../support/free-port.js';
import { type Cluster, Replica, startCluster, until } from './support/cluster.js';

jest.setTimeout(90_000);

const BUS_LAG_MS = 300;
const SUBSCRIBE_DELAY_MS = 800;

/**
 * CONTRACT §2: while Redis is reachable, once a removal or a logout is
 * answered, no message published after that answer reaches the user's sockets
 * on any replica. The replicas here are each slow in one way that used to
 * break it: r2's adapter connection is stalled (revocations travelled there,
 * apart from messages), r3 handles every frame of its bus 300 ms late (its own
 * publishes used to reach its sockets at once, ahead of the revocation), and
 * r4 holds each subscribe after its access check, before the channel's topic
 * is joined (a revocation published then never reaches it as a frame).
 */
describe('revocations and messages in one order on every replica', () => {
  let cluster: Cluster;
  const extra: Replica[] = [];
  const sockets: ClientSocket[] = [];
  let r1: Replica, r2: Replica, r3: Replica, r4: Replica;

  beforeAll(async () => {
    cluster = await startCluster(1);
    r1 = cluster.replicas[0];
    const start = async (id: string, faults: string) => {
      const r = new Replica(id, await freePort(), cluster.env);
      await r.start({ FAULTS: faults });
      extra.push(r);
      return r;
    };
    [r2, r3, r4] = await Promise.all([start('r2', 'stall-adapter'), start('r3', `bus-lag=${BUS_LAG_MS}`), start('r4', `subscribe-delay=${SUBSCRIBE_DELAY_MS}`)]);
  });
  afterAll(async () => {
    sockets.forEach((s) => s.close());
    await Promise.all(extra.map((r) => r.kill()));
    await cluster?.stop();
  });

  const open = async (url: string, token: string) => {
    const s = await connect(url, token);
    sockets.push(s);
    return s;
  };
  /** Everything a socket hears that matters here, in order. */
  const journal = (s: ClientSocket) => {
    const seen: string[] = [];
    s.on('message:created', (m) => seen.push(`message ${bodyText(m.body)}`));
    s.on('channel:removed', (e) => seen.push(`removed ${e.reason}`));
    s.on('session:revoked', (e) => seen.push(`session ${e.reason}`));
    return seen;
  };
  const subscribe = async (s: ClientSocket, channelId: string, sinceSeq?: number) => {
    const ack = await emitAck(s, 'channel:subscribe', { channelId, ...(sinceSeq === undefined ? {} : { sinceSeq }) });
    if (!ack.ok) throw new Error(JSON.stringify(ack.error));
  };

  it('a member removed on r1: nothing published after the answer reaches their sockets on r2 (adapter stalled) or r3 (bus lagging, publishing itself)', async () => {
    const call = api(r1.url);
    const alice = await registerUser(call, 'ord-owner');
    const bob = await registerUser(call, 'ord-member');
    const channelId = (await call('POST', '/api/channels', { name: `ord${Date.now()}`, visibility: 'private' }, alice.token)).body.id;
    await call('POST', `/api/channels/${channelId}/members`, { username: bob.username }, alice.token);
    const bobs = [await open(r2.url, bob.token), await open(r3.url, bob.token)];
    const witnesses = [await open(r2.url, alice.token), await open(r3.url, alice.token)];
    for (const s of [...bobs, ...witnesses]) await subscribe(s, channelId);
    const heard = bobs.map(journal);
    const before = witnesses.map((w) => once<any>(w, 'message:created'));
    const bobsBefore = bobs.map((b) => once<any>(b, 'message:created'));
    await call('POST', `/api/channels/${channelId}/messages`, { body: 'before' }, alice.token);
    await Promise.all([...before, ...bobsBefore]);

    expect((await call('DELETE', `/api/channels/${channelId}/members/${bob.id}`, undefined, alice.token)).status).toBe(204);
    // Published after the answer, on each replica: r3's own publish is the one its lagging bus used to let through.
    const delivered = witnesses.map((w) => {
      const got = new Set<string>();
      w.on('message:created', (m) => got.add(bodyText(m.body)));
      return got;
    });
    for (const [r, body] of [
      [r3, 'after on r3'],
      [r1, 'after on r1'],
      [r2, 'after on r2'],
    ] as const) {
      expect((await api(r.url)('POST', `/api/channels/${channelId}/messages`, { body }, alice.token)).status).toBe(201);
    }
    await until('the witnesses on r2 and r3 to have all three', async () => delivered.every((got) => got.size === 3), 10_000);
    await until("both of bob's sockets to be told", async () => heard.every((h) => h.includes('removed removed')), 10_000);
    expect(heard).toEqual([
      ['message before', 'removed removed'],
      ['message before', 'removed removed'],
    ]);
  });

  it("a logout everywhere on r1: nothing published after the answer reaches the user's socket on r2 (adapter stalled)", async () => {
    const call = api(r1.url);
    const alice = await registerUser(call, 'ord-pub');
    const bob = await registerUser(call, 'ord-leaver');
    const channelId = (await call('POST', '/api/channels', { name: `ordl${Date.now()}` }, alice.token)).body.id;
    const b = await open(r2.url, bob.token);
    const witness = await open(r2.url, alice.token);
    await subscribe(b, channelId);
    await subscribe(witness, channelId);
    const heard = journal(b);
    expect((await call('POST', '/api/auth/logout-all', undefined, bob.token)).status).toBe(204);
    const seen = once<any>(witness, 'message:created');
    expect((await call('POST', `/api/channels/${channelId}/messages`, { body: 'after logout' }, alice.token)).status).toBe(201);
    await seen;
    await until("bob's socket to be ended", async () => heard.includes('session revoked'), 10_000);
    expect(heard).toEqual(['session revoked']);
  });

  it("a member removed while their subscribe on r4 waits before the channel's topic is joined: refused NOT_FOUND, nothing published after the answer in its ack", async () => {
    const call = api(r1.url);
    const alice = await registerUser(call, 'ord-owner4');
    const bob = await registerUser(call, 'ord-member4');
    const channelId = (await call('POST', '/api/channels', { name: `ord4${Date.now()}`, visibility: 'private' }, alice.token)).body.id;
    await call('POST', `/api/channels/${channelId}/members`, { username: bob.username }, alice.token);
    await call('POST', `/api/channels/${channelId}/messages`, { body: 'before' }, alice.token);
    const b = await open(r4.url, bob.token);
    const heard = journal(b);
    // Nobody on r4 holds the channel: the subscribe checks access, then waits, then joins the topic.
    const ack = emitAck(b, 'channel:subscribe', { channelId, sinceSeq: 0 });
    await until('the subscribe to be held past its access check', async () => r4.logged<{ channelId: string }>('fault: subscribe held').some((l) => l.channelId === channelId), 10_000, 10);
    expect((await call('DELETE', `/api/channels/${channelId}/members/${bob.id}`, undefined, alice.token)).status).toBe(204);
    expect((await call('POST', `/api/channels/${channelId}/messages`, { body: 'after' }, alice.token)).status).toBe(201);
    expect(await ack).toEqual({ ok: false, error: { code: 'NOT_FOUND', message: 'channel not found' } });
    expect(heard).toEqual([]);
  });
});
