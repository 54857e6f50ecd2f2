import type { MessageDto, UserRef } from './dto.js';
import type { RemovedReason } from './events.js';

/**
 * The only way services reach sockets. Each call takes effect on every replica
 * (in-process without Redis, through the adapter with it); services never see
 * socket.io.
 */
export interface Broadcaster {
  messageCreated(message: MessageDto): void;
  /** Takes `userIds`' sockets out of the channel and tells them why. */
  accessRevoked(channelId: string, userIds: string[], reason: RemovedReason): void;
  /** Takes every socket whose user is not in `memberIds` out of the channel. */
  channelMadePrivate(channelId: string, memberIds: string[]): void;
  channelDeleted(channelId: string): void;
  /** Volatile; not echoed to the sender's own sockets. */
  typing(channelId: string, user: UserRef): void;
}

export const BROADCASTER = Symbol('BROADCASTER');

/** Who is online in a channel, across replicas (realtime/ implements it). */
export interface PresenceReader {
  online(channelId: string): Promise<UserRef[]>;
}

export const PRESENCE_READER = Symbol('PRESENCE_READER');

export type FanoutState = 'ok' | 'down' | 'stuck';

/** Redis and fan-out health as background checks see them (realtime/ implements it). */
export interface FanoutHealth {
  redis(): 'ok' | 'down' | 'disabled';
  fanout(): FanoutState;
}

export const FANOUT_HEALTH = Symbol('FANOUT_HEALTH');
