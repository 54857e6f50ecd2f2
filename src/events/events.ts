import type { Server, Socket } from 'socket.io';
import type { ChannelDto, ErrorBody, Json, MessageDto, UserRef } from './dto.js';

export type Ack<T extends object = object> = ({ ok: true } & T) | { ok: false; error: ErrorBody };
type AckFn<T extends object = object> = (answer: Ack<T>) => void;

export interface SubscribeResult {
  channel: ChannelDto;
  presence: UserRef[];
  missed: MessageDto[];
  hasMore: boolean;
}

export type RemovedReason = 'removed' | 'left' | 'private';

/** Events a client sends; the server answers each through its ack. */
export interface ClientToServerEvents {
  'channel:subscribe': (p: { channelId: string; sinceSeq?: number }, ack?: AckFn<SubscribeResult>) => void;
  'channel:unsubscribe': (p: { channelId: string }, ack?: AckFn) => void;
  'message:publish': (
    p: { channelId: string; body: Json; clientMsgId?: string },
    ack?: AckFn<{ message: MessageDto }>,
  ) => void;
  typing: (p: { channelId: string }) => void;
}

/** Events the server pushes. */
export interface ServerToClientEvents {
  session: (p: { userId: string; replicaId: string }) => void;
  'message:created': (m: MessageDto) => void;
  'presence:joined': (p: { channelId: string; user: UserRef }) => void;
  'presence:left': (p: { channelId: string; user: UserRef }) => void;
  typing: (p: { channelId: string; user: UserRef }) => void;
  'channel:removed': (p: { channelId: string; reason: RemovedReason }) => void;
  'channel:deleted': (p: { channelId: string }) => void;
}

export type ServerEvent = keyof ServerToClientEvents;
export type ServerEventPayload<E extends ServerEvent> = Parameters<ServerToClientEvents[E]>[0];

export interface SocketData {
  user: UserRef;
  tokenExp: number;
}

export const channelRoom = (channelId: string) => `channel:${channelId}`;
export const userRoom = (userId: string) => `user:${userId}`;

/** Between replicas, through the Redis adapter's serverSideEmit (never sent to the sender). */
export interface InterServerEvents {
  'x:message': (m: MessageDto) => void;
  'x:revoke': (channelId: string, userIds: string[], reason: RemovedReason) => void;
  'x:private': (channelId: string, memberIds: string[]) => void;
  'x:deleted': (channelId: string) => void;
}

export type TypedServer = Server<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;
export type TypedSocket = Socket<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;

/** A gateway's handle on a socket's channel subscriptions (realtime/ implements it). */
export interface ChannelSessions {
  /** Joins the channel room and presence; resolves once the room is joined. */
  join(socket: TypedSocket, channelId: string): Promise<void>;
  leave(socket: TypedSocket, channelId: string): void;
  isIn(socket: TypedSocket, channelId: string): boolean;
  /** The channel's lastSeq as read after joining: where this replica's delivery tracking starts. */
  track(channelId: string, lastSeq: number): void;
}

export const CHANNEL_SESSIONS = Symbol('CHANNEL_SESSIONS');
