import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { conflict, forbidden, notFound } from '../common/errors.js';
import { PrismaService } from '../database/prisma.service.js';
import { BROADCASTER, type Broadcaster, type Port } from '../events/ports.js';
import type { ChannelDto, MembershipDto, UserRef } from '../events/dto.js';
import { type ChannelRow, toChannelDto, toMembershipDto } from './channels.mapper.js';
import { type ListPosition, decodeCursor, encodeCursor } from './list-cursor.js';
import type { CreateChannel, ListChannels, UpdateChannel } from './channels.schemas.js';
import { CoherentCache } from '../redis/coherent-cache.js';
import { Invalidations } from '../redis/invalidations.js';

const isUniqueViolation = (e: unknown) => (e as { code?: string }).code === 'P2002';

// Before every channel: names are never empty, and '' sorts first in every collation.
const START: ListPosition = { name: '', id: '00000000-0000-0000-0000-000000000000' };

/** What reading a channel depends on, for one user: null when the channel does not exist. */
type ReadAccess = { visibility: 'public' | 'private'; member: boolean } | null;

@Injectable()
export class ChannelsService implements OnModuleDestroy {
  /** Per channel, per user: kept a second at most, dropped on every replica when the channel or its members change. */
  private readonly readAccess: CoherentCache<ReadAccess>;

  constructor(
    private readonly db: PrismaService,
    @Inject(BROADCASTER) private readonly broadcaster: Port<Broadcaster>,
    invalidations: Invalidations,
  ) {
    this.readAccess = new CoherentCache(invalidations, 'channel');
  }

  onModuleDestroy() {
    this.readAccess.stop();
  }

  /**
   * The read rule (history, presence, typing) without a database round trip
   * when it was checked within the last second: a private channel does not
   * exist for a non-member.
   */
  async canRead(channelId: string, user: UserRef): Promise<void> {
    const access = await this.readAccess.get(channelId, user.id, async () => {
      const { rows } = await this.db.pool.query<{ visibility: 'public' | 'private'; member: boolean }>({
        name: 'channel-read-access',
        text: `SELECT c.visibility::text AS visibility, EXISTS (SELECT 1 FROM memberships m WHERE m.channel_id = c.id AND m.user_id = $2) AS member
                 FROM channels c WHERE c.id = $1`,
        values: [channelId, user.id],
      });
      return rows[0] ?? null;
    });
    if (!access || (access.visibility === 'private' && !access.member)) throw notFound('channel');
  }

  /**
   * The access rule in one place: a private channel does not exist for a
   * non-member. Returns the caller's role, if any.
   */
  async access(channelId: string, user: UserRef) {
    const channel = await this.db.channel.findUnique({
      where: { id: channelId },
      include: { memberships: { where: { userId: user.id }, select: { role: true } } },
    });
    const role = channel?.memberships[0]?.role;
    if (!channel || (channel.visibility === 'private' && !role)) throw notFound('channel');
    return { channel, role, isOwner: channel.ownerId === user.id };
  }

  /**
   * Which of the pairs (channelIds[i], userIds[i]) are not memberships, by
   * channel: the tick asks this once for every local subscriber of every
   * private channel (two array parameters, one round trip however many
   * channels, and only the few that lost access come back).
   */
  async nonMembersAmong(channelIds: string[], userIds: string[]): Promise<Map<string, string[]>> {
    const outsiders = new Map<string, string[]>();
    if (channelIds.length === 0) return outsiders;
    const { rows } = await this.db.pool.query<{ channel_id: string; user_id: string }>({
      name: 'non-members-among',
      text: `SELECT p.channel_id, p.user_id FROM unnest($1::uuid[], $2::uuid[]) AS p(channel_id, user_id)
              WHERE NOT EXISTS (SELECT 1 FROM memberships m WHERE m.channel_id = p.channel_id AND m.user_id = p.user_id)`,
      values: [channelIds, userIds],
    });
    for (const r of rows) outsiders.set(r.channel_id, [...(outsiders.get(r.channel_id) ?? []), r.user_id]);
    return outsiders;
  }

  async get(channelId: string, user: UserRef): Promise<ChannelDto> {
    return toChannelDto((await this.access(channelId, user)).channel);
  }

  private async requireOwner(channelId: string, user: UserRef) {
    const found = await this.access(channelId, user);
    if (!found.isOwner) throw forbidden('only the owner may do this');
    return found.channel;
  }

