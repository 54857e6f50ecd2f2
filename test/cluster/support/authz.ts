import { type Api, type ClientSocket, type Recorder, api, connect, connectError, emitAck, metricValue, record, registerUser } from '../../support/client.js';
import { until } from '../../support/wait.js';
import { forgedToken } from '../../../scripts/fuzz/tokens.js';

// The authorization matrix's one table and the means to play it: who may do
// what to a private channel, and what a signed-in non-member may do to a
// public one, as a REST status or a socket outcome.

export const PRINCIPALS = ['none', 'forged', 'expired', 'revoked', 'other', 'member', 'owner', 'outsider'] as const;
export type Principal = (typeof PRINCIPALS)[number];
export type Outcome = number | 'ok' | 'NOT_FOUND' | 'unauthorized' | 'delivered' | 'dropped';

const all = (o: Outcome) => Object.fromEntries(PRINCIPALS.map((p) => [p, o])) as Record<Principal, Outcome>;
/** No valid token: 401 on REST, `connect_error unauthorized` instead of any socket event. */
const rest = (other: Outcome, member: Outcome, owner: Outcome, outsider: Outcome) => ({ none: 401, forged: 401, expired: 401, revoked: 401, other, member, owner, outsider });
const socket = (other: Outcome, member: Outcome, owner: Outcome, outsider: Outcome) =>
  ({ none: 'unauthorized', forged: 'unauthorized', expired: 'unauthorized', revoked: 'unauthorized', other, member, owner, outsider }) as Record<Principal, Outcome>;

/** A caller removing its own membership: the one route whose outcome depends on whose id is in the path. */
export const SELF_LEAVE = 'DELETE /api/channels/{id}/members/{self}';

/**
 * Expected outcome of every route and client→server event, per principal.
 * All but `outsider` act on a private channel: `other` was a member until
 * the owner removed it (on another replica); `revoked` is a member whose
 * tokens a logout everywhere revoked. `outsider` is signed in and not a
 * member of a public channel, and acts on that one: CONTRACT §2's column
 * "signed-in non-member, public" (read, subscribe, publish, typing: yes;
 * owner-only actions and removing another member: 403; removing itself: 404,
 * it is not a member). Register and login take no token: a bad one changes
 * nothing. `{userId}` is another member; `{self}` the caller's own id, so the
 * member leaves (204) and the owner may not (409, CONTRACT §11 item 18).
 */
export const MATRIX: Record<string, Record<Principal, Outcome>> = {
  'POST /api/auth/register': all(201),
  'POST /api/auth/login': all(200),
  'GET /api/me': rest(200, 200, 200, 200),
  'POST /api/auth/logout-all': rest(204, 204, 204, 204),
  'POST /api/auth/password': rest(200, 200, 200, 200),
  'POST /api/channels': rest(201, 201, 201, 201),
  'GET /api/channels': rest(200, 200, 200, 200),
  'GET /api/channels/{id}': rest(404, 200, 200, 200),
  'PATCH /api/channels/{id}': rest(404, 403, 200, 403),
  'DELETE /api/channels/{id}': rest(404, 403, 204, 403),
  'POST /api/channels/{id}/members': rest(404, 403, 201, 403),
  'DELETE /api/channels/{id}/members/{userId}': rest(404, 403, 204, 403),
  [SELF_LEAVE]: rest(404, 204, 409, 404),
  'GET /api/channels/{id}/messages': rest(404, 200, 200, 200),
  'POST /api/channels/{id}/messages': rest(404, 201, 201, 201),
  'GET /api/channels/{id}/presence': rest(404, 200, 200, 200),
  'channel:subscribe': socket('NOT_FOUND', 'ok', 'ok', 'ok'),
  'channel:unsubscribe': socket('ok', 'ok', 'ok', 'ok'),
  'message:publish': socket('NOT_FOUND', 'ok', 'ok', 'ok'),
  typing: socket('dropped', 'delivered', 'delivered', 'delivered'),
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
  /** A member (of both channels) whose typing, sent once the principal's was handled, marks when the principal's would have arrived. */
  marker: User;
  /** Never a member of either channel. */
  outsider: User;
}

