import { randomUUID } from 'node:crypto';
import { jest } from '@jest/globals';
import { type ClientSocket, type User, emitAck, hubForFile, metricValue, rawRequest, registerUser } from './support/hub.js';
import { until } from '../support/wait.js';

jest.setTimeout(60_000);

// CONTRACT §2: a private channel does not exist for a non-member. Each answer
// Carol (signed in, not a member) gets about Alice's private channel is put
// beside the answer to the same request about an id that never existed; a
// leak is any difference in status, body or header (Date aside: the clock).
describe('a private channel, for a signed-in non-member', () => {
  const ctx = hubForFile();
  let alice: User; // owner
  let bob: User; // member, subscribed: he would hear whatever Carol's probes let through
  let carol: User;
  // Letters and digits only, so the hub's collation and JavaScript's sort agree.
  const tag = `h${process.pid % 1000}x${Date.now() % 100000}`;

  beforeAll(async () => {
    [alice, bob, carol] = [await registerUser(ctx.call, 'alice'), await registerUser(ctx.call, 'bob'), await registerUser(ctx.call, 'carol')];
  });

  /** Every page of Carol's channel list, one channel a page, so a cursor lands on every position. */
  async function walkList(): Promise<unknown[]> {
    const pages: unknown[] = [];
    let cursor: string | null = null;
    do {
      const res = await rawRequest(ctx.hub.url, 'GET', `/api/channels?limit=1${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`, {
        headers: { authorization: `Bearer ${carol.token}` },
      });
      expect(res.status).toBe(200);
      pages.push(res.body);
      cursor = res.body.nextCursor;
    } while (cursor !== null && pages.length < 100);
    return pages;
  }

  /** Every REST route and client→server event about `channelId`, as Carol; the answers to compare. */
  async function ask(channelId: string): Promise<Record<string, unknown>> {
    const answers: Record<string, unknown> = {};
    const rest = async (label: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
      const res = await rawRequest(ctx.hub.url, method, path, {
        headers: { authorization: `Bearer ${carol.token}`, 'x-request-id': 'leak-probe', ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const kept = [...res.headers].filter(([name]) => name !== 'date');
      answers[`${method} ${label}`] = { status: res.status, body: res.body, headers: Object.fromEntries(kept) };
    };
    const ch = `/api/channels/${channelId}`;
    await rest('GET channel', 'GET', ch);
    await rest('PATCH name', 'PATCH', ch, { name: `${tag}probe` });
    await rest('PATCH visibility', 'PATCH', ch, { visibility: 'public' });
    await rest('DELETE channel', 'DELETE', ch);
    await rest('add a non-member', 'POST', `${ch}/members`, { username: carol.username });
    await rest('add a member', 'POST', `${ch}/members`, { username: bob.username });
    await rest('add an unknown username', 'POST', `${ch}/members`, { username: 'nobody_at_all' });
    await rest('remove a member', 'DELETE', `${ch}/members/${bob.id}`);
    await rest('remove the owner', 'DELETE', `${ch}/members/${alice.id}`);
    await rest('remove itself', 'DELETE', `${ch}/members/${carol.id}`);
    await rest('history', 'GET', `${ch}/messages`);
    await rest('history, an immutable page', 'GET', `${ch}/messages?afterSeq=0&limit=1`);
    await rest('history before a seq', 'GET', `${ch}/messages?beforeSeq=3`);
    await rest('history, revalidated', 'GET', `${ch}/messages`, undefined, { 'if-none-match': '*' });
    await rest('publish', 'POST', `${ch}/messages`, { body: 'probe' });
    await rest('publish with a clientMsgId', 'POST', `${ch}/messages`, { body: 'probe', clientMsgId: 'probe-1' });
    await rest('publish, oversized (413 before 404)', 'POST', `${ch}/messages`, { body: 'x'.repeat(20_000) });
    await rest('presence', 'GET', `${ch}/presence`);

    const socket = await ctx.open(carol.token);
    const heard: unknown[] = [];
    socket.onAny((event, payload) => heard.push({ event, payload }));
    answers['socket subscribe'] = await emitAck(socket, 'channel:subscribe', { channelId });
    answers['socket subscribe from seq 0'] = await emitAck(socket, 'channel:subscribe', { channelId, sinceSeq: 0 });
    answers['socket subscribe from seq 2'] = await emitAck(socket, 'channel:subscribe', { channelId, sinceSeq: 2 });
    answers['socket subscribe ahead of lastSeq'] = await emitAck(socket, 'channel:subscribe', { channelId, sinceSeq: 1000 });
    answers['socket publish'] = await emitAck(socket, 'message:publish', { channelId, body: 'probe' });
    answers['socket publish with a clientMsgId'] = await emitAck(socket, 'message:publish', { channelId, body: 'probe', clientMsgId: 'probe-2' });
    answers['socket publish, oversized'] = await emitAck(socket, 'message:publish', { channelId, body: 'x'.repeat(20_000) });
    await typed(socket, channelId);
    answers['socket unsubscribe'] = await emitAck(socket, 'channel:unsubscribe', { channelId });
    // Whatever the hub sent this socket before that last ack has arrived by now: one socket, one order.
    answers['events heard'] = heard;
    socket.close();
    return answers;
  }

  /** Sends `typing` (never acked) and waits until the hub has handled it. */
  async function typed(socket: ClientSocket, channelId: string) {
    const handled = () => metricValue(ctx.hub.url, 'crosswire_socket_events_total', { event: 'typing' });
    const before = await handled();
    socket.emit('typing', { channelId });
    await until('the hub handled the typing event', async () => (await handled()) > before, 10_000, 20);
  }

  it('learns nothing by any route: every answer equals the answer for an id that never existed, the list is unchanged, and it may create and rename to the same name', async () => {
    const carolsOwn = (await ctx.call('POST', '/api/channels', { name: `${tag}c` }, carol.token)).body;
    for (const name of [`${tag}a`, `${tag}e`]) expect((await ctx.call('POST', '/api/channels', { name }, alice.token)).status).toBe(201);
    const listBefore = await walkList();

    // Sorts between the public ones, so Carol's one-channel pages would step over it.
    const hidden = (await ctx.call('POST', '/api/channels', { name: `${tag}b`, visibility: 'private' }, alice.token)).body;
    const other = (await ctx.call('POST', '/api/channels', { name: `${tag}d`, visibility: 'private' }, alice.token)).body;
    expect((await ctx.call('POST', `/api/channels/${hidden.id}/members`, { username: bob.username }, alice.token)).status).toBe(201);
    for (const text of ['secret-1', 'secret-2', 'secret-3']) expect((await ctx.call('POST', `/api/channels/${hidden.id}/messages`, { body: text }, alice.token)).status).toBe(201);
    const bobs = await ctx.open(bob.token);
    await ctx.subscribe(bobs, hidden.id);
    const bobHeard: unknown[] = [];
    bobs.onAny((event, payload) => bobHeard.push({ event, payload }));

    const [answers, forUnknown] = [await ask(hidden.id), await ask(randomUUID())];
    expect(answers).toEqual(forUnknown);
    expect(JSON.stringify(answers)).not.toContain('secret-');
    expect(await walkList()).toEqual(listBefore);

    // Nothing reached the members either: Alice's next message is the first thing Bob hears since.
    const marker = await ctx.call('POST', `/api/channels/${hidden.id}/messages`, { body: 'marker' }, alice.token);
    await until('Bob to get the marker', () => bobHeard.length > 0);
    expect(bobHeard).toEqual([{ event: 'message:created', payload: marker.body }]);
    expect(marker.body.seq).toBe(4);

    // Names are the owner's own: the hidden channel's name is free for Carol, by create and by rename,
    // answered as a name nobody ever used is.
    const shape = (res: { status: number; body: any }) => ({ status: res.status, ownerId: res.body.ownerId, visibility: res.body.visibility, lastSeq: res.body.lastSeq });
    const created = await ctx.call('POST', '/api/channels', { name: hidden.name, visibility: 'private' }, carol.token);
    expect({ ...shape(created), name: created.body.name }).toEqual({ status: 201, ownerId: carol.id, visibility: 'private', lastSeq: 0, name: hidden.name });
    expect(shape(created)).toEqual(shape(await ctx.call('POST', '/api/channels', { name: `${tag}never1`, visibility: 'private' }, carol.token)));
    const renamed = await ctx.call('PATCH', `/api/channels/${carolsOwn.id}`, { name: other.name }, carol.token);
    expect({ ...shape(renamed), name: renamed.body.name }).toEqual({ status: 200, ownerId: carol.id, visibility: 'public', lastSeq: 0, name: other.name });
    expect(shape(renamed)).toEqual(shape(await ctx.call('PATCH', `/api/channels/${carolsOwn.id}`, { name: `${tag}never2` }, carol.token)));
    // Alice's channels are untouched.
    for (const c of [hidden, other]) expect((await ctx.call('GET', `/api/channels/${c.id}`, undefined, alice.token)).body).toEqual({ ...c, lastSeq: c === hidden ? 4 : 0 });
  });
});
