// Scenario 6: SIGKILL a replica holding N subscribers while messages flow.
// Clients keep the delivery promise (bench/generators/storm.ts) and fall over
// to the other replicas directly; measured: time until every one is
// resubscribed and caught up, messages lost (must be 0), duplicates and
// out-of-order deliveries they saw. Then the same fault on socket.io
// baselines (summary.baselines): the classic and the sharded adapter, whose
// clients join again and simply miss what was published meanwhile, and the streams
// adapter with connection state recovery, whose clients present their old
// session to another server; and, since recovery needs the session the
// dropped server stores on disconnect, the streams adapter once more with the
// clients' connections cut while their server stays up.
import { BODY_BYTES } from '../generators/body.js';
import type { PublishStats } from '../generators/publishers.js';
import type { BaselineStormStatus } from '../generators/storm.js';
import { BASELINE_VARIANT_SETTINGS, type BaselineVariant } from '../baseline/options.js';
import { CountingProxy } from '../proxy.js';
import { type Ctx, measured, round, type ScenarioResult, type StepResult, step } from './context.js';

interface Status {
  clients: number;
  connected: number;
  dropped: number;
  resubscribed: number;
  caughtUp: number;
  dups: number;
  ooo: number;
  lost: number;
  missingNotBack: number;
  holdingAll: number;
  resubMs: number[];
  caughtUpMs: number[];
  reconnects: number;
}

const pct = (v: number[], p: number) => {
  if (!v.length) return null;
  const s = [...v].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};

