// Login flood (issue 14): wrong-password logins from one address, all of them
// refused (429) once the address is over its sign-in limit, against one
// replica with the default sign-in limits, from a generator process of their
// own, while another publishes over REST at a steady modest rate to a channel
// with WebSocket subscribers on the same replica. Delivery p99 quiet, then
// under an open loop of 1,000 refused logins/s (the target), then under 48
// clients retrying as fast as they are answered (a closed loop, which adapts
// to whatever a refusal costs: reported, with what the hub did about it).
import { BODY_BYTES } from '../generators/body.js';
import type { FloodRun, LoginFloodStats } from '../generators/login-flood.js';
import type { JobHandle } from '../generators/pool.js';
import { merge, summarize } from '../histogram.js';
import type { Server } from '../topology.js';
import { type Ctx, quiesce, round, type ScenarioResult, type StepResult } from './context.js';
import { deliveryStep, type Rig } from './delivery.js';

/** The hub's default sign-in limits (CONTRACT §4): unset here, so the bench's raised RATE_AUTH_PER_IP does not apply. */
export const LOGIN_FLOOD_ENV: Record<string, string | undefined> = { RATE_AUTH_PER_IP: undefined };
export const OPEN_RATE = 1000;
export const CLOSED_CLIENTS = 48;
const SUBSCRIBERS = 20;
const PUBLISH_RATE = 50;
/** The flood runs this long before the delivery window opens, and on through it. */
const settleMs = (quick: boolean) => (quick ? 500 : 1000);
/** Below this many refusals a second, the hub's CPU per refusal drowns in the rest of its work: not estimated. */
const MIN_REFUSALS_FOR_COST = 200;
/** The verdict's rule: p99 under the flood ≤ FACTOR × quiet p99 + SLACK_MS. */
export const RULE = { factor: 5, slackMs: 50 };
export const ruleText = `p99_flood ≤ ${RULE.factor} × p99_quiet + ${RULE.slackMs} ms`;

export interface FloodPhaseSummary {
  mode: 'open' | 'closed';
  /** Open loop: offered refused logins/s; closed loop: clients. */
  rate: number | null;
  clients: number | null;
  primed: { attempts: number; statuses: Record<string, number> };
  sent: number;
  /** Requests sent per second: the open loop's offered rate, if the generator kept it. */
  sentPerS: number;
  skipped: number;
  statuses: Record<string, number>;
  refusedPerS: number;
  offShape: number;
  firstOffShape: string | null;
  /** Refusal latency, from when each request was due (open) or sent (closed); p99 only from 1,000 answers. */
  refusalP50Ms: number | null;
  refusalP99Ms: number | null;
  refusalMaxMs: number | null;
  /** crosswire_rate_limited_total{limit="auth_ip"} by store over the phase. */
  refusedByStore: Record<string, number>;
  deliveryP99Ms: number | null;
  deliveryP50Ms: number | null;
  deliverySamples: number;
  lost: number;
  /** ≈ hub CPU per refusal: the hub's CPU over the delivery window above the quiet step's, per refusal. */
  hubCpuMsPerRefusal: number | null;
  hubCoreShare: number;
  /** The hub's event-loop delay over the delivery window (prom-client's monitor): max and p99. */
  hubLoopDelayMaxMs: number;
  hubLoopDelayP99Ms: number;
  generatorCoreShare: number;
  /** Share of the machine used by processes outside the bench during the delivery window (the machine is shared). */
  otherLoad: number;
  /** How long the flood ran (settling, the delivery window and the drain after it). */
  elapsedMs: number;
}

export interface LoginFloodSummary {
  rule: string;
  subscribers: number;
  publishRate: number;
  quiet: { p99Ms: number | null; p50Ms: number | null; samples: number; hubCoreShare: number; hubLoopDelayMaxMs?: number; otherLoad?: number };
  open: FloodPhaseSummary;
  closed: FloodPhaseSummary;
  limits: Record<string, string | undefined>;
}

