// Scenario 3: 1, 2 and 3 replicas under the same total load (subscribers
// spread evenly, publishers too): the highest rate kept up (p99 < 1 s, nothing
// lost), hub CPU per 1,000 deliveries at one reference rate for every N
// (repeated), and the bytes each replica receives from Redis, including
// replicas with no subscriber of the channel published to. Claim 6 is decided
// by bench/report/rules/scaling.ts from these figures.
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { type ScalingVerdict, scalingVerdict } from '../report/rules/scaling.js';
import { type Spread, spread } from '../stats.js';
import type { Server } from '../topology.js';
import { type Ctx, cpuMsOf, quiesce, round, type ScenarioResult, type StepResult } from './context.js';
import { deliveryStep, keptUp, openRig } from './delivery.js';

/** Where each replica ran: its own core (taskset), or wherever the kernel put it. */
export interface Pinning {
  pinned: boolean;
  /** Replica name → the core it was pinned to. */
  cores: Record<string, number>;
  why: string;
}

/** summary['1'], ['2'] and ['3']: the figures for that many replicas. */
export interface ScalingRow {
  replicas: number;
  highestRateKeptUp: number | null;
  /** The lowest ladder rate not kept up; null when none failed. */
  firstFailedRate: number | null;
  ladder: number[];
  deliveriesPerS: number | null;
  hubCpuSecondsPer1000Deliveries: number | null;
  serverCpuSecondsPer1000Deliveries: number | null;
  /** Hub CPU-s per 1,000 deliveries at the reference rate, every repeat: what the verdict compares across N. */
  referenceRate: number;
  hubCpuSecondsPer1000AtReference: Spread | null;
  /** Per replica name. */
  redisBytesInPerMessage: Record<string, number> | null;
  coldChannelRedisBytesInPerMessage: Record<string, number> | null;
  /** From the cold channel (subscribers on the first replica only): bytes per message to that replica, and the most any other replica got. */
  busBytesPerMessage: { withSubscribers: number; withoutSubscribers: number; withoutOverWith: number | null } | null;
  /** Every ladder rate was kept up: the capacity is above the ladder, not measured. */
  ladderExhausted: boolean;
  pinning: Pinning;
}

/**
 * Pins replica i to core i when the machine has a core for each replica and
 * each generator process besides; otherwise leaves placement to the kernel
 * and says why (a pinned replica sharing its core with a generator would
 * measure the generator).
 */
export function planPinning(cores: number, replicas: string[], generators: number): { pin: boolean; why: string } {
  if (cores > replicas.length + generators) return { pin: true, why: `${cores} cores > ${replicas.length} replica(s) + ${generators} generators: each replica on its own core` };
  return {
    pin: false,
    why: `not pinned: ${cores} cores ≤ ${replicas.length} replica(s) + ${generators} generator processes; replicas, Redis, Postgres and generators share the cores, so throughput against N shows this machine's limit, not the hub's`,
  };
}

function pin(servers: Server[], generators: number): Pinning {
  const plan = planPinning(
    os.cpus().length,
    servers.map((s) => s.name),
    generators,
  );
  if (!plan.pin) return { pinned: false, cores: {}, why: plan.why };
  const cores: Record<string, number> = {};
  try {
    // -a: every thread of the replica (libuv's pool too), so its whole CPU stays on that core.
    servers.forEach((s, i) => {
      execFileSync('taskset', ['-a', '-cp', String(i), String(s.child.pid)], { stdio: 'ignore' });
      cores[s.name] = i;
    });
    return { pinned: true, cores, why: plan.why };
  } catch (e) {
    return { pinned: false, cores, why: `taskset failed: ${(e as Error).message.split('\n')[0]}` };
  }
}

