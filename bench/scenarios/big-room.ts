// One big room: 5,000 subscribers join one channel on one server at once
// (spread over the generator processes), presence on for the hub as it always
// is. Measured: the time until all are subscribed and each handshake, the
// presence events every client hears during the burst (the "no per-member
// presence storm" figure: today each join is announced to everyone already
// there), the users listed in the subscribe acks, the heap after two forced
// GCs, then fan-out at a modest rate. The baseline joins the same room (no presence).
import type { ConnectStats, PresenceStats } from '../generators/crowd.js';
import { BODY_BYTES } from '../generators/body.js';
import { merge, summarize } from '../histogram.js';
import { measureMemory } from '../memory.js';
import { type Ctx, quiesce, round, type ScenarioResult, type StepResult, step } from './context.js';
import { type Load, loadStep, measuredWith, share } from './userload.js';
import { EQUAL_LOAD_RULE, perConnectionKB, presenceFigures, ratio, sideBySide } from './userload-rules.js';

/** Longest wait for the presence events of the burst to stop (full run). */
const SETTLE_MAX_MS = 90_000;

export interface BigRoomSide {
  subscribers: number;
  connected: number;
  failed: number;
  /** From the first connect to the last subscribe ack. */
  allSubscribedS: number;
  /** Until the presence events stopped arriving and the server went quiet (or SETTLE_MAX_MS passed: presenceStopped false). */
  settledS: number;
  presenceStopped: boolean;
  presenceAtAllSubscribed: ReturnType<typeof presenceFigures>;
  presenceSettled: ReturnType<typeof presenceFigures>;
  /** Users listed in the subscribe acks' presence lists, summed over every client. */
  presenceListed: number;
  heapBefore: number;
  heapAfter: number;
  rssBefore: number;
  rssAfter: number;
  heapKBPerSubscriber: number | null;
  rssKBPerSubscriber: number | null;
}

async function presenceOf(jobs: Load['subs']): Promise<number[]> {
  const all = await Promise.all(jobs.map((j) => j.call<PresenceStats>('presence')));
  return all.flatMap((p) => p.perClient);
}