export async function storm(ctx: Ctx): Promise<ScenarioResult> {
  const t0 = Date.now();
  const q = ctx.profile.quick;
  const n = q ? 200 : 2000;
  const { rate, killAfterMs, publishMs } = stormTiming(q);
  await ctx.topo.ensure('baseline', 0);
  const servers = await ctx.topo.ensure('hub', 3);
  const users = await ctx.users(n + 1);
  const [channelId] = await ctx.seed.channels(users[0], 1, 'storm');
  const startSeq = await ctx.seed.lastSeq(channelId);
  ctx.progress(`connecting ${n} subscribers to ${servers[0].name}`);
  const jobs = await ctx.topo.generators.spread('storm', n, (count, offset) => ({
    urls: servers.map((s) => s.url),
    tokens: users.slice(1 + offset, 1 + offset + count).map((u) => u.token),
    count,
    channelId,
    startSeq,
  }));
  const pub = await ctx.topo.generators.job(ctx.topo.generators.gens.length - 1, 'publishers', {
    door: 'socket',
    urls: [servers[1].url],
    tokens: [users[0].token],
    connections: 2,
    bodyBytes: BODY_BYTES,
  });
  const status = async (finalSeq?: number) => {
    const all = await Promise.all(jobs.map((j) => j.call<Status>('status', { finalSeq })));
    return all.reduce((a, s) => ({
      ...a,
      ...Object.fromEntries((Object.entries(s) as Array<[keyof Status, Status[keyof Status]]>).map(([k, v]) => [k, Array.isArray(v) ? [...(a[k] as number[]), ...v] : (a[k] as number) + v])),
    }));
  };
  let killedAt = 0;
  const { value, cpu } = await measured(ctx, async () => {
    const publishing = pub.call<PublishStats>('run', { tag: `storm-${Date.now()}`, channelIds: [channelId], durationMs: publishMs, rate });
    await new Promise((r) => setTimeout(r, killAfterMs));
    ctx.progress(`SIGKILL ${servers[0].name} (${n} subscribers)`);
    killedAt = Date.now();
    await ctx.topo.killServer('hub', 0);
    const deadline = Date.now() + (q ? 30_000 : 120_000);
    let s = await status();
    while (Date.now() < deadline && s.caughtUp < n) {
      await new Promise((r) => setTimeout(r, 500));
      s = await status();
      ctx.progress(`after the kill: ${s.resubscribed}/${n} resubscribed, ${s.caughtUp}/${n} caught up`);
    }
    const stats = await publishing;
    const finalSeq = stats.lastSeq[channelId] ?? startSeq;
    // Every acked message must reach every client (the reconciliation tick included).
    let fin = await status(finalSeq);
    for (const end = Date.now() + 15_000; Date.now() < end && fin.holdingAll < n;) {
      await new Promise((r) => setTimeout(r, 500));
      fin = await status(finalSeq);
    }
    return { stats, fin, finalSeq };
  });
  await Promise.all([...jobs, pub].map((j) => j.stop()));
  const { stats, fin, finalSeq } = value;
  const baselineSteps: StepResult[] = [];
  const baselines: Record<string, BaselineStormRow> = {};
  await ctx.topo.ensure('hub', 0);
  for (const part of baselineParts(q)) {
    const r = await baselineStorm(ctx, part);
    baselines[part.id] = r.row;
    baselineSteps.push(r.step);
  }
  // Put the topology back for whatever runs next.
  await ctx.topo.ensure('baseline', 0);
  await ctx.topo.ensure('hub', 1);
  const summary = {
    subscribers: n,
    publishRate: rate,
    published: stats.acked,
    publishErrors: stats.errors,
    dropped: fin.dropped,
    resubscribed: fin.resubscribed,
    caughtUp: fin.caughtUp,
    allResubscribedMs: fin.resubscribed === n ? Math.max(...fin.resubMs) : null,
    allCaughtUpMs: fin.caughtUp === n ? Math.max(...fin.caughtUpMs) : null,
    caughtUpP50Ms: pct(fin.caughtUpMs, 50),
    caughtUpP99Ms: pct(fin.caughtUpMs, 99),
    lost: fin.lost,
    notBack: n - fin.resubscribed,
    missingOnClientsNotBack: fin.missingNotBack,
    duplicates: fin.dups,
    outOfOrder: fin.ooo,
    finalSeq,
    killedAt: new Date(killedAt).toISOString(),
    /** The same fault on socket.io baselines, by part (BASELINE_STORM_PARTS). */
    baselines,
  };
  return {
    id: 'storm',
    title: 'Reconnect storm',
    durationS: round((Date.now() - t0) / 1000),
    steps: [
      step(
        {
          name: `SIGKILL a replica holding ${n} subscribers at ${rate} msg/s`,
          side: 'hub',
          params: { subscribers: n, rate, replicas: 3 },
          durationS: round(cpu.wallMs / 1000, 1),
          delivered: null,
          lost: fin.lost,
          dups: fin.dups,
          ooo: fin.ooo,
          cpu,
          metrics: { ...hubMetrics(summary), killedAt: summary.killedAt },
          notes: [
            'times are from the moment each client saw its connection drop; caught up = holds every seq up to the channel head its resubscribe ack reported',
            'lost = seqs missing, at the end, on clients that did resubscribe; clients that never got back within the wait are counted apart (notBack), with what they miss',
          ],
        },
        ['hub'],
      ),
      ...baselineSteps,
    ],
    summary,
    notes: [
      `Clients start on hub1 and, once it is killed, reconnect directly to hub2 or hub3 (no HAProxy) and resubscribe with sinceSeq; the publisher publishes on hub2 over the socket throughout.`,
      `Baselines (summary.baselines): 3 servers of the variant, ${q ? `50 clients on the first, one publishing socket on the second at the same rate for 1.5 s, the fault after 0.5 s; parts ${QUICK_BASELINE_STORM_PARTS.join(', ')} only` : '2,000 clients on the first, one publishing socket on the second at the same rate, the same fault time'}; lost / duplicated / out of order are counted per client by the publisher's sequence number in each body (one publishing socket: its send order is the order owed). A baseline client is back when it joined the room again (or was recovered into it), caught up at its first delivery after that with no gap below the highest message it holds: a client that missed messages for good never catches up (allCaughtUpMs null), and its gap is counted as lost.`,
      'Connection state recovery restores a session only from what the dropped server stored when it saw the disconnect: a SIGKILLed server stores nothing, so its clients cannot be recovered; the "connections cut" part keeps the server up and moves its clients to the other servers, the case recovery is built for.',
    ],
  };
}

/** Publish rate, time of the fault and publishing window: the same for the hub and every baseline part. */
function stormTiming(quick: boolean): { rate: number; killAfterMs: number; publishMs: number } {
  return { rate: 20, killAfterMs: quick ? 2000 : 5000, publishMs: quick ? 6000 : 25_000 };
}

/** The hub's figures as step metrics (the summary's baselines object is not a metric). */
function hubMetrics(summary: Record<string, unknown>): StepResult['metrics'] {
  return Object.fromEntries(Object.entries(summary).filter((e): e is [string, number | string | null] => e[1] === null || ['number', 'string'].includes(typeof e[1])));
}