export async function scaling(ctx: Ctx): Promise<ScenarioResult> {
  const t0 = Date.now();
  const q = ctx.profile.quick;
  const subscribers = q ? 150 : 1000;
  // Climbs until a rate is not kept up; the top is far above what 2 cores carry (80 msg/s × 1,000 subscribers was not enough in earlier runs).
  const rates = q ? [20] : [20, 40, 80, 120, 160, 240, 320, 480, 640];
  // The lowest ladder rate: every N keeps up there even on a busy machine, so CPU per delivery is compared at one load, not at each N's limit.
  const referenceRate = rates[0];
  const windowMs = ctx.profile.ladderMs;
  const [owner] = await ctx.users(1);
  const steps: StepResult[] = [];
  const summary: Record<string, unknown> = { subscribers };
  const rows: ScalingRow[] = [];
  await ctx.topo.ensure('baseline', 0);
  for (const n of [1, 2, 3]) {
    const servers = await ctx.topo.ensure('hub', n);
    const pinning = pin(servers, ctx.topo.generators.gens.length);
    const [channelId] = await ctx.seed.channels(owner, 1, `scaling-${n}`);
    let rig = await openRig(ctx, { side: 'hub', subServers: servers, pubServers: servers, subscribers, channelId: channelId });
    const runStep = async (rate: number, params: StepResult['params'], suffix = '') => {
      await quiesce(servers.map((s) => s.child.pid));
      ctx.progress(`${n} replica(s): ${subscribers} subscribers, ${rate} msg/s${suffix}`);
      const s = await deliveryStep(ctx, rig, {
        name: `${n} replica(s), ${subscribers} subs @ ${rate} msg/s${suffix}`,
        tag: `sc-${n}-${rate}-${Date.now()}`,
        rate,
        durationMs: windowMs,
        channelId: channelId,
        watchRedis: servers,
        params: { scaling: true, ...params },
      });
      steps.push(s);
      if (!keptUp(s)) {
        // An overloaded replica keeps a backlog in its sockets' buffers: the next step starts afresh.
        await rig.close();
        rig = await openRig(ctx, { side: 'hub', subServers: servers, pubServers: servers, subscribers, channelId: channelId });
      }
      return s;
    };
    let best: StepResult | undefined;
    let firstFailed: number | null = null;
    const atReference: StepResult[] = [];
    for (const rate of rates) {
      const s = await runStep(rate, { repeat: 1 });
      if (rate === referenceRate) atReference.push(s);
      if (!keptUp(s)) {
        firstFailed = rate;
        break;
      }
      best = s;
    }
    // The figure the verdict compares across N: repeated, the ladder's own step being the first.
    if (atReference.length) for (let k = 2; k <= ctx.profile.repeat; k++) atReference.push(await runStep(referenceRate, { repeat: k, phase: 'repeat' }, `, repeat ${k}`));
    await rig.close();
    // Bus traffic where it is not needed: a channel whose only subscribers are on the first replica.
    let cold: Record<string, number> | undefined;
    if (n > 1) {
      const [coldId] = await ctx.seed.channels(owner, 1, `scaling-cold-${n}`);
      // The main channel's leaves turn into presence:left after the grace (3 s): let them pass first.
      await new Promise((r) => setTimeout(r, 5000));
      const coldRig = await openRig(ctx, { side: 'hub', subServers: [servers[0]], pubServers: [servers[0]], subscribers: 20, channelId: coldId, pubConnections: 1 });
      await quiesce(servers.map((s) => s.child.pid));
      ctx.progress(`${n} replica(s): channel with subscribers on ${servers[0].name} only`);
      const s = await deliveryStep(ctx, coldRig, {
        name: `${n} replica(s), channel subscribed on ${servers[0].name} only @ 20 msg/s`,
        tag: `cold-${n}-${Date.now()}`,
        rate: 20,
        durationMs: Math.min(windowMs, 5000),
        channelId: coldId,
        watchRedis: servers,
        params: { scaling: true, coldChannel: true },
      });
      steps.push(s);
      const published = Number(s.metrics.acked) || 1;
      cold = Object.fromEntries(servers.map((sv) => [sv.name, round(Number(s.metrics[`redisBytesIn.${sv.name}`]) / published, 0)]));
      await coldRig.close();
    }
    // The hub's own CPU over the window and the drain (the late deliveries counted are in it too), ms per delivery = s per 1,000.
    const hubPer1000 = (s: StepResult) => (typeof s.metrics.ownCpuMsPer1000Deliveries === 'number' ? round(s.metrics.ownCpuMsPer1000Deliveries / 1000, 4) : null);
    const allMs = best ? cpuMsOf(best.cpu, ['hub', 'redis', 'postgres']) : null;
    const withB = cold?.[servers[0].name];
    const withoutB = cold ? Math.max(...servers.slice(1).map((sv) => cold[sv.name])) : undefined;
    const row: ScalingRow = {
      replicas: n,
      highestRateKeptUp: best ? Number(best.params.rate) : null,
      firstFailedRate: firstFailed,
      ladder: rates,
      deliveriesPerS: best?.deliveredPerS ?? null,
      hubCpuSecondsPer1000Deliveries: best ? hubPer1000(best) : null,
      serverCpuSecondsPer1000Deliveries: best && best.delivered ? round(allMs! / best.delivered, 3) : null,
      referenceRate,
      hubCpuSecondsPer1000AtReference: spread(atReference.filter(keptUp).map(hubPer1000)),
      redisBytesInPerMessage: best ? Object.fromEntries(servers.map((sv) => [sv.name, round(Number(best.metrics[`redisBytesIn.${sv.name}`]) / (Number(best.metrics.acked) || 1), 0)])) : null,
      coldChannelRedisBytesInPerMessage: cold ?? null,
      busBytesPerMessage:
        withB !== undefined && withoutB !== undefined ? { withSubscribers: withB, withoutSubscribers: withoutB, withoutOverWith: withB > 0 ? round(withoutB / withB, 3) : null } : null,
      ladderExhausted: best !== undefined && firstFailed === null,
      pinning,
    };
    rows.push(row);
    summary[`${n}`] = row;
  }
  const verdict: ScalingVerdict = scalingVerdict(
    rows.map((r) => ({
      replicas: r.replicas,
      hubCpuSecondsPer1000: r.hubCpuSecondsPer1000AtReference?.median ?? null,
      busBytesWith: r.busBytesPerMessage?.withSubscribers ?? null,
      busBytesWithout: r.busBytesPerMessage?.withoutSubscribers ?? null,
    })),
  );
  summary.verdict = verdict;
  summary.ladderExhausted = rows.some((r) => r.ladderExhausted);
  summary.pinned = rows.every((r) => r.pinning.pinned);
  summary.pinningWhy = rows[rows.length - 1]?.pinning.why ?? null;
  summary.whatThisMachineShows =
    os.cpus().length > 3 + ctx.topo.generators.gens.length
      ? 'each replica on its own core: throughput against N is meaningful here'
      : `${os.cpus().length} cores shared by every replica, Redis, Postgres and the generators: throughput cannot grow with N here, so claim 6 is decided by what carries over to a bigger machine, hub CPU per delivery against N and bus bytes to a replica without subscribers`;
  return {
    id: 'scaling',
    title: 'Scaling curve: 1, 2, 3 replicas, same total load',
    durationS: round((Date.now() - t0) / 1000),
    steps,
    summary,
    notes: [
      'Every replica reaches Redis through a byte-counting proxy of its own; "redisBytesIn" is what Redis sent that replica during the step (its background traffic, canary and presence, included).',
      `The ladder climbs (${rates.join(', ')} msg/s) until a rate is not kept up; "ladderExhausted" means every rate was kept up and the capacity lies above the ladder. Hub CPU per 1,000 deliveries is compared across N at ${referenceRate} msg/s, repeated --repeat times.`,
      `Verdict rule: ${verdict.rule}.`,
    ],
  };
}
