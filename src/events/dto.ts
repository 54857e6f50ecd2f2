// The JSON shapes on the wire, shared by REST responses, socket events and the
// client library. Timestamps are ISO strings; seq and lastSeq are numbers.

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export interface UserDto {
  id: string;
  username: string;
  createdAt: string;
}

export interface UserRef {
  id: string;
  username: string;
}

export type Visibility = 'public' | 'private';

export interface ChannelDto {
  id: string;
  name: string;
  visibility: Visibility;
  ownerId: string;
  lastSeq: number;
  createdAt: string;
}

export interface MembershipDto {
  channelId: string;
  user: UserRef;
  role: 'owner' | 'member';
  createdAt: string;
}

export interface MessageDto {
  id: string;
  channelId: string;
  seq: number;
  authorId: string;
  body: Json;
  clientMsgId: string | null;
  createdAt: string;
}

export interface ErrorBody {
  code: string;
  message: string;
  details?: { field: string; reason: string }[];
  /** RATE_LIMITED: when to try again. */
  retryAfterMs?: number;
}
