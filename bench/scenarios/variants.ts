// socket.io's own scale options beside the hub, at one equal fan-out load:
// three servers of each side; every subscriber on the first, one publishing
// socket on the second, the third with no member of the room and no
// publisher. What the third receives from Redis is what a server pays for a
// room it does not serve: the classic adapter (one channel per namespace) and
// the streams adapter (one stream every server reads) send it every
// broadcast, the sharded adapter in dynamic mode (one shard channel per room,
// subscribed only where the room has members) and the hub's per-channel bus
// should send it next to nothing. Each side is measured `repeats` times; the
// summary shows min / median / max. The rate: 50 msg/s to 500 subscribers, the
// fan-out step the report judges latency at; at 100 msg/s no side kept up on
// this shared 2-core machine with three servers a side (p99 > 1 s).
import { BASELINE_VARIANT_SETTINGS, BASELINE_VARIANTS, type BaselineVariant } from '../baseline/options.js';
import { type CountedSpread, countedSpread } from '../stats.js';
import { type Ctx, quiesce, round, type ScenarioResult, type StepResult } from './context.js';
import { deliveryStep, keptUp, openRig } from './delivery.js';

/** min / median / max / n of the figures present (bench/stats.ts); null when none is. */
export type Spread = CountedSpread;
export const spread = countedSpread;

/** A server without members of a room counts as spared its broadcasts below this share of a member server's bus bytes. */
export const PER_ROOM_BUS_MAX_SHARE = 0.1;
export const PER_ROOM_BUS_RULE = `per-room bus when the server with no member of the room receives < ${PER_ROOM_BUS_MAX_SHARE} × the bus bytes of the server holding the members (medians over the repeats)`;

/** The rule above on bus bytes per message: null when the member server received nothing (nothing to compare with). */
export function perRoomBus(idleBytesPerMessage: number | null, memberBytesPerMessage: number | null): { share: number | null; perRoom: boolean | null } {
  if (idleBytesPerMessage === null || !memberBytesPerMessage) return { share: null, perRoom: null };
  const share = idleBytesPerMessage / memberBytesPerMessage;
  return { share: round(share, 3), perRoom: share < PER_ROOM_BUS_MAX_SHARE };
}

export type VariantSide = BaselineVariant | 'hub';

/** summary.rows[]: one per side, in the order run. */
export interface VariantRow {
  side: 'hub' | 'baseline';
  variant: VariantSide;
  adapter: string;
  subscribers: number;
  rate: number;
  windowS: number;
  repeats: number;
  /** Every repeat kept up (nothing lost, p99 < 1 s, no publish refused or skipped). */
  allKeptUp: boolean;
  deliveredPerS: Spread | null;
  p50Ms: Spread | null;
  p99Ms: Spread | null;
  serverCpuMsPer1000Deliveries: Spread | null;
  /** Bytes Redis sent each server, per acknowledged message: member = holds every subscriber, publisher = holds the publishing socket, idle = neither. */
  memberBusBytesPerMessage: Spread | null;
  publisherBusBytesPerMessage: Spread | null;
  idleBusBytesPerMessage: Spread | null;
  idleToMemberBusShare: number | null;
  perRoomBus: boolean | null;
  lost: number;
  duplicates: number;
  outOfOrder: number;
  publishErrors: number;
}

