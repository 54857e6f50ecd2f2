import { jest } from '@jest/globals';
import pg from 'pg';
import { type Api, type ClientSocket, type Recorder, type TestHub, api, connect, emitAck, once, record, registerUser, startHub } from './support/hub.js';

type User = Awaited<ReturnType<typeof registerUser>>;

const UNKNOWN = '00000000-0000-4000-8000-000000000000';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const expectError = (res: { status: number; body: any }, status: number, code: string) => {
  expect({ status: res.status, code: res.body?.code }).toEqual({ status, code });
  expect(res.body).toEqual(expect.objectContaining({ statusCode: status, error: expect.any(String), message: expect.any(String) }));
};

// Generous per-test budget: the whole e2e project runs files in parallel, and scrypt and hub start-up
// are CPU-bound; the waits inside the tests have their own, shorter, deadlines.
jest.setTimeout(20_000);

describe('channels: CRUD, listing, access rules, membership, revocation', () => {
  let hub: TestHub;
  let call: Api;
  let alice: User; // owner of most channels
  let bob: User; // made a member
  let carol: User; // outsider
  const sockets: ClientSocket[] = [];
  let n = 0;
  // Letters and digits only, so byte order and any collation agree.
  const uniqueName = (p = 'ch') => `${p}${++n}x${process.pid % 1000}`;

  beforeAll(async () => {
    hub = await startHub();
    call = api(hub.url);
    [alice, bob, carol] = await Promise.all([registerUser(call, 'alice'), registerUser(call, 'bob'), registerUser(call, 'carol')]);
  });
  afterAll(async () => {
    sockets.forEach((s) => s.close());
    await hub?.close();
  });

  const create = async (owner: User, opts: { name?: string; visibility?: 'public' | 'private' } = {}) => {
    const res = await call('POST', '/api/channels', { name: opts.name ?? uniqueName(), ...(opts.visibility ? { visibility: opts.visibility } : {}) }, owner.token);
    expect(res.status).toBe(201);
    return res.body as { id: string; name: string; visibility: string; ownerId: string; lastSeq: number; createdAt: string };
  };
  const addMember = async (channelId: string, member: User, owner = alice) => {
    const res = await call('POST', `/api/channels/${channelId}/members`, { username: member.username }, owner.token);
    expect(res.status).toBe(201);
    return res.body;
  };
  const publish = async (channelId: string, user: User, body: unknown) => {
    const res = await call('POST', `/api/channels/${channelId}/messages`, { body }, user.token);
    expect(res.status).toBe(201);
    return res.body as { id: string; seq: number; channelId: string };
  };
  const open = async (user: User) => {
    const s = await connect(hub.url, user.token);
    sockets.push(s);
    return s;
  };
  const subscribe = async (s: ClientSocket, channelId: string) => {
    const ack = await emitAck(s, 'channel:subscribe', { channelId });
    expect(ack).toEqual(expect.objectContaining({ ok: true }));
    return ack;
  };
  /** Publishes over REST and waits until `inbox` has received that very message. */
  const publishAndAwait = async (inbox: Recorder<any>, channelId: string, user: User, body: unknown) => {
    const message = await publish(channelId, user, body);
    return { message, received: await inbox.waitFor((m) => m.id === message.id) };
  };

  describe('create', () => {
    it('201: public by default, lastSeq 0, the caller is the owner', async () => {
      const name = uniqueName('new');
      const res = await call('POST', '/api/channels', { name }, alice.token);
      expect(res.status).toBe(201);
      expect(res.body).toEqual({
        id: expect.stringMatching(UUID),
        name,
        visibility: 'public',
        ownerId: alice.id,
        lastSeq: 0,
        createdAt: expect.any(String),
      });
      expect(new Date(res.body.createdAt).toISOString()).toBe(res.body.createdAt);
      // The owner can do what only an owner may (proves the owner membership).
      const patch = await call('PATCH', `/api/channels/${res.body.id}`, { visibility: 'private' }, alice.token);
      expect(patch.status).toBe(200);
      expect((await call('GET', `/api/channels/${res.body.id}`, undefined, alice.token)).status).toBe(200);
    });

    it('201 private when asked; names of 1 and 64 characters with . _ - are allowed', async () => {
      const c = await create(alice, { visibility: 'private' });
      expect(c.visibility).toBe('private');
      for (const name of ['q', `a.b_c-${n++}`.padEnd(64, 'z')]) {
        const res = await call('POST', '/api/channels', { name }, bob.token);
        expect(res.status).toBe(201);
        expect(res.body.name).toBe(name);
      }
    });

    it('409 CONFLICT when the caller already owns a channel of that name; another user may take the name (201)', async () => {
      const c = await create(alice);
      const again = await call('POST', '/api/channels', { name: c.name, visibility: 'private' }, alice.token);
      expectError(again, 409, 'CONFLICT');
      expect(again.body.message).toBe(`you already own a channel named ${c.name}`);
      const carols = await create(carol, { name: c.name });
      expect(carols).toEqual(expect.objectContaining({ name: c.name, ownerId: carol.id }));
      expect(carols.id).not.toBe(c.id);
    });

    it.each([
      ['empty', { name: '' }, 'name'],
      ['65 characters', { name: 'a'.repeat(65) }, 'name'],
      ['uppercase', { name: 'General' }, 'name'],
      ['a space', { name: 'two words' }, 'name'],
      ['a slash', { name: 'a/b' }, 'name'],
      ['a number', { name: 42 }, 'name'],
      ['missing', {}, 'name'],
      ['a bad visibility', { name: 'okname', visibility: 'secret' }, 'visibility'],
      ['an unknown field', { name: 'okname2', owner: 'x' }, 'owner'],
    ])('400 for a name/body with %s', async (_, body, field) => {
      const res = await call('POST', '/api/channels', body, alice.token);
      expectError(res, 400, 'BAD_REQUEST');
      expect(res.body.details).toEqual(expect.arrayContaining([{ field, reason: expect.any(String) }]));
    });

    it('401 without a token', async () => {
      expectError(await call('POST', '/api/channels', { name: uniqueName() }), 401, 'UNAUTHORIZED');
      expectError(await call('GET', '/api/channels'), 401, 'UNAUTHORIZED');
    });
  });

  describe('list', () => {
    let dave: User;
    const mine: { id: string; name: string }[] = [];
    let carolsPrivate: { id: string; name: string };
    let alicesPrivateWithDave: { id: string; name: string };

    beforeAll(async () => {
      dave = await registerUser(call, 'dave');
      // 53 public channels, so the total is above the default page size of 50.
      for (let i = 0; i < 53; i++) mine.push(await create(dave, { name: uniqueName('lst') }));
      mine.push(await create(dave, { name: uniqueName('lstpriv'), visibility: 'private' }));
      carolsPrivate = await create(carol, { name: uniqueName('lstcarol'), visibility: 'private' });
      alicesPrivateWithDave = await create(alice, { name: uniqueName('lstalice'), visibility: 'private' });
      await addMember(alicesPrivateWithDave.id, dave);
    });

    const all = async (user: User) => {
      const res = await call('GET', '/api/channels?limit=200', undefined, user.token);
      expect(res.status).toBe(200);
      expect(res.body.nextCursor).toBeNull();
      return res.body.items as { id: string; name: string; visibility: string }[];
    };

    it('holds the public channels and the caller’s private ones (owned or member), not others’ private ones', async () => {
      const items = await all(dave);
      const ids = new Set(items.map((c) => c.id));
      for (const c of mine) expect(ids.has(c.id)).toBe(true);
      expect(ids.has(alicesPrivateWithDave.id)).toBe(true);
      expect(ids.has(carolsPrivate.id)).toBe(false);
      for (const c of items) {
        if (c.visibility === 'private') expect([mine[mine.length - 1].id, alicesPrivateWithDave.id]).toContain(c.id);
      }
      // Carol sees hers, not Dave's private one.
      const carols = new Set((await all(carol)).map((c) => c.id));
      expect(carols.has(carolsPrivate.id)).toBe(true);
      expect(carols.has(mine[mine.length - 1].id)).toBe(false);
      expect(carols.has(alicesPrivateWithDave.id)).toBe(false);
    });

    it('is sorted by name', async () => {
      const names = (await all(dave)).map((c) => c.name).filter((x) => /^[a-z0-9]+$/.test(x));
      expect(names.length).toBeGreaterThan(50);
      expect(names).toEqual([...names].sort());
    });

    it('default limit is 50; limit/cursor pages walk every channel once, nextCursor null at the end', async () => {
      const everything = await all(dave);
      const first = await call('GET', '/api/channels', undefined, dave.token);
      expect(first.status).toBe(200);
      expect(first.body.items).toHaveLength(50);
      expect(first.body.nextCursor).toEqual(expect.any(String));

      const walked: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const q: string = cursor === null ? '?limit=7' : `?limit=7&cursor=${encodeURIComponent(cursor)}`;
        const res = await call('GET', `/api/channels${q}`, undefined, dave.token);
        expect(res.status).toBe(200);
        expect(res.body.items.length).toBeLessThanOrEqual(7);
        walked.push(...res.body.items.map((c: { id: string }) => c.id));
        cursor = res.body.nextCursor;
        expect(++pages).toBeLessThan(100);
      } while (cursor !== null);
      expect(walked).toEqual(everything.map((c) => c.id));
      expect(new Set(walked).size).toBe(walked.length);
      // limit 1 and 200 are the bounds.
      const one = await call('GET', '/api/channels?limit=1', undefined, dave.token);
      expect(one.body.items).toHaveLength(1);
      expect(one.body.items[0].id).toBe(everything[0].id);
    });

    it('channels of one name (other owners) are ordered by id, and one-channel pages hand out each once', async () => {
      const name = uniqueName('lsttie');
      const tied = [await create(alice, { name }), await create(carol, { name }), await create(dave, { name })];
      const everything = await all(dave);
      expect(everything.filter((c) => c.name === name).map((c) => c.id)).toEqual(tied.map((c) => c.id).sort());
      const walked: string[] = [];
      let cursor: string | null = null;
      do {
        const res = await call('GET', `/api/channels?limit=1${cursor === null ? '' : `&cursor=${cursor}`}`, undefined, dave.token);
        walked.push(...res.body.items.map((c: { id: string }) => c.id));
        cursor = res.body.nextCursor;
      } while (cursor !== null && walked.length <= everything.length);
      expect(walked).toEqual(everything.map((c) => c.id));
    });

    it('a cursor issued before names were per owner (a name alone) goes on after that name', async () => {
      const everything = await all(dave);
      const old = Buffer.from(everything[10].name).toString('base64url');
      const res = await call('GET', `/api/channels?limit=5&cursor=${old}`, undefined, dave.token);
      expect(res.status).toBe(200);
      expect(res.body.items.map((c: { id: string }) => c.id)).toEqual(everything.slice(11, 16).map((c) => c.id));
    });

    it.each([
      ['limit=0', 'limit=0', 'limit'],
      ['limit=201', 'limit=201', 'limit'],
      ['limit=abc', 'limit=abc', 'limit'],
      ['limit=1.5', 'limit=1.5', 'limit'],
      ['limit=-1', 'limit=-1', 'limit'],
      ['limit twice', 'limit=1&limit=2', 'limit'],
      ['an unknown parameter', 'foo=1', 'foo'],
      ['a garbage cursor', 'cursor=!!!garbage!!!', 'cursor'],
      ['a cursor decoding to non-name bytes', 'cursor=AAAA', 'cursor'],
      ['a 201-character cursor', `cursor=${'a'.repeat(201)}`, 'cursor'],
    ])('400 for %s', async (_, q, field) => {
      const res = await call('GET', `/api/channels?${q}`, undefined, dave.token);
      expectError(res, 400, 'BAD_REQUEST');
      expect(res.body.details).toEqual(expect.arrayContaining([{ field, reason: expect.any(String) }]));
    });
  });

  describe('get by id', () => {
    it('200 with lastSeq', async () => {
      const c = await create(alice);
      await publish(c.id, alice, 'one');
      await publish(c.id, alice, 'two');
      const res = await call('GET', `/api/channels/${c.id}`, undefined, carol.token);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ ...c, lastSeq: 2 });
    });
  });

  describe('unknown and malformed ids', () => {
    const routes = (id: string, userId = UNKNOWN): [string, string, unknown?][] => [
      ['GET', `/api/channels/${id}`],
      ['PATCH', `/api/channels/${id}`, { name: 'whatever' }],
      ['DELETE', `/api/channels/${id}`],
      ['POST', `/api/channels/${id}/members`, { username: 'whoever' }],
      ['DELETE', `/api/channels/${id}/members/${userId}`],
      ['GET', `/api/channels/${id}/messages`],
      ['POST', `/api/channels/${id}/messages`, { body: 'hi' }],
      ['GET', `/api/channels/${id}/presence`],
    ];

    it('404 NOT_FOUND for an unknown uuid on every channel route', async () => {
      for (const [method, path, body] of routes(UNKNOWN)) {
        const res = await call(method, path, body, alice.token);
        expectError(res, 404, 'NOT_FOUND');
      }
    });

    it('400 BAD_REQUEST with details field "id" for a malformed uuid on every channel route', async () => {
      for (const [method, path, body] of routes('not-a-uuid')) {
        const res = await call(method, path, body, alice.token);
        expectError(res, 400, 'BAD_REQUEST');
        expect(res.body.details).toEqual(expect.arrayContaining([{ field: 'id', reason: expect.any(String) }]));
      }
      // A uuid with a trailing character is malformed too.
      expectError(await call('GET', `/api/channels/${UNKNOWN}0`, undefined, alice.token), 400, 'BAD_REQUEST');
    });

    it('400 with details field "userId" for a malformed member id', async () => {
      const c = await create(alice);
      const res = await call('DELETE', `/api/channels/${c.id}/members/nope`, undefined, alice.token);
      expectError(res, 400, 'BAD_REQUEST');
      expect(res.body.details).toEqual([{ field: 'userId', reason: expect.any(String) }]);
    });
  });

  describe('a private channel, for an outsider', () => {
    let priv: { id: string };
    beforeAll(async () => {
      priv = await create(alice, { visibility: 'private' });
      await addMember(priv.id, bob);
    });

    it('404 on GET, PATCH, DELETE, members add/remove, messages GET/POST and presence — the same answer as an unknown id', async () => {
      const unknown = await call('GET', `/api/channels/${UNKNOWN}`, undefined, carol.token);
      const attempts: [string, string, unknown?][] = [
        ['GET', `/api/channels/${priv.id}`],
        ['PATCH', `/api/channels/${priv.id}`, { name: uniqueName() }],
        ['DELETE', `/api/channels/${priv.id}`],
        ['POST', `/api/channels/${priv.id}/members`, { username: carol.username }],
        ['DELETE', `/api/channels/${priv.id}/members/${bob.id}`],
        ['DELETE', `/api/channels/${priv.id}/members/${carol.id}`],
        ['GET', `/api/channels/${priv.id}/messages`],
        ['POST', `/api/channels/${priv.id}/messages`, { body: 'sneaky' }],
        ['GET', `/api/channels/${priv.id}/presence`],
      ];
      for (const [method, path, body] of attempts) {
        const res = await call(method, path, body, carol.token);
        expectError(res, 404, 'NOT_FOUND');
        if (method === 'GET' && path === `/api/channels/${priv.id}`) expect(res.body).toEqual(unknown.body);
      }
      // Nothing changed: still there, Bob still a member, no message stored.
      const after = await call('GET', `/api/channels/${priv.id}`, undefined, alice.token);
      expect(after.status).toBe(200);
      expect(after.body.lastSeq).toBe(0);
      expect((await call('GET', `/api/channels/${priv.id}`, undefined, bob.token)).status).toBe(200);
    });

    it('is not subscribable over a socket (NOT_FOUND ack)', async () => {
      const s = await open(carol);
      const ack = await emitAck(s, 'channel:subscribe', { channelId: priv.id });
      expect(ack).toEqual({ ok: false, error: expect.objectContaining({ code: 'NOT_FOUND' }) });
    });
  });

  describe('a public channel, for an outsider', () => {
    let pub: { id: string; name: string };
    beforeAll(async () => {
      pub = await create(alice);
      await addMember(pub.id, bob);
    });

    it('can GET it, read and publish messages (201)', async () => {
      expect((await call('GET', `/api/channels/${pub.id}`, undefined, carol.token)).status).toBe(200);
      const m = await publish(pub.id, carol, { hello: 'from carol' });
      const history = await call('GET', `/api/channels/${pub.id}/messages`, undefined, carol.token);
      expect(history.status).toBe(200);
      expect(history.body.items.map((x: { id: string }) => x.id)).toContain(m.id);
      expect((await call('GET', `/api/channels/${pub.id}/presence`, undefined, carol.token)).status).toBe(200);
    });

    it('403 FORBIDDEN for PATCH, DELETE, adding a member and removing someone else', async () => {
      expectError(await call('PATCH', `/api/channels/${pub.id}`, { name: uniqueName() }, carol.token), 403, 'FORBIDDEN');
      expectError(await call('PATCH', `/api/channels/${pub.id}`, { visibility: 'private' }, carol.token), 403, 'FORBIDDEN');
      expectError(await call('DELETE', `/api/channels/${pub.id}`, undefined, carol.token), 403, 'FORBIDDEN');
      expectError(await call('POST', `/api/channels/${pub.id}/members`, { username: carol.username }, carol.token), 403, 'FORBIDDEN');
      expectError(await call('DELETE', `/api/channels/${pub.id}/members/${bob.id}`, undefined, carol.token), 403, 'FORBIDDEN');
      const after = await call('GET', `/api/channels/${pub.id}`, undefined, alice.token);
      expect(after.body).toEqual(expect.objectContaining({ name: pub.name, visibility: 'public' }));
    });

    it('404 when removing itself while not a member', async () => {
      expectError(await call('DELETE', `/api/channels/${pub.id}/members/${carol.id}`, undefined, carol.token), 404, 'NOT_FOUND');
    });
  });

  describe('a member (not the owner) of a private channel', () => {
    let priv: { id: string; name: string };
    let dan: User;
    beforeAll(async () => {
      dan = await registerUser(call, 'dan');
      priv = await create(alice, { visibility: 'private' });
      await addMember(priv.id, bob);
      await addMember(priv.id, dan);
    });

    it('can read and publish', async () => {
      expect((await call('GET', `/api/channels/${priv.id}`, undefined, bob.token)).status).toBe(200);
      const m = await publish(priv.id, bob, 'member message');
      const history = await call('GET', `/api/channels/${priv.id}/messages`, undefined, bob.token);
      expect(history.status).toBe(200);
      expect(history.body.items.map((x: { id: string }) => x.id)).toEqual([m.id]);
      expect(history.body.lastSeq).toBe(1);
    });

    it('403 for PATCH, DELETE, adding a member and removing another member', async () => {
      expectError(await call('PATCH', `/api/channels/${priv.id}`, { name: uniqueName() }, bob.token), 403, 'FORBIDDEN');
      expectError(await call('DELETE', `/api/channels/${priv.id}`, undefined, bob.token), 403, 'FORBIDDEN');
      expectError(await call('POST', `/api/channels/${priv.id}/members`, { username: carol.username }, bob.token), 403, 'FORBIDDEN');
      expectError(await call('DELETE', `/api/channels/${priv.id}/members/${dan.id}`, undefined, bob.token), 403, 'FORBIDDEN');
      expectError(await call('DELETE', `/api/channels/${priv.id}/members/${alice.id}`, undefined, bob.token), 403, 'FORBIDDEN');
      // Dan is still in, Carol was not added.
      expect((await call('GET', `/api/channels/${priv.id}`, undefined, dan.token)).status).toBe(200);
      expect((await call('GET', `/api/channels/${priv.id}`, undefined, carol.token)).status).toBe(404);
    });

    it('can remove itself (204) and then the channel is gone for it (404)', async () => {
      expect((await call('DELETE', `/api/channels/${priv.id}/members/${dan.id}`, undefined, dan.token)).status).toBe(204);
      expectError(await call('GET', `/api/channels/${priv.id}`, undefined, dan.token), 404, 'NOT_FOUND');
      expectError(await call('DELETE', `/api/channels/${priv.id}/members/${dan.id}`, undefined, dan.token), 404, 'NOT_FOUND');
    });
  });

  describe('the owner', () => {
    let c: { id: string; name: string };
    beforeAll(async () => {
      c = await create(alice);
    });

    it('PATCH name → 200, PATCH visibility → 200, both persisted', async () => {
      const name = uniqueName('renamed');
      const r1 = await call('PATCH', `/api/channels/${c.id}`, { name }, alice.token);
      expect(r1.status).toBe(200);
      expect(r1.body).toEqual(expect.objectContaining({ id: c.id, name, visibility: 'public', ownerId: alice.id }));
      const r2 = await call('PATCH', `/api/channels/${c.id}`, { visibility: 'private' }, alice.token);
      expect(r2.status).toBe(200);
      expect(r2.body).toEqual(expect.objectContaining({ id: c.id, name, visibility: 'private' }));
      const r3 = await call('PATCH', `/api/channels/${c.id}`, { visibility: 'public', name: c.name }, alice.token);
      expect(r3.status).toBe(200);
      expect((await call('GET', `/api/channels/${c.id}`, undefined, carol.token)).body).toEqual(expect.objectContaining({ name: c.name, visibility: 'public' }));
    });

    it('PATCH to the name of another of its own channels → 409 CONFLICT; to another user’s channel’s name → 200', async () => {
      const own = await create(alice);
      expectError(await call('PATCH', `/api/channels/${c.id}`, { name: own.name }, alice.token), 409, 'CONFLICT');
      expect((await call('GET', `/api/channels/${c.id}`, undefined, alice.token)).body.name).toBe(c.name);
      const bobs = await create(bob);
      const renamed = await call('PATCH', `/api/channels/${own.id}`, { name: bobs.name }, alice.token);
      expect({ status: renamed.status, name: renamed.body.name }).toEqual({ status: 200, name: bobs.name });
    });

    it.each([
      ['{}', {}, '(body)'],
      ['a bad name', { name: 'Bad Name' }, 'name'],
      ['a bad visibility', { visibility: 'hidden' }, 'visibility'],
      ['an unknown field', { name: 'fine', ownerId: UNKNOWN }, 'ownerId'],
      ['null', null, '(body)'],
    ])('PATCH with %s → 400', async (_, body, field) => {
      const res = await call('PATCH', `/api/channels/${c.id}`, body === null ? 'null' : body, alice.token);
      expectError(res, 400, 'BAD_REQUEST');
      expect(res.body.details).toEqual(expect.arrayContaining([{ field, reason: expect.any(String) }]));
    });

    it('adds a member (201), adding again returns the same membership (200)', async () => {
      const first = await call('POST', `/api/channels/${c.id}/members`, { username: bob.username }, alice.token);
      expect(first.status).toBe(201);
      expect(first.body).toEqual({ channelId: c.id, user: { id: bob.id, username: bob.username }, role: 'member', createdAt: expect.any(String) });
      const again = await call('POST', `/api/channels/${c.id}/members`, { username: bob.username }, alice.token);
      expect(again.status).toBe(200);
      expect(again.body).toEqual(first.body);
      // Adding the owner itself returns its owner membership.
      const self = await call('POST', `/api/channels/${c.id}/members`, { username: alice.username }, alice.token);
      expect(self.status).toBe(200);
      expect(self.body).toEqual(expect.objectContaining({ channelId: c.id, user: { id: alice.id, username: alice.username }, role: 'owner' }));
    });

    it('adding an unknown username → 404 NOT_FOUND; a malformed one → 400', async () => {
      expectError(await call('POST', `/api/channels/${c.id}/members`, { username: 'nobody_here_at_all' }, alice.token), 404, 'NOT_FOUND');
      const bad = await call('POST', `/api/channels/${c.id}/members`, { username: 'Bob' }, alice.token);
      expectError(bad, 400, 'BAD_REQUEST');
      expect(bad.body.details).toEqual([{ field: 'username', reason: expect.any(String) }]);
    });

    it('removes a member (204); removing a non-member → 404; removing itself → 409 CONFLICT', async () => {
      const priv = await create(alice, { visibility: 'private' });
      await addMember(priv.id, bob);
      expect((await call('GET', `/api/channels/${priv.id}`, undefined, bob.token)).status).toBe(200);
      expect((await call('DELETE', `/api/channels/${priv.id}/members/${bob.id}`, undefined, alice.token)).status).toBe(204);
      expectError(await call('GET', `/api/channels/${priv.id}`, undefined, bob.token), 404, 'NOT_FOUND');
      expectError(await call('DELETE', `/api/channels/${priv.id}/members/${bob.id}`, undefined, alice.token), 404, 'NOT_FOUND');
      expectError(await call('DELETE', `/api/channels/${priv.id}/members/${carol.id}`, undefined, alice.token), 404, 'NOT_FOUND');
      expectError(await call('DELETE', `/api/channels/${priv.id}/members/${UNKNOWN}`, undefined, alice.token), 404, 'NOT_FOUND');
      expectError(await call('DELETE', `/api/channels/${priv.id}/members/${alice.id}`, undefined, alice.token), 409, 'CONFLICT');
      expect((await call('GET', `/api/channels/${priv.id}`, undefined, alice.token)).status).toBe(200);
    });

    it('DELETE → 204, then 404; the name can be reused and the new channel has no history; the messages are gone', async () => {
      const old = await create(alice);
      await publish(old.id, alice, 'first');
      await publish(old.id, bob, 'second');
      expect((await call('DELETE', `/api/channels/${old.id}`, undefined, alice.token)).status).toBe(204);
      expectError(await call('GET', `/api/channels/${old.id}`, undefined, alice.token), 404, 'NOT_FOUND');
      expectError(await call('GET', `/api/channels/${old.id}/messages`, undefined, alice.token), 404, 'NOT_FOUND');
      expectError(await call('DELETE', `/api/channels/${old.id}`, undefined, alice.token), 404, 'NOT_FOUND');

      const reborn = await create(bob, { name: old.name });
      expect(reborn.id).not.toBe(old.id);
      expect(reborn.lastSeq).toBe(0);
      expect(reborn.ownerId).toBe(bob.id);
      const history = await call('GET', `/api/channels/${reborn.id}/messages`, undefined, bob.token);
      expect(history.status).toBe(200);
      expect(history.body).toEqual({ items: [], lastSeq: 0 });

      const db = new pg.Client({ connectionString: hub.databaseUrl });
      await db.connect();
      try {
        const { rows } = await db.query('SELECT count(*)::int AS n FROM messages WHERE channel_id = $1', [old.id]);
        expect(rows[0].n).toBe(0);
        const members = await db.query('SELECT count(*)::int AS n FROM memberships WHERE channel_id = $1', [old.id]);
        expect(members.rows[0].n).toBe(0);
      } finally {
        await db.end();
      }
    });
  });

  describe('revocation over sockets', () => {
    it('a removed member gets channel:removed {reason: removed} and no longer receives the channel’s messages', async () => {
      const priv = await create(alice, { visibility: 'private' });
      const other = await create(alice); // public, Bob stays subscribed: proves his socket is alive
      await addMember(priv.id, bob);
      const bobSock = await open(bob);
      const aliceSock = await open(alice);
      await subscribe(bobSock, priv.id);
      await subscribe(bobSock, other.id);
      await subscribe(aliceSock, priv.id);
      const bobGot = record(bobSock, 'message:created');
      const aliceGot = record(aliceSock, 'message:created');

      // Before: Bob receives the private channel's messages.
      const { received: m0 } = await publishAndAwait(bobGot, priv.id, alice, 'before');
      expect(m0.channelId).toBe(priv.id);

      const removed = once(bobSock, 'channel:removed');
      expect((await call('DELETE', `/api/channels/${priv.id}/members/${bob.id}`, undefined, alice.token)).status).toBe(204);
      expect(await removed).toEqual({ channelId: priv.id, reason: 'removed' });

      // M1 on the private channel: Alice's still-subscribed socket receives it ...
      const { message: m1 } = await publishAndAwait(aliceGot, priv.id, alice, 'after removal');
      // ... then M2 on the other channel reaches Bob: his socket is alive, and events arrive in order.
      const { message: m2 } = await publishAndAwait(bobGot, other.id, alice, 'still alive');
      expect(bobSock.connected).toBe(true);
      const ids = bobGot.items.map((m) => m.id);
      expect(ids).toContain(m2.id);
      expect(ids).not.toContain(m1.id);
      expect(bobGot.items.filter((m) => m.channelId === priv.id).map((m) => m.id)).toEqual([m0.id]);

      // And he cannot subscribe again.
      const ack = await emitAck(bobSock, 'channel:subscribe', { channelId: priv.id });
      expect(ack).toEqual({ ok: false, error: expect.objectContaining({ code: 'NOT_FOUND' }) });
    });

    it('a member leaving by itself gets channel:removed {reason: left}', async () => {
      const priv = await create(alice, { visibility: 'private' });
      await addMember(priv.id, bob);
      const bobSock = await open(bob);
      await subscribe(bobSock, priv.id);
      const removed = once(bobSock, 'channel:removed');
      expect((await call('DELETE', `/api/channels/${priv.id}/members/${bob.id}`, undefined, bob.token)).status).toBe(204);
      expect(await removed).toEqual({ channelId: priv.id, reason: 'left' });
    });

    it('turning a public channel private: a non-member subscriber gets channel:removed {reason: private}; members keep receiving', async () => {
      const ch = await create(alice);
      const other = await create(alice);
      await addMember(ch.id, bob);
      const [aliceSock, bobSock, carolSock] = await Promise.all([open(alice), open(bob), open(carol)]);
      for (const s of [aliceSock, bobSock, carolSock]) await subscribe(s, ch.id);
      await subscribe(carolSock, other.id);
      const [aliceGot, bobGot, carolGot] = [aliceSock, bobSock, carolSock].map((s) => record(s, 'message:created'));
      const bobRemoved: unknown[] = [];
      bobSock.on('channel:removed', (p) => bobRemoved.push(p));
      const aliceRemoved: unknown[] = [];
      aliceSock.on('channel:removed', (p) => aliceRemoved.push(p));

      const removed = once(carolSock, 'channel:removed');
      const res = await call('PATCH', `/api/channels/${ch.id}`, { visibility: 'private' }, alice.token);
      expect(res.status).toBe(200);
      expect(await removed).toEqual({ channelId: ch.id, reason: 'private' });

      // Members keep receiving: Bob and Alice get M1.
      const m1 = await publish(ch.id, bob, 'members only now');
      await Promise.all([bobGot.waitFor((m) => m.id === m1.id), aliceGot.waitFor((m) => m.id === m1.id)]);
      // Carol: alive (gets M2 on the other channel) but did not get M1.
      const { message: m2 } = await publishAndAwait(carolGot, other.id, alice, 'carol still here');
      expect(carolGot.items.map((m) => m.id)).toContain(m2.id);
      expect(carolGot.items.map((m) => m.id)).not.toContain(m1.id);
      expect(bobRemoved).toEqual([]);
      expect(aliceRemoved).toEqual([]);
      expectError(await call('GET', `/api/channels/${ch.id}/messages`, undefined, carol.token), 404, 'NOT_FOUND');
    });

    it('deleting a channel: every subscriber gets channel:deleted {channelId}', async () => {
      const ch = await create(alice);
      await addMember(ch.id, bob);
      const [aliceSock, bobSock, carolSock] = await Promise.all([open(alice), open(bob), open(carol)]);
      for (const s of [aliceSock, bobSock, carolSock]) await subscribe(s, ch.id);
      const events = Promise.all([aliceSock, bobSock, carolSock].map((s) => once(s, 'channel:deleted')));
      expect((await call('DELETE', `/api/channels/${ch.id}`, undefined, alice.token)).status).toBe(204);
      expect(await events).toEqual([{ channelId: ch.id }, { channelId: ch.id }, { channelId: ch.id }]);
      const ack = await emitAck(bobSock, 'message:publish', { channelId: ch.id, body: 'too late' });
      expect(ack).toEqual({ ok: false, error: expect.objectContaining({ code: 'NOT_FOUND' }) });
      expect(bobSock.connected).toBe(true);
    });
  });
});