/**
 * The hub's refusals of the sign-in limit by store, and its event-loop delay since the last scrape (prom-client
 * resets that histogram on every scrape): max and p99 in ms.
 */
async function scrape(hub: Server): Promise<{ refused: Record<string, number>; loopMaxMs: number; loopP99Ms: number }> {
  const text = await (await fetch(`${hub.url}/metrics`)).text();
  const refused: Record<string, number> = {};
  for (const m of text.matchAll(/^crosswire_rate_limited_total\{limit="auth_ip",store="(\w+)"\} (\S+)$/gm)) refused[m[1]] = Number(m[2]);
  const lag = (name: string) => round(Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN) * 1000, 1);
  return { refused, loopMaxMs: lag('nodejs_eventloop_lag_max_seconds'), loopP99Ms: lag('nodejs_eventloop_lag_p99_seconds') };
}

const diff = (a: Record<string, number>, b: Record<string, number>): Record<string, number> =>
  Object.fromEntries(
    Object.keys(b)
      .map((k): [string, number] => [k, b[k] - (a[k] ?? 0)])
      .filter(([, v]) => v !== 0),
  );

const coreShare = (s: StepResult, kind: 'hub' | 'generator', name?: string) => s.cpu.processes.filter((p) => p.kind === kind && (!name || p.name === name)).reduce((a, p) => a + p.core, 0);

