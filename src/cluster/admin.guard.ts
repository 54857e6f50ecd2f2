import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { timingSafeEqual } from 'node:crypto';
import type { Request } from 'express';
import { notFound, unauthorized } from '../common/errors.js';
import { ADMIN_TOKEN } from '../core.module.js';

/** Operators' routes: the admin token from configuration, not a user's JWT. Off (404) when there is none. */
@Injectable()
export class AdminGuard implements CanActivate {
  private readonly expected: Buffer | null;

  constructor(@Inject(ADMIN_TOKEN) token: string | null) {
    this.expected = token ? Buffer.from(token) : null;
  }

  canActivate(ctx: ExecutionContext): boolean {
    if (!this.expected) throw notFound('route');
    const header = ctx.switchToHttp().getRequest<Request>().headers.authorization;
    const given = Buffer.from(typeof header === 'string' ? (/^Bearer\s+(\S+)$/i.exec(header)?.[1] ?? '') : '');
    if (given.length !== this.expected.length || !timingSafeEqual(given, this.expected)) throw unauthorized('admin token required');
    return true;
  }
}
