import { jest } from '@jest/globals';
import { type ClientSocket, api, connectSession, emitAck, registerUser } from '../support/client.js';
import { until } from './support/cluster.js';
import { clusterBehindLbForFile } from './support/haproxy.js';
import { publishMany, storedMessages } from './support/publisher.js';
import { Subscriber } from './support/subscriber.js';

jest.setTimeout(180_000);

const SUBSCRIBERS = 18;
const TOTAL = 600;

/**
 * The run issue 6 was filed from, as a test: clients through the load
 * balancer, a replica SIGKILLed a third of the way through, Redis SIGKILLed
 * at 60% and restarted empty 3 s later.
 */
describe('the fault run: a replica and Redis killed under load, clients through HAProxy', () => {
  const ctx = clusterBehindLbForFile(3);
  const { lb, closers } = ctx;

  it("per connection 0 lost, 0 out of order, 0 gaps, 0 duplicates; the dead replica's users are announced left on every surviving replica, once", async () => {
    const call = api(lb.url);
    const owner = await registerUser(call, 'fr');
    const channelId = (await call('POST', '/api/channels', { name: `fault-run-${Date.now()}` }, owner.token)).body.id;
    const users = await Promise.all(Array.from({ length: SUBSCRIBERS }, () => registerUser(call, 'frs')));
    const subs: Subscriber[] = [];
    for (const u of users) {
      const s = new Subscriber(() => [lb.url], u.token, channelId);
      closers.push(s);
      await s.start();
      subs.push(s);
    }
    // One user per replica connected to it alone, never reconnecting: the killed replica's must be announced gone.
    const ghosts: Array<{ user: { id: string; username: string }; replica: string; socket: ClientSocket }> = [];
    for (const r of ctx.cluster.replicas) {
      const user = await registerUser(call, 'ghost');
      const { socket } = await connectSession(r.url, user.token);
      closers.push(socket);
      expect((await emitAck(socket, 'channel:subscribe', { channelId })).ok).toBe(true);
      ghosts.push({ user, replica: r.id, socket });
    }
    const victim = ctx.cluster.replicas[1];
    expect(new Set(subs.map((s) => s.replicas[0])).size).toBe(3);
    await until(
      'every subscriber to see the ghosts joined',
      () => subs.every((s) => ghosts.every((g) => s.presence.some((p) => p.kind === 'joined' && p.userId === g.user.id) || s.connections[0].replica === g.replica)),
      20_000,
    );

    let redisBack: Promise<void> | undefined;
    await publishMany({
      urls: () => [lb.url],
      token: owner.token,
      channelId,
      count: TOTAL,
      concurrency: 4,
      everyMs: 8,
      prefix: 'f',
      onAcked: async (n) => {
        if (n === TOTAL / 3) await victim.kill('SIGKILL');
        if (n === (TOTAL * 6) / 10) {
          await ctx.cluster.redis.stop();
          redisBack = new Promise((r) => setTimeout(r, 3_000)).then(() => ctx.cluster.redis.start());
        }
      },
    });
    await redisBack;
    const stored = await storedMessages(lb.url, owner.token, channelId);
    expect(stored.map((m) => m.seq)).toEqual(Array.from({ length: TOTAL }, (_, i) => i + 1));
    await Promise.all(subs.map((s) => s.waitFor(TOTAL, 30_000)));
    for (const [k, s] of subs.entries()) {
      expect({ k, violations: s.violations }).toEqual({ k, violations: [] });
      expect({ k, seqs: s.received.map((m) => m.seq) }).toEqual({ k, seqs: stored.map((m) => m.seq) });
      expect(s.received.map((m) => m.id)).toEqual(stored.map((m) => m.id));
    }
    const moved = subs.filter((s) => s.replicas[0] === victim.id);
    expect(moved.length).toBeGreaterThan(0);
    for (const s of moved) expect(s.replicas.length).toBeGreaterThan(1);

    // Presence: subscribers that stayed on a surviving replica throughout hear the dead replica's ghost leave, once.
    const ghost = ghosts.find((g) => g.replica === victim.id)!;
    const stayed = subs.filter((s) => s.reconnects === 0 && s.replicas[0] !== victim.id);
    expect(new Set(stayed.map((s) => s.replicas[0])).size).toBe(2);
    await until('every surviving subscriber to hear the ghost leave', () => stayed.every((s) => s.presence.some((p) => p.kind === 'left' && p.userId === ghost.user.id)), 20_000);
    const present = new Set([...users.map((u) => u.id), ...ghosts.filter((g) => g !== ghost).map((g) => g.user.id)]);
    for (const s of stayed) {
      const lefts = s.presence.filter((p) => p.kind === 'left');
      expect(lefts.filter((p) => p.userId === ghost.user.id)).toHaveLength(1);
      expect(lefts.filter((p) => present.has(p.userId))).toEqual([]);
    }
  });
});
