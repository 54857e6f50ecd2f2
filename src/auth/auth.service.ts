import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { AppError, conflict, forbidden, unauthorized } from '../common/errors.js';
import type { UserDto, UserRef } from '../events/dto.js';
import { BROADCASTER, type Broadcaster, type Port } from '../events/ports.js';
import { CoherentCache } from '../redis/coherent-cache.js';
import { Invalidations } from '../redis/invalidations.js';
import { toUserDto } from '../users/users.mapper.js';
import { UsersService } from '../users/users.service.js';
import type { Credentials, PasswordChange } from './auth.schemas.js';
import { LimitsService } from '../limits/limits.service.js';
import { PasswordWork } from './password-work.js';
import { TOKEN_SIGNER, TokenSigner } from './tokens.js';

export interface Session {
  user: UserDto;
  token: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

type KnownUser = UserRef & { tokenVersion: number };

@Injectable()
export class AuthService implements OnModuleDestroy {
  /** Users by id: an authenticated request needs no database round trip of its own. */
  private readonly known: CoherentCache<KnownUser>;
  /** Spent on unknown usernames too, so timing does not reveal which names exist. */
  private dummyHash?: Promise<string>;

  constructor(
    private readonly users: UsersService,
    @Inject(TOKEN_SIGNER) private readonly tokens: TokenSigner,
    private readonly passwords: PasswordWork,
    private readonly limits: LimitsService,
    @Inject(BROADCASTER) private readonly broadcaster: Port<Broadcaster>,
    invalidations: Invalidations,
  ) {
    this.known = new CoherentCache(invalidations, 'user');
  }

  onModuleDestroy() {
    this.known.stop();
  }

  /** `ip` is the caller's address (proxies trusted per TRUSTED_PROXIES), for the sign-in limits. */
  async register({ username, password }: Credentials, ip: string): Promise<Session> {
    await this.limits.authAttempt(ip);
    const passwordHash = await this.passwords.hash(password);
    try {
      const user = await this.users.create(username, passwordHash);
      return { user: toUserDto(user), token: await this.tokens.sign(user.id, user.tokenVersion) };
    } catch (e) {
      if ((e as { code?: string }).code === 'P2002') throw conflict('username is taken');
      throw e;
    }
  }

  /** Limits first, so a refused attempt never costs a hash; unknown names count like wrong passwords. */
  async login({ username, password }: Credentials, ip: string): Promise<Session> {
    await this.limits.authAttempt(ip);
    await this.limits.beforeLogin(username, ip);
    this.passwords.ensureRoom();
    const user = await this.users.findByUsername(username);
    this.dummyHash ??= this.passwords.hash('not-a-real-password');
    const ok = await this.passwords.verify(password, user?.passwordHash ?? (await this.dummyHash));
    if (!user || !ok) {
      await this.limits.loginFailed(username, ip);
      throw unauthorized('wrong username or password');
    }
    await this.limits.loginSucceeded(username, ip);
    return { user: toUserDto(user), token: await this.tokens.sign(user.id, user.tokenVersion) };
  }

  /**
   * Token → user, for both doors. A deleted user's token, and a token older
   * than the user's last password change or logout everywhere, are refused
   * (within the user cache's second on other replicas). `once`: the caller
   * will not show this token again (a socket's handshake), so it is not remembered.
   */
  async authenticate(token: unknown, once = false): Promise<{ user: UserRef; exp: number; version: number }> {
    const claims = await this.tokens.verify(token, !once);
    if (!claims || !UUID.test(claims.sub)) throw unauthorized();
    let user: KnownUser;
    try {
      user = await this.known.get(claims.sub, '', async () => {
        const found = await this.users.row(claims.sub);
        return { id: found.id, username: found.username, tokenVersion: found.tokenVersion };
      });
    } catch (e) {
      if (e instanceof AppError && e.code === 'NOT_FOUND') throw unauthorized();
      throw e;
    }
    if (user.tokenVersion !== claims.ver) throw unauthorized('token revoked');
    return { user: { id: user.id, username: user.username }, exp: claims.exp, version: claims.ver };
  }

  /** Every token of the user stops working on every replica, and their sockets are told and closed. */
  async logoutEverywhere(user: UserRef): Promise<void> {
    const updated = await this.users.bumpTokenVersion(user.id);
    await this.revoked(user.id, updated.tokenVersion);
  }

  /** A new password ends every other session, like logoutEverywhere; the answer carries a fresh token. */
  async changePassword(user: UserRef, change: PasswordChange): Promise<Session> {
    const row = await this.users.row(user.id);
    if (!(await this.passwords.verify(change.currentPassword, row.passwordHash))) throw forbidden('the current password is wrong');
    const updated = await this.users.setPassword(user.id, await this.passwords.hash(change.newPassword));
    await this.revoked(user.id, updated.tokenVersion);
    return { user: toUserDto(updated), token: await this.tokens.sign(updated.id, updated.tokenVersion) };
  }

  /**
   * Of users with sockets open (each with the oldest token version among
   * them), those whose sessions were revoked since: user → current version.
   * A deleted user gets Infinity. Catches what a lost `x:sessions` missed.
   */
  revokedAmong(oldest: Map<string, number>): Promise<Array<[string, number]>> {
    return this.users.newerTokenVersions(oldest);
  }

  private async revoked(userId: string, version: number) {
    await this.known.invalidate(userId);
    await this.broadcaster.use.sessionsRevoked(userId, version);
  }
}
