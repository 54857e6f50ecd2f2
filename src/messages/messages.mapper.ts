import type { Json, MessageDto } from '../events/dto.js';

interface MessageRow {
  id: string;
  channelId: string;
  seq: bigint;
  authorId: string;
  body: unknown;
  clientMsgId: string | null;
  createdAt: Date;
}

export const toMessageDto = (m: MessageRow): MessageDto => ({
  id: m.id,
  channelId: m.channelId,
  seq: Number(m.seq),
  authorId: m.authorId,
  body: m.body as Json,
  clientMsgId: m.clientMsgId,
  createdAt: m.createdAt.toISOString(),
});

/** Equality of JSON values regardless of key order (jsonb does not keep it). */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((v, i) => sameJson(v, bb[i]));
  }
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k) => Object.hasOwn(b, k) && sameJson((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}
