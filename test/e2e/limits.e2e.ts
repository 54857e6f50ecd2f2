import { describe, expect, it, jest } from '@jest/globals';
import { setTimeout as delay } from 'node:timers/promises';
import { io } from 'socket.io-client';
import { type ClientSocket, collectUntil, emitAck, hubForFile, metricValue, once } from './support/hub.js';

// Small limits, one hub without Redis (so every count is this replica's: store "local").
// HAProxy-style X-Forwarded-For from loopback is believed, so each test has addresses of its own.
const LIMITS = {
  RATE_LIMITS: 'on',
  TRUSTED_PROXIES: 'loopback',
  RATE_REST_PER_USER: '5/30s',
  RATE_PUBLISH_PER_USER: '3/30s',
  RATE_CONNECT_PER_IP: '3/30s',
  RATE_CONNECT_PER_USER: '4/30s',
  RATE_AUTH_PER_IP: '10/30s',
  LOGIN_FAILS_BEFORE_BACKOFF: '2',
  RATE_LOGIN_FAILS_PER_ACCOUNT: '5/1h',
  SUBSCRIPTIONS_PER_SOCKET: '2',
  RATE_SUBSCRIBE_PER_SOCKET: '6/30s',
  RATE_TYPING_PER_SOCKET: '2/30s',
  // Refusals from memory answered at once here; holding them has a describe of its own.
  AUTH_REFUSAL_DELAY_MS: '0',
};

jest.setTimeout(30_000);

const t = hubForFile(LIMITS);
let ips = 0;
const freshIp = () => `10.77.${Math.floor(++ips / 250)}.${(ips % 250) + 1}`;
let names = 0;

