import { type CanActivate, type ExecutionContext, Injectable, createParamDecorator } from '@nestjs/common';
import type { Request } from 'express';
import { unauthorized } from '../common/errors.js';
import type { UserRef } from '../events/dto.js';
import { LimitsService } from '../limits/limits.service.js';
import { AuthService } from './auth.service.js';

type AuthedRequest = Request & { user?: UserRef };

@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly auth: AuthService,
    private readonly limits: LimitsService,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const req = ctx.switchToHttp().getRequest<AuthedRequest>();
    const header = req.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer\s+(\S+)$/i.exec(header) : null;
    if (!match) throw unauthorized('missing bearer token');
    req.user = (await this.auth.authenticate(match[1])).user;
    // Counted per user, not per address: many users share a NAT, one user's token is one budget everywhere.
    await this.limits.restCall(req.user.id);
    return true;
  }
}

export const CurrentUser = createParamDecorator((_: unknown, ctx: ExecutionContext): UserRef => {
  const user = ctx.switchToHttp().getRequest<AuthedRequest>().user;
  if (!user) throw unauthorized();
  return user;
});
