import { Inject, Injectable } from '@nestjs/common';
import { AppError, conflict, notFound } from '../common/errors.js';
import { jsonBytes } from '../common/validation.js';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { PrismaService } from '../database/prisma.service.js';
import { BROADCASTER, type Broadcaster, type Port } from '../events/ports.js';
import type { MessageDto, UserRef } from '../events/dto.js';
import { Prisma } from '../generated/prisma/client.js';
import { ChannelsService } from '../channels/channels.service.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { sameJson, toMessageDto } from './messages.mapper.js';
import { readRange } from './messages.reader.js';
import type { HistoryQuery, PublishInput } from './messages.schemas.js';

export const MISSED_LIMIT = 500;

interface LockedChannel {
  last_seq: bigint;
  visibility: string;
  member: boolean;
}

@Injectable()
export class MessagesService {
  constructor(
    private readonly db: PrismaService,
    private readonly channels: ChannelsService,
    @Inject(BROADCASTER) private readonly broadcaster: Port<Broadcaster>,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly metrics: MetricsService,
  ) {}

  /**
   * Stores then fans out. Under the channel row lock: access, the clientMsgId
   * lookup and seq assignment, so seqs commit in order with no gap and a
   * replay burns none. The lock also keeps the invariant in-order delivery
   * relies on: a committed seq implies every lower seq is committed. A replay
   * is answered, not broadcast again: its subscribers already have it.
   */
  async publish(channelId: string, input: PublishInput, user: UserRef): Promise<{ message: MessageDto; created: boolean }> {
    const size = jsonBytes(input.body);
    if (size > this.config.MESSAGE_MAX_BYTES) {
      throw new AppError('PAYLOAD_TOO_LARGE', `body is ${size} bytes; the limit is ${this.config.MESSAGE_MAX_BYTES}`, [
        { field: 'body', reason: `at most ${this.config.MESSAGE_MAX_BYTES} bytes as JSON` },
      ]);
    }
    const stop = this.metrics.publishLatency.startTimer();
    const { row, created } = await this.db.$transaction(
      async (tx) => {
        const [channel] = await tx.$queryRaw<LockedChannel[]>`
          SELECT c.last_seq, c.visibility::text AS visibility,
                 EXISTS (SELECT 1 FROM memberships m WHERE m.channel_id = c.id AND m.user_id = ${user.id}::uuid) AS member
          FROM channels c WHERE c.id = ${channelId}::uuid FOR UPDATE`;
        if (!channel || (channel.visibility === 'private' && !channel.member)) throw notFound('channel');
        if (input.clientMsgId !== undefined) {
          const existing = await tx.message.findUnique({
            where: { channelId_authorId_clientMsgId: { channelId, authorId: user.id, clientMsgId: input.clientMsgId } },
          });
          if (existing) {
            if (!sameJson(existing.body, input.body)) throw conflict('clientMsgId was already used with another body');
            return { row: existing, created: false };
          }
        }
        const seq = channel.last_seq + 1n;
        await tx.$executeRaw`UPDATE channels SET last_seq = ${seq} WHERE id = ${channelId}::uuid`;
        const row = await tx.message.create({
          data: {
            channelId,
            seq,
            authorId: user.id,
            body: input.body === null ? Prisma.JsonNull : (input.body as Prisma.InputJsonValue),
            clientMsgId: input.clientMsgId ?? null,
          },
        });
        return { row, created: true };
      },
      { maxWait: 10_000, timeout: 15_000 },
    );
    const message = toMessageDto(row);
    if (created) this.broadcaster.use.messageCreated(message);
    stop();
    return { message, created };
  }

  async history(channelId: string, query: HistoryQuery, user: UserRef): Promise<{ items: MessageDto[]; lastSeq: number }> {
    const { channel } = await this.channels.access(channelId, user);
    const seq: { gt?: bigint; lt?: bigint } = {};
    if (query.afterSeq !== undefined) seq.gt = BigInt(query.afterSeq);
    if (query.beforeSeq !== undefined) seq.lt = BigInt(query.beforeSeq);
    const ascending = query.afterSeq !== undefined;
    const rows = await this.db.message.findMany({
      where: { channelId, seq },
      orderBy: { seq: ascending ? 'asc' : 'desc' },
      take: query.limit,
    });
    if (!ascending) rows.reverse();
    const items = rows.map(toMessageDto);
    const newest = items.length ? items[items.length - 1].seq : 0;
    return { items, lastSeq: Math.max(Number(channel.lastSeq), newest) };
  }

  /**
   * A subscriber's missed messages: seq in (sinceSeq, upTo], oldest first, at
   * most `limit`, and whether more follow (plain SQL: a reconnect storm runs
   * one of these per socket).
   */
  async missed(channelId: string, sinceSeq: number, upTo: number, limit = MISSED_LIMIT): Promise<{ items: MessageDto[]; hasMore: boolean }> {
    const rows = await readRange(this.db.pool, channelId, sinceSeq, upTo, limit + 1);
    return { items: rows.slice(0, limit), hasMore: rows.length > limit };
  }
}