export async function bigRoom(ctx: Ctx): Promise<ScenarioResult> {
  const t0 = Date.now();
  const q = ctx.profile.quick;
  const n = q ? 300 : 5000;
  // 5,000 × 10 msg/s (50,000 deliveries/s) left both sides' p99 at 10–14 s on this shared 2-core machine: 2 msg/s (10,000/s) measures the room, not the machine.
  const rate = q ? 5 : 2;
  const windowMs = q ? ctx.profile.ladderMs : ctx.profile.stepMs;
  const users = await ctx.users(n + 8);
  const steps: StepResult[] = [];
  const summary: Record<string, unknown> = { subscribers: n, rate, bodyBytes: BODY_BYTES, generatorProcesses: ctx.topo.generators.gens.length };
  const gens = ctx.topo.generators.gens.length;
  for (const side of ['baseline', 'hub'] as const) {
    await ctx.topo.ensure(side === 'hub' ? 'baseline' : 'hub', 0);
    const [server] = await ctx.topo.ensure(side, 1);
    const [channelId] = await ctx.seed.channels(users[0], 1, `room-${side}`);
    const pid = server.child.pid;
    await quiesce([pid]);
    const before = await measureMemory(pid, server.inspectPort);
    const tokens = side === 'hub' ? users.map((u) => u.token) : undefined;
    const jobs = await ctx.topo.generators.spread('crowd', n, (count, offset) => ({ urls: [server.url], tokens: tokens?.slice(offset, offset + count), channelIds: [channelId] }));
    ctx.progress(`${side}: ${n} clients subscribe to one channel at once`);
    const burstStart = Date.now();
    const { value: conns, cpu } = await measuredWith(ctx, [], () => Promise.all(jobs.map((j, i) => j.call<ConnectStats>('connect', { count: share(n, jobs.length, i), width: 50 }))));
    const atAll = presenceFigures(await presenceOf(jobs));
    // Presence events trail the last ack (each join goes through Redis and back): count until they stop.
    ctx.progress(`${side}: waiting for the presence events to stop`);
    let settled = atAll?.total ?? 0;
    let stopped = false;
    // Bounded: the scenario's share of the full run's budget; the figures say whether the events had stopped.
    for (const end = Date.now() + (q ? 30_000 : SETTLE_MAX_MS); Date.now() < end;) {
      await quiesce([pid], 5000);
      const now = (await presenceOf(jobs)).reduce((a, b) => a + b, 0);
      if (now === settled) {
        stopped = true;
        break;
      }
      settled = now;
    }
    const settledS = round((Date.now() - burstStart) / 1000, 1);
    const settledFigures = presenceFigures(await presenceOf(jobs));
    ctx.progress(`${side}: heap and RSS after two forced GCs`);
    const after = await measureMemory(pid, server.inspectPort);
    const connected = conns.reduce((a, c) => a + c.connected, 0);
    const failed = conns.reduce((a, c) => a + c.failed, 0);
    const handshake = summarize(merge(conns.map((c) => c.hist)));
    const allSubscribedS = round(cpu.wallMs / 1000, 1);
    const result: BigRoomSide = {
      subscribers: n,
      connected,
      failed,
      allSubscribedS,
      settledS,
      presenceStopped: stopped,
      presenceAtAllSubscribed: atAll,
      presenceSettled: settledFigures,
      presenceListed: conns.reduce((a, c) => a + c.presenceListed, 0),
      heapBefore: before.heapUsed,
      heapAfter: after.heapUsed,
      rssBefore: before.rss,
      rssAfter: after.rss,
      heapKBPerSubscriber: perConnectionKB(before.heapUsed, after.heapUsed, connected),
      rssKBPerSubscriber: perConnectionKB(before.rss, after.rss, connected),
    };
    steps.push(
      step(
        {
          name: `${side}: ${n} subscribe to one channel at once`,
          side,
          params: { subscribers: n, phase: 'subscribe' },
          durationS: allSubscribedS,
          latency: handshake,
          delivered: connected,
          deliveredPerS: round(connected / (cpu.wallMs / 1000), 0),
          cpu,
          metrics: {
            failed,
            firstError: conns.find((c) => c.firstError)?.firstError ?? null,
            presenceEventsPerClientMean: atAll?.mean ?? null,
            presenceEventsPerClientMax: atAll?.max ?? null,
            presenceEventsTotal: atAll?.total ?? null,
            presenceListed: result.presenceListed,
            heapKBPerSubscriber: result.heapKBPerSubscriber,
            rssKBPerSubscriber: result.rssKBPerSubscriber,
            generatorLagP99Ms: Math.max(...conns.map((c) => c.lagP99Ms)),
          },
          notes: ['window = from the first connect to the last subscribe ack; latency = each client’s connect + subscribe; deliveredPerS = subscribes/s'],
        },
        [side],
      ),
    );
    const pub = await ctx.topo.generators.job(gens - 1, 'publishers', {
      door: 'socket',
      urls: [server.url],
      tokens: tokens?.slice(n, n + 8),
      connections: 8,
      bodyBytes: BODY_BYTES,
    });
    const load: Load = {
      side,
      subscribers: n,
      subs: jobs,
      pub,
      servers: [server],
      channelIds: [channelId],
      receivers: [connected],
      connectFailures: n - connected,
      extra: [],
      close: () => Promise.all([...jobs, pub].map((j) => j.stop())).then(() => undefined),
    };
    await quiesce([pid]);
    ctx.progress(`${side}: fan-out to ${n} at ${rate} msg/s`);
    steps.push(await loadStep(ctx, load, { name: `${side}: fan-out to ${n} in one room @ ${rate} msg/s`, tag: `room-${side}-${Date.now()}`, rate, durationMs: windowMs, params: { phase: 'fanout' } }));
    summary[side] = result;
    ctx.progress(`${side}: closing ${n} sockets`);
    await load.close();
    await quiesce([pid]);
  }
  await ctx.topo.ensure('baseline', 0);
  const h = summary.hub as BigRoomSide | undefined;
  const b = summary.baseline as BigRoomSide | undefined;
  summary.ratios = {
    allSubscribedS: ratio(h?.allSubscribedS, b?.allSubscribedS),
    heapKBPerSubscriber: ratio(h?.heapKBPerSubscriber, b?.heapKBPerSubscriber),
    rssKBPerSubscriber: ratio(h?.rssKBPerSubscriber, b?.rssKBPerSubscriber),
    rule: 'hub ÷ baseline of the same figure; figures, no verdict (no target is set for them); the baseline has no presence, so its side of the subscribe figures carries none of that work',
  };
  summary.fanoutAtEqualLoad = {
    steps: sideBySide(
      steps.filter((s) => s.params.phase === 'fanout'),
      () => 'fanout',
    ),
    rule: EQUAL_LOAD_RULE,
  };
  return {
    id: 'big-room',
    title: `One big room: ${n.toLocaleString('en-US')} subscribers on one channel, one server`,
    durationS: round((Date.now() - t0) / 1000),
    steps,
    summary,
    notes: [
      `The ${n.toLocaleString('en-US')} clients are spread over ${gens} generator processes, each opening 50 at a time; each is its own user on the hub (presence is always on there), none authenticated on the baseline (it has no presence).`,
      'Presence events per client: presence:joined and presence:left heard by each client from its own connect on, read when the last subscribe was acked and again once they stopped arriving. Share of the room = mean ÷ (clients − 1): 0.5 when every join is announced to every member already there (quadratic in the room size), near 0 when joins are not announced one by one.',
      'A client whose connect or subscribe ack did not come within 30 s (clients.ts) counts as failed; per-subscriber figures divide by those connected. The presence wait is bounded (90 s): presenceStopped says whether the events had stopped.',
      'Memory: heap and RSS of the server process after two forced GCs (bench/memory.ts), before the burst and after it settled; per subscriber = (after − before) ÷ subscribers.',
    ],
  };
}
