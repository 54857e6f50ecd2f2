import { Injectable } from '@nestjs/common';
import type pg from 'pg';
import { DeliveryDb } from '../database/prisma.service.js';
import type { MessageDto, Visibility } from '../events/dto.js';
import { MESSAGE_ENVELOPE_BYTES, type MessageRow, messageColumns, toMessageDto } from './messages.mapper.js';

/** Messages with seq in (after, upTo], oldest first, at most `limit`. */
export async function readRange(pool: pg.Pool, channelId: string, after: number, upTo: number, limit: number): Promise<MessageDto[]> {
  const { rows } = await pool.query<MessageRow>({
    name: 'message-range',
    text: `SELECT ${messageColumns()} FROM messages m WHERE m.channel_id = $1 AND m.seq > $2 AND m.seq <= $3 ORDER BY m.seq LIMIT $4`,
    values: [channelId, after, upTo, limit],
  });
  return rows.map(toMessageDto);
}

export interface BoundedPage {
  items: MessageDto[];
  /** Their size by MESSAGE_ENVELOPE_BYTES' count (the body as Postgres prints it, which is never less than JSON.stringify's). */
  bytes: number;
  /** Whether messages in the range were left out, by the count or by the bytes. */
  hasMore: boolean;
}

/**
 * As readRange, and at most `maxBytes` of them, but always the first: the
 * cut is made in Postgres, so a page of large bodies is never read whole
 * (a reconnect storm runs one of these per socket).
 */
export async function readRangeBounded(pool: pg.Pool, channelId: string, after: number, upTo: number, limit: number, maxBytes: number): Promise<BoundedPage> {
  const { rows } = await pool.query<MessageRow & { size: number; page_rows: number }>({
    name: 'message-range-bounded',
    text: `WITH page AS (
             SELECT ${messageColumns()}, octet_length(m.body::text) + $6 AS size
               FROM messages m WHERE m.channel_id = $1 AND m.seq > $2 AND m.seq <= $3 ORDER BY m.seq LIMIT $4 + 1),
           sized AS (SELECT page.*, sum(size) OVER (ORDER BY seq::bigint) AS upto, row_number() OVER (ORDER BY seq::bigint) AS n FROM page)
           SELECT id, channel_id, seq, author_id, body, client_msg_id, created_at, size, (SELECT count(*) FROM page)::int AS page_rows
             FROM sized WHERE (n = 1 OR upto <= $5) AND n <= $4 ORDER BY n`,
    values: [channelId, after, upTo, limit, maxBytes, MESSAGE_ENVELOPE_BYTES],
  });
  const pageRows = rows[0]?.page_rows ?? 0;
  return { items: rows.map(toMessageDto), bytes: rows.reduce((n, r) => n + r.size, 0), hasMore: rows.length < pageRows };
}

export interface ChannelHead {
  lastSeq: number;
  visibility: Visibility;
}

/** What live delivery reads, on connections of its own (DeliveryDb). */
@Injectable()
export class MessagesReader {
  constructor(private readonly db: DeliveryDb) {}

  range(channelId: string, after: number, upTo: number, limit: number): Promise<MessageDto[]> {
    return readRange(this.db.pool, channelId, after, upTo, limit);
  }

  /** lastSeq and visibility of the channels among `ids` that still exist. */
  async heads(ids: string[]): Promise<Map<string, ChannelHead>> {
    if (ids.length === 0) return new Map();
    const { rows } = await this.db.pool.query<{ id: string; last_seq: string; visibility: Visibility }>(
      'SELECT id, last_seq::text AS last_seq, visibility::text AS visibility FROM channels WHERE id = ANY($1::uuid[])',
      [ids],
    );
    return new Map(rows.map((r) => [r.id, { lastSeq: Number(r.last_seq), visibility: r.visibility }]));
  }
}

export interface HistoryWindow {
  afterSeq?: number;
  beforeSeq?: number;
  limit: number;
}

export interface HistoryPage {
  /** `{"items":[…],"lastSeq":n}`, written here: message bodies go from Postgres to the wire without a parse. */
  json: string;
  lastSeq: number;
  /** Whether this exact request can never answer otherwise (every seq it covers is committed; seqs never change). */
  immutable: boolean;
}

/**
 * History in one round trip: the page (ascending) and the channel's lastSeq
 * (at least the highest seq returned); null when the channel is gone.
 */
export async function readHistory(pool: pg.Pool, channelId: string, w: HistoryWindow): Promise<HistoryPage | null> {
  // Without afterSeq the page is the newest `limit` below beforeSeq: read downwards, then reverse.
  const ascending = w.afterSeq !== undefined;
  // Named: each connection plans it once (the read path's hottest query).
  const { rows } = await pool.query<{ last_seq: string; id: string | null; seq: string; author_id: string; body: string; client_msg_id: string | null; created_at: string }>({
    name: ascending ? 'history-asc' : 'history-desc',
    text: `SELECT c.last_seq::text AS last_seq, m.id, m.seq::text AS seq, m.author_id, m.body::text AS body, m.client_msg_id,
            to_char(m.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS created_at
       FROM channels c
       LEFT JOIN LATERAL (
         SELECT * FROM messages WHERE channel_id = c.id AND seq > $2 AND seq < $3
         ORDER BY seq ${ascending ? 'ASC' : 'DESC'} LIMIT $4
       ) m ON true
      WHERE c.id = $1`,
    values: [channelId, w.afterSeq ?? 0, w.beforeSeq ?? Number.MAX_SAFE_INTEGER, w.limit],
  });
  if (rows.length === 0) return null;
  const found = rows.filter((r) => r.id !== null);
  if (!ascending) found.reverse();
  const items = found.map(
    (r) =>
      `{"id":"${r.id}","channelId":"${channelId}","seq":${r.seq},"authorId":"${r.author_id}","body":${r.body},` +
      `"clientMsgId":${r.client_msg_id === null ? 'null' : JSON.stringify(r.client_msg_id)},"createdAt":"${r.created_at}"}`,
  );
  const newest = found.length ? Number(found[found.length - 1].seq) : 0;
  const lastSeq = Math.max(Number(rows[0].last_seq), newest);
  const immutable = w.beforeSeq !== undefined ? w.beforeSeq - 1 <= lastSeq : w.afterSeq !== undefined && w.afterSeq + w.limit <= lastSeq;
  return { json: `{"items":[${items.join(',')}],"lastSeq":${lastSeq}}`, lastSeq, immutable };
}
