// Scenario 7: the REST read path on one replica: GET history requests/s
// (autocannon), whether history pages carry HTTP caching headers, and the
// WebSocket delivery latency with and without 50 clients polling every 100 ms.
import { BODY_BYTES } from '../generators/body.js';
import { type HttpLoadResult, latencyOf } from '../generators/http-load.js';
import { type Ctx, measured, quiesce, round, type ScenarioResult, type StepResult, step } from './context.js';
import { clientsStep, openClients } from './pollers.js';

export async function read(ctx: Ctx): Promise<ScenarioResult> {
  const t0 = Date.now();
  const windowMs = ctx.profile.stepMs;
  await ctx.topo.ensure('baseline', 0);
  const [hub] = await ctx.topo.ensure('hub', 1);
  const users = await ctx.users(101);
  const [channelId] = await ctx.seed.channels(users[0], 1, 'read');
  await ctx.seed.messages(channelId, users[0], 500, BODY_BYTES);
  const steps: StepResult[] = [];
  const summary: Record<string, unknown> = {};
  const gens = ctx.topo.generators.gens.length;

  const pages = { 'latest 50': '?limit=50', 'a page below lastSeq (seq 101-150)': '?afterSeq=100&limit=50' };
  for (const [label, query] of Object.entries(pages)) {
    const path = `/api/channels/${channelId}/messages${query}`;
    const res = await fetch(hub.url + path, { headers: { authorization: `Bearer ${users[0].token}` } });
    summary[`cacheControl: ${label}`] = res.headers.get('cache-control');
    summary[`etag: ${label}`] = res.headers.get('etag');
    await res.arrayBuffer();
    await quiesce([hub.child.pid]);
    ctx.progress(`GET history (${label}), 32 connections for ${windowMs / 1000} s`);
    const job = await ctx.topo.generators.job(gens - 1, 'http-load', { url: hub.url, path, method: 'GET', token: users[0].token, connections: 32, durationMs: windowMs });
    const { value, cpu } = await measured(ctx, () => job.call<HttpLoadResult>('run'));
    await job.stop();
    steps.push(
      step(
        {
          name: `GET history, ${label}, 32 connections`,
          side: 'hub',
          params: { connections: 32, page: label },
          durationS: windowMs / 1000,
          latency: latencyOf(value),
          delivered: value.requests,
          deliveredPerS: round(value.requests / (windowMs / 1000), 0),
          metrics: { requestsPerS: round(value.requests / (windowMs / 1000), 0), non2xx: value.non2xx, errors: value.errors },
          cpu,
          notes: ['"delivered/s" here is GET responses per second (autocannon, closed loop)'],
        },
        ['hub'],
      ),
    );
    summary[`requestsPerS: ${label}`] = round(value.requests / (windowMs / 1000), 0);
  }

  // Push latency alone, then with 50 pollers at 100 ms on the same replica and channel.
  const subs = await openClients(ctx, { kind: 'push' }, { url: hub.url, users: users.slice(1, 51), count: 50, channelId: channelId, afterSeq: 0 });
  const publisher = await ctx.topo.generators.job(gens - 1, 'publishers', { door: 'socket', urls: [hub.url], tokens: [users[0].token], connections: 1, bodyBytes: BODY_BYTES });
  await quiesce([hub.child.pid]);
  ctx.progress('push latency, no pollers');
  const alone = await clientsStep(ctx, {
    name: 'push to 50 subscribers @ 10 msg/s, no pollers',
    clients: subs,
    publisher,
    channelId: channelId,
    rate: 10,
    durationMs: windowMs,
    params: { pollers: 0 },
  });
  steps.push(alone);
  const pollers = await openClients(
    ctx,
    { kind: 'poll', intervalMs: 100, keepAlive: true },
    { url: hub.url, users: users.slice(51, 101), count: 50, channelId: channelId, afterSeq: await ctx.seed.lastSeq(channelId) },
  );
  ctx.progress('push latency while 50 clients poll every 100 ms');
  const loaded = await clientsStep(ctx, {
    name: 'push to 50 subscribers @ 10 msg/s while 50 clients poll every 100 ms',
    clients: subs,
    publisher,
    channelId: channelId,
    rate: 10,
    durationMs: windowMs,
    params: { pollers: 50 },
  });
  steps.push(loaded);
  await Promise.all([subs.stop(), pollers.stop(), publisher.stop()]);
  summary.pushP50MsAlone = alone.latency?.p50Ms ?? null;
  summary.pushP50MsWithPollers = loaded.latency?.p50Ms ?? null;
  summary.pushP99MsWithPollers = loaded.latency?.p99Ms ?? null;
  return {
    id: 'read',
    title: 'REST read path',
    durationS: round((Date.now() - t0) / 1000),
    steps,
    summary,
    notes: [
      'The channel holds 500 stored messages of ~200 bytes (written directly to the database). "A page below lastSeq" never changes, so it could be cached; the summary shows the Cache-Control and ETag headers the hub sent in this run.',
    ],
  };
}
