import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { AuthService } from '../auth/auth.service.js';
import { ChannelsService } from '../channels/channels.service.js';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { LOGGER, type JsonLogger } from '../logging/logger.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { MessagesReader } from '../messages/messages.reader.js';
import { DeliveryService } from './delivery.service.js';
import { SocketServer } from './socket-server.js';
import { SubscriptionService } from './subscription.service.js';

/**
 * The reconciliation tick: for each channel with subscribers here, compare
 * the highest seq emitted here with the channel's lastSeq in Postgres and
 * let its stream read what is missing. It repairs what the hold-back cannot
 * see (the last message of a channel that then goes quiet, lost with a
 * publisher or with Redis) and re-applies access: a deleted channel, or a
 * private one a local user is no longer in, is evicted even if the
 * revocation event itself was lost with Redis; so is a socket whose user
 * logged out everywhere or changed password meanwhile.
 */
@Injectable()
export class ReconcilerService implements OnApplicationBootstrap, OnModuleDestroy {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = false;

  constructor(
    private readonly delivery: DeliveryService,
    private readonly subscriptions: SubscriptionService,
    private readonly reader: MessagesReader,
    private readonly channels: ChannelsService,
    private readonly auth: AuthService,
    private readonly sockets: SocketServer,
    private readonly metrics: MetricsService,
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
      .then(
        () => this.metrics.reconcilePasses.inc({ outcome: 'ok' }),
        (e: unknown) => {
          this.metrics.reconcilePasses.inc({ outcome: 'failed' });
          this.logger.event('warn', 'reconciliation failed', { err: String(e) });
        },
      )
      .finally(() => (this.running = undefined));
    return this.running;
  }

  private async pass() {
    await this.channelsPass();
    const sessions = this.sockets.sessionsHere();
    if (sessions.size > 0) for (const [userId, version] of await this.auth.revokedAmong(sessions)) this.sockets.endSessions(userId, version);
  }

  private async channelsPass() {
    const ids = this.delivery.tracked();
    if (ids.length === 0) return;
    const heads = await this.reader.heads(ids);
    for (const channelId of ids) {
      if (!this.delivery.stream(channelId)) continue;
      const head = heads.get(channelId);
      if (!head) {
        this.subscriptions.deletedHere(channelId);
        continue;
      }
      if (head.visibility === 'private') {
        const here = this.subscriptions.usersHere(channelId);
        const members = await this.channels.membersAmong(channelId, here);
        this.subscriptions.revokeHere(channelId, here.filter((u) => !members.has(u)), 'removed');
      }
      this.delivery.stream(channelId)?.catchUp(head.lastSeq);
    }
  }

  onModuleDestroy() {
    this.stopped = true;
    clearTimeout(this.timer);
  }
}
