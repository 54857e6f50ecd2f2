// Out-of-order deliveries, counted only where an order is promised. The hub
// numbers each channel's messages (seq) and a client must see them rise; the
// baseline promises nothing across publishers (socket.io keeps one
// connection's emits in order, no more), so there the order is checked per
// (client, publishing connection) on the publisher's own index. Counting the
// step's publish index across all publishers, as before, charged the
// interleaving of 8 independent publisher sockets as disorder.
import type { BenchBody } from './body.js';

/** 'seq': per (client, channel), by the message's seq (hub). 'publisher': per (client, publishing connection), by its index (baseline). */
export type OrderRule = 'seq' | 'publisher';

export const ORDER_RULE_TEXT: Record<OrderRule, string> = {
  seq: 'seq rises per (client, channel)',
  publisher: 'publish index rises per (client, publishing connection)',
};

/** What a delivery is ordered by under the rule: a key (channel or publisher) and the value that must rise; null when it carries none. */
export function orderKey(rule: OrderRule, m: { channelId?: unknown; seq?: unknown; body: BenchBody }): { key: string; value: number } | null {
  if (rule === 'seq') return typeof m.seq === 'number' ? { key: String(m.channelId), value: m.seq } : null;
  return typeof m.body.w === 'string' ? { key: m.body.w, value: m.body.n } : null;
}

/** Per client, the last value seen per key; a value not above it is out of order. Duplicates are the caller's to drop first. */
export class OrderCheck {
  private last: Array<Map<string, number>> = [];
  outOfOrder = 0;

  /** Records a delivery to `client`; true (and counted) when it came after a later one of the same key. */
  take(client: number, key: string, value: number): boolean {
    const seen = (this.last[client] ??= new Map());
    const before = seen.get(key);
    if (before !== undefined && value <= before) {
      this.outOfOrder++;
      return true;
    }
    seen.set(key, value);
    return false;
  }
}
