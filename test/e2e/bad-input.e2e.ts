import { jest } from '@jest/globals';
import zlib, { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { type Api, type ClientSocket, type RawResponse, type TestHub, api, connect, disconnected, emitAck, rawRequest, record, registerUser, startHub } from './support/hub.js';

type User = Awaited<ReturnType<typeof registerUser>>;

const MAX_BODY = 16_384;
const MAX_REQUEST = 65_536;
const bytes = (v: unknown) => Buffer.byteLength(JSON.stringify(v), 'utf8');
const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);
const nestedObject = (depth: number) => '{"k":'.repeat(depth - 1) + '{}' + '}'.repeat(depth - 1);

/** The error shape of docs/SPEC.md, on every error answer. */
const expectError = (res: { status: number; body: any; headers?: Headers }, status: number, code: string) => {
  expect({ status: res.status, code: res.body?.code }).toEqual({ status, code });
  if (res.headers) expect(res.headers.get('x-replica-id')).toBe('e2e-1');
  expect(res.headers?.get('content-type') ?? 'application/json').toMatch(/^application\/json/);
  expect(res.body).toEqual(expect.objectContaining({ statusCode: status, error: expect.any(String), code, message: expect.any(String) }));
  expect(Object.keys(res.body).sort()).toEqual(expect.arrayContaining(['code', 'error', 'message', 'statusCode']));
  for (const k of Object.keys(res.body)) expect(['statusCode', 'error', 'code', 'message', 'details']).toContain(k);
  if (res.body.details !== undefined) {
    expect(res.body.details.length).toBeGreaterThan(0);
    for (const d of res.body.details) expect(d).toEqual({ field: expect.any(String), reason: expect.any(String) });
  }
};
const fieldsOf = (res: { body: any }) => (res.body.details ?? []).map((d: { field: string }) => d.field).sort();
const badAck = (ack: any, code = 'BAD_REQUEST') => {
  expect(ack).toEqual({ ok: false, error: expect.objectContaining({ code, message: expect.any(String) }) });
  if (code === 'BAD_REQUEST') {
    expect(ack.error.details.length).toBeGreaterThan(0);
    for (const d of ack.error.details) expect(d).toEqual({ field: expect.any(String), reason: expect.any(String) });
  }
};

// Generous per-test budget: the whole e2e project runs files in parallel, and scrypt and hub start-up
// are CPU-bound; the waits inside the tests have their own, shorter, deadlines.
jest.setTimeout(20_000);

