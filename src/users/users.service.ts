import { Injectable } from '@nestjs/common';
import { PrismaService } from '../database/prisma.service.js';
import { notFound } from '../common/errors.js';
import type { UserDto } from '../events/dto.js';
import { toUserDto } from './users.mapper.js';

@Injectable()
export class UsersService {
  constructor(private readonly db: PrismaService) {}

  async get(id: string): Promise<UserDto> {
    const user = await this.db.user.findUnique({ where: { id } });
    if (!user) throw notFound('user');
    return toUserDto(user);
  }

  findByUsername(username: string) {
    return this.db.user.findUnique({ where: { username } });
  }

  create(username: string, passwordHash: string) {
    return this.db.user.create({ data: { username, passwordHash } });
  }
}