export async function loginFlood(ctx: Ctx): Promise<ScenarioResult> {
  const t0 = Date.now();
  const q = ctx.profile.quick;
  const windowMs = q ? 3000 : ctx.profile.sustainMs;
  await ctx.topo.ensure('baseline', 0);
  await ctx.topo.ensure('hub', 0);
  const hub = await ctx.topo.startServer('hub', 0, [], LOGIN_FLOOD_ENV);
  const gens = ctx.topo.generators.gens;
  if (gens.length < 3) throw new Error('login-flood needs 3 generator processes: subscribers, the publisher, the flood');
  const users = await ctx.users(SUBSCRIBERS + 8);
  const [channelId] = await ctx.seed.channels(users[0], 1, 'login-flood');
  const jobs: JobHandle[] = [];
  try {
    ctx.progress(`connecting ${SUBSCRIBERS} subscribers`);
    // Subscribers on the first two generators, the publisher on the second, the flood alone on the third.
    const subs = await ctx.topo.generators.spread(
      'subscribers',
      SUBSCRIBERS,
      (count, offset) => ({ urls: [hub.url], tokens: users.slice(offset, offset + count).map((u) => u.token), count, channelIds: [channelId] }),
      2,
    );
    jobs.push(...subs);
    for (const j of subs) {
      const s = j.started as { failed: number; firstError?: string };
      if (s.failed) throw new Error(`${s.failed} subscribers failed: ${s.firstError}`);
    }
    const pub = await ctx.topo.generators.job(1, 'publishers', { door: 'rest', urls: [hub.url], tokens: users.slice(SUBSCRIBERS).map((u) => u.token), connections: 8, bodyBytes: BODY_BYTES });
    const flood = await ctx.topo.generators.job(2, 'login-flood', { url: hub.url });
    jobs.push(pub, flood);
    const rig: Rig = { side: 'hub', subscribers: SUBSCRIBERS, subs, pub, servers: [hub], close: async () => undefined };
    const tag = `lf${Date.now().toString(36)}`;
    const deliver = (name: string, label: string, durationMs: number) =>
      deliveryStep(ctx, rig, { name, tag: `${tag}-${label}`, rate: PUBLISH_RATE, durationMs, channelId: channelId, params: { publishDoor: 'rest' } });

    ctx.progress('warm-up');
    const steps: StepResult[] = [await deliver('warm-up (not judged)', 'warm', q ? 1000 : 3000)];
    await quiesce([hub.child.pid]);
    ctx.progress(`quiet: ${PUBLISH_RATE} REST publishes/s to ${SUBSCRIBERS} subscribers for ${windowMs / 1000} s`);
    await scrape(hub);
    const quiet = await deliver(`quiet: ${PUBLISH_RATE} msg/s over REST to ${SUBSCRIBERS} subscribers`, 'quiet', windowMs);
    const quietLoop = await scrape(hub);
    quiet.metrics = { ...quiet.metrics, hubLoopDelayMaxMs: quietLoop.loopMaxMs, hubLoopDelayP99Ms: quietLoop.loopP99Ms };
    steps.push(quiet);
    const quietHubCore = coreShare(quiet, 'hub');

    const primed = new Map<string, FloodPhaseSummary['primed']>();
    const phase = async (run: FloodRun, name: string): Promise<FloodPhaseSummary> => {
      await quiesce([hub.child.pid]);
      // The address is pushed over its limit first: the attempts the limit lets through each cost a scrypt
      // verification, which is not what is measured. Its 1-minute window outlasts the phases it serves.
      if (!primed.has(run.address)) {
        ctx.progress(`${name}: pushing ${run.address} over its sign-in limit`);
        primed.set(run.address, await flood.call<FloodPhaseSummary['primed']>('prime', { address: run.address }));
      }
      const before = await scrape(hub);
      await flood.call('begin', run);
      await new Promise((r) => setTimeout(r, settleMs(q)));
      await scrape(hub); // the event-loop delay from here on is the delivery window's
      ctx.progress(`${name}, delivery for ${windowMs / 1000} s`);
      const s = await deliver(name, run.mode, windowMs);
      const during = await scrape(hub);
      const stats = await flood.call<LoginFloodStats>('end');
      const byStore = diff(before.refused, (await scrape(hub)).refused);
      const refusals = summarize(merge([stats.hist]));
      const hubCore = coreShare(s, 'hub');
      const sentPerS = stats.elapsedMs ? (stats.sent / stats.elapsedMs) * 1000 : 0;
      s.metrics = {
        ...s.metrics,
        floodSent: stats.sent,
        floodSkipped: stats.skipped,
        refusedPerS: stats.refusedPerS,
        ...Object.fromEntries(Object.entries(stats.statuses).map(([k, v]) => [`flood.${k}`, v])),
        offShape: stats.offShape,
        refusalP50Ms: refusals.p50Ms,
        refusalP99Ms: refusals.p99Ms,
        ...Object.fromEntries(Object.entries(byStore).map(([k, v]) => [`refusedBy.${k}`, v])),
        hubLoopDelayMaxMs: during.loopMaxMs,
        hubLoopDelayP99Ms: during.loopP99Ms,
        hubCpuMsPerRefusal: stats.refusedPerS >= MIN_REFUSALS_FOR_COST ? round(((hubCore - quietHubCore) * 1000) / stats.refusedPerS, 3) : null,
      };
      if (stats.offShape) s.notes.push(`${stats.offShape} refusals outside CONTRACT §4 (first: ${stats.firstOffShape})`);
      steps.push(s);
      return {
        mode: run.mode,
        rate: run.rate ?? null,
        clients: run.clients ?? null,
        primed: primed.get(run.address)!,
        sent: stats.sent,
        sentPerS: Math.round(sentPerS),
        skipped: stats.skipped,
        statuses: stats.statuses,
        refusedPerS: stats.refusedPerS,
        offShape: stats.offShape,
        firstOffShape: stats.firstOffShape ?? null,
        refusalP50Ms: refusals.p50Ms,
        refusalP99Ms: refusals.p99Ms,
        refusalMaxMs: refusals.maxMs,
        refusedByStore: byStore,
        deliveryP99Ms: s.latency?.p99Ms ?? null,
        deliveryP50Ms: s.latency?.p50Ms ?? null,
        deliverySamples: s.latency?.samples ?? 0,
        lost: s.lost ?? 0,
        hubCpuMsPerRefusal: s.metrics.hubCpuMsPerRefusal as number | null,
        hubCoreShare: round(hubCore, 2),
        hubLoopDelayMaxMs: during.loopMaxMs,
        hubLoopDelayP99Ms: during.loopP99Ms,
        generatorCoreShare: round(coreShare(s, 'generator', gens[2].name), 2),
        otherLoad: round(s.cpu.otherLoad, 2),
        elapsedMs: stats.elapsedMs,
      };
    };
    // A fresh address for each phase of a full run; the quick run's phases fit in one address's window, and share it.
    const open = await phase({ address: '203.0.113.10', mode: 'open', rate: OPEN_RATE }, `open loop: ${OPEN_RATE.toLocaleString('en-US')} refused logins/s from one address`);
    const closed = await phase(
      { address: q ? '203.0.113.10' : '203.0.113.20', mode: 'closed', clients: CLOSED_CLIENTS },
      `closed loop: ${CLOSED_CLIENTS} clients retrying wrong logins as fast as answered`,
    );
    const summary: LoginFloodSummary = {
      rule: ruleText,
      subscribers: SUBSCRIBERS,
      publishRate: PUBLISH_RATE,
      quiet: {
        p99Ms: quiet.latency?.p99Ms ?? null,
        p50Ms: quiet.latency?.p50Ms ?? null,
        samples: quiet.latency?.samples ?? 0,
        hubCoreShare: round(quietHubCore, 2),
        hubLoopDelayMaxMs: quietLoop.loopMaxMs,
        otherLoad: round(quiet.cpu.otherLoad, 2),
      },
      open,
      closed,
      limits: { RATE_AUTH_PER_IP: 'default (30/1m)' },
    };
    return {
      id: 'login-flood',
      title: 'Login flood: refused sign-ins from one address against delivery on the same replica',
      durationS: round((Date.now() - t0) / 1000),
      steps,
      summary: summary as unknown as Record<string, unknown>,
      notes: [
        `One replica with the default sign-in limits (RATE_AUTH_PER_IP 30/1m; the bench's other raised limits stay). ${SUBSCRIBERS} WebSocket subscribers of one channel on two generator processes; ${PUBLISH_RATE} REST publishes/s to it from the second; the flood from the third generator process alone, with X-Forwarded-For naming one address (the replica trusts loopback proxies).`,
        `Before a flood phase its address is pushed over its limit (wrong logins, 8 at a time, until one is refused), so what is measured is refusals only${q ? ' (one address for both phases)' : ' (a fresh address per phase)'}; the flood starts ${settleMs(q) / 1000} s before the ${windowMs / 1000} s delivery window and runs through it.`,
        `Open loop: ${OPEN_RATE.toLocaleString('en-US')} requests/s on a fixed schedule whatever the answers; latency counted from when each request was due. Closed loop: ${CLOSED_CLIENTS} clients, each on its own keep-alive connection, sending the next login the moment the last is answered.`,
        `Verdict (each flood phase): ${ruleText}, judged when (open loop) the generator sent at least 95% of the offered rate and ≥ 99% of the answers were 429; a refusal outside CONTRACT §4's shape (body, Retry-After, retryAfterMs, X-Request-Id, X-Replica-Id) or a delivery missing fails it. Requests left unanswered (timeouts after 10 s) are the hub's failure, not a reason not to judge.`,
        `Hub CPU per refusal ≈ (the hub’s share of a core during the flood’s delivery window − during the quiet one) / refusals per second; not estimated below ${MIN_REFUSALS_FOR_COST} refusals/s.`,
      ],
    };
  } finally {
    await Promise.all(jobs.map((j) => j.stop().catch(() => undefined)));
    // Later scenarios get a replica with the bench's own limits.
    await ctx.topo.stopServer('hub', 0);
  }
}
