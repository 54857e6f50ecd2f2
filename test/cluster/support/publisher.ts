import { api } from '../../support/client.js';

export interface PublishPlan {
  /** Where to publish; a failed attempt moves to the next one. */
  urls: () => string[];
  token: string;
  channelId: string;
  count: number;
  concurrency: number;
  /** clientMsgId prefix: a retry reuses the id, so it never stores twice. */
  prefix: string;
  /** At most one publish started per this many ms, across workers. */
  everyMs?: number;
  /** Called after each acknowledged publish with how many are acknowledged so far. */
  onAcked?: (acked: number) => void | Promise<void>;
  /** Called once per message when it is acknowledged: its seq and id, and every attempt's status (0: no answer). */
  onPublished?: (p: PublishedRecord) => void;
}

export interface PublishedRecord {
  i: number;
  seq: number;
  id: string;
  statuses: number[];
  sentAt: number;
  ackedAt: number;
}

/** Publishes `count` messages over REST (body `{i}`), retrying each until it is acknowledged. */
export async function publishMany(plan: PublishPlan): Promise<void> {
  let next = 0;
  let acked = 0;
  let slot = Date.now();
  const one = async (i: number) => {
    const statuses: number[] = [];
    const sentAt = Date.now();
    for (let attempt = 0; attempt < 60; attempt++) {
      const urls = plan.urls();
      const url = urls[(i + attempt) % urls.length];
      try {
        const res = await api(url)('POST', `/api/channels/${plan.channelId}/messages`, { body: { i }, clientMsgId: `${plan.prefix}${i}` }, plan.token);
        statuses.push(res.status);
        if (res.status === 201 || res.status === 200) {
          plan.onPublished?.({ i, seq: res.body.seq, id: res.body.id, statuses, sentAt, ackedAt: Date.now() });
          return;
        }
      } catch {
        statuses.push(0);
        /* the replica died under the request, or the balancer had none: retry with the same clientMsgId */
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`message ${i} could not be published`);
  };
  const worker = async () => {
    while (next < plan.count) {
      const i = next++;
      if (plan.everyMs) {
        slot = Math.max(Date.now(), slot + plan.everyMs);
        await new Promise((r) => setTimeout(r, slot - Date.now()));
      }
      await one(i);
      await plan.onAcked?.(++acked);
    }
  };
  await Promise.all(Array.from({ length: plan.concurrency }, worker));
}

/** Every stored message of a channel, oldest first, read over REST in pages. */
export async function storedMessages(url: string, token: string, channelId: string): Promise<any[]> {
  const stored: any[] = [];
  for (;;) {
    const page = await api(url)('GET', `/api/channels/${channelId}/messages?afterSeq=${stored.length}&limit=500`, undefined, token);
    if (page.status !== 200) throw new Error(`history: ${page.status}`);
    if (page.body.items.length === 0) return stored;
    stored.push(...page.body.items);
  }
}
