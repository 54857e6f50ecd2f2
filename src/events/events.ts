import type { RemovedReason, SessionEnd } from './close-reasons.js';
import type { ChannelDto, ErrorBody, Json, MessageDto, UserRef } from './dto.js';

export type { RemovedReason, SessionEnd } from './close-reasons.js';

// The socket event maps, shared by the server and the client library.

export type Ack<T extends object = object> = ({ ok: true } & T) | { ok: false; error: ErrorBody };
type AckFn<T extends object = object> = (answer: Ack<T>) => void;

/**
 * `missed` is every message in (sinceSeq, head]. With `hasMore` false the
 * socket is attached: live delivery continues at head + 1. With `hasMore` true
 * it is not: subscribe again with sinceSeq = head.
 */
export interface SubscribeResult {
  channel: ChannelDto;
  presence: UserRef[];
  missed: MessageDto[];
  hasMore: boolean;
  head: number;
}

/** Events a client sends; the server answers each through its ack. */
export interface ClientToServerEvents {
  'channel:subscribe': (p: { channelId: string; sinceSeq?: number }, ack?: AckFn<SubscribeResult>) => void;
  'channel:unsubscribe': (p: { channelId: string }, ack?: AckFn) => void;
  'message:publish': (p: { channelId: string; body: Json; clientMsgId?: string }, ack?: AckFn<{ message: MessageDto }>) => void;
  typing: (p: { channelId: string }) => void;
}

/** Events the server pushes. */
export interface ServerToClientEvents {
  session: (p: { userId: string; replicaId: string }) => void;
  /** The session ends for good (then the server disconnects): log in again. */
  'session:revoked': (p: { reason: SessionEnd }) => void;
  'message:created': (m: MessageDto) => void;
  'presence:joined': (p: { channelId: string; user: UserRef }) => void;
  'presence:left': (p: { channelId: string; user: UserRef }) => void;
  typing: (p: { channelId: string; user: UserRef }) => void;
  'channel:removed': (p: { channelId: string; reason: RemovedReason }) => void;
  'channel:deleted': (p: { channelId: string }) => void;
}

export type ServerEvent = keyof ServerToClientEvents;
export type ServerEventPayload<E extends ServerEvent> = Parameters<ServerToClientEvents[E]>[0];

export const channelRoom = (channelId: string) => `channel:${channelId}`;
