// End to end through HAProxy: 3 replicas behind the project's own HAProxy
// config (round robin, SRV cookie, /readyz checks), subscribers connecting
// through it, publishes through it: over REST for the hub (what a backend
// would do), over the socket for the hub and the baseline (the baseline has
// no REST door). The baseline stands behind the same HAProxy template.
import { BODY_BYTES } from '../generators/body.js';
import { BenchLb } from '../lb.js';
import type { Side } from '../topology.js';
import { type Ctx, quiesce, round, type ScenarioResult, type StepResult } from './context.js';
import { keptUp } from './delivery.js';
import { loadStep, openLoad } from './userload.js';
import { EQUAL_LOAD_RULE, LADDER_RULE, ladderTop, sideBySide } from './userload-rules.js';

export interface ThroughLbConfig {
  replicas: number;
  subscribers: number;
  rates: number[];
  windowMs: number;
}

export function throughLbConfig(ctx: Ctx): ThroughLbConfig {
  const p = ctx.profile;
  return p.quick ? { replicas: 3, subscribers: 150, rates: [10], windowMs: p.ladderMs } : { replicas: 3, subscribers: 1000, rates: [5, 10, 20, 50], windowMs: p.stepMs };
}

/** The doors each side publishes through: the baseline has no REST endpoint. */
export const DOORS: Record<Side, Array<'rest' | 'socket'>> = { hub: ['rest', 'socket'], baseline: ['socket'] };

export async function throughLb(ctx: Ctx): Promise<ScenarioResult> {
  const t0 = Date.now();
  const cfg = throughLbConfig(ctx);
  const [owner] = await ctx.users(1);
  const steps: StepResult[] = [];
  const upstreams: Record<string, string[]> = {};
  for (const side of ['baseline', 'hub'] as const) {
    await ctx.topo.ensure(side === 'hub' ? 'baseline' : 'hub', 0);
    const servers = await ctx.topo.ensure(side, cfg.replicas);
    const lb = await BenchLb.start(ctx.topo, servers, `haproxy-${side}`);
    upstreams[side] = await lb.serversUp();
    try {
      for (const door of DOORS[side]) {
        const [channelId] = await ctx.seed.channels(owner, 1, `lb-${side}-${door}`);
        const load = await openLoad(ctx, {
          side,
          servers,
          subscribers: cfg.subscribers,
          channelIds: [channelId],
          subUrl: () => lb.url,
          pubUrls: [lb.url],
          pubDoor: door,
          pubConnections: door === 'rest' ? 16 : 8,
          bodyBytes: BODY_BYTES,
          extra: [lb.tracked()],
          // 10 at a time per generator process: at 50 the hubs' /readyz answered past HAProxy's 2 s check timeout here and all three were taken out.
          connectWidth: 10,
          tolerateConnectFailures: true,
        });
        const downAfterConnect = lb.serversDownEvents();
        for (const rate of cfg.rates) {
          await quiesce([...servers.map((s) => s.child.pid), lb.child.pid]);
          ctx.progress(`${side} via HAProxy, ${door} publishes: ${rate} msg/s to ${cfg.subscribers}`);
          const s = await loadStep(ctx, load, {
            name: `${side} via HAProxy, ${door === 'rest' ? 'REST' : 'socket'} publish, ${cfg.subscribers} subs × ${cfg.replicas} replicas @ ${rate} msg/s`,
            tag: `lb-${side}-${door}-${rate}-${Date.now()}`,
            rate,
            durationMs: cfg.windowMs,
            params: { door, lb: true },
          });
          s.metrics.connectFailures = load.connectFailures;
          s.metrics.firstConnectError = load.firstConnectError ?? null;
          s.metrics.lbServersDownWhileConnecting = downAfterConnect;
          s.metrics.lbServersDownSoFar = lb.serversDownEvents();
          steps.push(s);
          if (!keptUp(s)) break;
        }
        await load.close();
        await quiesce(servers.map((s) => s.child.pid));
      }
    } finally {
      await lb.stop();
    }
  }
  await ctx.topo.ensure('baseline', 0);
  await ctx.topo.ensure('hub', 1);
  return {
    id: 'through-lb',
    title: `End to end through HAProxy: ${cfg.replicas} replicas, ${cfg.subscribers.toLocaleString('en-US')} subscribers`,
    durationS: round((Date.now() - t0) / 1000),
    steps,
    summary: {
      ...cfg,
      doors: DOORS,
      upstreams,
      highestKept: {
        hubRest: ladderTop(
          steps.filter((s) => s.params.door === 'rest'),
          'hub',
        ),
        hubSocket: ladderTop(
          steps.filter((s) => s.params.door === 'socket'),
          'hub',
        ),
        baseline: ladderTop(steps, 'baseline'),
        rule: LADDER_RULE,
      },
      // Same door on both sides: socket publishes through HAProxy.
      atEqualLoad: {
        socketByRate: sideBySide(
          steps.filter((s) => s.params.door === 'socket'),
          (s) => String(s.params.rate),
        ),
        rule: EQUAL_LOAD_RULE,
      },
    },
    notes: [
      'HAProxy 2.6 from the project’s template (scripts/haproxy-config.ts), one per side, bound on loopback: round robin, SRV cookie (HTTP long-polling stickiness; these clients use WebSocket only), health checks on /readyz every second.',
      'Latency is end to end: from the publisher’s send (REST request or socket emit, through HAProxy) to the subscriber’s receipt (through HAProxy), the store and the bus between.',
      'Subscribers connect 10 at a time per generator process; a failed connect is counted (connectFailures), not retried, and the step’s receivers are those connected. lbServersDown… = times HAProxy took a replica out of `ready` (its /readyz check failed or took over 2 s), while the subscribers connected and up to the end of the step.',
      'REST publishes: 16 keep-alive connections of 8 users through HAProxy; socket publishes: 8 sockets through HAProxy. HAProxy’s own CPU is counted with the server side’s (LB CPU ms per 1,000 deliveries).',
    ],
  };
}
