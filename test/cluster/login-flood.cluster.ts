import { describe, expect, it, jest } from '@jest/globals';
import { performance } from 'node:perf_hooks';
import { type ClientSocket, api, emitAck, registerUser } from '../support/client.js';
import { clusterForFile } from './support/cluster.js';

jest.setTimeout(120_000);

// The limits are off here (FAST_ENV): what is under test is the bound on password hashing alone
// (PASSWORD_CONCURRENCY, PASSWORD_QUEUE, at their defaults), as if the flood came from many addresses. The replica is
// its own process, so the flooders' and the probe's work is not on its event loop.
const ctx = clusterForFile(1);
const SAMPLES = 100;
const FLOODERS = 48;

/** Publish → delivered to another socket, one message at a time: milliseconds each. */
async function deliveryLatencies(from: ClientSocket, to: ClientSocket, channelId: string, tag: string): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    const body = `${tag}-${i}`;
    const t0 = performance.now();
    const seen = new Promise<void>((resolve) => {
      const on = (m: { body: unknown }) => {
        if (m.body !== body) return;
        to.off('message:created', on);
        resolve();
      };
      to.on('message:created', on);
    });
    const ack = await emitAck(from, 'message:publish', { channelId, body });
    if (!ack.ok) throw new Error(`publish: ${JSON.stringify(ack.error)}`);
    await seen;
    out.push(performance.now() - t0);
  }
  return out;
}

const p99 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.ceil(xs.length * 0.99) - 1]!;

describe('a flood of wrong-password logins does not starve message delivery', () => {
  it(`with ${FLOODERS} concurrent wrong logins, delivery p99 stays within 5x its quiet value + 50 ms, and the flood gets only 401 or 503`, async () => {
    const url = ctx.cluster.replicas[0]!.url;
    const call = api(url);
    const [alice, bob] = [await registerUser(call, 'flood'), await registerUser(call, 'flood')];
    const channelId = (await call('POST', '/api/channels', { name: `flood-${Date.now()}` }, alice.token)).body.id;
    const a = (await ctx.subscribed(url, alice.token, channelId)).socket;
    const b = (await ctx.subscribed(url, bob.token, channelId)).socket;
    await deliveryLatencies(a, b, channelId, 'warm');
    const quiet = await deliveryLatencies(a, b, channelId, 'quiet');

    const statuses = new Map<number, number>();
    let flooding = true;
    const flooder = async (n: number) => {
      for (let i = 0; flooding; i++) {
        const res = await fetch(`${url}/api/auth/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ username: i % 2 ? alice.username : `nobody${n}`, password: `wrong-password-${i}` }),
        });
        await res.arrayBuffer();
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      }
    };
    const flood = Array.from({ length: FLOODERS }, (_, n) => flooder(n));
    let loaded: number[];
    try {
      loaded = await deliveryLatencies(a, b, channelId, 'flood');
    } finally {
      flooding = false;
      await Promise.all(flood);
    }

    const [q, f] = [p99(quiet), p99(loaded)];
    console.log(`delivery p99: quiet ${q.toFixed(1)} ms, under the login flood ${f.toFixed(1)} ms; flood answers ${JSON.stringify(Object.fromEntries(statuses))}`);
    expect(f).toBeLessThanOrEqual(5 * q + 50);
    expect([...statuses.keys()].every((s) => s === 401 || s === 503)).toBe(true);
    expect(statuses.get(401) ?? 0).toBeGreaterThan(0);
  });
});
