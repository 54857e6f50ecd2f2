import { Inject, Injectable } from '@nestjs/common';
import { AppError, conflict, unauthorized } from '../common/errors.js';
import type { UserDto, UserRef } from '../events/dto.js';
import { toUserDto } from '../users/users.mapper.js';
import { UsersService } from '../users/users.service.js';
import { CoherentCache } from '../redis/coherent-cache.js';
import { Invalidations } from '../redis/invalidations.js';
import type { Credentials } from './auth.schemas.js';
import { hashPassword, verifyPassword } from './password.js';
import { TOKEN_SIGNER, TokenSigner } from './tokens.js';

export interface Session {
  user: UserDto;
  token: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

// Spent on unknown usernames too, so timing does not reveal which names exist.
const DUMMY_HASH = hashPassword('not-a-real-password');

@Injectable()
export class AuthService {
  /** Users by id: an authenticated request needs no database round trip of its own. */
  private readonly known: CoherentCache<UserRef>;

  constructor(
    private readonly users: UsersService,
    @Inject(TOKEN_SIGNER) private readonly tokens: TokenSigner,
    invalidations: Invalidations,
  ) {
    this.known = new CoherentCache(invalidations, 'user');
  }

  async register({ username, password }: Credentials): Promise<Session> {
    const passwordHash = await hashPassword(password);
    try {
      const user = await this.users.create(username, passwordHash);
      return { user: toUserDto(user), token: await this.tokens.sign(user.id) };
    } catch (e) {
      if ((e as { code?: string }).code === 'P2002') throw conflict('username is taken');
      throw e;
    }
  }

  async login({ username, password }: Credentials): Promise<Session> {
    const user = await this.users.findByUsername(username);
    const ok = await verifyPassword(password, user?.passwordHash ?? (await DUMMY_HASH));
    if (!user || !ok) throw unauthorized('wrong username or password');
    return { user: toUserDto(user), token: await this.tokens.sign(user.id) };
  }

  /** Token → user, for both doors. A deleted user's token is refused (within the user cache's second). */
  async authenticate(token: unknown): Promise<{ user: UserRef; exp: number }> {
    const claims = await this.tokens.verify(token);
    if (!claims || !UUID.test(claims.sub)) throw unauthorized();
    try {
      const user = await this.known.get(claims.sub, '', async () => {
        const found = await this.users.get(claims.sub);
        return { id: found.id, username: found.username };
      });
      return { user, exp: claims.exp };
    } catch (e) {
      if (e instanceof AppError && e.code === 'NOT_FOUND') throw unauthorized();
      throw e;
    }
  }
}
