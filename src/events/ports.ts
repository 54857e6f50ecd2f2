import type { MessageDto, UserRef } from './dto.js';
import type { RemovedReason } from './events.js';

/**
 * A feature service's handle on something realtime/ implements. Realtime binds
 * it once at start-up, so channels/ and messages/ never import realtime/ (which
 * imports them): no module cycle, and none hidden by a global module.
 */
export class Port<T extends object> {
  private impl?: T;

  constructor(private readonly name: string) {}

  bind(impl: T): void {
    this.impl = impl;
  }

  get use(): T {
    if (!this.impl) throw new Error(`${this.name} is used before realtime/ bound it`);
    return this.impl;
  }
}

/**
 * The only way services reach sockets. Each call takes effect on every replica
 * (in-process without Redis, through Redis with it).
 */
export interface Broadcaster {
  /** A newly stored message (a replay is not announced again). */
  messageCreated(message: MessageDto): void;
  /**
   * Takes `userIds`' sockets out of the channel and tells them why. Like the
   * three below, it resolves once the change is applied here and Redis took it
   * for the other replicas (or after a bounded wait): answer the request only
   * then, and no message published after the answer reaches those sockets.
   */
  accessRevoked(channelId: string, userIds: string[], reason: RemovedReason): Promise<void>;
  /** Takes every socket whose user is not in `memberIds` out of the channel. */
  channelMadePrivate(channelId: string, memberIds: string[]): Promise<void>;
  channelDeleted(channelId: string): Promise<void>;
  /** Every socket of the user opened with a token older than `version`, on every replica, is told `session:revoked` and disconnected. */
  sessionsRevoked(userId: string, version: number): Promise<void>;
}

/** Who is online in a channel, across replicas. */
export interface PresenceReader {
  online(channelId: string): Promise<UserRef[]>;
}

export type FanoutState = 'ok' | 'down' | 'stuck';

/** Redis and fan-out health as background checks see them. */
export interface FanoutHealth {
  redis(): 'ok' | 'down' | 'disabled';
  fanout(): FanoutState;
}

export const BROADCASTER = Symbol('BROADCASTER');
export const PRESENCE_READER = Symbol('PRESENCE_READER');
export const FANOUT_HEALTH = Symbol('FANOUT_HEALTH');
