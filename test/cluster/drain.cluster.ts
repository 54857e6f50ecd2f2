import { jest } from '@jest/globals';
import { type ClientSocket, api, collect, connect, emitAck, once, registerUser } from '../support/client.js';
import { type Cluster, type Replica, startCluster, until } from './support/cluster.js';

jest.setTimeout(120_000);

// No load balancer here: a short notice is enough to start moving sockets.
const DRAIN_NOTICE_MS = 300;
const DRAIN_MS = 2_000; // 10 batches, DRAIN_MS / 10 apart
const GRACE_MS = 1_500;
// Far longer than the goodbye (grace plus a reaper tick): a user leaving that
// soon can only be the drained replica's shortened lease, not its TTL.
const LEASE_TTL_MS = 30_000;
const REAPER_TICK_MS = 1_000; // min(1 s, TTL / 4)

describe('shutdown with REDIS_URL: paced SIGTERM drain, presence goodbye, SIGINT at once, a second signal ignored', () => {
  let cluster: Cluster;
  const sockets: ClientSocket[] = [];
  beforeAll(async () => {
    cluster = await startCluster(3, {
      DRAIN_NOTICE_MS: String(DRAIN_NOTICE_MS),
      DRAIN_MS: String(DRAIN_MS),
      PRESENCE_GRACE_MS: String(GRACE_MS),
      LEASE_TTL_MS: String(LEASE_TTL_MS),
    });
  });
  afterAll(async () => {
    sockets.forEach((s) => s.close());
    await cluster?.stop();
  });

  const open = async (r: Replica, token: string) => {
    const s = await connect(r.url, token);
    sockets.push(s);
    return s;
  };
  /** A replica that is not running any more is started again (same port), with `env` on top. */
  const fresh = async (r: Replica, env: Record<string, string> = {}) => {
    if (r.alive) await r.kill('SIGKILL');
    await r.start(env);
    return r;
  };

  it("SIGTERM disconnects the replica's sockets in paced batches spread over about DRAIN_MS, not all at once, then exits 0", async () => {
    const [r1, r2] = cluster.replicas;
    const user = await registerUser(api(r1.url), 'batch');
    const SOCKETS = 20;
    const closedAt: number[] = [];
    const reasons: string[] = [];
    const closed: Array<Promise<void>> = [];
    for (let i = 0; i < SOCKETS; i++) {
      const s = await open(r2, user.token);
      closed.push(
        new Promise((resolve) =>
          s.once('disconnect', (reason) => {
            closedAt.push(Date.now());
            reasons.push(reason);
            resolve();
          }),
        ),
      );
    }

    const exit = r2.kill('SIGTERM');
    await Promise.all(closed);
    expect(await exit).toBe(0);
    expect(r2.logged('drained').length).toBe(1);
    expect(new Set(reasons)).toEqual(new Set(['transport close']));

    // Batches: disconnect times fall into groups separated by the pause
    // between batches (DRAIN_MS / 10 = 200 ms; a gap over half of it splits).
    const times = [...closedAt].sort((a, b) => a - b);
    const groups: number[][] = [[times[0]]];
    for (let i = 1; i < times.length; i++) {
      if (times[i] - times[i - 1] > DRAIN_MS / 20) groups.push([]);
      groups[groups.length - 1].push(times[i]);
    }
    const shape = { span: times[times.length - 1] - times[0], sizes: groups.map((g) => g.length) };
    // Ten batches of two, nine pauses: 1.8 s. A loaded event loop can merge a
    // pair of batches or stretch a pause, never shorten one much.
    expect(shape.sizes.length).toBeGreaterThanOrEqual(5);
    expect(Math.max(...shape.sizes)).toBeLessThanOrEqual(SOCKETS / 4);
    expect(shape.span).toBeGreaterThanOrEqual(DRAIN_MS * 0.7);
    expect(shape.span).toBeLessThan(DRAIN_MS + 3_000);
  });

  it('drain goodbye: a user whose only socket was on the drained replica leaves about the grace after it moved, long before LEASE_TTL_MS; a user who reconnected elsewhere within the grace does not leave', async () => {
    const [r1, , r3] = cluster.replicas;
    const call = api(r1.url);
    const watcher = await registerUser(call, 'gw');
    const stayer = await registerUser(call, 'gs'); // reconnects to r1 when r3 drops it
    const goner = await registerUser(call, 'gg'); // does not come back
    const late = await registerUser(call, 'gl'); // the sentinel
    const channelId = (await call('POST', '/api/channels', { name: `goodbye-${Date.now()}` }, watcher.token)).body.id;
    const w = await open(r1, watcher.token);
    expect((await emitAck(w, 'channel:subscribe', { channelId })).ok).toBe(true);
    const log: string[] = [];
    w.on('presence:joined', (p) => log.push(`joined ${p.user.username}`));
    w.on('presence:left', (p) => log.push(`left ${p.user.username}`));

    const joinedBoth = collect(w, 'presence:joined', 2);
    // The stayer first, the goner last: the goner's socket goes in the drain's last batch.
    const stayerSock = await open(r3, stayer.token);
    const gonerSock = await open(r3, goner.token);
    for (const s of [stayerSock, gonerSock]) expect((await emitAck(s, 'channel:subscribe', { channelId })).ok).toBe(true);
    await joinedBoth;

    const stayerBack = new Promise<{ gone: number; back: number }>((resolve, reject) => {
      stayerSock.once('disconnect', () => {
        const gone = Date.now();
        open(r1, stayer.token)
          .then((s) => emitAck(s, 'channel:subscribe', { channelId }))
          .then((ack) => (ack.ok ? resolve({ gone, back: Date.now() }) : reject(new Error(JSON.stringify(ack)))), reject);
      });
    });
    const gonerGone = new Promise<number>((resolve) => gonerSock.once('disconnect', () => resolve(Date.now())));
    const gonerLeft = once<any>(w, 'presence:left', LEASE_TTL_MS);
    const reapersBefore = cluster.replicas.filter((r) => r.alive && r !== r3).map((r) => ({ r, n: r.logged('reaped a dead instance').length }));

    const exit = r3.kill('SIGTERM');
    const { gone, back } = await stayerBack;
    expect(back - gone).toBeLessThan(GRACE_MS);
    const gonerAt = await gonerGone;
    expect(await gonerLeft).toEqual({ channelId, user: { id: goner.id, username: goner.username } });
    const tookMs = Date.now() - gonerAt;
    expect(await exit).toBe(0);
    // The goodbye lease lapses the grace after the last batch; a survivor's reaper sees it within a tick.
    expect(tookMs).toBeGreaterThanOrEqual(GRACE_MS - 100);
    expect(tookMs).toBeLessThan(GRACE_MS + REAPER_TICK_MS + 3_000);
    expect(tookMs).toBeLessThan(LEASE_TTL_MS / 3);
    // By a survivor reaping r3's lapsed lease (not by r3's own grace timer).
    await until('a survivor logged the reap', () => reapersBefore.some(({ r, n }) => r.logged('reaped a dead instance').length > n));

    // The reap released the stayer's r3 lease in the same pass; the stayer
    // still has r1's, so no left. A presence change published after the reap
    // arrives after anything the reap published.
    const sentinel = once<any>(w, 'presence:joined');
    await open(r1, late.token).then((s) => emitAck(s, 'channel:subscribe', { channelId }));
    expect((await sentinel).user.id).toBe(late.id);
    expect(log).toEqual([`joined ${stayer.username}`, `joined ${goner.username}`, `left ${goner.username}`, `joined ${late.username}`]);
    const listed = await call('GET', `/api/channels/${channelId}/presence`, undefined, watcher.token);
    expect(listed.body.users.map((u: any) => u.id).sort()).toEqual([watcher.id, stayer.id, late.id].sort());
  });

  it('SIGINT with REDIS_URL closes at once, without draining, and exits 0', async () => {
    // A long notice: a drain would keep the replica up at least this long.
    const notice = 5_000;
    const r = await fresh(cluster.replicas[1], { DRAIN_NOTICE_MS: String(notice) });
    const user = await registerUser(api(r.url), 'sigint');
    const s = await open(r, user.token);
    const dropped = new Promise<number>((resolve) => s.once('disconnect', () => resolve(Date.now())));
    const t0 = Date.now();
    const code = await r.kill('SIGINT');
    const exitedMs = Date.now() - t0;
    expect(code).toBe(0);
    expect(exitedMs).toBeLessThan(notice);
    expect((await dropped) - t0).toBeLessThan(notice);
    expect(r.log).toMatch(/"msg":"shutting down".*"signal":"SIGINT"/);
    expect(r.logged('draining').length).toBe(0);
    expect(r.logged('drained').length).toBe(0);
  });

  it('a second SIGTERM and a SIGINT during a drain are ignored: the drain runs to its end, "drained" is logged once, exit 0', async () => {
    const notice = 2_000;
    const r = await fresh(cluster.replicas[2], { DRAIN_NOTICE_MS: String(notice) });
    const user = await registerUser(api(r.url), 'twice');
    const s = await open(r, user.token);
    const dropped = new Promise<number>((resolve) => s.once('disconnect', () => resolve(Date.now())));
    const t0 = Date.now();
    const exit = r.kill('SIGTERM');
    await until('the drain has started', () => r.logged('draining').length === 1, notice);
    r.child.kill('SIGTERM');
    r.child.kill('SIGINT');
    // Still up and draining after both: /readyz answers 503 draining.
    const ready = await fetch(`${r.url}/readyz`);
    expect({ status: ready.status, draining: (await ready.json()).checks.draining }).toEqual({ status: 503, draining: true });
    expect(await exit).toBe(0);
    // The socket was moved only after the notice: the drain ran its course.
    expect((await dropped) - t0).toBeGreaterThanOrEqual(notice);
    expect(r.logged('shutting down').length).toBe(1);
    expect(r.logged('draining').length).toBe(1);
    expect(r.logged('drained').length).toBe(1);
  });
});
