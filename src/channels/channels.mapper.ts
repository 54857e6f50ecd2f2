import type { ChannelDto, MembershipDto } from '../events/dto.js';

interface ChannelRow {
  id: string;
  name: string;
  visibility: 'public' | 'private';
  ownerId: string;
  lastSeq: bigint;
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

export const toMembershipDto = (m: {
  channelId: string;
  role: 'owner' | 'member';
  createdAt: Date;
  user: { id: string; username: string };
}): MembershipDto => ({
  channelId: m.channelId,
  user: { id: m.user.id, username: m.user.username },
  role: m.role,
  createdAt: m.createdAt.toISOString(),
});
