import type pg from 'pg';
import { conflict, notFound } from '../common/errors.js';
import type { MessageDto, UserRef } from '../events/dto.js';
import { type MessageRow, messageColumns, sameJson, toMessageDto } from './messages.mapper.js';
import type { PublishInput } from './messages.schemas.js';

export interface Publish {
  input: PublishInput;
  user: UserRef;
}

export interface Published {
  message: MessageDto;
  created: boolean;
}

const replayKey = (authorId: string, clientMsgId: string) => `${authorId}\u0000${clientMsgId}`;

/**
 * Stores a batch of one channel's publishes in one transaction, one WAL flush:
 * the channel row locked, access and clientMsgIds checked for every author at
 * once, `last_seq` moved by the number of new messages, all inserted by one
 * statement. Seqs stay gap-free and in commit order, so a committed seq
 * implies every lower seq is committed. Each publish gets its message (a
 * replay: the stored one) or its own error.
 */
export async function commitBatch(pool: pg.Pool, channelId: string, batch: Publish[]): Promise<Array<Published | Error>> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const outcome = await decideAndWrite(client, channelId, batch);
    await client.query('COMMIT');
    return outcome;
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  } finally {
    client.release();
  }
}

async function decideAndWrite(client: pg.PoolClient, channelId: string, batch: Publish[]): Promise<Array<Published | Error>> {
  const locked = await client.query<{ last_seq: string; visibility: string }>('SELECT last_seq::text AS last_seq, visibility::text AS visibility FROM channels WHERE id = $1 FOR UPDATE', [channelId]);
  if (locked.rowCount === 0) return batch.map(() => notFound('channel'));
  const authors = [...new Set(batch.map((p) => p.user.id))];
  let allowed: Set<string> | undefined;
  if (locked.rows[0].visibility === 'private') {
    const members = await client.query<{ user_id: string }>('SELECT user_id FROM memberships WHERE channel_id = $1 AND user_id = ANY($2::uuid[])', [channelId, authors]);
    allowed = new Set(members.rows.map((r) => r.user_id));
  }
  const keyed = batch.filter((p) => p.input.clientMsgId !== undefined);
  const stored = new Map<string, MessageDto>();
  if (keyed.length > 0) {
    const found = await client.query<MessageRow>(
      `SELECT ${messageColumns()} FROM messages m
        JOIN unnest($2::uuid[], $3::text[]) AS k(author_id, client_msg_id) USING (author_id, client_msg_id)
       WHERE m.channel_id = $1`,
      [channelId, keyed.map((p) => p.user.id), keyed.map((p) => p.input.clientMsgId)],
    );
    for (const r of found.rows) stored.set(replayKey(r.author_id, r.client_msg_id!), toMessageDto(r));
  }

  // Decide in arrival order; a clientMsgId repeated inside the batch is a replay of its first use.
  type Decision = { error: Error } | { replayOf: string } | { index: number };
  const fresh: Publish[] = [];
  const firstUse = new Map<string, Publish>();
  const decisions: Decision[] = batch.map((p) => {
    if (allowed && !allowed.has(p.user.id)) return { error: notFound('channel') };
    const cid = p.input.clientMsgId;
    if (cid === undefined) return { index: fresh.push(p) - 1 };
    const key = replayKey(p.user.id, cid);
    // `has`, not `??`: a stored body may itself be null.
    const earlier = stored.has(key) ? stored.get(key)!.body : firstUse.has(key) ? firstUse.get(key)!.input.body : undefined;
    if (stored.has(key) || firstUse.has(key)) {
      return sameJson(earlier, p.input.body) ? { replayOf: key } : { error: conflict('clientMsgId was already used with another body') };
    }
    firstUse.set(key, p);
    return { index: fresh.push(p) - 1 };
  });

  let created: MessageDto[] = [];
  if (fresh.length > 0) {
    const base = Number(locked.rows[0].last_seq);
    await client.query('UPDATE channels SET last_seq = last_seq + $2 WHERE id = $1', [channelId, fresh.length]);
    const inserted = await client.query<MessageRow>(
      `INSERT INTO messages (id, channel_id, seq, author_id, body, client_msg_id)
       SELECT gen_random_uuid(), $1, $2::bigint + o, a, b::jsonb, c
         FROM unnest($3::uuid[], $4::text[], $5::text[]) WITH ORDINALITY AS t(a, b, c, o)
       RETURNING ${messageColumns('')}`,
      [channelId, base, fresh.map((p) => p.user.id), fresh.map((p) => JSON.stringify(p.input.body)), fresh.map((p) => p.input.clientMsgId ?? null)],
    );
    created = inserted.rows.map(toMessageDto).sort((a, b) => a.seq - b.seq);
    fresh.forEach((p, i) => {
      if (p.input.clientMsgId !== undefined) stored.set(replayKey(p.user.id, p.input.clientMsgId), created[i]);
    });
  }
  return decisions.map((d) => {
    if ('error' in d) return d.error;
    if ('replayOf' in d) return { message: stored.get(d.replayOf)!, created: false };
    return { message: created[d.index], created: true };
  });
}
