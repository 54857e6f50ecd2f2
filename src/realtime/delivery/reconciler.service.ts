import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { performance } from 'node:perf_hooks';
import { AuthService } from '../../auth/auth.service.js';
import { ChannelsService } from '../../channels/channels.service.js';
import { APP_CONFIG, type AppConfig } from '../../config/config.js';
import { Background } from '../../metrics/background.js';
import { MetricsService } from '../../metrics/metrics.service.js';
import { type ChannelHead, MessagesReader } from '../../messages/messages.reader.js';
import { ChannelBus } from './channel-bus.js';
import { DeliveryService } from './delivery.service.js';
import { SocketServer, addOldest } from '../transport/socket-server.js';
import { SubscriptionService } from './subscription.service.js';

/**
 * The reconciliation tick: for each channel with subscribers here, compare
 * the highest seq emitted here with the channel's lastSeq in Postgres and
 * let its stream read what is missing. It repairs what the hold-back cannot
 * see (the last message of a channel that then goes quiet, lost with a
 * publisher or with Redis) and re-applies access: a deleted channel, or a
 * private one a local user is no longer in, is evicted even if the
 * revocation frame itself was lost with Redis; so is a socket whose user
 * logged out everywhere or changed password meanwhile.
 *
 * Three queries a pass, whatever the number of channels and sockets: the
 * heads, then the token versions and the memberships together. Access is read
 * after the heads, and applied before any catch-up: a message the heads
 * include was committed before those reads, so a revocation answered before
 * that message was published is seen and applied before the message is read.
 */
/** Channels gathered or applied per event-loop turn. */
const APPLY_SLICE = 200;
/** Sockets read per event-loop turn. */
const SESSIONS_SLICE = 2_000;

const nextTurn = () => new Promise<void>((r) => setImmediate(r));

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
    private readonly background: Background,
    private readonly bus: ChannelBus,
  ) {}

  onApplicationBootstrap() {
    // The topics back: whatever was published while they were away is filled in now, not at the next tick.
    this.bus.onReady(() => void this.runOnce());
    const loop = async () => {
      await this.runOnce();
      if (!this.stopped) this.timer = setTimeout(() => void loop(), this.config.RECONCILE_MS).unref();
    };
    this.timer = setTimeout(() => void loop(), this.config.RECONCILE_MS).unref();
  }

  /** One pass now (also when Redis comes back); concurrent calls share the pass in flight. */
  runOnce(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.running ??= this.timed()
      .then(
        () => this.metrics.reconcilePasses.inc({ outcome: 'ok' }),
        (e: unknown) => {
          this.metrics.reconcilePasses.inc({ outcome: 'failed' });
          this.background.failed('reconcile', e);
        },
      )
      .finally(() => (this.running = undefined));
    return this.running;
  }

  /** The pass, with its event-loop time summed slice by slice (between its awaits). */
  private async timed() {
    const started = performance.now();
    let blocked = 0;
    const slice = <T>(work: () => T): T => {
      const t = performance.now();
      try {
        return work();
      } finally {
        blocked += performance.now() - t;
      }
    };
    try {
      await this.pass(slice);
    } finally {
      this.metrics.reconcileDuration.observe((performance.now() - started) / 1000);
      this.metrics.reconcileBlocked.observe(blocked / 1000);
    }
  }

  private async pass(slice: <T>(work: () => T) => T) {
    const ids = slice(() => this.delivery.tracked());
    const heads = ids.length > 0 ? await this.reader.heads(ids) : new Map<string, ChannelHead>();
    // Who to check, as of now: a socket that subscribes during the queries checked its own access.
    // Gathered a slice at a time, so thousands of sockets never hold the event loop in one stretch.
    const channelIds: string[] = [];
    const userIds: string[] = [];
    for (let i = 0; i < ids.length; i += APPLY_SLICE) {
      if (i > 0) await nextTurn();
      slice(() => {
        for (const id of ids.slice(i, i + APPLY_SLICE)) {
          if (heads.get(id)?.visibility !== 'private') continue;
          for (const u of this.subscriptions.usersHere(id)) (channelIds.push(id), userIds.push(u));
        }
      });
    }
    const sessions = new Map<string, number>();
    const all = this.sockets.sessions();
    for (let done = false; !done;) {
      await nextTurn();
      slice(() => {
        for (let n = 0; n < SESSIONS_SLICE; n++) {
          const next = all.next();
          if (next.done) return void (done = true);
          addOldest(sessions, next.value);
        }
      });
    }
    // Only what changed comes back: the stale sessions, and the subscribers no longer members.
    const [revoked, outsiders] = await Promise.all([sessions.size > 0 ? this.auth.revokedAmong(sessions) : Promise.resolve([]), this.channels.nonMembersAmong(channelIds, userIds)]);
    slice(() => {
      for (const [userId, version] of revoked) this.sockets.endSessions(userId, version);
    });
    // In slices of channels, so a pass over thousands never holds the event loop in one stretch;
    // each channel's evictions still come before its catch-up.
    for (let i = 0; i < ids.length; i += APPLY_SLICE) {
      if (i > 0) await nextTurn();
      slice(() => {
        for (const id of ids.slice(i, i + APPLY_SLICE)) this.apply(id, heads.get(id), outsiders.get(id));
      });
    }
  }

  private apply(id: string, head: ChannelHead | undefined, outsiders: string[] | undefined) {
    const stream = this.delivery.stream(id);
    if (!stream) return;
    if (!head) return this.subscriptions.deletedHere(id);
    if (outsiders) this.subscriptions.revokeHere(id, outsiders, 'removed');
    stream.catchUp(head.lastSeq);
  }

  onModuleDestroy() {
    this.stopped = true;
    clearTimeout(this.timer);
  }
}
