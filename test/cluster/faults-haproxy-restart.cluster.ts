import { jest } from '@jest/globals';
import { type CrosswireClient, type Recovery, connect } from '../../client/index.js';
import type { MessageDto } from '../../src/events/dto.js';
import { api, registerUser } from '../support/client.js';
import { ackedOutcome, expectedOutcome, spread } from './support/acked.js';
import { until } from './support/cluster.js';
import { clusterBehindLbForFile } from './support/haproxy.js';
import { type PublishedRecord, publishMany, storedMessages } from './support/publisher.js';
import { Subscriber } from './support/subscriber.js';

jest.setTimeout(120_000);

const TOTAL = 150;
const RESTART_AT = 50;

/**
 * Every client connection runs through the balancer, so restarting it (killed,
 * started again on the same port) drops every socket at once and refuses
 * connections until it is back and its health checks pass.
 */
describe('HAProxy restarted under a stream (3 replicas behind it)', () => {
  const ctx = clusterBehindLbForFile(3);
  const { lb, closers } = ctx;

  it('every client drops, reconnects through the restarted balancer and resumes with sinceSeq; REST publishes retried with their clientMsgId and library publishes held in its outbox are each stored once and reach every client once, in order', async () => {
    const call = api(lb.url);
    const owner = await registerUser(call, 'lbr');
    const channelId = (await call('POST', '/api/channels', { name: `lb-restart-${Date.now()}` }, owner.token)).body.id;
    const subs: Subscriber[] = [];
    for (let k = 0; k < 6; k++) {
      const s = new Subscriber(() => [lb.url], owner.token, channelId);
      closers.push(s);
      await s.start();
      subs.push(s);
    }
    expect(new Set(subs.map((s) => s.replicas[0])).size).toBeGreaterThan(1);
    // The project's client library too, on its default transports (long-polling, then WebSocket) and on WebSocket alone.
    const libs = await Promise.all(
      [undefined, ['websocket' as const]].map(async (transports) => {
        const c: CrosswireClient = connect({ url: lb.url, token: owner.token, ...(transports ? { transports } : {}) });
        closers.push({ close: () => c.close() });
        const got: MessageDto[] = [];
        const recoveries: Recovery[] = [];
        c.onRecovered((r) => recoveries.push(r));
        await c.subscribe(channelId, { sinceSeq: 0, onMessage: (m) => got.push(m) }).ready;
        return { c, got, recoveries };
      }),
    );

    const acked: PublishedRecord[] = [];
    let downAt = 0;
    let upAt = 0;
    let restarted: Promise<void> | undefined;
    const libPublished: Array<Promise<MessageDto>> = [];
    await publishMany({
      urls: () => [lb.url],
      token: owner.token,
      channelId,
      count: TOTAL,
      concurrency: 2,
      everyMs: 40,
      prefix: 'lbr',
      onPublished: (p) => acked.push(p),
      onAcked: (n) => {
        if (n !== RESTART_AT) return;
        restarted = (async () => {
          const port = lb.port;
          await lb.stop();
          downAt = Date.now();
          // Publishes from the library while no balancer answers: its outbox sends them once connected again.
          for (const [j, lib] of libs.entries()) for (let i = 0; i < 5; i++) libPublished.push(lib.c.publish(channelId, { lib: j, i }));
          await lb.start(ctx.cluster.replicas, port);
          upAt = Date.now();
        })();
      },
    });
    await restarted;
    const fromLibs = await Promise.all(libPublished);
    await until('every subscriber resumed through the new balancer', () => subs.every((s) => s.connections.length >= 2), 30_000);
    const resumedMs = spread(subs.map((s) => s.connections[1].at - downAt));
    const stored = await storedMessages(lb.url, owner.token, channelId);
    expect(stored).toHaveLength(TOTAL + fromLibs.length);
    await Promise.all(subs.map((s) => s.waitFor(stored.length, 20_000)));
    await until('the library clients hold every message', () => libs.every((l) => l.got.length >= stored.length), 20_000);

    const all = [...acked, ...fromLibs.map((m) => ({ i: -1, seq: m.seq, id: m.id, statuses: [201], sentAt: 0, ackedAt: 0 }))];
    expect(ackedOutcome(all, stored, subs)).toEqual(expectedOutcome(subs));
    for (const l of libs) {
      expect(l.got.map((m) => m.id)).toEqual(stored.map((m) => m.id));
      expect(l.recoveries.length).toBeGreaterThanOrEqual(1);
    }
    for (const s of subs) expect(s.reconnects).toBeGreaterThanOrEqual(1);
    for (const r of ctx.cluster.replicas) expect({ replica: r.id, alive: r.alive }).toEqual({ replica: r.id, alive: true });

    // What REST publishers saw: failed attempts (no answer, or the balancer's 503 before a server was up) while it was away.
    const hit = acked.filter((p) => p.statuses.length > 1);
    const hitFor = spread(hit.map((p) => p.ackedAt - p.sentAt));
    console.log(
      `haproxy restart: down→routing again ${upAt - downAt} ms; subscribers resumed (subscribe acked again) ${JSON.stringify(resumedMs)} ms after the kill; ` +
        `${hit.length} REST publishes needed retries (${[...new Set(hit.flatMap((p) => p.statuses))].join(',')}), acked after ${JSON.stringify(hitFor)} ms; ` +
        `library recoveries ${libs.map((l) => JSON.stringify(l.recoveries.map((r) => ({ reason: r.reason, missed: r.missed })))).join(' ')}`,
    );
  });
});
