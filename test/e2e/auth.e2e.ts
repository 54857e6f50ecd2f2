import { jest } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { type Api, type ClientSocket, type TestHub, TEST_SECRET, api, connect, connectError, connectSession, disconnected, once, rawRequest, registerUser, startHub } from './support/hub.js';

// Generous per-test budget: the whole e2e project runs files in parallel, and scrypt and hub start-up
// are CPU-bound; the waits inside the tests have their own, shorter, deadlines.
jest.setTimeout(20_000);

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
const key = (secret: string) => new TextEncoder().encode(secret);
const now = () => Math.floor(Date.now() / 1000);

/** The hub's claims (issuer, audience, token version 0): each bad token below is wrong in one way only. */
const hubClaims = (alg = 'HS256') => new SignJWT({ ver: 0 }).setProtectedHeader({ alg, typ: 'JWT' }).setIssuer('crosswire').setAudience('crosswire-clients');
/** A token signed with another secret, for an existing user, not expired. */
const forgedToken = (userId: string) =>
  hubClaims()
    .setSubject(userId)
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(key('another-secret-'.padEnd(48, 'y')));
/** Signed with the hub's secret, but expired a minute ago. */
const expiredToken = (userId: string) =>
  hubClaims()
    .setSubject(userId)
    .setIssuedAt(now() - 120)
    .setExpirationTime(now() - 60)
    .sign(key(TEST_SECRET));
/** `alg: none`, no signature. */
const unsignedToken = (userId: string) => `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: userId, iat: now(), exp: now() + 3600, iss: 'crosswire', aud: 'crosswire-clients', ver: 0 })}.`;

/** A valid token of `userId`, exactly `length` characters long: an extra claim pads it, a `kid` of 0–3 characters reaches every length. */
async function tokenOfLength(userId: string, length: number): Promise<string> {
  for (let kid = 0; kid < 4; kid++) {
    for (let pad = Math.max(0, Math.floor(((length - 400) * 3) / 4)); ; pad++) {
      const token = await new SignJWT({ ver: 0, pad: 'p'.repeat(pad) })
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT', ...(kid ? { kid: 'k'.repeat(kid) } : {}) })
        .setIssuer('crosswire')
        .setAudience('crosswire-clients')
        .setSubject(userId)
        .setExpirationTime('1h')
        .sign(key(TEST_SECRET));
      if (token.length === length) return token;
      if (token.length > length) break;
    }
  }
  throw new Error(`no token of exactly ${length} characters`);
}

/** A GET to REST and a preflight for a POST, both from `origin`. */
const corsProbe = async (base: string, origin: string, token: string) => ({
  actual: await rawRequest(base, 'GET', '/api/me', { headers: { origin, authorization: `Bearer ${token}` } }),
  preflight: await rawRequest(base, 'OPTIONS', '/api/channels', {
    headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
  }),
});
const expectCorsAllowed = async (base: string, origin: string, token: string) => {
  const { actual, preflight } = await corsProbe(base, origin, token);
  expect({ status: actual.status, allow: actual.headers.get('access-control-allow-origin') }).toEqual({ status: 200, allow: origin });
  expect(
    actual.headers
      .get('access-control-expose-headers')
      ?.split(',')
      .map((h) => h.trim().toLowerCase())
      .sort(),
  ).toEqual(['retry-after', 'x-replica-id', 'x-request-id']);
  expect({ status: preflight.status, allow: preflight.headers.get('access-control-allow-origin') }).toEqual({ status: 204, allow: origin });
  expect(preflight.headers.get('access-control-allow-methods')).toMatch(/\bPOST\b/);
  expect(preflight.headers.get('access-control-allow-headers')?.toLowerCase()).toMatch(/\bauthorization\b/);
};
const expectCorsRefused = async (base: string, origin: string, token: string) => {
  const { actual, preflight } = await corsProbe(base, origin, token);
  expect({ origin, actual: actual.headers.get('access-control-allow-origin'), preflight: preflight.headers.get('access-control-allow-origin') }).toEqual({ origin, actual: null, preflight: null });
};

const expectError = (res: { status: number; body: any }, status: number, code: string) => {
  expect(res.status).toBe(status);
  expect(res.body).toEqual(expect.objectContaining({ statusCode: status, code, error: expect.any(String), message: expect.any(String) }));
};

