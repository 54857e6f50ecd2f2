import { Inject, Injectable } from '@nestjs/common';
import { AppError, notFound } from '../common/errors.js';
import { jsonBytes } from '../common/validation.js';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { PrismaService } from '../database/prisma.service.js';
import { BROADCASTER, type Broadcaster, type Port } from '../events/ports.js';
import type { UserRef } from '../events/dto.js';
import { ChannelsService } from '../channels/channels.service.js';
import { LimitsService } from '../limits/limits.service.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { KeyedBatcher } from './keyed-batcher.js';
import { type Publish, type Published, commitBatch } from './publish-batch.js';
import { type BoundedPage, type HistoryPage, readHistory, readRangeBounded } from './messages.reader.js';
import type { HistoryQuery, PublishInput } from './messages.schemas.js';

export const MISSED_LIMIT = 500;

/** At most this many publishes of one channel share a transaction. */
const MAX_BATCH = 256;

@Injectable()
export class MessagesService {
  private readonly batches: KeyedBatcher<Publish, Published>;
  /** Publishes admitted and not yet answered, on this replica. */
  private pending = 0;

  constructor(
    private readonly db: PrismaService,
    private readonly channels: ChannelsService,
    @Inject(BROADCASTER) private readonly broadcaster: Port<Broadcaster>,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly metrics: MetricsService,
    private readonly limits: LimitsService,
  ) {
    this.batches = new KeyedBatcher((channelId, batch) => this.commit(channelId, batch), MAX_BATCH);
  }

  /**
   * Stores, then fans out. Publishes of one channel that arrive while one of
   * its batches is being written wait and go together into the next (group
   * commit: one transaction and one WAL flush for all of them); see
   * commitBatch for what each holds. A replay is answered, not broadcast
   * again: its subscribers already have it.
   */
  async publish(channelId: string, input: PublishInput, user: UserRef): Promise<Published> {
    await this.limits.publish(user.id);
    const size = jsonBytes(input.body);
    if (size > this.config.MESSAGE_MAX_BYTES) {
      throw new AppError('PAYLOAD_TOO_LARGE', `body is ${size} bytes; the limit is ${this.config.MESSAGE_MAX_BYTES}`, [
        { field: 'body', reason: `at most ${this.config.MESSAGE_MAX_BYTES} bytes as JSON` },
      ]);
    }
    // Past the bound an overloaded replica answers 503 at once rather than let every publish wait
    // seconds in line: the client retries the same clientMsgId later, nothing is stored twice.
    if (this.pending >= this.config.PUBLISH_MAX_PENDING) {
      this.metrics.shed.inc({ what: 'publish' });
      throw new AppError('UNAVAILABLE', `overloaded: ${this.pending} publishes are waiting on this replica, try again shortly`);
    }
    this.metrics.publishesPending.set(++this.pending);
    const stop = this.metrics.publishLatency.startTimer();
    try {
      const published = await this.batches.submit(channelId, { input, user });
      this.metrics.publishRecent.observe(stop());
      return published;
    } finally {
      this.metrics.publishesPending.set(--this.pending);
    }
  }

  /** One batch: committed, then its new messages handed to fan-out in seq order, before anyone is answered. */
  private async commit(channelId: string, batch: Publish[]): Promise<Array<Published | Error>> {
    const outcomes = await commitBatch(this.db.pool, channelId, batch);
    const created = outcomes.filter((o): o is Published => !(o instanceof Error) && o.created).map((o) => o.message);
    for (const message of created.sort((a, b) => a.seq - b.seq)) this.broadcaster.use.messageCreated(message);
    return outcomes;
  }

  /** Access from the read-access cache, then one query: an authenticated history read is one round trip. */
  async history(channelId: string, query: HistoryQuery, user: UserRef): Promise<HistoryPage> {
    await this.channels.canRead(channelId, user);
    const page = await readHistory(this.db.pool, channelId, query);
    if (!page) throw notFound('channel');
    return page;
  }

  /**
   * A subscriber's missed messages: seq in (sinceSeq, upTo], oldest first, at
   * most `limit` and `maxBytes` (but at least one), and whether more follow
   * (plain SQL: a reconnect storm runs one of these per socket).
   */
  missed(channelId: string, sinceSeq: number, upTo: number, maxBytes: number, limit = MISSED_LIMIT): Promise<BoundedPage> {
    return readRangeBounded(this.db.pool, channelId, sinceSeq, upTo, limit, maxBytes);
  }
}
