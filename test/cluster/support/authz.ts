import { type Api, type ClientSocket, type Recorder, api, connect, connectError, emitAck, metricValue, record, registerUser } from '../../support/client.js';
import { until } from '../../support/wait.js';
import { forgedToken } from '../../../scripts/fuzz/tokens.js';

// The authorization matrix's one table and the means to play it: who may do
// what to a private channel, as a REST status or a socket outcome.

export const PRINCIPALS = ['none', 'forged', 'expired', 'revoked', 'other', 'member', 'owner'] as const;
export type Principal = (typeof PRINCIPALS)[number];
export type Outcome = number | 'ok' | 'NOT_FOUND' | 'unauthorized' | 'delivered' | 'dropped';

const all = (o: Outcome) => Object.fromEntries(PRINCIPALS.map((p) => [p, o])) as Record<Principal, Outcome>;
/** No valid token: 401 on REST, `connect_error unauthorized` instead of any socket event. */
const rest = (other: Outcome, member: Outcome, owner: Outcome) => ({ none: 401, forged: 401, expired: 401, revoked: 401, other, member, owner });
const socket = (other: Outcome, member: Outcome, owner: Outcome) => ({ none: 'unauthorized', forged: 'unauthorized', expired: 'unauthorized', revoked: 'unauthorized', other, member, owner }) as Record<Principal, Outcome>;

/**
 * Expected outcome of every route and client→server event, per principal, on
 * a private channel. `other` was a member until the owner removed it (on
 * another replica); `revoked` is a member whose tokens a logout everywhere
 * revoked. Register and login take no token: a bad one changes nothing.
 */
export const MATRIX: Record<string, Record<Principal, Outcome>> = {
  'POST /api/auth/register': all(201),
  'POST /api/auth/login': all(200),
  'GET /api/me': rest(200, 200, 200),
  'POST /api/auth/logout-all': rest(204, 204, 204),
  'POST /api/auth/password': rest(200, 200, 200),
  'POST /api/channels': rest(201, 201, 201),
  'GET /api/channels': rest(200, 200, 200),
  'GET /api/channels/{id}': rest(404, 200, 200),
  'PATCH /api/channels/{id}': rest(404, 403, 200),
  'DELETE /api/channels/{id}': rest(404, 403, 204),
  'POST /api/channels/{id}/members': rest(404, 403, 201),
  'DELETE /api/channels/{id}/members/{userId}': rest(404, 403, 204),
  'GET /api/channels/{id}/messages': rest(404, 200, 200),
  'POST /api/channels/{id}/messages': rest(404, 201, 201),
  'GET /api/channels/{id}/presence': rest(404, 200, 200),
  'channel:subscribe': socket('NOT_FOUND', 'ok', 'ok'),
  'channel:unsubscribe': socket('ok', 'ok', 'ok'),
  'message:publish': socket('NOT_FOUND', 'ok', 'ok'),
  typing: socket('dropped', 'delivered', 'delivered'),
};

type User = Awaited<ReturnType<typeof registerUser>>;

/** Users every world can share: none of them loses a token in a world. */
export interface Cast {
  owner: User;
  member: User;
  other: User;
  /** A member the owner removes in the DELETE-member row. */
  target: User;
  /** Not a member: the one the owner adds. */
  guest: User;
  /** A member whose typing, sent once the principal's was handled, marks when the principal's would have arrived. */
  marker: User;
}

export async function castOf(call: Api): Promise<Cast> {
  const names = ['owner', 'member', 'other', 'target', 'guest', 'marker'] as const;
  const users: User[] = [];
  for (const n of names) users.push(await registerUser(call, `az${n}`));
  return Object.fromEntries(names.map((n, i) => [n, users[i]])) as unknown as Cast;
}

/** One private channel with its members and tokens, rights already changed on A after caches were warmed on B. */
export interface World {
  channelId: string;
  cast: Cast;
  revoked: User;
  tokens: Record<Principal, string | undefined>;
  /** Sockets on B opened before the change, `other`'s subscribed; the principals without one connect when they play. */
  sockets: Partial<Record<Principal, ClientSocket>>;
  /** `revoked`'s socket on B, subscribed before its tokens were revoked. */
  revokedSocket: ClientSocket;
  /** `target`'s socket on A, subscribed: it hears typing. */
  observer: Recorder<{ user: { id: string } }>;
  markerSocket: ClientSocket;
  /** What the sockets of `other` and `revoked` on B were told. */
  told: { other: Promise<unknown>; revoked: Promise<unknown> };
  close(): void;
}

const typingHandled = (url: string) => metricValue(url, 'crosswire_socket_events_total', { event: 'typing' });

const eventOnce = (s: ClientSocket, event: 'channel:removed' | 'session:revoked') =>
  new Promise((resolve) => (s as any).once(event, resolve));