interface BaselinePart {
  id: string;
  variant: BaselineVariant;
  fault: 'kill' | 'cut';
  recover: boolean;
  subscribers: number;
}

/** The baseline parts of the storm, in the order they run. */
export const BASELINE_STORM_PARTS: ReadonlyArray<Omit<BaselinePart, 'subscribers'>> = [
  { id: 'classic-kill', variant: 'classic', fault: 'kill', recover: false },
  { id: 'sharded-kill', variant: 'sharded', fault: 'kill', recover: false },
  { id: 'streams-recovery-kill', variant: 'streams', fault: 'kill', recover: true },
  { id: 'streams-recovery-cut', variant: 'streams', fault: 'cut', recover: true },
];

/** Quick: the two behaviours that differ (classic: rejoin and miss; streams: recovered), as a smoke test within the quick budget. */
export const QUICK_BASELINE_STORM_PARTS = ['classic-kill', 'streams-recovery-cut'];

function baselineParts(quick: boolean): BaselinePart[] {
  return BASELINE_STORM_PARTS.filter((p) => !quick || QUICK_BASELINE_STORM_PARTS.includes(p.id)).map((p) => ({ ...p, subscribers: quick ? 50 : 2000 }));
}

/** A baseline part's row: the status fields its generator reports as they are, with the part's settings and what the scenario derives. */
export interface BaselineStormRow extends Pick<
  BaselineStormStatus,
  'dropped' | 'back' | 'recovered' | 'backOnSecond' | 'backOnThird' | 'recoveredOnSecond' | 'recoveredOnThird' | 'caughtUp' | 'lost' | 'lostOnRecovered' | 'reconnects'
