// Scenario 5: the publish path on one replica. Persisted publishes/s on one hot
// channel over REST (closed loop, 1–64 concurrent, autocannon) and over the
// socket (acks in flight over 8 sockets), ack latency at fixed rates, and the
// same spread over 100 channels.
import { BODY_BYTES } from '../generators/body.js';
import type { PublishStats } from '../generators/publishers.js';
import { type HttpLoadResult, latencyOf } from '../generators/http-load.js';
import { merge, summarize, type LatencySummary } from '../histogram.js';
import { type Ctx, cpuMsOf, measured, quiesce, round, type ScenarioResult, type StepResult, step } from './context.js';

export async function publish(ctx: Ctx): Promise<ScenarioResult> {
  const t0 = Date.now();
  const q = ctx.profile.quick;
  // Steps a target is judged on get the full window; the rest of the curve a shorter one.
  const targetMs = ctx.profile.stepMs;
  const curveMs = ctx.profile.ladderMs;
  await ctx.topo.ensure('baseline', 0);
  const [hub] = await ctx.topo.ensure('hub', 1);
  const users = await ctx.users(64);
  const [hot] = await ctx.seed.channels(users[0], 1, 'publish-hot');
  const many = await ctx.seed.channels(users[0], 100, 'publish-spread');
  const steps: StepResult[] = [];
  const gens = ctx.topo.generators.gens.length;
  const finish = (
    name: string,
    door: string,
    params: StepResult['params'],
    acked: number,
    failed: number,
    latency: LatencySummary,
    cpu: StepResult['cpu'],
    windowMs: number,
    extra: StepResult['metrics'] = {},
  ) => {
    const serverMs = cpuMsOf(cpu, ['hub', 'postgres', 'redis']);
    steps.push(
      step(
        {
          name,
          side: 'hub',
          params: { door, ...params },
          durationS: windowMs / 1000,
          latency,
          delivered: acked,
          deliveredPerS: round(acked / (windowMs / 1000), 0),
          lost: null,
          metrics: { publishesPerS: round(acked / (windowMs / 1000), 0), failed, serverCpuMsPerPublish: acked ? round(serverMs / acked, 2) : null, ...extra },
          cpu,
          notes: latency.note ? [latency.note] : [],
        },
        ['hub'],
      ),
    );
  };

  // REST, closed loop: `c` requests in flight, each its own body and clientMsgId.
  const restClosed = async (c: number, channels: string[], label: string, windowMs: number) => {
    await quiesce([hub.child.pid]);
    ctx.progress(`REST ${label}: ${c} concurrent for ${windowMs / 1000} s`);
    const job = await ctx.topo.generators.job(gens - 1, 'http-load', {
      url: hub.url,
      path: `/api/channels/${channels[0]}/messages`,
      paths: channels.length > 1 ? channels.map((ch) => `/api/channels/${ch}/messages`) : undefined,
      method: 'POST',
      token: users[0].token,
      connections: c,
      durationMs: windowMs,
      publish: { bytes: BODY_BYTES, tag: `pub-rest-${label}-${c}-${Date.now()}` },
    });
    const { value, cpu } = await measured(ctx, () => job.call<HttpLoadResult>('run'));
    await job.stop();
    const ok = value.statusCodes['2xx'] ?? 0;
    finish(`REST publish ${label}, ${c} concurrent`, 'rest', { concurrency: c, channels: channels.length }, ok, value.non2xx + value.errors, latencyOf(value), cpu, windowMs);
  };

  // Socket: 8 sockets (one user each), closed loop with `inFlight` acks outstanding, or a fixed rate.
  const socketRun = async (door: 'socket' | 'rest', mode: { concurrency?: number; rate?: number }, channels: string[], label: string, windowMs: number) => {
    await quiesce([hub.child.pid]);
    ctx.progress(`${door} ${label}: ${mode.rate ? `${mode.rate}/s` : `${mode.concurrency} in flight`} for ${windowMs / 1000} s`);
    const job = await ctx.topo.generators.job(gens - 1, 'publishers', {
      door,
      urls: [hub.url],
      tokens: users.slice(0, 8).map((u) => u.token),
      connections: door === 'socket' ? 8 : (mode.concurrency ?? 16),
      bodyBytes: BODY_BYTES,
    });
    const tag = `pub-${door}-${label}-${Date.now()}`;
    const { value, cpu } = await measured(ctx, () => job.call<PublishStats>('run', { tag, channelIds: channels, durationMs: windowMs, ...mode }));
    await job.stop();
    const params = { ...(mode.concurrency ? { inFlight: mode.concurrency, sockets: door === 'socket' ? 8 : 0 } : { rate: mode.rate! }), channels: channels.length };
    finish(
      `${door === 'socket' ? 'socket' : 'REST'} publish ${label}, ${mode.rate ? `${mode.rate}/s fixed` : `${mode.concurrency} in flight`}`,
      door,
      params,
      value.acked,
      value.errors + value.skipped,
      summarize(merge([value.hist])),
      cpu,
      windowMs,
      {
        firstError: value.firstError ?? null,
        offered: value.sent,
      },
    );
  };

  // Warm-up, not judged and not recorded: the first step on a cold replica (JIT, connection pools) would bias the ladder's first figure.
  if (ctx.profile.warmupMs > 0) {
    ctx.progress(`warm-up (not judged): 8 sockets, 8 in flight for ${ctx.profile.warmupMs / 1000} s`);
    const job = await ctx.topo.generators.job(gens - 1, 'publishers', { door: 'socket', urls: [hub.url], tokens: users.slice(0, 8).map((u) => u.token), connections: 8, bodyBytes: BODY_BYTES });
    await job.call<PublishStats>('run', { tag: `pub-warmup-${Date.now()}`, channelIds: [hot], durationMs: ctx.profile.warmupMs, concurrency: 8 });
    await job.stop();
  }
  for (const c of q ? [1, 32] : [1, 8, 32, 64]) await restClosed(c, [hot], 'hot channel', c === 32 ? targetMs : curveMs);
  for (const c of q ? [64] : [1, 8, 64]) await socketRun('socket', { concurrency: c }, [hot], 'hot channel', c === 64 ? targetMs : curveMs);
  await socketRun('rest', { rate: 200 }, [hot], 'hot channel', targetMs);
  await socketRun('socket', { rate: 200 }, [hot], 'hot channel', targetMs);
  await restClosed(32, many, '100 channels', curveMs);
  await socketRun('socket', { concurrency: 64 }, many, '100 channels', curveMs);
  return {
    id: 'publish',
    title: 'Publish path: persisted publishes on one replica',
    durationS: round((Date.now() - t0) / 1000),
    steps,
    summary: Object.fromEntries(steps.map((s) => [s.name, { publishesPerS: s.metrics.publishesPerS, p50Ms: s.latency?.p50Ms ?? null, p99Ms: s.latency?.p99Ms ?? null }])),
    notes: [
      `Bodies of ~${BODY_BYTES} bytes, each with its own clientMsgId. "delivered/s" here is persisted publishes/s (2xx responses or ok acks). REST closed-loop steps use autocannon (its latency histogram, ms resolution); the socket and fixed-rate steps record acks in HDR histograms (µs).`,
      'REST publishes come from one user; socket publishes from 8 sockets of 8 users.',
    ],
  };
}
