// Scenario 6: SIGKILL a replica holding N subscribers while messages flow.
// Clients keep the delivery promise (bench/generators/storm.ts) and fall over
// to the other replicas directly; measured: time until every one is
// resubscribed and caught up, messages lost (must be 0), duplicates and
// out-of-order deliveries they saw.
import { BODY_BYTES } from '../generators/body.js';
import type { PublishStats } from '../generators/publishers.js';
import { type Ctx, measured, round, type ScenarioResult, step } from './context.js';

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
  const rate = 20;
  const killAfterMs = q ? 2000 : 5000;
  const publishMs = q ? 6000 : 25_000;
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
  // Put the topology back for whatever runs next.
  await ctx.topo.ensure('hub', 1);
  const { stats, fin, finalSeq } = value;
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
          metrics: { ...summary, killedAt: summary.killedAt },
          notes: [
            'times are from the moment each client saw its connection drop; caught up = holds every seq up to the channel head its resubscribe ack reported',
            'lost = seqs missing, at the end, on clients that did resubscribe; clients that never got back within the wait are counted apart (notBack), with what they miss',
          ],
        },
        ['hub'],
      ),
    ],
    summary,
    notes: [`Clients start on hub1 and, once it is killed, reconnect directly to hub2 or hub3 (no HAProxy) and resubscribe with sinceSeq; the publisher publishes on hub2 over the socket throughout.`],
  };
}
