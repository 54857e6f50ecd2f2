import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { withTimeout } from '../../common/with-timeout.js';
import { APP_CONFIG, type AppConfig } from '../../config/config.js';
import type { FanoutHealth, FanoutState } from '../../events/ports.js';
import { LOGGER, type JsonLogger } from '../../logging/logger.js';
import { Background, type Loop } from '../../metrics/background.js';
import { INSTANCE_ID, REDIS_CLIENTS } from '../../redis/redis.provider.js';
import type { RedisClients } from '../../redis/redis-clients.js';

const STUCK_AFTER = 3;

/**
 * Background checks behind /readyz. Redis: PING on the publishing connection.
 * Fan-out: a canary published on a channel of this instance's own and read on
 * the connection the channels' topics come in by (ChannelBus), so it fails
 * exactly when they would. Three canaries in a row lost while Redis answers
 * PING means this replica's fan-out is stuck.
 */
@Injectable()
export class FanoutHealthService implements FanoutHealth, OnApplicationBootstrap, OnModuleDestroy {
  private redisState: 'ok' | 'down' = 'down';
  private misses = 0;
  private pending?: string;
  private loop?: Loop;
  private readonly channel: string;

  constructor(
    @Inject(REDIS_CLIENTS) private readonly clients: RedisClients | null,
    @Inject(INSTANCE_ID) instanceId: string,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) private readonly logger: JsonLogger,
    private readonly background: Background,
  ) {
    this.channel = `crosswire:canary:${instanceId}`;
  }

  onApplicationBootstrap() {
    const clients = this.clients;
    if (!clients) return;
    void clients.bus.subscribe(this.channel);
    clients.bus.on('message', (channel: string, nonce: string) => {
      if (channel === this.channel && nonce === this.pending) {
        this.pending = undefined;
        this.misses = 0;
      }
    });
    this.loop = this.background.every('fanout-canary', this.config.CANARY_INTERVAL_MS, () => this.tick(clients));
  }

  private async tick(clients: RedisClients) {
    const before = this.fanout();
    const pong = await withTimeout(
      clients.pub.ping().then(
        () => true,
        () => false,
      ),
      this.config.CANARY_INTERVAL_MS,
      false,
    );
    this.redisState = pong ? 'ok' : 'down';
    if (pong) {
      if (this.pending !== undefined) this.misses++;
      this.pending = randomUUID();
      // Not awaited: Redis paused right after the PING would hold this loop, and its next PING, forever.
      // The guarded client logs a failed publish; a lost canary is what the next tick counts.
      void clients.pub.publish(this.channel, this.pending);
    } else {
      this.pending = undefined;
    }
    if (before !== this.fanout()) this.logger.event(this.fanout() === 'ok' ? 'info' : 'warn', `fan-out ${this.fanout()}`, { component: 'fanout-canary' });
  }

  redis() {
    return this.clients ? this.redisState : 'disabled';
  }

  fanout(): FanoutState {
    // Without Redis, fan-out is in-process and cannot get stuck.
    if (!this.clients) return 'ok';
    if (this.redisState === 'down') return 'down';
    return this.misses >= STUCK_AFTER ? 'stuck' : 'ok';
  }

  onModuleDestroy() {
    this.loop?.stop();
  }
}
