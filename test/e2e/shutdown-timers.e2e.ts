import { jest } from '@jest/globals';
import { createHook } from 'node:async_hooks';
import { resolve } from 'node:path';
import { freePort } from '../support/free-port.js';
import { RedisProcess } from '../support/redis.js';
import { until } from '../support/wait.js';
import { api, connect, emitAck, once, registerUser, startHub } from './support/hub.js';

jest.setTimeout(60_000);

const SRC = resolve('src') + '/';

/**
 * Every timer the hub's own code starts (its first caller outside Node is a
 * file under src/), with where it was started, until it fires or is cleared.
 */
function watchTimers() {
  const live = new Map<number, string>();
  const seen = { count: 0 };
  const hook = createHook({
    init(id, type) {
      if (type !== 'Timeout') return;
      const limit = Error.stackTraceLimit;
      Error.stackTraceLimit = 40;
      const stack = new Error().stack ?? '';
      Error.stackTraceLimit = limit;
      // Past this hook and Node's own timer frames: the code that asked for the timer.
      const lines = stack.split('\n').slice(2);
      const frames = lines.slice(lines.findIndex((l) => !l.includes('node:')));
      if (frames[0]?.includes(SRC))
        (seen.count++,
          live.set(
            id,
            frames
              .slice(0, 3)
              .map((f) => f.trim())
              .join(' < '),
          ));
    },
    destroy(id) {
      live.delete(id);
    },
  });
  hook.enable();
  return { live, seen, stop: () => hook.disable() };
}

// CONTRACT §9: closing the hub stops everything it started. A timer left
// behind re-arms a loop against closed pools, or runs a presence leave after
// Redis is gone.
describe('shutdown', () => {
  it('leaves no timer of the hub running once it is closed, after sockets, subscriptions, presence and Redis were all in use, and with Redis not answering at the close', async () => {
    const redis = new RedisProcess(await freePort());
    await redis.start();
    const timers = watchTimers();
    try {
      const hub = await startHub({ REDIS_URL: redis.url, RECONCILE_MS: '200', CANARY_INTERVAL_MS: '1000', LEASE_TTL_MS: '400', PRESENCE_GRACE_MS: '5000' });
      const call = api(hub.url);
      const alice = await registerUser(call, 'timers');
      const bob = await registerUser(call, 'timers');
      const channelId = (await call('POST', '/api/channels', { name: `timers${Date.now()}` }, alice.token)).body.id;
      const a = await connect(hub.url, alice.token);
      const b = await connect(hub.url, bob.token);
      for (const s of [a, b]) expect((await emitAck(s, 'channel:subscribe', { channelId })).ok).toBe(true);
      const got = once<any>(a, 'message:created');
      await call('POST', `/api/channels/${channelId}/messages`, { body: 'hello' }, bob.token);
      await got;
      // Bob leaves: his presence grace (5 s) is running when the hub closes.
      b.close();
      a.close();
      // Redis stops answering. The canary's PING then waits its full interval (1 s) and the loop sleeps
      // 1 s between tries: /readyz turning `redis: down` marks the end of one wait, so 1.5 s later the
      // next PING is half-way through its own, and the close catches that loop mid-await.
      redis.child!.kill('SIGSTOP');
      await until('readiness to see Redis down', async () => (await call('GET', '/readyz')).body.checks.redis === 'down', 10_000, 20);
      await new Promise((r) => setTimeout(r, 1_500));
      await hub.close();
      // Anything that re-arms after the close has had the time to do so.
      await new Promise((r) => setTimeout(r, 500));
      // The watch works: the hub's loops and leases started timers while it ran.
      expect(timers.seen.count).toBeGreaterThan(10);
      expect([...timers.live.values()]).toEqual([]);
    } finally {
      timers.stop();
      redis.child!.kill('SIGCONT');
      await redis.stop();
    }
  });
});
