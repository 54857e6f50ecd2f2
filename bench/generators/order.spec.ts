import { describe, expect, it } from '@jest/globals';
import { makeBody } from './body.js';
import { OrderCheck, orderKey } from './order.js';

/** Feeds deliveries (client, key, value) and returns the out-of-order count. */
function count(deliveries: Array<[number, string, number]>): number {
  const check = new OrderCheck();
  for (const [client, key, value] of deliveries) check.take(client, key, value);
  return check.outOfOrder;
}

describe('OrderCheck', () => {
  it('counts nothing while each key rises, however the keys interleave', () => {
    expect(
      count([
        [0, 'ch-a', 1],
        [0, 'ch-b', 1],
        [0, 'ch-a', 2],
        [0, 'ch-b', 5],
        [1, 'ch-a', 1],
      ]),
    ).toBe(0);
  });

  it('counts a value at or below the last one of its key, for that client only', () => {
    expect(
      count([
        [0, 'ch-a', 3],
        [0, 'ch-a', 2],
        [1, 'ch-a', 2],
        [0, 'ch-a', 4],
      ]),
    ).toBe(1);
    expect(
      count([
        [0, 'ch-a', 3],
        [0, 'ch-a', 3],
      ]),
    ).toBe(1);
  });

  it('after a late one, goes on from the highest seen (one swap is one fault, not a cascade)', () => {
    expect(
      count([
        [0, 'k', 1],
        [0, 'k', 3],
        [0, 'k', 2],
        [0, 'k', 4],
        [0, 'k', 5],
      ]),
    ).toBe(1);
  });
});

describe('orderKey', () => {
  const body = (n: number, w?: string) => makeBody(0, 'tag', n, 200, w);

  it('hub: by seq per channel', () => {
    expect(orderKey('seq', { channelId: 'c1', seq: 7, body: body(3, 'p.1') })).toEqual({ key: 'c1', value: 7 });
    expect(orderKey('seq', { channelId: 'c1', body: body(3) })).toBeNull();
  });

  it('baseline: by publish index per publishing connection', () => {
    expect(orderKey('publisher', { channelId: 'c1', seq: 7, body: body(3, 'p.1') })).toEqual({ key: 'p.1', value: 3 });
    expect(orderKey('publisher', { channelId: 'c1', body: body(3) })).toBeNull();
  });

  it('8 publisher sockets, each in order, interleaved on arrival: no fault under the per-publisher rule, where the step-wide index counted many', () => {
    // Socket k sends n = k, k+8, k+16, …; the sockets' messages arrive interleaved (each socket's own in order).
    const arrivals: number[] = [];
    for (let round = 0; round < 50; round++) for (const k of [7, 3, 5, 0, 6, 1, 4, 2]) arrivals.push(round * 8 + k);
    const perPublisher = new OrderCheck();
    const stepWide = new OrderCheck();
    for (const n of arrivals) {
      const o = orderKey('publisher', { body: body(n, `pid.${n % 8}`) })!;
      perPublisher.take(0, o.key, o.value);
      stepWide.take(0, 'step', n);
    }
    expect(perPublisher.outOfOrder).toBe(0);
    expect(stepWide.outOfOrder).toBeGreaterThan(100);
  });
});
