import type { ChannelDto, MembershipDto } from '../events/dto.js';

export interface ChannelRow {
  id: string;
  name: string;
  visibility: 'public' | 'private';
  ownerId: string;
  /** Prisma reads int8 as a bigint, plain SQL (pg) as its text. */
  lastSeq: bigint | string;
  createdAt: Date;
}

export const toChannelDto = (c: ChannelRow): ChannelDto => ({
  id: c.id,
  name: c.name,
  visibility: c.visibility,
  ownerId: c.ownerId,
  lastSeq: Number(c.lastSeq),
  createdAt: c.createdAt.toISOString(),
});

export const toMembershipDto = (m: { channelId: string; role: 'owner' | 'member'; createdAt: Date; user: { id: string; username: string } }): MembershipDto => ({
  channelId: m.channelId,
  user: { id: m.user.id, username: m.user.username },
  role: m.role,
  createdAt: m.createdAt.toISOString(),
});
