// Measurements for the seed article's claims that no scenario covers:
// TCP connections opened per 1,000 messages by pollers with and without
// keep-alive and by push (claim 5), and one socket sending and receiving at
// once (claim 3).
import { BODY_BYTES } from '../generators/body.js';
import { merge, summarize } from '../histogram.js';
import { CountingProxy } from '../proxy.js';
import { type Ctx, measured, round, type ScenarioResult, type StepResult, step } from './context.js';
import { clientsStep, type Mode, modeName, openClients } from './pollers.js';

export async function claims(ctx: Ctx): Promise<ScenarioResult> {
  const t0 = Date.now();
  const windowMs = ctx.profile.stepMs;
  await ctx.topo.ensure('baseline', 0);
  const [hub] = await ctx.topo.ensure('hub', 1);
  const users = await ctx.users(21);
  const [channelId] = await ctx.seed.channels(users[0], 1, 'claims');
  const gens = ctx.topo.generators.gens.length;
  const steps: StepResult[] = [];
  const summary: Record<string, unknown> = {};
  const publisher = await ctx.topo.generators.job(gens - 1, 'publishers', { door: 'socket', urls: [hub.url], tokens: [users[0].token], connections: 1, bodyBytes: BODY_BYTES });
  const modes: Mode[] = [{ kind: 'poll', intervalMs: 100, keepAlive: true }, { kind: 'poll', intervalMs: 100, keepAlive: false }, { kind: 'push' }];
  for (const mode of modes) {
    const proxy = await new CountingProxy('claims', hub.port).start();
    ctx.progress(`connections per 1,000 messages: ${modeName(mode)}`);
    // Counted from before the clients connect: push's one connection per client is part of its cost.
    const clients = await openClients(ctx, mode, { url: proxy.url, users: users.slice(1), count: 20, channelId: channelId, afterSeq: await ctx.seed.lastSeq(channelId) });
    const s = await clientsStep(ctx, {
      name: `connections: 20 clients, ${modeName(mode)} @ 10 msg/s`,
      clients,
      publisher,
      proxy,
      keepProxyCounts: true,
      channelId: channelId,
      rate: 10,
      durationMs: windowMs,
      params: { claim: 5 },
    });
    steps.push(s);
    summary[`connectionsPer1000Messages: ${modeName(mode)}`] = s.metrics.connectionsPer1000Messages;
    await clients.stop();
    await proxy.stop();
  }
  await publisher.stop();

  ctx.progress('one socket publishing and receiving at once');
  const duplex = await ctx.topo.generators.job(0, 'duplex', {
    url: hub.url,
    tokens: users.slice(1, 11).map((u) => u.token),
    sockets: 10,
    channelId,
    ratePerSocket: 5,
    durationMs: windowMs,
    bodyBytes: BODY_BYTES,
    tag: `duplex-${Date.now()}`,
  });
  const { value, cpu } = await measured(ctx, () => duplex.call<{ sent: number; acked: number; received: number; receivedWhileAwaitingAck: number; ackHist: string; deliveryHist: string }>('run'));
  await duplex.stop();
  const ack = summarize(merge([value.ackHist]));
  const delivery = summarize(merge([value.deliveryHist]));
  summary.duplex = {
    sockets: 10,
    sent: value.sent,
    acked: value.acked,
    received: value.received,
    receivedWhileAwaitingAck: value.receivedWhileAwaitingAck,
    ackP50Ms: ack.p50Ms,
    deliveryP50Ms: delivery.p50Ms,
  };
  steps.push(
    step(
      {
        name: 'duplex: 10 sockets each publishing 5 msg/s while receiving all',
        side: 'hub',
        params: { claim: 3, sockets: 10, ratePerSocket: 5 },
        durationS: round(cpu.wallMs / 1000, 1),
        latency: delivery,
        delivered: value.received,
        deliveredPerS: round(value.received / (cpu.wallMs / 1000), 0),
        lost: Math.max(0, value.acked * 10 - value.received),
        cpu,
        metrics: { sent: value.sent, acked: value.acked, receivedWhileAwaitingAck: value.receivedWhileAwaitingAck, ackP50Ms: ack.p50Ms, ackP99Ms: ack.p99Ms },
        notes: delivery.note ? [delivery.note] : [],
      },
      ['hub'],
    ),
  );
  return {
    id: 'claims',
    title: 'Claims 3 and 5: duplex, and connections per message',
    durationS: round((Date.now() - t0) / 1000),
    steps,
    summary,
    notes: ['Connections are counted by a TCP proxy from before the clients connect until the end of the step.'],
  };
}
