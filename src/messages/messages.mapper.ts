import type { Json, MessageDto } from '../events/dto.js';

/** A messages row as every plain-SQL path selects it (MESSAGE_COLUMNS): seq as text, since it is a bigint. */
export interface MessageRow {
  id: string;
  channel_id: string;
  seq: string;
  author_id: string;
  body: Json;
  client_msg_id: string | null;
  created_at: Date;
}

/** The select list that yields a MessageRow from `messages m` (or from a RETURNING clause without the alias). */
export const messageColumns = (alias = 'm.') => `${alias}id, ${alias}channel_id, ${alias}seq::text AS seq, ${alias}author_id, ${alias}body, ${alias}client_msg_id, ${alias}created_at`;

export const toMessageDto = (r: MessageRow): MessageDto => ({
  id: r.id,
  channelId: r.channel_id,
  seq: Number(r.seq),
  authorId: r.author_id,
  body: r.body,
  clientMsgId: r.client_msg_id,
  createdAt: r.created_at.toISOString(),
});

/**
 * A message's size on the wire, for byte bounds (the subscribe ack): its body
 * as JSON plus this much for the other fields, which is more than they take
 * (three uuids, a seq, a 64-character clientMsgId, a timestamp, the keys).
 */
export const MESSAGE_ENVELOPE_BYTES = 320;

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
