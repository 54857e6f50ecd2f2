import { randomUUID } from 'node:crypto';
import { jest } from '@jest/globals';
import { EVENT_NAMES } from '../../scripts/fuzz/catalog.js';
import { mintToken } from '../../scripts/fuzz/tokens.js';
import { api, connect, emitAck, once } from '../support/client.js';
import { everyRoute } from '../e2e/support/routes.js';
import { type Cast, MATRIX, PRINCIPALS, type Principal, SELF_LEAVE, buildWorld, castOf, play } from './support/authz.js';
import { CLUSTER_SECRET, type Cluster, startCluster, until } from './support/cluster.js';

jest.setTimeout(120_000);

// Every route and event × {no token, forged, expired, revoked, other user,
// member, owner} on a private channel, and × an outsider (signed in, not a
// member) on a public one, from the one table in support/authz.ts. Each row
// gets channels of its own; the rights change (a member removed, a user's
// tokens revoked, the outsider's channel turned public) on replica A after
// replica B's caches were warmed with the same tokens and memberships, and
// every cell is played on B.
describe('authorization matrix on two replicas: rights changed on A, checked on B with warm caches', () => {
  let cluster: Cluster;
  let a: string;
  let b: string;
  let cast: Cast;
  let expired: string;
  let expiresAt: number;

  beforeAll(async () => {
    cluster = await startCluster(2);
    [a, b] = cluster.replicas.map((r) => r.url) as [string, string];
    cast = await castOf(api(a));
    // B verifies this token while it is valid (and remembers its signature); the matrix uses it once it has expired.
    expiresAt = Math.floor(Date.now() / 1000) + 2;
    expired = await mintToken(CLUSTER_SECRET, { sub: cast.member.id, expiresIn: expiresAt - Math.floor(Date.now() / 1000) });
    expect((await api(b)('GET', '/api/me', undefined, expired)).status).toBe(200);
  });
  afterAll(() => cluster?.stop());

  // The principals whose rights just changed on A are played first, before B could catch up by itself; the
  // owner's destructive cells (DELETE, logout) last.
  const PLAY_ORDER: Principal[] = ['revoked', 'other', 'outsider', 'none', 'forged', 'expired', 'member', 'owner'];

  it('the table has a row for every REST route (test/e2e/support/routes.ts, plus register, login and a caller removing itself) and every client→server event, and every principal is played', () => {
    const routes = everyRoute('{id}', '{userId}').map(([method, path]) => `${method} ${path}`);
    expect(Object.keys(MATRIX).sort()).toEqual([...routes, 'POST /api/auth/register', 'POST /api/auth/login', SELF_LEAVE, ...EVENT_NAMES].sort());
    expect([...PLAY_ORDER].sort()).toEqual([...PRINCIPALS].sort());
  });

  // Rows whose owner and member end their own sessions need users of their own.
  const revokesCaller = (action: string) => action === 'POST /api/auth/logout-all' || action === 'POST /api/auth/password';

  it.each(Object.keys(MATRIX))('%s: each principal gets the outcome of the table on B; the removed member and the revoked session were told so on B', async (action) => {
    await until('the short-lived token has expired', () => Date.now() / 1000 > expiresAt + 0.1, 10_000);
    const world = await buildWorld(a, b, revokesCaller(action) ? await castOf(api(a)) : cast, expired);
    try {
      const got = {} as Record<Principal, unknown>;
      for (const p of PLAY_ORDER) got[p] = await play(action, p, world, b);
      expect(got).toEqual(MATRIX[action]);
      expect(await world.told.other).toEqual({ channelId: world.channelId, reason: 'removed' });
      expect(await world.told.revoked).toEqual({ reason: 'revoked' });
    } finally {
      world.close();
    }
  });

  it('a member leaving a private channel on B is told channel:removed {reason: "left"} on A, where its warm read cache then answers 404; the owner cannot leave (409) and still owns the channel', async () => {
    const [onA, onB] = [api(a), api(b)];
    const created = await onA('POST', '/api/channels', { name: `azleave-${Date.now()}`, visibility: 'private' }, cast.owner.token);
    expect(created.status).toBe(201);
    const channelId: string = created.body.id;
    expect((await onA('POST', `/api/channels/${channelId}/members`, { username: cast.member.username }, cast.owner.token)).status).toBe(201);
    const reads = [`/api/channels/${channelId}`, `/api/channels/${channelId}/messages`, `/api/channels/${channelId}/presence`];
    const socket = await connect(a, cast.member.token);
    try {
      expect((await emitAck(socket, 'channel:subscribe', { channelId })).ok).toBe(true);
      for (const path of reads) expect({ path, status: (await onA('GET', path, undefined, cast.member.token)).status }).toEqual({ path, status: 200 });
      const told = once(socket, 'channel:removed');
      expect((await onB('DELETE', `/api/channels/${channelId}/members/${cast.member.id}`, undefined, cast.member.token)).status).toBe(204);
      expect(await told).toEqual({ channelId, reason: 'left' });
      for (const path of reads) expect({ path, status: (await onA('GET', path, undefined, cast.member.token)).status }).toEqual({ path, status: 404 });
      const ownerLeaves = await onB('DELETE', `/api/channels/${channelId}/members/${cast.owner.id}`, undefined, cast.owner.token);
      expect({ status: ownerLeaves.status, code: ownerLeaves.body.code }).toEqual({ status: 409, code: 'CONFLICT' });
      const after = await onA('GET', `/api/channels/${channelId}`, undefined, cast.owner.token);
      expect({ status: after.status, ownerId: after.body.ownerId }).toEqual({ status: 200, ownerId: cast.owner.id });
    } finally {
      socket.close();
    }
  });

  it('a private channel never leaks to a non-member on B (a removed member or a stranger): every channel route and every ack answers exactly as for an unknown id, and the list does not name it', async () => {
    await until('the short-lived token has expired', () => Date.now() / 1000 > expiresAt + 0.1, 10_000);
    const world = await buildWorld(a, b, cast, expired);
    const onB = api(b);
    try {
      for (let i = 0; i < 3; i++) await api(a)('POST', `/api/channels/${world.channelId}/messages`, { body: `secret ${i}` }, cast.owner.token);
      const unknown = randomUUID();
      const strangers = { other: cast.other, stranger: cast.guest };
      const channelRoutes = Object.keys(MATRIX).filter((k) => k.includes('{id}'));
      const bodies: Record<string, unknown> = {
        'PATCH /api/channels/{id}': { name: 'leak-probe' },
        'POST /api/channels/{id}/members': { username: cast.guest.username },
        'POST /api/channels/{id}/messages': { body: 'probe' },
      };
      for (const [who, user] of Object.entries(strangers)) {
        const asked = async (channelId: string) => {
          const answers: Record<string, unknown> = {};
          for (const route of channelRoutes) {
            const [method, template] = route.split(' ') as [string, string];
            const res = await onB(method, template.replace('{id}', channelId).replace('{userId}', cast.target.id).replace('{self}', user.id), bodies[route], user.token);
            answers[route] = { status: res.status, body: res.body };
          }
          // An oversized body is refused before the access check: the same 413 either way.
          const big = await onB('POST', `/api/channels/${channelId}/messages`, { body: 'x'.repeat(20_000) }, user.token);
          answers['oversized publish'] = { status: big.status, body: big.body };
          const socket = await connect(b, user.token);
          try {
            answers['channel:subscribe'] = await emitAck(socket, 'channel:subscribe', { channelId, sinceSeq: 0 });
            answers['message:publish'] = await emitAck(socket, 'message:publish', { channelId, body: 'probe' });
            answers['channel:unsubscribe'] = await emitAck(socket, 'channel:unsubscribe', { channelId });
          } finally {
            socket.close();
          }
          return answers;
        };
        const [hidden, missing] = [await asked(world.channelId), await asked(unknown)];
        expect({ who, answers: hidden }).toEqual({ who, answers: missing });
        expect(Object.values(hidden).some((x) => JSON.stringify(x).includes('secret'))).toBe(false);
        const listed = await onB('GET', '/api/channels?limit=200', undefined, user.token);
        expect(listed.body.items.map((c: { id: string }) => c.id)).not.toContain(world.channelId);
      }
    } finally {
      world.close();
    }
  });
});
