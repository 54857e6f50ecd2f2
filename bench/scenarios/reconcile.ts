// Issue 14, defect 7: what the reconciliation tick costs one replica that holds
// 10,000 idle sockets of 10,000 users, ten to each of 1,000 private channels:
// how long a pass holds the event loop and how long it takes (the hub's own
// histograms), the event-loop delay around it, and the statements it sends.
// With --base-hub, the same replica of an earlier build is measured the same
// way on the same database, for the tick before the change.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { formatBoundMs, histogramDelta, parseHistogram, type PromHistogram, quantileBound, sample } from '../prometheus.js';
import type { BenchUser } from '../seed.js';
import { perPass, type Statement, StatementLog } from '../statement-log.js';
import { type Ctx, cpuMsOf, measured, round, type ScenarioResult, type StepResult, step } from './context.js';

const SOCKETS = 10_000;
const CHANNELS = 1_000;
const PER_CHANNEL = SOCKETS / CHANNELS;
/** The hub's default, set explicitly so the period arithmetic below uses the value the hub ran with. */
const RECONCILE_MS = 2_000;
const WINDOW_MS = 30_000;
/** Whole passes whose statements are logged and counted, after the window (logging costs Postgres CPU). */
const LOGGED_PASSES = 3;
/** The first pass that began after the last subscribe ends within the second pass counted from then. */
const SETTLE_PASSES = 2;

const PASS = 'crosswire_reconcile_pass_seconds';
const BLOCKED = 'crosswire_reconcile_blocked_seconds';
const PASSES = 'crosswire_reconcile_passes_total';
/** Every pass of either build begins with this query (MessagesReader.heads). */
const isPassStart = (s: Statement) => s.sql.startsWith('SELECT id, last_seq::text AS last_seq');
/** The readiness probe's connection: a loop of its own, not the tick's. */
const PROBE_APP = 'crosswire-readiness';

