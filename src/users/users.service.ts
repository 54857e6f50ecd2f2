import { Injectable } from '@nestjs/common';
import { PrismaService } from '../database/prisma.service.js';
import { notFound } from '../common/errors.js';
import type { UserDto } from '../events/dto.js';
import { toUserDto } from './users.mapper.js';

@Injectable()
export class UsersService {
  constructor(private readonly db: PrismaService) {}

  async get(id: string): Promise<UserDto> {
    return toUserDto(await this.row(id));
  }

  /** The whole row (password hash and token version included): for auth only. */
  async row(id: string) {
    const user = await this.db.user.findUnique({ where: { id } });
    if (!user) throw notFound('user');
    return user;
  }

  findByUsername(username: string) {
    return this.db.user.findUnique({ where: { username } });
  }

  create(username: string, passwordHash: string) {
    return this.db.user.create({ data: { username, passwordHash } });
  }

  /** Tokens signed before this no longer work. */
  async bumpTokenVersion(id: string) {
    return this.db.user.update({ where: { id }, data: { tokenVersion: { increment: 1 } } });
  }

  /** Current token versions of these users (a deleted user is absent). */
  async tokenVersions(ids: string[]): Promise<Map<string, number>> {
    const rows = await this.db.user.findMany({ where: { id: { in: ids } }, select: { id: true, tokenVersion: true } });
    return new Map(rows.map((r) => [r.id, r.tokenVersion]));
  }

  async setPassword(id: string, passwordHash: string) {
    return this.db.user.update({ where: { id }, data: { passwordHash, tokenVersion: { increment: 1 } } });
  }
}
