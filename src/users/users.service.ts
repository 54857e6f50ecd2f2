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
    // Every user with a socket here, every reconcile tick: one array parameter. Prisma's `in` sends one
    // parameter per id, and its debug module keeps the last 100 calls' arguments even with DEBUG off.
    const { rows } = await this.db.pool.query<{ id: string; token_version: number }>('SELECT id, token_version FROM users WHERE id = ANY($1::uuid[])', [ids]);
    return new Map(rows.map((r) => [r.id, r.token_version]));
  }

  async setPassword(id: string, passwordHash: string) {
    return this.db.user.update({ where: { id }, data: { passwordHash, tokenVersion: { increment: 1 } } });
  }
}
