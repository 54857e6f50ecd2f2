import { Inject, Injectable } from '@nestjs/common';
import { unavailable } from '../common/unavailable.js';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { hashPassword, verifyPassword } from './password.js';

/**
 * Password hashing, bounded: scrypt occupies a thread of libuv's small pool
 * (which DNS and zlib share) for ~50 ms, so a flood of logins could starve the
 * replica. At most PASSWORD_CONCURRENCY run at once and PASSWORD_QUEUE wait;
 * one more is refused UNAVAILABLE (503, Retry-After) at once.
 */
@Injectable()
export class PasswordWork {
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly metrics: MetricsService,
  ) {}

  hash(password: string): Promise<string> {
    return this.run(async () => {
      const hashed = await hashPassword(password);
      this.metrics.passwordWork.inc({ op: 'hash' });
      return hashed;
    });
  }

  verify(password: string, stored: string): Promise<boolean> {
    return this.run(() => verifyPassword(password, stored, () => this.metrics.passwordWork.inc({ op: 'verify' })));
  }

  /** Refuses at once when hashing is full, before the caller spends a database query on a hash that cannot run. */
  ensureRoom(): void {
    if (this.full()) this.refuse();
  }

  private full(): boolean {
    return this.running >= this.config.PASSWORD_CONCURRENCY && this.waiting.length >= this.config.PASSWORD_QUEUE;
  }

  private refuse(): never {
    this.metrics.shed.inc({ what: 'password' });
    throw unavailable('password hashing (too many at once)');
  }

  private async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.running >= this.config.PASSWORD_CONCURRENCY) {
      if (this.full()) this.refuse();
      await new Promise<void>((start) => this.waiting.push(start));
    } else this.running++;
    try {
      return await work();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }
}