/** `expired` is a token that B accepted earlier (its signature is remembered there) and that has expired since. */
export async function buildWorld(a: string, b: string, cast: Cast, expired: string): Promise<World> {
  const onA = api(a);
  const onB = api(b);
  const revoked = await registerUser(onA, 'azrevoked');
  const ch = await onA('POST', '/api/channels', { name: `az-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`, visibility: 'private' }, cast.owner.token);
  if (ch.status !== 201) throw new Error(`create: ${ch.status}`);
  const channelId: string = ch.body.id;
  for (const u of [cast.member, cast.other, cast.target, cast.marker, revoked]) {
    const res = await onA('POST', `/api/channels/${channelId}/members`, { username: u.username }, cast.owner.token);
    if (res.status !== 201) throw new Error(`add member: ${res.status}`);
  }
  // Warm B: the users, their token versions and their membership are read there, over REST and sockets.
  for (const u of [revoked, cast.other, cast.member, cast.owner]) {
    for (const path of ['/api/me', `/api/channels/${channelId}`, `/api/channels/${channelId}/messages`, `/api/channels/${channelId}/presence`]) {
      const res = await onB('GET', path, undefined, u.token);
      if (res.status !== 200) throw new Error(`warming B: GET ${path} ${res.status}`);
    }
  }
  const sockets: World['sockets'] = {};
  for (const p of ['other', 'member', 'owner'] as const) sockets[p] = await connect(b, cast[p].token);
  const revokedSocket = await connect(b, revoked.token);
  for (const s of [sockets.other!, revokedSocket]) {
    const ack = await emitAck(s, 'channel:subscribe', { channelId });
    if (!ack.ok) throw new Error(`warming B: subscribe ${JSON.stringify(ack)}`);
  }
  const observerSocket = await connect(a, cast.target.token);
  const observer = record<{ user: { id: string } }>(observerSocket, 'typing');
  await emitAck(observerSocket, 'channel:subscribe', { channelId });
  const markerSocket = await connect(b, cast.marker.token);
  const told = { other: eventOnce(sockets.other!, 'channel:removed'), revoked: eventOnce(revokedSocket, 'session:revoked') };

  // The rights change, on A.
  if ((await onA('DELETE', `/api/channels/${channelId}/members/${cast.other.id}`, undefined, cast.owner.token)).status !== 204) throw new Error('remove other');
  if ((await onA('POST', '/api/auth/logout-all', undefined, revoked.token)).status !== 204) throw new Error('logout-all');

  const tokens: World['tokens'] = {
    none: undefined,
    forged: await forgedToken(cast.member.id),
    expired,
    revoked: revoked.token,
    other: cast.other.token,
    member: cast.member.token,
    owner: cast.owner.token,
  };
  return {
    channelId,
    cast,
    revoked,
    tokens,
    sockets,
    revokedSocket,
    observer,
    markerSocket,
    told,
    close: () => [...Object.values(sockets), revokedSocket, observerSocket, markerSocket].forEach((s) => s?.close()),
  };
}

const unique = () => `az${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;

/** Plays one cell on replica B and says what came of it. */
export async function play(action: string, p: Principal, w: World, b: string): Promise<Outcome> {
  const token = w.tokens[p];
  if (!action.includes(' ')) return playEvent(action, p, w, b);
  const [method, template] = action.split(' ') as [string, string];
  const path = template.replace('{id}', w.channelId).replace('{userId}', w.cast.target.id);
  const bodies: Record<string, unknown> = {
    'POST /api/auth/register': { username: unique(), password: 'password123' },
    'POST /api/auth/login': { username: w.cast.guest.username, password: 'password123' },
    'POST /api/auth/password': { currentPassword: 'password123', newPassword: 'password456' },
    'POST /api/channels': { name: unique() },
    'PATCH /api/channels/{id}': { name: unique() },
    'POST /api/channels/{id}/members': { username: w.cast.guest.username },
    'POST /api/channels/{id}/messages': { body: { from: p } },
  };
  return (await api(b)(method, path, bodies[action], token)).status;
}

async function playEvent(event: string, p: Principal, w: World, b: string): Promise<Outcome> {
  const socket = w.sockets[p];
  if (!socket) return connectError(b, w.tokens[p]) as Promise<Outcome>;
  if (event === 'typing') {
    const user = p === 'owner' ? w.cast.owner : p === 'member' ? w.cast.member : w.cast.other;
    // typing has no ack: B's count of handled typing events says when its access check is over (and, if it
    // passed, the event is on the channel's topic). A marker sent after that, on the same topic, arrives after it.
    const handled = await typingHandled(b);
    socket.emit('typing', { channelId: w.channelId });
    await until('B handled the typing event', async () => (await typingHandled(b)) > handled, 10_000, 20);
    const markers = w.observer.items.filter((t) => t.user.id === w.cast.marker.id).length;
    w.markerSocket.emit('typing', { channelId: w.channelId });
    await w.observer.waitFor((t) => t.user.id === w.cast.marker.id && w.observer.items.filter((x) => x.user.id === w.cast.marker.id).length > markers);
    return w.observer.items.some((t) => t.user.id === user.id) ? 'delivered' : 'dropped';
  }
  const payload = event === 'message:publish' ? { channelId: w.channelId, body: { from: p } } : { channelId: w.channelId };
  const ack = await emitAck(socket, event as 'channel:subscribe', payload);
  return ack.ok ? 'ok' : ack.error.code;
}
