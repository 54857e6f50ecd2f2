import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { ChannelsService } from '../channels/channels.service.js';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { LOGGER, type JsonLogger } from '../logging/logger.js';
import { MessagesService } from '../messages/messages.service.js';
import { RealtimeService } from './realtime.service.js';

const PAGE = 500;

/**
 * The reconciliation tick: for each channel with subscribers here, compare the
 * highest seq delivered here with the channel's lastSeq in Postgres and
 * deliver what is missing. It repairs live events lost anywhere (a publisher
 * that died after storing, Redis down or restarting) and re-applies access:
 * a deleted channel, or a private one a local user is no longer in, is
 * evicted even if the revocation event itself was lost with Redis.
 */
@Injectable()
export class ReconcilerService implements OnApplicationBootstrap, OnModuleDestroy {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = false;

  constructor(
    private readonly realtime: RealtimeService,
    private readonly channels: ChannelsService,
    private readonly messages: MessagesService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) private readonly logger: JsonLogger,
  ) {}

  onApplicationBootstrap() {
    const loop = async () => {
      await this.runOnce();
      if (!this.stopped) this.timer = setTimeout(() => void loop(), this.config.RECONCILE_MS).unref();
    };
    this.timer = setTimeout(() => void loop(), this.config.RECONCILE_MS).unref();
  }

  /** One pass now (also when Redis comes back); concurrent calls share the pass in flight. */
  runOnce(): Promise<void> {
    this.running ??= this.pass()
      .catch((e: unknown) => this.logger.event('warn', 'reconciliation failed', { err: String(e) }))
      .finally(() => (this.running = undefined));
    return this.running;
  }

  private async pass() {
    const tracker = this.realtime.tracker;
    const ids = tracker.tracked();
    if (ids.length === 0) return;
    const heads = new Map((await this.channels.heads(ids)).map((h) => [h.id, h]));
    for (const channelId of ids) {
      const head = heads.get(channelId);
      if (!head) {
        this.realtime.deletedHere(channelId);
        continue;
      }
      if (head.visibility === 'private') {
        const here = [...this.realtime.localUsers(channelId)];
        const members = await this.channels.membersAmong(channelId, here);
        this.realtime.revokeHere(channelId, here.filter((u) => !members.has(u)), 'removed');
      }
      let from = tracker.watermark(channelId);
      while (from !== undefined && from < head.lastSeq) {
        const page = await this.messages.after(channelId, from, PAGE);
        for (const m of page.items) this.realtime.deliver(m, 'reconcile');
        if (!page.hasMore || page.items.length === 0) break;
        from = page.items[page.items.length - 1].seq;
      }
    }
  }

  onModuleDestroy() {
    this.stopped = true;
    clearTimeout(this.timer);
  }
}
