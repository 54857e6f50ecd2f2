import type { SocketQuota } from '../limits/socket-quota.js';
import type { Server, Socket } from 'socket.io';
import type { ClientToServerEvents, ServerToClientEvents } from './events.js';
import type { UserRef } from './dto.js';

// Server-side socket types (type-only: nothing here loads socket.io). Kept
// apart from events.ts, which the client library shares.

export interface SocketData {
  user: UserRef;
  tokenExp: number;
  /** The user's token version the socket was opened with: older ones are ended on revocation. */
  tokenVersion: number;
  /** The per-socket limits' windows (LimitsService), made on first use. */
  quota?: SocketQuota;
}

/** None: what replicas tell each other goes over the channels' bus (realtime/channel-bus.ts), in order with messages. */
export type InterServerEvents = Record<string, never>;

export type TypedServer = Server<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;
export type TypedSocket = Socket<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;