  async create(input: CreateChannel, user: UserRef): Promise<ChannelDto> {
    try {
      const channel = await this.db.channel.create({
        data: {
          name: input.name,
          visibility: input.visibility ?? 'public',
          ownerId: user.id,
          memberships: { create: { userId: user.id, role: 'owner' } },
        },
      });
      return toChannelDto(channel);
    } catch (e) {
      // Names are unique per owner: this tells the caller about its own channels only.
      if (isUniqueViolation(e)) throw conflict(`you already own a channel named ${input.name}`);
      throw e;
    }
  }

  /**
   * Keyset pagination on (name, id): a page starts right after the cursor's
   * row, whether or not that row still exists, and with the (name, id) index
   * it is one index range scan, page 1 or page 1,000.
   */
  async list(query: ListChannels, user: UserRef): Promise<{ items: ChannelDto[]; nextCursor: string | null }> {
    const after = query.cursor === undefined ? START : decodeCursor(query.cursor);
    const { rows } = await this.db.pool.query<ChannelRow>({
      name: 'channel-list',
      text: `SELECT c.id, c.name, c.visibility::text AS visibility, c.owner_id AS "ownerId", c.last_seq AS "lastSeq", c.created_at AS "createdAt"
               FROM channels c
              WHERE (c.name, c.id) > ($2, $3::uuid)
                AND (c.visibility = 'public' OR EXISTS (SELECT 1 FROM memberships m WHERE m.channel_id = c.id AND m.user_id = $1))
              ORDER BY c.name, c.id
              LIMIT $4`,
      values: [user.id, after.name, after.id, query.limit + 1],
    });
    const items = rows.slice(0, query.limit).map(toChannelDto);
    const last = items[items.length - 1];
    return { items, nextCursor: rows.length > query.limit ? encodeCursor(last) : null };
  }

  async update(channelId: string, input: UpdateChannel, user: UserRef): Promise<ChannelDto> {
    const before = await this.requireOwner(channelId, user);
    let channel;
    try {
      channel = await this.db.channel.update({ where: { id: channelId }, data: input });
      await this.readAccess.invalidate(channelId);
    } catch (e) {
      if (isUniqueViolation(e)) throw conflict(`you already own a channel named ${input.name}`);
      if ((e as { code?: string }).code === 'P2025') throw notFound('channel');
      throw e;
    }
    if (before.visibility === 'public' && channel.visibility === 'private') {
      const members = await this.db.membership.findMany({ where: { channelId }, select: { userId: true } });
      await this.broadcaster.use.channelMadePrivate(
        channelId,
        members.map((m) => m.userId),
      );
    }
    return toChannelDto(channel);
  }

  async remove(channelId: string, user: UserRef): Promise<void> {
    await this.requireOwner(channelId, user);
    // deleteMany: a concurrent delete of the same channel is not an error.
    await this.db.channel.deleteMany({ where: { id: channelId } });
    await this.readAccess.invalidate(channelId);
    await this.broadcaster.use.channelDeleted(channelId);
  }

  async addMember(channelId: string, username: string, user: UserRef): Promise<{ membership: MembershipDto; created: boolean }> {
    await this.requireOwner(channelId, user);
    const target = await this.db.user.findUnique({ where: { username } });
    if (!target) throw notFound('user');
    const key = { channelId_userId: { channelId, userId: target.id } };
    const existing = await this.db.membership.findUnique({ where: key, include: { user: true } });
    if (existing) return { membership: toMembershipDto(existing), created: false };
    try {
      const created = await this.db.membership.create({
        data: { channelId, userId: target.id, role: 'member' },
        include: { user: true },
      });
      await this.readAccess.invalidate(channelId);
      return { membership: toMembershipDto(created), created: true };
    } catch (e) {
      // The channel deleted meanwhile: the membership's foreign key fails.
      if ((e as { code?: string }).code === 'P2003') throw notFound('channel');
      // Two owners' requests racing to add the same user: the loser returns the winner's row.
      if (!isUniqueViolation(e)) throw e;
      const row = await this.db.membership.findUnique({ where: key, include: { user: true } });
      if (!row) throw e;
      return { membership: toMembershipDto(row), created: false };
    }
  }

  async removeMember(channelId: string, userId: string, user: UserRef): Promise<void> {
    const { channel, isOwner } = await this.access(channelId, user);
    const self = userId === user.id;
    if (!isOwner && !self) throw forbidden('only the owner may remove other members');
    if (self && isOwner) throw conflict('the owner cannot leave the channel; delete it instead');
    const { count } = await this.db.membership.deleteMany({ where: { channelId, userId } });
    if (count === 0) throw notFound('member');
    await this.readAccess.invalidate(channelId);
    if (channel.visibility === 'private') {
      await this.broadcaster.use.accessRevoked(channelId, [userId], self ? 'left' : 'removed');
    }
  }
}