> {
  variant: BaselineVariant;
  adapter: string;
  connectionStateRecovery: boolean;
  fault: string;
  subscribers: number;
  publishRate: number;
  published: number;
  publishErrors: number;
  allBackMs: number | null;
  allCaughtUpMs: number | null;
  caughtUpP50Ms: number | null;
  caughtUpP99Ms: number | null;
  clientsMissingSome: number;
  notBack: number;
  missingOnClientsNotBack: number;
  duplicates: number;
  outOfOrder: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function baselineStorm(ctx: Ctx, part: BaselinePart): Promise<{ row: BaselineStormRow; step: StepResult }> {
  const q = ctx.profile.quick;
  const n = part.subscribers;
  // Quick: a smoke test of each part (50 clients, 3 s); full: the hub's timing.
  const { rate, killAfterMs, publishMs } = q ? { rate: 20, killAfterMs: 500, publishMs: 1500 } : stormTiming(false);
  const servers = await ctx.topo.ensure('baseline', 3, [], part.variant);
  const channelId = `storm-${part.id}-${Date.now()}`;
  const tag = `bstorm-${part.id}-${Date.now()}`;
  // The cut: clients of the first server reach it through a proxy whose connections are then dropped (the server sees them close).
  const door = part.fault === 'cut' ? await new CountingProxy(`${servers[0].name}-clients`, servers[0].port).start() : undefined;
  ctx.progress(`baseline ${part.id}: connecting ${n} clients to ${servers[0].name}`);
  const jobs = await ctx.topo.generators.spread('baseline-storm', n, (count) => ({
    urls: [door?.url ?? servers[0].url, servers[1].url, servers[2].url],
    count,
    channelId,
    tag,
    recover: part.recover,
  }));
  for (const j of jobs) {
    const st = j.started as { failed: number; firstError?: string };
    if (st.failed) throw new Error(`baseline storm: ${st.failed} clients failed to connect: ${st.firstError}`);
  }
  // One publishing socket: the body's n is then one publisher's send order.
  const pub = await ctx.topo.generators.job(ctx.topo.generators.gens.length - 1, 'publishers', { door: 'socket', urls: [servers[1].url], connections: 1, bodyBytes: BODY_BYTES });
  const status = async (acked?: number[]) => {
    const all = await Promise.all(jobs.map((j) => j.call<BaselineStormStatus>('status', { acked })));
    return all.reduce((a, s) => ({
      ...a,
      ...Object.fromEntries(
        (Object.entries(s) as Array<[keyof BaselineStormStatus, BaselineStormStatus[keyof BaselineStormStatus]]>).map(([k, v]) => [
          k,
          Array.isArray(v) ? [...(a[k] as number[]), ...v] : (a[k] as number) + v,
        ]),
      ),
    }));
  };
  let faultAt = 0;
  const { value, cpu } = await measured(ctx, async () => {
    const publishing = pub.call<PublishStats>('run', { tag, channelIds: [channelId], durationMs: publishMs, rate });
    await sleep(killAfterMs);
    ctx.progress(`baseline ${part.id}: ${part.fault === 'kill' ? `SIGKILL ${servers[0].name}` : `cutting the connections to ${servers[0].name}`} (${n} clients)`);
    faultAt = Date.now();
    if (door) door.dropAll();
    else await ctx.topo.killServer('baseline', 0);
    const deadline = Date.now() + (q ? 30_000 : 120_000);
    let s = await status();
    while (Date.now() < deadline && s.back < n) {
      await sleep(500);
      s = await status();
      ctx.progress(`baseline ${part.id}: ${s.back}/${n} back (${s.recovered} recovered), ${s.caughtUp}/${n} caught up`);
    }
    const stats = await publishing;
    // In-flight deliveries settle: stop when nothing changed for a second (quick: half) (a baseline never re-sends what it missed).
    let fin = await status(stats.ackedNs);
    for (let end = Date.now() + 5000, last = -1; Date.now() < end && fin.holdingAll < n && fin.lost !== last;) {
      last = fin.lost;
      await sleep(q ? 500 : 1000);
      fin = await status(stats.ackedNs);
    }
    return { stats, fin };
  });
  await Promise.all([...jobs, pub].map((j) => j.stop()));
  await door?.stop();
  const { stats, fin } = value;
  const settings = BASELINE_VARIANT_SETTINGS[part.variant];
  const row: BaselineStormRow = {
    variant: part.variant,
    adapter: settings.adapter,
    connectionStateRecovery: part.recover,
    fault: part.fault === 'kill' ? `SIGKILL ${servers[0].name}` : `connections to ${servers[0].name} cut, server up`,
    subscribers: n,
    publishRate: rate,
    published: stats.acked,
    publishErrors: stats.errors,
    dropped: fin.dropped,
    back: fin.back,
    recovered: fin.recovered,
    backOnSecond: fin.backOnSecond,
    backOnThird: fin.backOnThird,
    recoveredOnSecond: fin.recoveredOnSecond,
    recoveredOnThird: fin.recoveredOnThird,
    caughtUp: fin.caughtUp,
    allBackMs: fin.back === n ? Math.max(...fin.backMs) : null,
    allCaughtUpMs: fin.caughtUp === n ? Math.max(...fin.caughtUpMs) : null,
    caughtUpP50Ms: pct(fin.caughtUpMs, 50),
    caughtUpP99Ms: pct(fin.caughtUpMs, 99),
    lost: fin.lost,
    lostOnRecovered: fin.lostOnRecovered,
    clientsMissingSome: n - fin.holdingAll,
    notBack: n - fin.back,
    missingOnClientsNotBack: fin.missingNotBack,
    duplicates: fin.dups,
    outOfOrder: fin.ooo,
    reconnects: fin.reconnects,
  };
  const name = `baseline ${part.variant}${part.recover ? ' + recovery' : ''}: ${part.fault === 'kill' ? 'SIGKILL a server' : 'cut the connections of a server'} holding ${n} clients at ${rate} msg/s`;
  return {
    row,
    step: step(
      {
        name,
        side: 'baseline',
        params: { subscribers: n, rate, replicas: 3, variant: part.variant, fault: part.fault, recovery: part.recover },
        durationS: round(cpu.wallMs / 1000, 1),
        lost: row.lost,
        dups: row.duplicates,
        ooo: row.outOfOrder,
        cpu,
        metrics: { ...row, faultAt: new Date(faultAt).toISOString() },
        notes: [
          'times are from the moment each client saw its connection drop; back = in the room again (joined or recovered); caught up = first delivery after that with no gap below the highest message held',
          'lost = acknowledged messages missing, at the end, on clients that got back; duplicates and out of order over every delivery, by the publisher’s sequence number',
        ],
      },
      ['baseline'],
    ),
  };
}
