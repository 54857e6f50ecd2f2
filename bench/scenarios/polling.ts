// Scenario 1: REST polling against WebSocket push on the same hub and channel.
// Clients poll GET …/messages?afterSeq every 100 ms or 1 s, or subscribe; at
// 0.5, 1, 10 and 100 msg/s, per delivered message: latency, bytes on the wire
// both ways (through a byte-counting proxy) and server CPU. Then how many
// clients of each way one replica holds before p99 passes 1 s.
import { BODY_BYTES } from '../generators/body.js';
import { CountingProxy } from '../proxy.js';
import type { Server } from '../topology.js';
import { type Ctx, quiesce, round, type ScenarioResult, type StepResult } from './context.js';
import { clientsStep, type Mode, modeName, openClients } from './pollers.js';

const MODES: Mode[] = [{ kind: 'poll', intervalMs: 100, keepAlive: true }, { kind: 'poll', intervalMs: 1000, keepAlive: true }, { kind: 'push' }];

/** Where two series (by rate) swap order, interpolated on a log scale of the rate. */
export function crossing(rates: number[], a: Array<number | null>, b: Array<number | null>): number | null {
  for (let i = 1; i < rates.length; i++) {
    const [a0, a1, b0, b1] = [a[i - 1], a[i], b[i - 1], b[i]];
    if (a0 == null || a1 == null || b0 == null || b1 == null) continue;
    const d0 = a0 - b0;
    const d1 = a1 - b1;
    if (d0 === 0) return rates[i - 1];
    if (Math.sign(d0) !== Math.sign(d1)) {
      const f = d0 / (d0 - d1);
      return round(Math.exp(Math.log(rates[i - 1]) + f * (Math.log(rates[i]) - Math.log(rates[i - 1]))), 1);
    }
  }
  return null;
}

export async function polling(ctx: Ctx): Promise<ScenarioResult> {
  const t0 = Date.now();
  const q = ctx.profile.quick;
  const rates = q ? [1, 10] : [0.5, 1, 10, 100];
  const clientsPerMode = q ? 20 : 50;
  const windowMs = ctx.profile.ladderMs;
  await ctx.topo.ensure('baseline', 0);
  const [hub] = await ctx.topo.ensure('hub', 1);
  const users = await ctx.users(Math.max(clientsPerMode, 1) + 1);
  const [channelId] = await ctx.seed.channels(users[0], 1, 'polling');
  const publisher = await ctx.topo.generators.job(ctx.topo.generators.gens.length - 1, 'publishers', {
    door: 'socket',
    urls: [hub.url],
    tokens: [users[0].token],
    connections: 1,
    bodyBytes: BODY_BYTES,
  });
  const steps: StepResult[] = [];
  const proxy = await new CountingProxy('clients', hub.port).start();
  try {
    for (const mode of MODES) {
      // Pollers keep the replica busy by design: settle only before each way starts.
      await quiesce([hub.child.pid], 5000);
      const clients = await openClients(ctx, mode, { url: proxy.url, users: users.slice(1), count: clientsPerMode, channelId: channelId, afterSeq: await ctx.seed.lastSeq(channelId) });
      for (const rate of rates) {
        ctx.progress(`${modeName(mode)}: ${clientsPerMode} clients, ${rate} msg/s for ${windowMs / 1000} s`);
        steps.push(await clientsStep(ctx, { name: `${modeName(mode)} @ ${rate} msg/s`, clients, publisher, proxy, channelId: channelId, rate, durationMs: windowMs }));
      }
      await clients.stop();
    }
  } finally {
    await proxy.stop();
    await publisher.stop();
  }
  const series = (m: Mode, key: string) =>
    rates.map((r) => {
      const s = steps.find((x) => x.params.mode === modeName(m) && x.params.rate === r);
      const v = key === 'p50Ms' ? s?.latency?.p50Ms : s?.metrics[key];
      return typeof v === 'number' ? v : null;
    });
  const [poll100, poll1000, push] = MODES;
  const crossings: Record<string, number | null> = {};
  for (const key of ['bytesPerMessage', 'serverCpuMsPerMessage', 'p50Ms']) {
    crossings[`${key}: poll 100 ms vs push`] = crossing(rates, series(poll100, key), series(push, key));
    crossings[`${key}: poll 1 s vs push`] = crossing(rates, series(poll1000, key), series(push, key));
  }
  const capacity = await capacityLadder(ctx, hub, users[0], channelId);
  return {
    id: 'polling',
    title: 'REST polling against WebSocket push',
    durationS: round((Date.now() - t0) / 1000),
    steps: [...steps, ...capacity.steps],
    summary: { rates, clientsPerMode, crossings, capacity: capacity.summary },
    notes: [
      `${clientsPerMode} clients per way; one publisher socket connected to the replica directly (not through the proxy, not counted). Wire bytes are counted by a TCP proxy between the clients and the replica: both directions, HTTP headers, empty polls, WebSocket frames and Socket.IO pings included.`,
      'A crossing of null means the curves did not cross between the rates measured.',
      'Capacity steps hold 10 msg/s on the channel and add clients until p99 reaches 1 s or messages are lost; pollers poll every 100 ms.',
    ],
  };
}

/** How many clients each way one replica holds before p99 passes 1 s (10 msg/s on the channel). */
async function capacityLadder(ctx: Ctx, hub: Server, owner: { token: string }, channelId: string) {
  const q = ctx.profile.quick;
  const ladders: Array<[Mode, number[]]> = [
    [{ kind: 'poll', intervalMs: 100, keepAlive: true }, q ? [50] : [100, 200, 400, 800]],
    [{ kind: 'push' }, q ? [200] : [500, 1000, 2000]],
  ];
  const steps: StepResult[] = [];
  const summary: Record<string, unknown> = {};
  const publisher = await ctx.topo.generators.job(ctx.topo.generators.gens.length - 1, 'publishers', { door: 'socket', urls: [hub.url], tokens: [owner.token], connections: 1, bodyBytes: BODY_BYTES });
  for (const [mode, counts] of ladders) {
    const users = await ctx.users(counts[counts.length - 1] + 1);
    const groups: Awaited<ReturnType<typeof openClients>>[] = [];
    let held = 0;
    let have = 0;
    for (const count of counts) {
      ctx.progress(`capacity, ${modeName(mode)}: ${count} clients`);
      groups.push(await openClients(ctx, mode, { url: hub.url, users: users.slice(1 + have), count: count - have, channelId, afterSeq: await ctx.seed.lastSeq(channelId) }));
      have = count;
      // One step over every group: merge their jobs into one client set.
      const all = { mode, count, jobs: groups.flatMap((g) => g.jobs), stop: async () => undefined };
      const s = await clientsStep(ctx, {
        name: `capacity: ${count} clients, ${modeName(mode)} @ 10 msg/s`,
        clients: all,
        publisher,
        channelId,
        rate: 10,
        durationMs: ctx.profile.ladderMs,
        params: { capacity: true },
      });
      steps.push(s);
      const ok = (s.lost ?? 0) === 0 && s.latency?.p99Ms != null && s.latency.p99Ms < 1000;
      if (!ok) break;
      held = count;
    }
    summary[modeName(mode)] = { heldUpTo: held, triedUpTo: have, exhaustedLadder: held === counts[counts.length - 1] };
    await Promise.all(groups.map((g) => g.stop()));
  }
  await publisher.stop();
  return { steps, summary };
}