export async function castOf(call: Api): Promise<Cast> {
  const names = ['owner', 'member', 'other', 'target', 'guest', 'marker', 'outsider'] as const;
  const users: User[] = [];
  for (const n of names) users.push(await registerUser(call, `az${n}`));
  return Object.fromEntries(names.map((n, i) => [n, users[i]])) as unknown as Cast;
}

/**
 * One private channel and one public channel with their members and tokens,
 * rights already changed on A after caches were warmed on B: on the private
 * one a member removed and a member's tokens revoked; the public one was
 * private while B warmed, so B last saw it hidden from `outsider`.
 */
export interface World {
  channelId: string;
  /** Where `outsider` plays. */
  publicChannelId: string;
  cast: Cast;
  revoked: User;
  tokens: Record<Principal, string | undefined>;
  /** Sockets on B opened before the change, `other`'s subscribed, `outsider`'s refused; the principals without one connect when they play. */
  sockets: Partial<Record<Principal, ClientSocket>>;
  /** `revoked`'s socket on B, subscribed before its tokens were revoked. */
  revokedSocket: ClientSocket;
  /** `target`'s socket on A, subscribed to both channels: it hears typing. */
  observer: Recorder<{ channelId: string; user: { id: string } }>;
  markerSocket: ClientSocket;
  /** What the sockets of `other` and `revoked` on B were told. */
  told: { other: Promise<unknown>; revoked: Promise<unknown> };
  close(): void;
}

const typingHandled = (url: string) => metricValue(url, 'crosswire_socket_events_total', { event: 'typing' });

const eventOnce = (s: ClientSocket, event: 'channel:removed' | 'session:revoked') => new Promise((resolve) => (s as any).once(event, resolve));