describe('bad input: REST bodies, sizes, encodings and socket payloads', () => {
  let hub: TestHub;
  let call: Api;
  let alice: User;
  let channelId: string;
  const sockets: ClientSocket[] = [];

  beforeAll(async () => {
    hub = await startHub();
    call = api(hub.url);
    alice = await registerUser(call, 'bad');
    const res = await call('POST', '/api/channels', { name: `bad-input-${process.pid}` }, alice.token);
    expect(res.status).toBe(201);
    channelId = res.body.id;
  });
  afterAll(async () => {
    sockets.forEach((s) => s.close());
    await hub?.close();
  });

  const raw = (method: string, path: string, body?: string | Buffer | ReadableStream<Uint8Array>, headers: Record<string, string> = {}) =>
    rawRequest(hub.url, method, path, { body, headers: { authorization: `Bearer ${alice.token}`, 'content-type': 'application/json', ...headers } });
  const messagesPath = () => `/api/channels/${channelId}/messages`;
  const publish = (payload: unknown) => call('POST', messagesPath(), payload, alice.token);
  const history = async () => {
    const res = await call('GET', `${messagesPath()}?limit=500`, undefined, alice.token);
    expect(res.status).toBe(200);
    return res.body.items as { id: string; body: unknown; clientMsgId: string | null }[];
  };
  const open = async () => {
    const s = await connect(hub.url, alice.token);
    sockets.push(s);
    return s;
  };

  describe('REST: malformed bodies', () => {
    it.each([
      ['truncated JSON', '{"name":'],
      ['a trailing comma', '{"name":"x",}'],
      ['single quotes', "{'name':'x'}"],
      ['bare words', 'hello'],
      ['a lone NUL byte', '\u0000'],
    ])('400 BAD_REQUEST for %s', async (_, text) => {
      for (const path of ['/api/channels', '/api/auth/register', messagesPath()]) {
        const res = await raw('POST', path, text);
        expectError(res, 400, 'BAD_REQUEST');
        expect(res.body.details).toEqual([{ field: '(body)', reason: expect.any(String) }]);
      }
    });

    it.each([
      ['null', 'null'],
      ['a string', '"name"'],
      ['a number', '42'],
      ['an array', '[{"name":"x"}]'],
      ['an empty body', ''],
    ])('400 for a body that is %s where an object is expected', async (_, text) => {
      const res = await raw('POST', '/api/channels', text);
      expectError(res, 400, 'BAD_REQUEST');
    });

    it('400 for wrong types, each field listed', async () => {
      const ch = await call('POST', '/api/channels', { name: 5, visibility: true }, alice.token);
      expectError(ch, 400, 'BAD_REQUEST');
      expect(fieldsOf(ch)).toEqual(['name', 'visibility']);
      const reg = await call('POST', '/api/auth/register', { username: ['a'], password: { p: 1 } });
      expectError(reg, 400, 'BAD_REQUEST');
      expect([...new Set(fieldsOf(reg))]).toEqual(['password', 'username']);
      const msg = await publish({ body: 'ok', clientMsgId: 5 });
      expectError(msg, 400, 'BAD_REQUEST');
      expect(fieldsOf(msg)).toEqual(['clientMsgId']);
      const long = await publish({ body: 'ok', clientMsgId: 'k'.repeat(65) });
      expectError(long, 400, 'BAD_REQUEST');
      expect(fieldsOf(long)).toEqual(['clientMsgId']);
      const missing = await publish({ clientMsgId: 'k1' });
      expectError(missing, 400, 'BAD_REQUEST');
      expect(fieldsOf(missing)).toEqual(['body']);
      expect(await history()).toEqual([]);
    });

    it('400 for unknown fields, each one listed', async () => {
      const ch = await call('POST', '/api/channels', { name: 'fine-name', color: 'red', ownerId: 'me' }, alice.token);
      expectError(ch, 400, 'BAD_REQUEST');
      expect(ch.body.details).toEqual(
        expect.arrayContaining([
          { field: 'color', reason: 'unknown field' },
          { field: 'ownerId', reason: 'unknown field' },
        ]),
      );
      expect(fieldsOf(ch)).toEqual(['color', 'ownerId']);
      const msg = await publish({ body: 1, seq: 7, authorId: alice.id });
      expectError(msg, 400, 'BAD_REQUEST');
      expect(fieldsOf(msg)).toEqual(['authorId', 'seq']);
      // The channel was not created.
      expect((await call('POST', '/api/channels', { name: 'fine-name' }, alice.token)).status).toBe(201);
    });

    it('400 for a body containing U+0000, in a string or a key — never a 500', async () => {
      for (const [payload, field] of [
        [{ body: 'a\u0000b' }, 'body'],
        [{ body: { 'k\u0000': 1 } }, 'body'],
        [{ body: ['x', { deep: ['\u0000'] }] }, 'body'],
        [{ body: 'ok', clientMsgId: 'id\u0000' }, 'clientMsgId'],
      ] as const) {
        const res = await publish(payload);
        expectError(res, 400, 'BAD_REQUEST');
        expect(fieldsOf(res)).toEqual([field]);
      }
      expectError(await call('POST', '/api/channels', { name: 'nul\u0000name' }, alice.token), 400, 'BAD_REQUEST');
      expectError(await call('POST', '/api/auth/register', { username: 'nul\u0000user', password: 'password123' }), 400, 'BAD_REQUEST');
      expectError(await call('POST', '/api/auth/login', { username: 'nul\u0000user', password: 'password123' }), 400, 'BAD_REQUEST');
      expectError(await call('POST', `/api/channels/${channelId}/members`, { username: 'x\u0000y' }, alice.token), 400, 'BAD_REQUEST');
      // In the URL too.
      expectError(await call('GET', '/api/channels/%00', undefined, alice.token), 400, 'BAD_REQUEST');
      expectError(await call('GET', '/api/channels?cursor=%00', undefined, alice.token), 400, 'BAD_REQUEST');
      expect(await history()).toEqual([]);
    });

    it('400 for a lone UTF-16 surrogate (valid JSON escape, not storable) in the body or the clientMsgId — never a 500', async () => {
      for (const [text, field] of [
        ['{"body":"\\ud800"}', 'body'],
        ['{"body":"x\\udc00"}', 'body'],
        ['{"body":{"\\ud83d":1}}', 'body'],
        ['{"body":["ok",{"k":"\\udfff"}]}', 'body'],
        ['{"body":"ok","clientMsgId":"\\ud800"}', 'clientMsgId'],
      ]) {
        const res = await raw('POST', messagesPath(), text);
        expectError(res, 400, 'BAD_REQUEST');
        expect(fieldsOf(res)).toEqual([field]);
      }
      // A proper pair, escaped or not, is just an emoji.
      const pair = await raw('POST', messagesPath(), '{"body":["\\ud83d\\ude00","😀"]}');
      expect(pair.status).toBe(201);
      expect(pair.body.body).toEqual(['😀', '😀']);
    });

    it('a password containing U+0000 is not a 500 (it is hashed, never stored as text)', async () => {
      const username = `nulpw${process.pid % 1000}`;
      const res = await call('POST', '/api/auth/register', { username, password: 'pass\u0000word' });
      expect(res.status).toBe(201);
      expect((await call('POST', '/api/auth/login', { username, password: 'pass\u0000word' })).status).toBe(200);
      expect((await call('POST', '/api/auth/login', { username, password: 'passXword' })).status).toBe(401);
    });

    it.each([[1000], [30_000]])('400 (not 500, no crash) for JSON nested %i levels deep', async (depth) => {
      const text = nested(depth);
      expect(Buffer.byteLength(text)).toBeLessThan(MAX_REQUEST);
      const msg = await raw('POST', messagesPath(), `{"body":${text}}`);
      expectError(msg, 400, 'BAD_REQUEST');
      expect(fieldsOf(msg)).toEqual(['body']);
      expectError(await raw('POST', '/api/channels', `{"name":${text}}`), 400, 'BAD_REQUEST');
      expectError(await raw('POST', '/api/auth/register', text), 400, 'BAD_REQUEST');
      expectError(await raw('POST', '/api/channels', `{"name":"x","extra":${text}}`), 400, 'BAD_REQUEST');
      expect((await call('GET', '/healthz')).status).toBe(200);
    });

    it('a body nested 100 levels deep is fine (201) and round-trips', async () => {
      const body = JSON.parse(nested(100));
      const res = await publish({ body });
      expect(res.status).toBe(201);
      expect(res.body.body).toEqual(body);
    });

    it('at the depth boundary: a body whose deepest value is at level 200 (201 nested levels) is stored; one level more (202) is 400 with field body and stores nothing', async () => {
      for (const [kind, text] of [
        ['arrays', nested],
        ['objects', nestedObject],
      ] as const) {
        const ok = await raw('POST', messagesPath(), `{"body":${text(201)},"clientMsgId":"depth-201-${kind}"}`);
        expect(ok.status).toBe(201);
        expect(ok.body.body).toEqual(JSON.parse(text(201)));
        const deep = await raw('POST', messagesPath(), `{"body":${text(202)},"clientMsgId":"depth-202-${kind}"}`);
        expectError(deep, 400, 'BAD_REQUEST');
        expect(fieldsOf(deep)).toEqual(['body']);
      }
      // A scalar counts as a level of its own: inside 201 arrays it sits at level 201.
      expect((await raw('POST', messagesPath(), `{"body":${'['.repeat(200)}1${']'.repeat(200)},"clientMsgId":"depth-scalar-200"}`)).status).toBe(201);
      const scalar = await raw('POST', messagesPath(), `{"body":${'['.repeat(201)}1${']'.repeat(201)},"clientMsgId":"depth-scalar-201"}`);
      expectError(scalar, 400, 'BAD_REQUEST');
      expect(fieldsOf(scalar)).toEqual(['body']);
      const stored = (await history()).map((m) => m.clientMsgId).filter((k) => k?.startsWith('depth-'));
      expect(stored.sort()).toEqual(['depth-201-arrays', 'depth-201-objects', 'depth-scalar-200']);
    });

    it.each([
      ['null', null],
      ['the empty string', ''],
    ])('400 with field clientMsgId for a clientMsgId that is %s, and nothing is stored; omitting it is 201', async (_, clientMsgId) => {
      const body = { marker: `cmid-${JSON.stringify(clientMsgId)}` };
      const before = (await history()).length;
      const res = await publish({ body, clientMsgId });
      expectError(res, 400, 'BAD_REQUEST');
      expect(res.body.details).toEqual([{ field: 'clientMsgId', reason: expect.any(String) }]);
      expect(await history()).toHaveLength(before);
      const omitted = await publish({ body });
      expect(omitted.status).toBe(201);
      expect(omitted.body.clientMsgId).toBeNull();
      expect((await history()).filter((m) => JSON.stringify(m.body) === JSON.stringify(body))).toEqual([expect.objectContaining({ id: omitted.body.id })]);
    });
  });

  describe('REST: content types and encodings', () => {
    it.each([
      ['application/x-www-form-urlencoded (curl -d)', 'application/x-www-form-urlencoded'],
      ['text/plain', 'text/plain'],
      ['no content type at all', undefined],
    ])('JSON text sent as %s is parsed as JSON', async (_, type) => {
      const username = `ctype${Math.abs(type?.length ?? 0)}_${process.pid % 1000}`;
      const body = Buffer.from(JSON.stringify({ username, password: 'password123' }));
      const headers: Record<string, string> = type ? { 'content-type': type } : {};
      const res = await rawRequest(hub.url, 'POST', '/api/auth/register', { body, headers });
      expect(res.status).toBe(201);
      expect(res.body.user.username).toBe(username);
    });

    it('a gzip-encoded JSON body is accepted; garbage claiming gzip is 400', async () => {
      const ok = await raw('POST', messagesPath(), gzipSync(JSON.stringify({ body: 'zipped', clientMsgId: 'gz1' })), { 'content-encoding': 'gzip' });
      expect(ok.status).toBe(201);
      expect(ok.body.body).toBe('zipped');
      const bad = await raw('POST', messagesPath(), Buffer.from('not gzip at all'), { 'content-encoding': 'gzip' });
      expectError(bad, 400, 'BAD_REQUEST');
    });

    it.each([
      ['deflate', deflateSync],
      ['br', brotliCompressSync],
    ])('a %s-encoded JSON body is accepted (201) and stored as sent', async (encoding, compress) => {
      const sent = { body: { encoded: encoding, text: 'é€😀'.repeat(50) }, clientMsgId: `enc-${encoding}` };
      const wire = compress(Buffer.from(JSON.stringify(sent)));
      expect(wire.length).toBeLessThan(Buffer.byteLength(JSON.stringify(sent)));
      const res = await raw('POST', messagesPath(), wire, { 'content-encoding': encoding });
      expect(res.status).toBe(201);
      expect(res.body.body).toEqual(sent.body);
      expect((await history()).filter((m) => m.clientMsgId === sent.clientMsgId)).toEqual([expect.objectContaining({ id: res.body.id, body: sent.body })]);
    });

    it.each(['compress', 'zstd'])('an unsupported Content-Encoding (%s) is 400 BAD_REQUEST in the error shape, and nothing is stored', async (encoding) => {
      const before = (await history()).length;
      const json = Buffer.from(JSON.stringify({ body: 'compressed?', clientMsgId: `enc-${encoding}` }));
      // A real zstd body where this Node can make one: body-parser would decode it there, the contract refuses it.
      const zstd = (zlib as { zstdCompressSync?: (b: Buffer) => Buffer }).zstdCompressSync;
      const wire = encoding === 'zstd' && zstd ? zstd(json) : json;
      const res = await raw('POST', messagesPath(), wire, { 'content-encoding': encoding });
      expectError(res, 400, 'BAD_REQUEST');
      expect(res.body.message).toBe(`unsupported content encoding "${encoding}"`);
      expect(await history()).toHaveLength(before);
    });

    it('a gzip bomb (small on the wire, over 64 KiB inflated) is 413', async () => {
      const inflated = JSON.stringify({ body: 'x', pad: ' '.repeat(1_000_000) });
      const zipped = gzipSync(inflated);
      expect(zipped.length).toBeLessThan(MAX_REQUEST / 8);
      const res = await raw('POST', messagesPath(), zipped, { 'content-encoding': 'gzip' });
      expectError(res, 413, 'PAYLOAD_TOO_LARGE');
    });

    it('an unsupported charset is a 4xx in the error shape, not a 500', async () => {
      const res = await raw('POST', '/api/channels', JSON.stringify({ name: 'charset-x' }), { 'content-type': 'application/json; charset=klingon' });
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
      expectError(res, res.status, res.body.code);
    });
  });

  describe('REST: sizes', () => {
    const exactly = (n: number, unit: string, filler = 'x') => {
      // A JSON string body: 2 quote bytes plus the characters.
      const chars = Math.floor((n - 2) / Buffer.byteLength(unit));
      const s = unit.repeat(chars);
      return s + filler.repeat(n - bytes(s));
    };

    it.each([
      ['ASCII', 'x'],
      ['2-byte UTF-8 (é)', 'é'],
      ['3-byte UTF-8 (€)', '€'],
      ['4-byte UTF-8 (emoji)', '😀'],
    ])('a %s body of exactly 16,384 bytes is 201; one byte more is 413 PAYLOAD_TOO_LARGE', async (_, unit) => {
      const atLimit = exactly(MAX_BODY, unit);
      expect(bytes(atLimit)).toBe(MAX_BODY);
      const res = await publish({ body: atLimit });
      expect(res.status).toBe(201);
      expect(res.body.body).toBe(atLimit);
      const over = atLimit + 'x';
      expect(bytes(over)).toBe(MAX_BODY + 1);
      const tooLarge = await publish({ body: over });
      expectError(tooLarge, 413, 'PAYLOAD_TOO_LARGE');
      // Multi-byte: the limit is bytes, not characters.
      if (unit !== 'x') expect(over.length).toBeLessThan(MAX_BODY);
    });

    it('an object body is measured as its JSON text (escapes count), exactly 16,384 → 201, 16,385 → 413', async () => {
      // "\n" is two bytes in JSON, a quote inside a string too.
      const base = { text: '\n"'.repeat(1000), list: [1, true, null] } as Record<string, unknown>;
      const pad = MAX_BODY - bytes({ ...base, pad: '' });
      const body = { ...base, pad: 'p'.repeat(pad) };
      expect(bytes(body)).toBe(MAX_BODY);
      const ok = await publish({ body });
      expect(ok.status).toBe(201);
      expect(ok.body.body).toEqual(body);
      expectError(await publish({ body: { ...body, pad: body.pad + 'p' } }), 413, 'PAYLOAD_TOO_LARGE');
    });

    it('an oversized message body is 413 before the channel is looked up: the same answer for an unknown channel, a private one of others and a readable one; nothing stored', async () => {
      const bob = await registerUser(call, 'bad');
      const created = await call('POST', '/api/channels', { name: `bad-private-${process.pid}`, visibility: 'private' }, alice.token);
      expect(created.status).toBe(201);
      const hidden = created.body.id as string;
      const post = (id: string, body: unknown) => call('POST', `/api/channels/${id}/messages`, { body }, bob.token);
      const over = 'x'.repeat(MAX_BODY - 1);
      expect(bytes(over)).toBe(MAX_BODY + 1);
      // The private channel is hidden from bob: a small body is 404, like an unknown id.
      expectError(await post(hidden, 'small'), 404, 'NOT_FOUND');
      const unknown = await post('00000000-0000-4000-8000-000000000000', over);
      const secret = await post(hidden, over);
      const readable = await post(channelId, over);
      for (const res of [unknown, secret, readable]) {
        expectError(res, 413, 'PAYLOAD_TOO_LARGE');
        expect(res.body.details).toEqual([{ field: 'body', reason: expect.any(String) }]);
      }
      expect(secret.body).toEqual(unknown.body);
      expect(readable.body).toEqual(unknown.body);
      const stored = await call('GET', `/api/channels/${hidden}/messages`, undefined, alice.token);
      expect({ status: stored.status, items: stored.body.items, lastSeq: stored.body.lastSeq }).toEqual({ status: 200, items: [], lastSeq: 0 });
      expect((await history()).filter((m) => m.body === over)).toEqual([]);
    });

    it('a whole request over 64 KiB is 413 in the error shape (with Content-Length)', async () => {
      const text = JSON.stringify({ name: 'big', pad: 'x'.repeat(MAX_REQUEST) });
      const res = await raw('POST', '/api/channels', text);
      expectError(res, 413, 'PAYLOAD_TOO_LARGE');
      expect(res.headers.get('x-replica-id')).toBe('e2e-1');
    });

    it('a whole request over 64 KiB is 413 when streamed without Content-Length (chunked)', async () => {
      const chunk = new TextEncoder().encode('x'.repeat(8192));
      let sent = 0;
      const stream = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(new TextEncoder().encode('{"name":"chunky","pad":"'));
        },
        pull(controller) {
          if (sent > MAX_REQUEST * 2) {
            controller.enqueue(new TextEncoder().encode('"}'));
            controller.close();
            return;
          }
          sent += chunk.length;
          controller.enqueue(chunk);
        },
      });
      const res = await raw('POST', '/api/channels', stream);
      expectError(res, 413, 'PAYLOAD_TOO_LARGE');
    });

    it('a request of exactly 64 KiB is read (400 for its content, not 413); one byte more is 413', async () => {
      const shell = JSON.stringify({ username: 'big_one', password: '' });
      const text = JSON.stringify({ username: 'big_one', password: 'p'.repeat(MAX_REQUEST - shell.length) });
      expect(Buffer.byteLength(text)).toBe(MAX_REQUEST);
      const res = await rawRequest(hub.url, 'POST', '/api/auth/register', { body: text, headers: { 'content-type': 'application/json' } });
      expectError(res, 400, 'BAD_REQUEST');
      expect(fieldsOf(res)).toEqual(['password']);
      const over = JSON.stringify({ username: 'big_one', password: 'p'.repeat(MAX_REQUEST - shell.length + 1) });
      const res2 = await rawRequest(hub.url, 'POST', '/api/auth/register', { body: over, headers: { 'content-type': 'application/json' } });
      expectError(res2, 413, 'PAYLOAD_TOO_LARGE');
    });
  });

  describe('REST: error shape elsewhere', () => {
    it('an unknown route is 404 NOT_FOUND in the error shape', async () => {
      expectError(await call('GET', '/api/nope', undefined, alice.token), 404, 'NOT_FOUND');
      expectError(await call('PUT', `/api/channels/${channelId}`, { name: 'x' }, alice.token), 404, 'NOT_FOUND');
    });

    it('a malformed percent-encoding in a path (%E0%A4%A) is 400 BAD_REQUEST in the error shape, and stores nothing', async () => {
      const before = (await history()).length;
      for (const [method, path, body] of [
        ['GET', '/api/channels/%E0%A4%A', undefined],
        ['POST', '/api/channels/%E0%A4%A/messages', { body: 'percent' }],
        ['GET', '/api/channels/%E0%A4%A/presence', undefined],
        ['DELETE', `/api/channels/${channelId}/members/%E0%A4%A`, undefined],
      ] as const) {
        const res = await call(method, path, body, alice.token);
        expect({ path, status: res.status }).toEqual({ path, status: 400 });
        expectError(res, 400, 'BAD_REQUEST');
      }
      expect(await history()).toHaveLength(before);
    });

    it.each([
      ['no token', {}],
      ['a garbage token', { authorization: 'Bearer not.a.jwt' }],
    ])('with %s, a malformed body is 400 and an oversized one 413, not 401 (the body is read before auth); nothing changes', async (_, auth) => {
      const listed = async () => (await call('GET', '/api/channels?limit=200', undefined, alice.token)).body.items.length as number;
      const [channelsBefore, messagesBefore] = [await listed(), (await history()).length];
      const oversized = JSON.stringify({ name: 'no-token-big', pad: 'x'.repeat(MAX_REQUEST) });
      for (const path of ['/api/channels', messagesPath()]) {
        const send = (text: string) => rawRequest(hub.url, 'POST', path, { body: text, headers: { 'content-type': 'application/json', ...auth } });
        const malformed = await send('{"name":');
        expectError(malformed, 400, 'BAD_REQUEST');
        expect(malformed.body.details).toEqual([{ field: '(body)', reason: expect.any(String) }]);
        expectError(await send(oversized), 413, 'PAYLOAD_TOO_LARGE');
        // The control: a well-formed body without a valid token is 401.
        expectError(await send('{"name":"no-token","body":1}'), 401, 'UNAUTHORIZED');
      }
      expect([await listed(), (await history()).length]).toEqual([channelsBefore, messagesBefore]);
    });

    it('a bad history query is 400 with the field listed', async () => {
      for (const [q, field] of [
        ['limit=0', 'limit'],
        ['limit=501', 'limit'],
        ['afterSeq=-1', 'afterSeq'],
        ['beforeSeq=x', 'beforeSeq'],
        ['since=1', 'since'],
      ]) {
        const res = await call('GET', `${messagesPath()}?${q}`, undefined, alice.token);
        expectError(res, 400, 'BAD_REQUEST');
        expect(fieldsOf(res)).toEqual([field]);
      }
    });
  });

  describe('socket: message:publish with bad payloads', () => {
    let s: ClientSocket;
    beforeAll(async () => {
      s = await open();
    });

    it.each([
      ['a string', 'hello', '(body)'],
      ['a number', 42, '(body)'],
      ['null', null, '(body)'],
      ['an array', [{ channelId: '00000000-0000-4000-8000-000000000000', body: 1 }], '(body)'],
      ['no channelId', { body: 'x' }, 'channelId'],
      ['a bad uuid', { channelId: 'nope', body: 'x' }, 'channelId'],
      ['no body', { channelId: '00000000-0000-4000-8000-000000000000' }, 'body'],
      ['an unknown field', { channelId: '00000000-0000-4000-8000-000000000000', body: 1, seq: 3 }, 'seq'],
      ['a wrong clientMsgId type', { channelId: '00000000-0000-4000-8000-000000000000', body: 1, clientMsgId: 7 }, 'clientMsgId'],
      ['U+0000 in the body', { channelId: '00000000-0000-4000-8000-000000000000', body: '\u0000' }, 'body'],
      ['U+0000 in the clientMsgId', { channelId: '00000000-0000-4000-8000-000000000000', body: 1, clientMsgId: 'a\u0000' }, 'clientMsgId'],
      ['a lone surrogate in the body', { channelId: '00000000-0000-4000-8000-000000000000', body: { k: '\ud800' } }, 'body'],
      ['a body nested 1000 levels', { channelId: '00000000-0000-4000-8000-000000000000', body: JSON.parse(nested(1000)) }, 'body'],
    ])('%s → ack {ok:false, error:{code: BAD_REQUEST, message, details}}', async (_, payload, field) => {
      const ack = await emitAck(s, 'message:publish', payload);
      badAck(ack);
      expect(ack.error.details.map((d: { field: string }) => d.field)).toContain(field);
      expect(s.connected).toBe(true);
    });

    it('no payload at all, and a payload plus an extra argument → BAD_REQUEST', async () => {
      badAck(await (s as any).timeout(10_000).emitWithAck('message:publish'));
      badAck(await (s as any).timeout(10_000).emitWithAck('message:publish', { channelId, body: 1 }, 'extra'));
      expect(await history()).toEqual(expect.not.arrayContaining([expect.objectContaining({ body: 1 })]));
    });

    it('a body over 16,384 bytes → PAYLOAD_TOO_LARGE; exactly 16,384 → ok', async () => {
      const atLimit = 'é'.repeat((MAX_BODY - 2) / 2);
      expect(bytes(atLimit)).toBe(MAX_BODY);
      const ok = await emitAck(s, 'message:publish', { channelId, body: atLimit });
      expect(ok).toEqual({ ok: true, message: expect.objectContaining({ channelId, body: atLimit }) });
      const ack = await emitAck(s, 'message:publish', { channelId, body: atLimit + 'x' });
      badAck(ack, 'PAYLOAD_TOO_LARGE');
      expect(s.connected).toBe(true);
    });

    it('subscribe with bad payloads → BAD_REQUEST', async () => {
      for (const payload of ['x', null, { channelId: 'nope' }, { channelId, sinceSeq: -1 }, { channelId, sinceSeq: 'abc' }, { channelId, extra: 1 }]) {
        badAck(await emitAck(s, 'channel:subscribe', payload));
      }
      badAck(await emitAck(s, 'channel:unsubscribe', { channelId: 5 }));
    });
  });

  describe('socket: events without an ack, unknown events, oversized frames', () => {
    it('message:publish without an ack callback is still handled: stored, delivered, the socket stays connected', async () => {
      const s = await open();
      expect((await emitAck(s, 'channel:subscribe', { channelId })).ok).toBe(true);
      const inbox = record(s, 'message:created');
      s.emit('message:publish', { channelId, body: { noAck: true }, clientMsgId: 'no-ack-1' });
      const delivered = await inbox.waitFor((m) => m.clientMsgId === 'no-ack-1');
      expect(delivered.body).toEqual({ noAck: true });
      const stored = (await history()).filter((m) => m.clientMsgId === 'no-ack-1');
      expect(stored).toEqual([expect.objectContaining({ id: delivered.id, body: { noAck: true } })]);
      // Bad ones without an ack are dropped quietly; the socket is still usable, in order.
      (s as any).emit('message:publish', 'garbage');
      (s as any).emit('message:publish', { channelId, body: 'x'.repeat(MAX_BODY) });
      (s as any).emit('typing', 12);
      const ack = await emitAck(s, 'message:publish', { channelId, body: 'after garbage' });
      expect(ack.ok).toBe(true);
      expect(s.connected).toBe(true);
    });

    it('an unknown event is ignored and the socket stays connected', async () => {
      const s = await open();
      (s as any).emit('no:such:event', { channelId, body: 'x' });
      (s as any).emit('__proto__', {});
      (s as any).emit('constructor', 1);
      const ack = await emitAck(s, 'message:publish', { channelId, body: 'after unknown events', clientMsgId: 'after-unknown' });
      expect(ack.ok).toBe(true);
      expect(s.connected).toBe(true);
      expect((await history()).filter((m) => m.body === 'x')).toEqual([]);
    });

    it.each([['websocket'], ['polling']])('over %s: a frame over maxHttpBufferSize closes that connection; the hub keeps serving others', async (transport) => {
      const other = await open();
      const big = await connect(hub.url, alice.token, { transports: [transport] });
      sockets.push(big);
      const closed = disconnected(big);
      big.emit('message:publish', { channelId, body: 'y'.repeat(200_000), clientMsgId: `huge-${transport}` });
      const reason = await closed;
      expect(['transport close', 'transport error', 'io server disconnect']).toContain(reason);
      expect(big.connected).toBe(false);
      // Nothing stored, and the hub still answers, over sockets and REST.
      const ack = await emitAck(other, 'message:publish', { channelId, body: `still serving ${transport}` });
      expect(ack.ok).toBe(true);
      expect((await history()).filter((m) => m.clientMsgId === `huge-${transport}`)).toEqual([]);
      expect((await call('GET', '/healthz')).status).toBe(200);
    });
  });

  it('after all of this the hub still answers /healthz 200 and serves requests', async () => {
    const health = await call('GET', '/healthz');
    expect(health.status).toBe(200);
    expect(health.headers.get('x-replica-id')).toBe('e2e-1');
    expect((await call('GET', '/api/me', undefined, alice.token)).status).toBe(200);
    const res: RawResponse = await rawRequest(hub.url, 'GET', `/api/channels/${channelId}`, { headers: { authorization: `Bearer ${alice.token}` } });
    expect(res.status).toBe(200);
  });
});