export async function variants(ctx: Ctx): Promise<ScenarioResult> {
  const t0 = Date.now();
  const q = ctx.profile.quick;
  const subscribers = q ? 100 : 500;
  const rate = q ? 25 : 50;
  const windowMs = q ? ctx.profile.stepMs : 10_000;
  const repeats = q ? 1 : 3;
  const [owner] = await ctx.users(1);
  const steps: StepResult[] = [];
  const rows: VariantRow[] = [];
  for (const v of [...BASELINE_VARIANTS, 'hub'] as const) {
    const side = v === 'hub' ? 'hub' : 'baseline';
    await ctx.topo.ensure(side === 'hub' ? 'baseline' : 'hub', 0);
    const servers = v === 'hub' ? await ctx.topo.ensure('hub', 3) : await ctx.topo.ensure('baseline', 3, [], v);
    const [member, publisher, idle] = servers;
    const [channelId] = await ctx.seed.channels(owner, 1, `variants-${v}`);
    // One publishing socket: its index order is the order every subscriber is owed, so out of order is real.
    const rig = await openRig(ctx, { side, subServers: [member], pubServers: [publisher], subscribers, channelId, pubConnections: 1 });
    const mine: StepResult[] = [];
    for (let r = 0; r < repeats; r++) {
      await quiesce(servers.map((s) => s.child.pid));
      ctx.progress(`${v}: ${subscribers} subscribers on ${member.name}, ${rate} msg/s from ${publisher.name}, run ${r + 1}/${repeats}`);
      const s = await deliveryStep(ctx, rig, {
        name: `${v === 'hub' ? 'hub' : `baseline ${v}`}: ${subscribers} subs on 1 of 3 servers @ ${rate} msg/s, run ${r + 1}`,
        tag: `va-${v}-${r}-${Date.now()}`,
        rate,
        durationMs: windowMs,
        channelId,
        watchRedis: servers,
        params: { variant: v, repeat: r + 1 },
      });
      steps.push(s);
      mine.push(s);
    }
    await rig.close();
    const perMessage = (server: string) => mine.map((s) => (Number(s.metrics.acked) ? round(Number(s.metrics[`redisBytesIn.${server}`]) / Number(s.metrics.acked), 1) : null));
    const idleBus = spread(perMessage(idle.name));
    const memberBus = spread(perMessage(member.name));
    const bus = perRoomBus(idleBus?.median ?? null, memberBus?.median ?? null);
    rows.push({
      side,
      variant: v,
      adapter: v === 'hub' ? 'the hub (per-channel bus)' : BASELINE_VARIANT_SETTINGS[v].adapter,
      subscribers,
      rate,
      windowS: windowMs / 1000,
      repeats,
      allKeptUp: mine.every(keptUp),
      deliveredPerS: spread(mine.map((s) => s.deliveredPerS)),
      p50Ms: spread(mine.map((s) => s.latency?.p50Ms)),
      p99Ms: spread(mine.map((s) => s.latency?.p99Ms)),
      serverCpuMsPer1000Deliveries: spread(mine.map((s) => s.metrics.serverCpuMsPer1000Deliveries as number | null)),
      memberBusBytesPerMessage: memberBus,
      publisherBusBytesPerMessage: spread(perMessage(publisher.name)),
      idleBusBytesPerMessage: idleBus,
      idleToMemberBusShare: bus.share,
      perRoomBus: bus.perRoom,
      lost: mine.reduce((a, s) => a + (s.lost ?? 0), 0),
      duplicates: mine.reduce((a, s) => a + (s.dups ?? 0), 0),
      outOfOrder: mine.reduce((a, s) => a + (s.ooo ?? 0), 0),
      publishErrors: mine.reduce((a, s) => a + Number(s.metrics.publishErrors ?? 0), 0),
    });
  }
  // Put the topology back for whatever runs next.
  await ctx.topo.ensure('baseline', 0);
  await ctx.topo.ensure('hub', 1);
  return {
    id: 'variants',
    title: 'socket.io’s scale options beside the hub: equal fan-out load, bus bytes where the room has no member',
    durationS: round((Date.now() - t0) / 1000),
    steps,
    summary: { subscribers, rate, windowS: windowMs / 1000, repeats, perRoomBusRule: PER_ROOM_BUS_RULE, settings: BASELINE_VARIANT_SETTINGS, rows },
    notes: [
      `Each side: 3 servers; ${subscribers} subscribers on the first, one publishing socket on the second at ${rate} msg/s for ${windowMs / 1000} s, the third with neither; ${repeats} run(s) per side, shown as min / median / max.`,
      'Bus bytes = bytes Redis sent the server (a counting proxy between them), per acknowledged message; they include each adapter’s own framing and, for the hub, presence and bookkeeping.',
      PER_ROOM_BUS_RULE,
      'Delivered msg/s counts deliveries inside the window; p50/p99 from send to receipt on the same machine clock.',
    ],
  };
}