/** `expired` is a token that B accepted earlier (its signature is remembered there) and that has expired since. */
export async function buildWorld(a: string, b: string, cast: Cast, expired: string): Promise<World> {
  const onA = api(a);
  const onB = api(b);
  const revoked = await registerUser(onA, 'azrevoked');
  const privateChannel = async (prefix: string, members: User[]) => {
    const ch = await onA('POST', '/api/channels', { name: `${prefix}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`, visibility: 'private' }, cast.owner.token);
    if (ch.status !== 201) throw new Error(`create: ${ch.status}`);
    for (const u of members) {
      const res = await onA('POST', `/api/channels/${ch.body.id}/members`, { username: u.username }, cast.owner.token);
      if (res.status !== 201) throw new Error(`add member: ${res.status}`);
    }
    return ch.body.id as string;
  };
  const channelId = await privateChannel('az', [cast.member, cast.other, cast.target, cast.marker, revoked]);
  const publicChannelId = await privateChannel('azpub', [cast.target, cast.marker]);
  const reads = (id: string) => [`/api/channels/${id}`, `/api/channels/${id}/messages`, `/api/channels/${id}/presence`];
  // Warm B: the users, their token versions and their membership are read there, over REST and sockets.
  for (const u of [revoked, cast.other, cast.member, cast.owner]) {
    for (const path of ['/api/me', ...reads(channelId)]) {
      const res = await onB('GET', path, undefined, u.token);
      if (res.status !== 200) throw new Error(`warming B: GET ${path} ${res.status}`);
    }
  }
  for (const path of ['/api/me', ...reads(publicChannelId)]) {
    const res = await onB('GET', path, undefined, cast.outsider.token);
    if (res.status !== (path === '/api/me' ? 200 : 404)) throw new Error(`warming B: outsider GET ${path} ${res.status}`);
  }
  const sockets: World['sockets'] = {};
  for (const p of ['other', 'member', 'owner', 'outsider'] as const) sockets[p] = await connect(b, cast[p].token);
  const revokedSocket = await connect(b, revoked.token);
  for (const s of [sockets.other!, revokedSocket]) {
    const ack = await emitAck(s, 'channel:subscribe', { channelId });
    if (!ack.ok) throw new Error(`warming B: subscribe ${JSON.stringify(ack)}`);
  }
  const refused = await emitAck(sockets.outsider!, 'channel:subscribe', { channelId: publicChannelId });
  if (refused.ok || refused.error.code !== 'NOT_FOUND') throw new Error(`warming B: outsider subscribe ${JSON.stringify(refused)}`);
  const observerSocket = await connect(a, cast.target.token);
  const observer = record<{ channelId: string; user: { id: string } }>(observerSocket, 'typing');
  for (const id of [channelId, publicChannelId]) {
    const ack = await emitAck(observerSocket, 'channel:subscribe', { channelId: id });
    if (!ack.ok) throw new Error(`observer subscribe ${JSON.stringify(ack)}`);
  }
  const markerSocket = await connect(b, cast.marker.token);
  const told = { other: eventOnce(sockets.other!, 'channel:removed'), revoked: eventOnce(revokedSocket, 'session:revoked') };

  // The rights change, on A.
  if ((await onA('DELETE', `/api/channels/${channelId}/members/${cast.other.id}`, undefined, cast.owner.token)).status !== 204) throw new Error('remove other');
  if ((await onA('POST', '/api/auth/logout-all', undefined, revoked.token)).status !== 204) throw new Error('logout-all');
  if ((await onA('PATCH', `/api/channels/${publicChannelId}`, { visibility: 'public' }, cast.owner.token)).status !== 200) throw new Error('make public');

  const tokens: World['tokens'] = {
    none: undefined,
    forged: await forgedToken(cast.member.id),
    expired,
    revoked: revoked.token,
    other: cast.other.token,
    member: cast.member.token,
    owner: cast.owner.token,
    outsider: cast.outsider.token,
  };
  return {
    channelId,
    publicChannelId,
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

const channelOf = (p: Principal, w: World) => (p === 'outsider' ? w.publicChannelId : w.channelId);

/** The user a principal's token names (`none` has no token: any id will do). */
function userOf(p: Principal, w: World): User {
  if (p === 'revoked') return w.revoked;
  if (p === 'other' || p === 'owner' || p === 'outsider') return w.cast[p];
  return w.cast.member;
}

/** Plays one cell on replica B and says what came of it. */
export async function play(action: string, p: Principal, w: World, b: string): Promise<Outcome> {
  const token = w.tokens[p];
  if (!action.includes(' ')) return playEvent(action, p, w, b);
  const [method, template] = action.split(' ') as [string, string];
  const path = template.replace('{id}', channelOf(p, w)).replace('{userId}', w.cast.target.id).replace('{self}', userOf(p, w).id);
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
  const channelId = channelOf(p, w);
  if (event === 'typing') {
    const user = userOf(p, w);
    // typing has no ack: B's count of handled typing events says when its access check is over (and, if it
    // passed, the event is on the channel's topic). A marker sent after that, on the same topic, arrives after it.
    const handled = await typingHandled(b);
    socket.emit('typing', { channelId });
    await until('B handled the typing event', async () => (await typingHandled(b)) > handled, 10_000, 20);
    const isMarker = (t: { channelId: string; user: { id: string } }) => t.channelId === channelId && t.user.id === w.cast.marker.id;
    const markers = w.observer.items.filter(isMarker).length;
    w.markerSocket.emit('typing', { channelId });
    await w.observer.waitFor((t) => isMarker(t) && w.observer.items.filter(isMarker).length > markers);
    return w.observer.items.some((t) => t.channelId === channelId && t.user.id === user.id) ? 'delivered' : 'dropped';
  }
  const payload = event === 'message:publish' ? { channelId, body: { from: p } } : { channelId };
  const ack = await emitAck(socket, event as 'channel:subscribe', payload);
  return ack.ok ? 'ok' : ack.error.code;
}