describe('auth: register, login, tokens, socket handshake', () => {
  let hub: TestHub;
  let call: Api;
  const sockets: ClientSocket[] = [];
  const headers: Headers[] = [];
  let seq = 0;
  const fresh = (p = 'u') => `${p}${process.pid % 1000}_${Date.now() % 100000}_${++seq}`;

  beforeAll(async () => {
    hub = await startHub();
    const inner = api(hub.url);
    // Every HTTP response this file sees is checked for X-Replica-Id at the end.
    call = async (...args) => {
      const res = await inner(...args);
      headers.push(res.headers);
      return res;
    };
  });
  afterAll(async () => {
    sockets.forEach((s) => s.close());
    await hub?.close();
  });
  const open = async (token: string, opts: Record<string, unknown> = {}) => {
    const s = await connect(hub.url, token, opts);
    sockets.push(s);
    return s;
  };

  describe('register', () => {
    it('201 {user, token}, no password hash anywhere in the answer', async () => {
      const username = fresh('reg');
      const res = await call('POST', '/api/auth/register', { username, password: 'password123' });
      expect(res.status).toBe(201);
      expect(res.body).toEqual({
        user: { id: expect.stringMatching(/^[0-9a-f-]{36}$/), username, createdAt: expect.any(String) },
        token: expect.stringMatching(/^[\w-]+\.[\w-]+\.[\w-]+$/),
      });
      expect(JSON.stringify(res.body)).not.toMatch(/password|hash|scrypt/i);
      // The token works.
      const me = await call('GET', '/api/me', undefined, res.body.token);
      expect(me.status).toBe(200);
      expect(me.body).toEqual(res.body.user);
    });

    it('409 CONFLICT for a taken username', async () => {
      const username = fresh('dup');
      expect((await call('POST', '/api/auth/register', { username, password: 'password123' })).status).toBe(201);
      const again = await call('POST', '/api/auth/register', { username, password: 'other-password' });
      expectError(again, 409, 'CONFLICT');
    });

    it('400 for an uppercase username, which is not lowercased', async () => {
      const lower = fresh('alice');
      const upper = lower.replace('alice', 'Alice');
      const res = await call('POST', '/api/auth/register', { username: upper, password: 'password123' });
      expectError(res, 400, 'BAD_REQUEST');
      expect(res.body.details).toEqual([{ field: 'username', reason: expect.any(String) }]);
      // Nothing was created under the lowercased name either.
      expect((await call('POST', '/api/auth/login', { username: lower, password: 'password123' })).status).toBe(401);
      expect((await call('POST', '/api/auth/register', { username: lower, password: 'password123' })).status).toBe(201);
    });

    it.each([
      ['too short (2)', 'ab'],
      ['too long (33)', 'a'.repeat(33)],
      ['a space', 'bad name'],
      ['a @', 'bad@name'],
      ['non-ASCII', 'brû'],
      ['empty', ''],
      ['a number instead of a string', 12345],
    ])('400 for a username with %s', async (_, username) => {
      const res = await call('POST', '/api/auth/register', { username, password: 'password123' });
      expectError(res, 400, 'BAD_REQUEST');
      // Every problem is about the username (an empty one breaks two rules).
      expect(res.body.details.length).toBeGreaterThanOrEqual(1);
      for (const d of res.body.details) expect(d).toEqual({ field: 'username', reason: expect.any(String) });
    });

    it('accepts the boundary usernames (3 and 32 characters of [a-z0-9_.-])', async () => {
      const long = fresh('b_.-').padEnd(32, '9').slice(0, 32);
      for (const username of ['z.9', long]) {
        const res = await call('POST', '/api/auth/register', { username, password: 'password123' });
        expect(res.status).toBe(201);
        expect(res.body.user.username).toBe(username);
      }
      expect((await call('POST', '/api/auth/register', { username: long + 'x', password: 'password123' })).status).toBe(400);
    });

    it.each([
      ['7 characters', 'x'.repeat(7)],
      ['257 characters', 'x'.repeat(257)],
      ['missing', undefined],
    ])('400 for a password of %s', async (_, password) => {
      const res = await call('POST', '/api/auth/register', { username: fresh('pw'), password });
      expectError(res, 400, 'BAD_REQUEST');
      expect(res.body.details).toEqual([{ field: 'password', reason: expect.any(String) }]);
    });

    it('accepts passwords of exactly 8 and 256 characters', async () => {
      for (const password of ['x'.repeat(8), 'y'.repeat(256)]) {
        const username = fresh('pwok');
        expect((await call('POST', '/api/auth/register', { username, password })).status).toBe(201);
        expect((await call('POST', '/api/auth/login', { username, password })).status).toBe(200);
      }
    });

    it('400 lists every bad field and every unknown field', async () => {
      const res = await call('POST', '/api/auth/register', { username: 'X', password: 'short', admin: true });
      expectError(res, 400, 'BAD_REQUEST');
      expect(res.body.details).toEqual(
        expect.arrayContaining([
          { field: 'username', reason: expect.any(String) },
          { field: 'password', reason: expect.any(String) },
          { field: 'admin', reason: 'unknown field' },
        ]),
      );
    });
  });

  describe('login', () => {
    let username: string;
    beforeAll(async () => {
      username = fresh('login');
      expect((await call('POST', '/api/auth/register', { username, password: 'right-password' })).status).toBe(201);
    });

    it('200 {user, token} with the right password', async () => {
      const res = await call('POST', '/api/auth/login', { username, password: 'right-password' });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ user: { id: expect.any(String), username, createdAt: expect.any(String) }, token: expect.any(String) });
      expect(JSON.stringify(res.body)).not.toMatch(/hash|scrypt/i);
      expect((await call('GET', '/api/me', undefined, res.body.token)).body.username).toBe(username);
    });

    it('401 UNAUTHORIZED for a wrong password and for an unknown user, with the same message', async () => {
      const wrong = await call('POST', '/api/auth/login', { username, password: 'wrong-password' });
      const unknown = await call('POST', '/api/auth/login', { username: fresh('nobody'), password: 'right-password' });
      expectError(wrong, 401, 'UNAUTHORIZED');
      expectError(unknown, 401, 'UNAUTHORIZED');
      expect(unknown.body).toEqual(wrong.body);
    });

    it('400 (not 401) for a malformed login body', async () => {
      expectError(await call('POST', '/api/auth/login', { username }), 400, 'BAD_REQUEST');
    });
  });

  describe('GET /api/me', () => {
    let user: Awaited<ReturnType<typeof registerUser>>;
    beforeAll(async () => {
      user = await registerUser(call, 'me');
    });

    it('200 with a valid token', async () => {
      const res = await call('GET', '/api/me', undefined, user.token);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ id: user.id, username: user.username, createdAt: expect.any(String) });
    });

    it('401 without a token', async () => {
      expectError(await call('GET', '/api/me'), 401, 'UNAUTHORIZED');
    });

    it('401 with a forged token (signed with another secret)', async () => {
      expectError(await call('GET', '/api/me', undefined, await forgedToken(user.id)), 401, 'UNAUTHORIZED');
    });

    it('401 with an expired token', async () => {
      expectError(await call('GET', '/api/me', undefined, await expiredToken(user.id)), 401, 'UNAUTHORIZED');
    });

    it('401 with an alg:none token', async () => {
      expectError(await call('GET', '/api/me', undefined, unsignedToken(user.id)), 401, 'UNAUTHORIZED');
    });

    it('401 with an HS512 token signed with the right secret (HS256 only)', async () => {
      const hs512 = await hubClaims('HS512').setSubject(user.id).setExpirationTime('1h').sign(key(TEST_SECRET));
      expectError(await call('GET', '/api/me', undefined, hs512), 401, 'UNAUTHORIZED');
    });

    it('401 for a well-signed token of a user that does not exist', async () => {
      const ghost = await hubClaims().setSubject('00000000-0000-4000-8000-000000000000').setExpirationTime('1h').sign(key(TEST_SECRET));
      expectError(await call('GET', '/api/me', undefined, ghost), 401, 'UNAUTHORIZED');
    });

    it('401 for a token signed with the right secret for another issuer, another audience, or without a token version', async () => {
      const sign = (t: SignJWT) => t.setSubject(user.id).setExpirationTime('1h').sign(key(TEST_SECRET));
      const base = () => new SignJWT({ ver: 0 }).setProtectedHeader({ alg: 'HS256' });
      const wrong = [
        await sign(base().setIssuer('another-service').setAudience('crosswire-clients')),
        await sign(base().setIssuer('crosswire').setAudience('another-audience')),
        await sign(base()),
        await sign(new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setIssuer('crosswire').setAudience('crosswire-clients')),
        await sign(hubClaims().setIssuer('crosswire').setAudience('crosswire-clients')), // the control: this one is right
      ];
      for (const t of wrong.slice(0, -1)) expectError(await call('GET', '/api/me', undefined, t), 401, 'UNAUTHORIZED');
      expect((await call('GET', '/api/me', undefined, wrong.at(-1))).status).toBe(200);
    });

    it('200 with a lowercase bearer scheme (and an uppercase one)', async () => {
      for (const scheme of ['bearer', 'BEARER']) {
        const res = await fetch(`${hub.url}/api/me`, { headers: { authorization: `${scheme} ${user.token}` } });
        headers.push(res.headers);
        expect({ scheme, status: res.status, body: await res.json() }).toEqual({ scheme, status: 200, body: { id: user.id, username: user.username, createdAt: expect.any(String) } });
      }
    });

    it('401 for an otherwise valid token over 4,096 characters; one of exactly 4,096 is accepted', async () => {
      const atLimit = await tokenOfLength(user.id, 4096);
      const over = await tokenOfLength(user.id, 4097);
      expect([atLimit.length, over.length]).toEqual([4096, 4097]);
      const ok = await call('GET', '/api/me', undefined, atLimit);
      expect({ status: ok.status, id: ok.body.id }).toEqual({ status: 200, id: user.id });
      expectError(await call('GET', '/api/me', undefined, over), 401, 'UNAUTHORIZED');
    });

    it('401 for a non-Bearer Authorization header', async () => {
      const res = await fetch(`${hub.url}/api/me`, { headers: { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` } });
      headers.push(res.headers);
      expectError({ status: res.status, body: await res.json() }, 401, 'UNAUTHORIZED');
    });
  });

  describe('socket handshake', () => {
    let user: Awaited<ReturnType<typeof registerUser>>;
    beforeAll(async () => {
      user = await registerUser(call, 'sock');
    });

    it("connect_error 'unauthorized' without a token", async () => {
      expect(await connectError(hub.url, undefined)).toBe('unauthorized');
    });

    it("connect_error 'unauthorized' with a forged token", async () => {
      expect(await connectError(hub.url, await forgedToken(user.id))).toBe('unauthorized');
    });

    it("connect_error 'unauthorized' with an expired token", async () => {
      expect(await connectError(hub.url, await expiredToken(user.id))).toBe('unauthorized');
    });

    it("connect_error 'unauthorized' with an alg:none token and with a non-string token", async () => {
      expect(await connectError(hub.url, unsignedToken(user.id))).toBe('unauthorized');
      expect(await connectError(hub.url, 42 as unknown as string)).toBe('unauthorized');
    });

    it("connect_error 'unauthorized' for a well-signed token of a user that does not exist (signed the same way for an existing user, it connects)", async () => {
      const sign = (sub: string) => hubClaims().setSubject(sub).setExpirationTime('1h').sign(key(TEST_SECRET));
      expect(await connectError(hub.url, await sign(randomUUID()))).toBe('unauthorized');
      const control = await open(await sign(user.id));
      expect(control.connected).toBe(true);
    });

    it.each([['websocket'], ['polling']])("over %s: the Origin is checked before the token: a foreign Origin with a bad token, or none, gets 'origin not allowed'", async (transport) => {
      const opts = { transports: [transport], extraHeaders: { Origin: 'http://evil.example' } };
      expect(await connectError(hub.url, 'not.a.jwt', opts)).toBe('origin not allowed');
      expect(await connectError(hub.url, undefined, opts)).toBe('origin not allowed');
      // The control: the same bad token from the hub's own origin is refused for the token.
      expect(await connectError(hub.url, 'not.a.jwt', { ...opts, extraHeaders: { Origin: new URL(hub.url).origin } })).toBe('unauthorized');
    });

    it('a valid token gets `session {userId, replicaId}`', async () => {
      const { socket, session } = await connectSession(hub.url, user.token);
      sockets.push(socket);
      expect(session).toEqual({ userId: user.id, replicaId: 'e2e-1' });
      expect(socket.connected).toBe(true);
    });

    it.each([['websocket'], ['polling']])("over %s: a foreign Origin gets 'origin not allowed', the hub's own origin connects", async (transport) => {
      const opts = (origin: string) => ({ transports: [transport], extraHeaders: { Origin: origin } });
      expect(await connectError(hub.url, user.token, opts('http://evil.example'))).toBe('origin not allowed');
      // Same host, other port: another origin.
      const port = Number(new URL(hub.url).port);
      expect(await connectError(hub.url, user.token, opts(`http://127.0.0.1:${port + 1}`))).toBe('origin not allowed');
      const own = new URL(hub.url).origin;
      expect(own).toBe(`http://127.0.0.1:${port}`);
      const s = await open(user.token, opts(own));
      expect(s.connected).toBe(true);
    });
  });

  describe('CORS on REST without CORS_ORIGINS', () => {
    it("any origin gets CORS headers on REST, preflights included, and the hub's headers are exposed", async () => {
      const { token } = await registerUser(call, 'corsrest');
      for (const origin of ['https://anywhere.example', 'http://127.0.0.1:1', new URL(hub.url).origin]) await expectCorsAllowed(hub.url, origin, token);
    });
  });

  describe('with CORS_ORIGINS=https://app.example', () => {
    let corsHub: TestHub;
    let token: string;
    beforeAll(async () => {
      corsHub = await startHub({ CORS_ORIGINS: 'https://app.example' });
      token = (await registerUser(api(corsHub.url), 'cors')).token;
    });
    afterAll(async () => {
      await corsHub?.close();
    });

    it.each([['websocket'], ['polling']])('over %s: the listed origin connects, others (the hub’s own included) are refused', async (transport) => {
      const opts = (origin: string) => ({ transports: [transport], extraHeaders: { Origin: origin } });
      const s = await connect(corsHub.url, token, opts('https://app.example'));
      expect(s.connected).toBe(true);
      s.close();
      expect(await connectError(corsHub.url, token, opts('https://evil.example'))).toBe('origin not allowed');
      expect(await connectError(corsHub.url, token, opts('https://app.example.evil'))).toBe('origin not allowed');
      expect(await connectError(corsHub.url, token, opts(new URL(corsHub.url).origin))).toBe('origin not allowed');
      // A non-browser client (no Origin) passes.
      const plain = await connect(corsHub.url, token);
      expect(plain.connected).toBe(true);
      plain.close();
    });

    it('REST: only the listed origin gets CORS headers, preflights included; others (the hub’s own included) get none', async () => {
      await expectCorsAllowed(corsHub.url, 'https://app.example', token);
      for (const origin of ['https://evil.example', 'https://app.example.evil', new URL(corsHub.url).origin]) await expectCorsRefused(corsHub.url, origin, token);
    });
  });

  describe('with CORS_ORIGINS=*', () => {
    let anyHub: TestHub;
    let token: string;
    beforeAll(async () => {
      anyHub = await startHub({ CORS_ORIGINS: '*' });
      token = (await registerUser(api(anyHub.url), 'star')).token;
    });
    afterAll(async () => {
      await anyHub?.close();
    });

    it('any Origin connects over websocket and over polling, and gets CORS headers on REST', async () => {
      for (const transport of ['websocket', 'polling']) {
        for (const origin of ['https://anywhere.example', 'http://127.0.0.1:1']) {
          const s = await connect(anyHub.url, token, { transports: [transport], extraHeaders: { Origin: origin } });
          expect({ transport, origin, connected: s.connected }).toEqual({ transport, origin, connected: true });
          s.close();
        }
      }
      await expectCorsAllowed(anyHub.url, 'https://anywhere.example', token);
    });
  });

  describe('with JWT_TTL=2s', () => {
    let shortHub: TestHub;
    beforeAll(async () => {
      shortHub = await startHub({ JWT_TTL: '2s' });
    });
    afterAll(async () => {
      await shortHub?.close();
    });

    it('a connected socket is told session:revoked {reason: expired}, then disconnected by the server, when its token expires', async () => {
      const { token } = await registerUser(api(shortHub.url), 'ttl');
      const exp = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()).exp as number;
      const started = Date.now();
      const s = await connect(shortHub.url, token);
      const told: unknown[] = [];
      s.on('session:revoked', (p) => told.push(p));
      try {
        const reason = await disconnected(s, 5_000);
        expect(reason).toBe('io server disconnect');
        expect(told).toEqual([{ reason: 'expired' }]);
        // Not before the token's expiry (exp has 1 s resolution).
        expect(Date.now()).toBeGreaterThanOrEqual(exp * 1000 - 1000);
        expect(Date.now() - started).toBeLessThan(5_000);
      } finally {
        s.close();
      }
      // And the expired token no longer opens a socket.
      expect(await connectError(shortHub.url, token)).toBe('unauthorized');
    });
  });

  describe('ending sessions: logout everywhere, password change', () => {
    const password = 'first-password';
    const login = async (username: string, pw = password) => call('POST', '/api/auth/login', { username, password: pw });

    it('logout-all: 204; every token of the user is refused and their sockets are told session:revoked {reason: revoked} and closed; others are untouched; a new login works', async () => {
      const username = fresh('out');
      const first = (await call('POST', '/api/auth/register', { username, password })).body.token as string;
      const second = (await login(username)).body.token as string;
      const bystander = await registerUser(call, 'bystander');
      const [a, b, other] = [await open(first), await open(second), await open(bystander.token)];
      const told: unknown[] = [];
      a.on('session:revoked', (p) => told.push(p));
      b.on('session:revoked', (p) => told.push(p));
      const closed = Promise.all([disconnected(a, 5_000), disconnected(b, 5_000)]);

      expect((await call('POST', '/api/auth/logout-all', undefined, second)).status).toBe(204);
      expect(await closed).toEqual(['io server disconnect', 'io server disconnect']);
      expect(told).toEqual([{ reason: 'revoked' }, { reason: 'revoked' }]);
      for (const t of [first, second]) {
        const res = await call('GET', '/api/me', undefined, t);
        expectError(res, 401, 'UNAUTHORIZED');
        expect(res.body.message).toMatch(/revoked/);
        expect(await connectError(hub.url, t)).toBe('unauthorized');
      }
      expect(other.connected).toBe(true);
      expect((await call('GET', '/api/me', undefined, bystander.token)).status).toBe(200);
      const again = await login(username);
      expect(again.status).toBe(200);
      expect((await call('GET', '/api/me', undefined, again.body.token)).body.username).toBe(username);
    });

    it('password change: 403 with a wrong current password (nothing changes); 200 {user, token} ends every older session, the old password stops working', async () => {
      const username = fresh('pw');
      const old = (await call('POST', '/api/auth/register', { username, password })).body.token as string;
      const sock = await open(old);

      const refused = await call('POST', '/api/auth/password', { currentPassword: 'not-the-password', newPassword: 'second-password' }, old);
      expectError(refused, 403, 'FORBIDDEN');
      expectError(await call('POST', '/api/auth/password', { currentPassword: password, newPassword: 'short' }, old), 400, 'BAD_REQUEST');
      expect((await call('GET', '/api/me', undefined, old)).status).toBe(200);
      expect(sock.connected).toBe(true);

      const revoked = once<any>(sock, 'session:revoked', 5_000);
      const changed = await call('POST', '/api/auth/password', { currentPassword: password, newPassword: 'second-password' }, old);
      expect(changed.status).toBe(200);
      expect(changed.body).toEqual({ user: { id: expect.any(String), username, createdAt: expect.any(String) }, token: expect.any(String) });
      expect(await revoked).toEqual({ reason: 'revoked' });
      expectError(await call('GET', '/api/me', undefined, old), 401, 'UNAUTHORIZED');
      expect((await call('GET', '/api/me', undefined, changed.body.token)).status).toBe(200);
      const fresh2 = await open(changed.body.token);
      expect(fresh2.connected).toBe(true);
      expectError(await login(username), 401, 'UNAUTHORIZED');
      expect((await login(username, 'second-password')).status).toBe(200);
    });

    it('both routes need a valid token: 401 without one', async () => {
      expectError(await call('POST', '/api/auth/logout-all'), 401, 'UNAUTHORIZED');
      expectError(await call('POST', '/api/auth/password', { currentPassword: password, newPassword: 'second-password' }), 401, 'UNAUTHORIZED');
    });
  });

  it('every HTTP response carried X-Replica-Id e2e-1', () => {
    expect(headers.length).toBeGreaterThan(20);
    for (const h of headers) expect(h.get('x-replica-id')).toBe('e2e-1');
  });
});
