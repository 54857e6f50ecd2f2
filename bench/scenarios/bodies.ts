// Bodies of 4 KiB and 16 KiB (the hub's MESSAGE_MAX_BYTES is 16,384): the
// publish path alone (closed loop, 64 acks in flight over 8 sockets, no
// subscriber; 200 bytes beside them for the slope), then fan-out to 500
// subscribers on one server at two rates, hub and baseline.
import { BODY_BYTES } from '../generators/body.js';
import { type Ctx, quiesce, round, type ScenarioResult, type StepResult } from './context.js';
import { keptUp } from './delivery.js';
import { loadStep, openLoad, publishStep } from './userload.js';
import { CAPACITY_RULE, capacityRatio, EQUAL_LOAD_RULE, pairs, sideBySide } from './userload-rules.js';

export interface BodiesConfig {
  subscribers: number;
  sizes: number[];
  publishSizes: number[];
  rates: number[];
  windowMs: number;
  inFlight: number;
}

export function bodiesConfig(ctx: Ctx): BodiesConfig {
  const p = ctx.profile;
  return p.quick
    ? // Quick: one short fan-out step of the largest body (a few seconds); the publish-path steps are full-run only.
      { subscribers: 50, sizes: [16384], publishSizes: [], rates: [10], windowMs: 1000, inFlight: 64 }
    : { subscribers: 500, sizes: [4096, 16384], publishSizes: [BODY_BYTES, 4096, 16384], rates: [10, 40], windowMs: p.ladderMs, inFlight: 64 };
}

export async function bodies(ctx: Ctx): Promise<ScenarioResult> {
  const t0 = Date.now();
  const cfg = bodiesConfig(ctx);
  const [owner] = await ctx.users(1);
  const steps: StepResult[] = [];
  const gens = ctx.topo.generators.gens.length;
  for (const side of ['baseline', 'hub'] as const) {
    await ctx.topo.ensure(side === 'hub' ? 'baseline' : 'hub', 0);
    const [server] = await ctx.topo.ensure(side, 1);
    const pid = server.child.pid;
    const users = await ctx.users(8);
    for (const bytes of cfg.publishSizes) {
      const [channelId] = await ctx.seed.channels(owner, 1, `bodies-pub-${side}-${bytes}`);
      const pub = await ctx.topo.generators.job(gens - 1, 'publishers', {
        door: 'socket',
        urls: [server.url],
        tokens: side === 'hub' ? users.map((u) => u.token) : undefined,
        connections: 8,
        bodyBytes: bytes,
      });
      await quiesce([pid]);
      ctx.progress(`${side}: publishes of ${bytes} bytes, ${cfg.inFlight} in flight`);
      steps.push(
        await publishStep(ctx, {
          side,
          servers: [server],
          pub,
          channelIds: [channelId],
          name: `${side} publish ${bytes} B bodies, ${cfg.inFlight} in flight`,
          tag: `bp-${side}-${bytes}-${Date.now()}`,
          inFlight: cfg.inFlight,
          durationMs: cfg.windowMs,
          params: { bodyBytes: bytes, phase: 'publish' },
        }),
      );
      await pub.stop();
    }
    for (const bytes of cfg.sizes) {
      const [channelId] = await ctx.seed.channels(owner, 1, `bodies-${side}-${bytes}`);
      const load = await openLoad(ctx, { side, servers: [server], subscribers: cfg.subscribers, channelIds: [channelId], bodyBytes: bytes });
      for (const rate of cfg.rates) {
        await quiesce([pid]);
        ctx.progress(`${side}: ${bytes} B bodies to ${cfg.subscribers} at ${rate} msg/s`);
        const s = await loadStep(ctx, load, {
          name: `${side} ${bytes} B bodies, ${cfg.subscribers} subs @ ${rate} msg/s`,
          tag: `bf-${side}-${bytes}-${rate}-${Date.now()}`,
          rate,
          durationMs: cfg.windowMs,
          params: { bodyBytes: bytes, phase: 'fanout' },
        });
        s.metrics.payloadMBPerS = round(((s.deliveredPerS ?? 0) * bytes) / 1e6, 1);
        steps.push(s);
        if (!keptUp(s)) break;
      }
      await load.close();
      await quiesce([pid]);
    }
  }
  await ctx.topo.ensure('baseline', 0);
  return {
    id: 'bodies',
    title: `Bodies of 4 KiB and 16 KiB: publish path and fan-out to ${cfg.subscribers}, one server`,
    durationS: round((Date.now() - t0) / 1000),
    steps,
    summary: {
      ...cfg,
      publish: {
        bySize: pairs(
          steps.filter((s) => s.params.phase === 'publish'),
          (s) => String(s.params.bodyBytes),
        ).map(({ key, hub, base }) => ({ bodyBytes: Number(key), publishesPerS: capacityRatio(hub, base, (s) => s.deliveredPerS), ackP99: capacityRatio(hub, base, (s) => s.latency?.p99Ms) })),
        rule: CAPACITY_RULE,
      },
      fanout: {
        bySizeAndRate: sideBySide(
          steps.filter((s) => s.params.phase === 'fanout'),
          (s) => `${String(s.params.bodyBytes)} B @ ${String(s.params.rate)} msg/s`,
        ),
        rule: EQUAL_LOAD_RULE,
      },
    },
    notes: [
      'Body size = the length of JSON.stringify(body) the publisher sends (bench/generators/body.ts); the hub stores each (jsonb) and sends it with its envelope; 16,384 bytes is the hub’s MESSAGE_MAX_BYTES.',
      'Publish steps: 8 sockets of 8 users, closed loop (64 acks outstanding), one channel, no subscriber: the publish path alone. Fan-out steps: one channel, subscribers connected directly, publishers open loop on 8 sockets.',
      'payload MB/s = deliveries/s × body bytes (the envelope not counted).',
    ],
  };
}
