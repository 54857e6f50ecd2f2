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

  /**
   * Of these users (each with a token version it holds), those whose current
   * version is higher, or who no longer exist (Infinity). Every user with a
   * socket here, every tick: two array parameters, and only the stale come
   * back (Prisma's `in` sends one parameter per id, and its debug module
   * keeps the last 100 calls' arguments even with DEBUG off).
   */
  async newerTokenVersions(held: Map<string, number>): Promise<Array<[string, number]>> {
    const { rows } = await this.db.pool.query<{ id: string; token_version: number | null }>({
      name: 'newer-token-versions',
      text: `SELECT h.id, u.token_version FROM unnest($1::uuid[], $2::int[]) AS h(id, version)
               LEFT JOIN users u ON u.id = h.id WHERE u.id IS NULL OR u.token_version > h.version`,
      values: [[...held.keys()], [...held.values()]],
    });
    return rows.map((r) => [r.id, r.token_version ?? Infinity]);
  }

  async setPassword(id: string, passwordHash: string) {
    return this.db.user.update({ where: { id }, data: { passwordHash, tokenVersion: { increment: 1 } } });
  }
}