const THIS_DIST = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The commit a dist/ folder was built from (its checkout's), "-dirty" when that checkout has changes. */
function describeBuild(dist: string): string {
  const r = spawnSync('git', ['-C', path.dirname(dist), 'describe', '--always', '--dirty', '--abbrev=7'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : 'unknown commit';
}

async function scrape(url: string): Promise<string> {
  const res = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(10_000) });
  if (!res.ok) throw new Error(`${url}/metrics answered ${res.status}`);
  return res.text();
}

async function passesReach(url: string, target: number, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while ((sample(await scrape(url), PASSES) ?? 0) < target) {
    if (Date.now() > deadline) throw new Error(`no ${target}th reconcile pass within ${ms / 1000} s`);
    await delay(100);
  }
}

const ms = (s: number | null) => (s === null ? null : round(s * 1000, 2));
const delta = (name: string, a: string, b: string) => {
  const after = parseHistogram(b, name);
  return after ? histogramDelta(after, parseHistogram(a, name)) : null;
};
const meanMs = (h: PromHistogram | null) => (h && h.count > 0 ? round((h.sum / h.count) * 1000, 2) : null);

async function measureBuild(ctx: Ctx, label: string, dist: string, users: BenchUser[], channelIds: string[]): Promise<StepResult> {
  await ctx.topo.ensure('baseline', 0);
  await ctx.topo.ensure('hub', 0);
  // A replica of its own: no channel, socket or timer left by an earlier scenario.
  const server = await ctx.topo.startServer('hub', 0, [], { RECONCILE_MS: String(RECONCILE_MS) }, path.join(dist, 'src', 'main.js'));
  try {
    ctx.progress(`${label}: connecting and subscribing ${SOCKETS} sockets`);
    const subscribe = await measured(ctx, () =>
      ctx.topo.generators.spread('subscribers', SOCKETS, (count, offset) => ({
        urls: [server.url],
        tokens: users.slice(offset, offset + count).map((u) => u.token),
        count,
        // Client i of this job is user offset + i, a member of channel (offset + i) / 10 only.
        channelIds: Array.from({ length: count }, (_, i) => channelIds[Math.floor((offset + i) / PER_CHANNEL)]),
        connectWidth: 25,
      })),
    );
    const jobs = subscribe.value;
    try {
      const started = jobs.map((j) => j.started as { failed: number; firstError?: string });
      const failed = started.reduce((a, s) => a + s.failed, 0);
      // Every figure is per pass over all the sockets: a partial set would measure a smaller tick.
      if (failed > 0) throw new Error(`${failed} of ${SOCKETS} sockets failed to connect or subscribe: ${started.find((s) => s.firstError)?.firstError}`);
      ctx.progress(`${label}: waiting for a pass over every socket`);
      await passesReach(server.url, (sample(await scrape(server.url), PASSES) ?? 0) + SETTLE_PASSES, 60_000);

      ctx.progress(`${label}: ${WINDOW_MS / 1000} s idle window`);
      await Promise.all(jobs.map((j) => j.call('reset', `reconcile-${label}`)));
      const { value: w, cpu } = await measured(ctx, async () => {
        // This scrape also resets prom-client's event-loop delay histogram: the closing scrape's p99 is the window's.
        const before = await scrape(server.url);
        const t0 = performance.now();
        await delay(WINDOW_MS);
        const after = await scrape(server.url);
        return { before, after, windowS: (performance.now() - t0) / 1000 };
      });
      const stats = await Promise.all(jobs.map((j) => j.call<{ open: number; disconnects: number; lagP99Ms: number }>('collect')));

      ctx.progress(`${label}: logging the statements of ${LOGGED_PASSES} passes`);
      const log = await StatementLog.start(ctx.topo.databaseUrl, ctx.topo.pgChild!.logFile);
      let logged: Statement[];
      try {
        const hub = (all: Statement[]) => all.filter((s) => s.app !== PROBE_APP);
        logged = hub(await log.until((all) => hub(all).filter(isPassStart).length > LOGGED_PASSES, 60_000));
      } finally {
        await log.stop();
      }
      const statements = perPass(logged, isPassStart);

      const passes = (sample(w.after, PASSES) ?? 0) - (sample(w.before, PASSES) ?? 0);
      const failedPasses = (sample(w.after, PASSES, { outcome: 'failed' }) ?? 0) - (sample(w.before, PASSES, { outcome: 'failed' }) ?? 0);
      const blocked = delta(BLOCKED, w.before, w.after);
      const pass = delta(PASS, w.before, w.after);
      const periodMs = passes > 0 ? (w.windowS * 1000) / passes : null;
      const hubCpuMs = cpuMsOf(cpu, ['hub']);
      const open = stats.reduce((a, s) => a + s.open, 0);
      const metrics = {
        build: label,
        passes,
        failedPasses,
        blockedMeanMs: meanMs(blocked),
        blockedP99: blocked ? formatBoundMs(quantileBound(blocked, 0.99), blocked) : null,
        blockedMax: blocked ? formatBoundMs(quantileBound(blocked, 1), blocked) : null,
        passMeanMs: meanMs(pass),
        passP99: pass ? formatBoundMs(quantileBound(pass, 0.99), pass) : null,
        passMax: pass ? formatBoundMs(quantileBound(pass, 1), pass) : null,
        periodMs: periodMs === null ? null : round(periodMs, 0),
        passFromPeriodMs: periodMs === null ? null : round(periodMs - RECONCILE_MS, 0),
        passFromPeriodPlusMinusMs: periodMs === null ? null : round((periodMs * periodMs) / (w.windowS * 1000), 0),
        loopDelayP99Ms: ms(sample(w.after, 'nodejs_eventloop_lag_p99_seconds')),
        loopDelayMaxMs: ms(sample(w.after, 'nodejs_eventloop_lag_max_seconds')),
        hubCpuMsPerPass: passes > 0 ? round(hubCpuMs / passes, 1) : null,
        statementsPerPass: statements ? round(statements.perPass, 1) : null,
        statementsByQuery: statements ? JSON.stringify(statements.bySql) : null,
        statementPassesLogged: statements?.passes ?? null,
        socketsOpenAtEnd: open,
        disconnects: stats.reduce((a, s) => a + s.disconnects, 0),
        generatorLagP99Ms: Math.max(...stats.map((s) => s.lagP99Ms)),
        connectSeconds: round(subscribe.cpu.wallMs / 1000, 1),
      };
      return step(
        {
          name: `${label}: ${SOCKETS.toLocaleString('en-US')} idle sockets, ${CHANNELS.toLocaleString('en-US')} private channels`,
          side: 'hub',
          params: { sockets: SOCKETS, privateChannels: CHANNELS, membersPerChannel: PER_CHANNEL, reconcileMs: RECONCILE_MS, build: label },
          durationS: round(w.windowS, 1),
          delivered: open,
          cpu,
          metrics,
          notes: [
            ...(blocked ? [] : [`${label} exports no ${BLOCKED} nor ${PASS}: only passes, period, CPU, statements and event-loop delay are measured`]),
            ...(open < SOCKETS ? [`${SOCKETS - open} sockets closed during the window`] : []),
          ],
        },
        ['hub'],
      );
    } finally {
      await Promise.all(jobs.map((j) => j.stop()));
    }
  } finally {
    await ctx.topo.stopServer('hub', 0);
  }
}

export async function reconcile(ctx: Ctx): Promise<ScenarioResult> {
  const t0 = Date.now();
  // users[0] owns the channels (it has no socket); each of the others is in exactly one channel.
  const all = await ctx.users(SOCKETS + 1);
  const owner = all[0];
  const users = all.slice(1, SOCKETS + 1);
  ctx.progress(`seeding ${CHANNELS} private channels and ${SOCKETS} memberships`);
  const channelIds = await ctx.seed.privateChannels(owner, CHANNELS, 'reconcile');
  await ctx.seed.members(
    users.map((_, i) => channelIds[Math.floor(i / PER_CHANNEL)]),
    users,
  );
  const builds: Array<[string, string]> = [[`this build (${describeBuild(THIS_DIST)})`, THIS_DIST]];
  if (ctx.baseHub) builds.push([`base build (${describeBuild(ctx.baseHub)})`, ctx.baseHub]);
  const steps: StepResult[] = [];
  for (const [label, dist] of builds) steps.push(await measureBuild(ctx, label, dist, users, channelIds));
  return {
    id: 'reconcile',
    title: 'Reconciliation tick at scale',
    durationS: round((Date.now() - t0) / 1000),
    steps,
    summary: {
      sockets: SOCKETS,
      privateChannels: CHANNELS,
      membersPerChannel: PER_CHANNEL,
      reconcileMs: RECONCILE_MS,
      windowS: WINDOW_MS / 1000,
      ...Object.fromEntries(steps.map((s) => [String(s.params.build), s.metrics])),
    },
    notes: [
      `One fresh replica per build, with Redis, Postgres and ${ctx.topo.generators.gens.length} generator processes; ${SOCKETS.toLocaleString('en-US')} distinct users (seeded straight into the database), each one socket subscribed to the one private channel it is a member of (${PER_CHANNEL} per channel); RECONCILE_MS = ${RECONCILE_MS} (the hub's default, set explicitly). No publishes: the tick's cost with nothing to catch up.`,
      `Window: ${WINDOW_MS / 1000} s, starting once every socket's subscribe was acknowledged and the hub had then finished ${SETTLE_PASSES} more passes (so every pass counted covers all ${SOCKETS.toLocaleString('en-US')} sockets). /metrics is read at its start and end, and nowhere in between.`,
      `passes = the increase of ${PASSES} (all outcomes) over the window; failed = that of outcome="failed".`,
      `blocked mean = Δ${BLOCKED}_sum / Δ_count: the event-loop time of a pass, its synchronous slices between awaits summed (measured by the hub around its own code; the pg driver's parsing of the answers runs outside the slices and is not included). Wall time: on a machine whose other load takes the core away mid-slice, the slice grows by that much (see "other load").`,
      `blocked p99 and max: the upper bound of the bucket holding the ceil(0.99 × passes)-th and the last pass of the window (bucket deltas); with fewer than 100 passes p99 is the max bucket. Buckets: 0.1, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250 ms.`,
      `pass mean, p99, max: the same over ${PASS} (start to end, queries included); buckets 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000 ms.`,
      `period = window / passes (a pass runs, then the next waits RECONCILE_MS); pass from period = period − RECONCILE_MS, ± period² / window (one pass more or less in the window): the one duration figure for a build without ${PASS}, and a check of the histogram for one with it.`,
      'event-loop delay p99 and max: prom-client’s nodejs_eventloop_lag_p99_seconds and _max_seconds (monitorEventLoopDelay, 10 ms resolution) read at the window’s end; the opening read reset them, so they cover the window only (the idle replica’s whole loop, not only the tick).',
      'hub CPU per pass = the replica’s CPU time over the window (/proc) / passes: an upper bound on a pass’s CPU, since the idle sockets’ own work (heartbeats, presence leases) is in it.',
      `statements per pass: after the window, Postgres logs every statement (log_statement = all through ALTER SYSTEM and a reload, then reset) until the replica has begun ${LOGGED_PASSES + 1} passes; the statements from the first pass start (its heads query, the first of every pass in both builds) up to the last, which begins an uncounted pass, divided by ${LOGGED_PASSES}. Counted from the run's Postgres log; the readiness probe's 'SELECT 1' (application ${PROBE_APP}) left out; nothing else runs meanwhile. "by query" splits the same count by the statement's first 60 characters.`,
    ],
  };
}
