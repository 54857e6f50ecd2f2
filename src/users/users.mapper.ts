import type { UserDto, UserRef } from '../events/dto.js';

interface UserRow {
  id: string;
  username: string;
  createdAt: Date;
}

export const toUserDto = (u: UserRow): UserDto => ({
  id: u.id,
  username: u.username,
  createdAt: u.createdAt.toISOString(),
});

export const toUserRef = (u: { id: string; username: string }): UserRef => ({ id: u.id, username: u.username });