async function call(method: string, path: string, { ip, token, body }: { ip: string; token?: string; body?: unknown }) {
  const res = await fetch(t.hub.url + path, {
    method,
    headers: { 'x-forwarded-for': ip, ...(body ? { 'content-type': 'application/json' } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}

async function register(ip: string) {
  const username = `lim${process.pid % 1000}_${++names}`;
  const res = await call('POST', '/api/auth/register', { ip, body: { username, password: 'password123' } });
  if (res.status !== 201) throw new Error(`register: ${res.status} ${JSON.stringify(res.body)}`);
  return { id: res.body.user.id as string, username, token: res.body.token as string };
}

const login = (ip: string, username: string, password: string) => call('POST', '/api/auth/login', { ip, body: { username, password } });

/** A socket from `ip`: the session, or the handshake's refusal with its data. */
function open(token: string, ip: string): Promise<{ socket?: ClientSocket; refused?: { message: string; data?: any } }> {
  const socket: ClientSocket = io(t.hub.url, { auth: { token }, transports: ['websocket'], reconnection: false, forceNew: true, extraHeaders: { 'x-forwarded-for': ip } });
  return new Promise((resolve) => {
    socket.once('session', () => {
      t.beforeClose(() => socket.close());
      resolve({ socket });
    });
    socket.once('connect_error', (err: Error & { data?: unknown }) => {
      socket.close();
      resolve({ refused: { message: err.message, data: err.data } });
    });
  });
}

function expectLimited(res: { status: number; headers: Headers; body: any }, maxSeconds: number) {
  expect(res.status).toBe(429);
  const retryAfter = Number(res.headers.get('retry-after'));
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(maxSeconds);
  expect(res.headers.get('x-request-id')).toBeTruthy();
  expect(res.body).toEqual({ statusCode: 429, error: 'Too Many Requests', code: 'RATE_LIMITED', message: expect.stringMatching(/^too many /), retryAfterMs: expect.any(Number) });
  expect(res.body.retryAfterMs).toBeGreaterThan(0);
  expect(res.body.retryAfterMs).toBeLessThanOrEqual(maxSeconds * 1000);
}

describe('rate limits (one replica, counted locally)', () => {
  it('REST calls over RATE_REST_PER_USER are 429 RATE_LIMITED with Retry-After, for that user only', async () => {
    const ip = freshIp();
    const [a, b] = [await register(ip), await register(ip)];
    for (let i = 0; i < 5; i++) expect((await call('GET', '/api/me', { ip, token: a.token })).status).toBe(200);
    expectLimited(await call('GET', '/api/me', { ip, token: a.token }), 30);
    expect((await call('GET', '/api/me', { ip, token: b.token })).status).toBe(200);
    expect(await metricValue(t.hub.url, 'crosswire_rate_limited_total', { limit: 'rest', store: 'local' })).toBeGreaterThanOrEqual(1);
  });

  it('publishes over RATE_PUBLISH_PER_USER get a RATE_LIMITED ack (and 429 on REST, one budget for both doors) and store nothing', async () => {
    const ip = freshIp();
    const [owner, reader] = [await register(ip), await register(ip)];
    const channelId = (await call('POST', '/api/channels', { ip, token: owner.token, body: { name: `lim-pub-${Date.now()}`, visibility: 'public' } })).body.id;
    const { socket } = await open(owner.token, ip);
    for (let i = 1; i <= 3; i++) {
      const ack = await emitAck(socket!, 'message:publish', { channelId, body: { i } });
      expect(ack).toMatchObject({ ok: true, message: { seq: i } });
    }
    const refused = await emitAck(socket!, 'message:publish', { channelId, body: { i: 4 } });
    expect(refused).toEqual({ ok: false, error: { code: 'RATE_LIMITED', message: expect.stringMatching(/^too many messages/), retryAfterMs: expect.any(Number) } });
    expect(refused.error.retryAfterMs).toBeGreaterThan(0);
    expectLimited(await call('POST', `/api/channels/${channelId}/messages`, { ip, token: owner.token, body: { body: { i: 5 } } }), 30);
    const history = await call('GET', `/api/channels/${channelId}/messages`, { ip, token: reader.token });
    expect(history.body.items.map((m: { seq: number }) => m.seq)).toEqual([1, 2, 3]);
    expect(history.body.lastSeq).toBe(3);
  });

  it('handshakes over RATE_CONNECT_PER_IP, then over RATE_CONNECT_PER_USER, are refused with connect_error "rate limited" and when to retry', async () => {
    const ip = freshIp();
    const user = await register(ip);
    for (let i = 0; i < 3; i++) expect((await open(user.token, ip)).socket).toBeDefined();
    const byIp = await open(user.token, ip);
    expect(byIp.refused).toEqual({ message: 'rate limited', data: { code: 'RATE_LIMITED', retryAfterMs: expect.any(Number) } });
    expect((await open(user.token, freshIp())).socket).toBeDefined(); // the user's 4th
    const byUser = await open(user.token, freshIp());
    expect(byUser.refused?.message).toBe('rate limited');
    expect(byUser.refused?.data.retryAfterMs).toBeGreaterThan(0);
    expect(await metricValue(t.hub.url, 'crosswire_socket_handshake_rejections_total', { reason: 'rate limited' })).toBeGreaterThanOrEqual(2);
    expect(await metricValue(t.hub.url, 'crosswire_rate_limited_total', { limit: 'connect_user' })).toBeGreaterThanOrEqual(1);
  });

  it('a socket holds at most SUBSCRIPTIONS_PER_SOCKET channels (RATE_LIMITED without retryAfterMs) and subscribes at most RATE_SUBSCRIBE_PER_SOCKET times per window', async () => {
    const ip = freshIp();
    const owner = await register(ip);
    const channels: string[] = [];
    for (let i = 0; i < 3; i++) channels.push((await call('POST', '/api/channels', { ip, token: owner.token, body: { name: `lim-sub-${i}-${Date.now()}`, visibility: 'public' } })).body.id);
    const { socket } = await open(owner.token, ip);
    await t.subscribe(socket!, channels[0]);
    await t.subscribe(socket!, channels[1]);
    const capped = await emitAck(socket!, 'channel:subscribe', { channelId: channels[2] });
    expect(capped).toEqual({ ok: false, error: { code: 'RATE_LIMITED', message: 'too many subscriptions on this socket (at most 2); unsubscribe first' } });
    await t.subscribe(socket!, channels[0]); // again, the same channel: not one more
    expect(await emitAck(socket!, 'channel:unsubscribe', { channelId: channels[1] })).toEqual({ ok: true });
    await t.subscribe(socket!, channels[2]);
    // Four subscribes counted so far (the capped one was not); two more pass, the seventh is over the rate.
    await t.subscribe(socket!, channels[2]);
    await t.subscribe(socket!, channels[2]);
    const fast = await emitAck(socket!, 'channel:subscribe', { channelId: channels[2] });
    expect(fast).toEqual({ ok: false, error: { code: 'RATE_LIMITED', message: expect.stringMatching(/^too many subscribes/), retryAfterMs: expect.any(Number) } });
  });

  it('typing over RATE_TYPING_PER_SOCKET is dropped before it reaches anyone', async () => {
    const ip = freshIp();
    const [a, b] = [await register(ip), await register(ip)];
    const channelId = (await call('POST', '/api/channels', { ip, token: a.token, body: { name: `lim-typing-${Date.now()}`, visibility: 'public' } })).body.id;
    const [{ socket: sa }, { socket: sb }] = [await open(a.token, ip), await open(b.token, ip)];
    await t.subscribe(sa!, channelId);
    await t.subscribe(sb!, channelId);
    const before = await metricValue(t.hub.url, 'crosswire_rate_limited_total', { limit: 'typing' });
    for (let i = 0; i < 2; i++) {
      const seen = once(sb!, 'typing');
      sa!.emit('typing', { channelId });
      expect(await seen).toEqual({ channelId, user: { id: a.id, username: a.username } });
    }
    const after: string[] = [];
    const recording = collectUntil<{ channelId: string }>(sb!, 'message:created', () => true);
    sb!.on('typing', () => after.push('typing'));
    for (let i = 0; i < 3; i++) sa!.emit('typing', { channelId });
    // A message sent after them is delivered after anything they caused on this replica.
    expect(await emitAck(sa!, 'message:publish', { channelId, body: 'after' })).toMatchObject({ ok: true });
    await recording;
    expect(after).toEqual([]);
    expect((await metricValue(t.hub.url, 'crosswire_rate_limited_total', { limit: 'typing' })) - before).toBe(3);
  });

  it('registrations and logins over RATE_AUTH_PER_IP are 429 before any work, and the refused registration creates nobody', async () => {
    const ip = freshIp();
    for (let i = 0; i < 10; i++) await register(ip);
    const username = `lim-refused-${Date.now()}`;
    expectLimited(await call('POST', '/api/auth/register', { ip, body: { username, password: 'password123' } }), 30);
    expectLimited(await login(ip, username, 'password123'), 30);
    expect((await login(freshIp(), username, 'password123')).status).toBe(401);
  });

  it('wrong passwords from one address back off 1 s, then 2 s, for that account and address only; the right password clears it', async () => {
    const ip = freshIp();
    const user = await register(ip);
    expect((await login(ip, user.username, 'wrong-password')).status).toBe(401);
    expect((await login(ip, user.username, 'wrong-password')).status).toBe(401);
    const first = await login(ip, user.username, 'password123'); // right, but inside the backoff
    expectLimited(first, 1);
    expect((await login(freshIp(), user.username, 'password123')).status).toBe(200); // elsewhere: not blocked
    await delay(first.body.retryAfterMs + 50); // the backoff itself is what is under test
    expect((await login(ip, user.username, 'wrong-password')).status).toBe(401);
    const second = await login(ip, user.username, 'password123');
    expectLimited(second, 2);
    expect(second.body.retryAfterMs).toBeGreaterThan(1000);
    await delay(second.body.retryAfterMs + 50);
    expect((await login(ip, user.username, 'password123')).status).toBe(200);
    expect((await login(ip, user.username, 'wrong-password')).status).toBe(401); // counting starts over
  });

  it('wrong passwords for one account from many addresses lock the account past RATE_LOGIN_FAILS_PER_ACCOUNT', async () => {
    const user = await register(freshIp());
    for (let i = 0; i < 5; i++) expect((await login(freshIp(), user.username, `wrong-password-${i}`)).status).toBe(401);
    const locked = await login(freshIp(), user.username, 'password123');
    expect(locked.status).toBe(429);
    expect(locked.body.retryAfterMs).toBeGreaterThan(59 * 60_000);
    expect(await metricValue(t.hub.url, 'crosswire_rate_limited_total', { limit: 'login_account' })).toBeGreaterThanOrEqual(1);
  });
});

/** A sign-in from `ip` with any body (a string is sent as is), and the raw answer. */
async function signIn(path: '/api/auth/login' | '/api/auth/register', ip: string, body: string, headers: Record<string, string> = {}) {
  const res = await fetch(t.hub.url + path, { method: 'POST', headers: { 'x-forwarded-for': ip, 'content-type': 'application/json', ...headers }, body });
  const text = await res.text();
  let parsed: any = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    /* not JSON: left as text for the assertion to show */
  }
  return { status: res.status, headers: res.headers, body: parsed };
}

const ORIGIN = { origin: 'https://elsewhere.example' };

/** Wrong logins from `ip` until one is refused: the address is then over RATE_AUTH_PER_IP (10/30s here). That refusal (Nest's) is returned. */
async function pushOverSignInLimit(ip: string) {
  for (let i = 0; i < 10; i++) expect((await login(ip, `nobody${i}`, 'wrong-password')).status).toBe(401);
  const first = await signIn('/api/auth/login', ip, JSON.stringify({ username: 'nobody', password: 'wrong-password' }), ORIGIN);
  expectLimited(first, 30);
  return first;
}

/** Header names of an answer, but those that differ per answer or per writer (Express adds an ETag). */
const headerNames = (h: Headers) => [...h.keys()].filter((k) => !['date', 'etag', 'content-length', 'keep-alive', 'connection'].includes(k)).sort();

describe('the sign-in gate: an address already refused is answered before its body is read (CONTRACT §3)', () => {
  it('refuses it 429 in the §4 shape, with Retry-After, retryAfterMs, request and replica ids, Helmet\'s and CORS headers, counted store "memory" and nowhere else', async () => {
    const ip = freshIp();
    const throughNest = await pushOverSignInLimit(ip);
    const counted = async () => ({
      memory: await metricValue(t.hub.url, 'crosswire_rate_limited_total', { limit: 'auth_ip', store: 'memory' }),
      local: await metricValue(t.hub.url, 'crosswire_rate_limited_total', { limit: 'auth_ip', store: 'local' }),
      http: await metricValue(t.hub.url, 'crosswire_http_requests_total', { route: '/api/auth/login', status: '429' }),
    });
    const before = await counted();
    const res = await signIn('/api/auth/login', ip, JSON.stringify({ username: 'nobody', password: 'wrong-password' }), { ...ORIGIN, 'x-request-id': 'gate-1' });
    expectLimited(res, 30);
    expect(res.body.message).toMatch(/^too many sign-in attempts from this address; try again in \d+ s$/);
    expect(res.headers.get('x-request-id')).toBe('gate-1');
    expect(res.headers.get('x-replica-id')).toBe('e2e-1');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('access-control-allow-origin')).toBe('https://elsewhere.example');
    expect(res.headers.get('access-control-expose-headers')).toBe('X-Replica-Id,X-Request-Id,Retry-After');
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(Math.ceil(res.body.retryAfterMs / 1000)).toBe(Number(res.headers.get('retry-after')));
    // Answered in front of Express, it still carries every header an answer through Express and Nest does.
    expect(headerNames(res.headers)).toEqual(headerNames(throughNest.headers));
    // Counted once, as refused from memory: neither the limiter's count nor another label moved.
    expect(await counted()).toEqual({ memory: before.memory + 1, local: before.local, http: before.http + 1 });
  });

  it('whatever the body: malformed JSON, an oversized body or none at all from a refused address is 429, where another address gets 400 or 413; registration too', async () => {
    const ip = freshIp();
    await pushOverSignInLimit(ip);
    const other = freshIp();
    const tooLarge = JSON.stringify({ username: 'x'.repeat(70_000), password: 'password123' });
    expectLimited(await signIn('/api/auth/login', ip, '{"username":'), 30);
    expect((await signIn('/api/auth/login', other, '{"username":')).status).toBe(400);
    expectLimited(await signIn('/api/auth/register', ip, tooLarge), 30);
    expect((await signIn('/api/auth/register', other, tooLarge)).status).toBe(413);
    expectLimited(await signIn('/api/auth/login', ip, ''), 30);
  });
});

describe('refusals held (AUTH_REFUSAL_DELAY_MS, AUTH_REFUSALS_HELD_PER_IP)', () => {
  const held = hubForFile({ RATE_LIMITS: 'on', TRUSTED_PROXIES: 'loopback', RATE_AUTH_PER_IP: '2/60s', AUTH_REFUSAL_DELAY_MS: '1500', AUTH_REFUSALS_HELD_PER_IP: '2' });
  const attempt = (ip: string) =>
    fetch(`${held.hub.url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': ip },
      body: JSON.stringify({ username: 'nobody', password: 'wrong-password' }),
    }).then(async (r) => ({
      status: r.status,
      headers: r.headers,
      body: await r.json(),
    }));

  it('a refusal from memory is held, at most 2 per address at once; past that it is answered at once; each says how long is really left', async () => {
    const ip = '10.99.0.1';
    expect([(await attempt(ip)).status, (await attempt(ip)).status]).toEqual([401, 401]);
    expectLimited(await attempt(ip), 60); // the first refusal: counted, answered at once
    const answered: Array<Awaited<ReturnType<typeof attempt>>> = [];
    await Promise.all([attempt(ip), attempt(ip), attempt(ip)].map((p) => p.then((r) => answered.push(r))));
    for (const r of answered) expectLimited(r, 60);
    // The one past the cap came back first; the two held were answered at least the hold later, by the
    // hub's own clock: each retryAfterMs is what is left of the block when it was sent.
    const [now, ...later] = answered.map((r) => r.body.retryAfterMs as number);
    for (const l of later) expect(now - l).toBeGreaterThanOrEqual(1_000);
    // Another address is not refused for this one's attempts.
    expect((await attempt('10.99.0.2')).status).toBe(401);
  });
});

describe('rate limits without TRUSTED_PROXIES', () => {
  const plain = hubForFile({ RATE_LIMITS: 'on', RATE_AUTH_PER_IP: '2/30s' });

  it('an X-Forwarded-For from an untrusted peer is not believed: inventing addresses does not dodge a per-address limit', async () => {
    const attempt = (ip: string, n: number) =>
      fetch(`${plain.hub.url}/api/auth/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-forwarded-for': ip },
        body: JSON.stringify({ username: `xff${process.pid % 1000}_${n}_${Date.now()}`, password: 'password123' }),
      }).then((r) => r.status);
    expect([await attempt('198.51.100.1', 1), await attempt('198.51.100.2', 2), await attempt('198.51.100.3', 3)]).toEqual([201, 201, 429]);
  });
});
