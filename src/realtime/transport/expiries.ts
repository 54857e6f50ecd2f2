import type { TypedSocket } from '../../events/sockets.js';

/**
 * Disconnects sockets when their token expires, with one timer for all of
 * them (a timer per socket weighs on every idle connection): sockets are
 * kept in buckets by expiry second, checked once a second.
 */
export class Expiries {
  private readonly buckets = new Map<number, Set<TypedSocket>>();
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly expire: (socket: TypedSocket) => void) {
    this.timer = setInterval(() => this.sweep(Math.floor(Date.now() / 1000)), 1_000);
    this.timer.unref();
  }

  add(socket: TypedSocket, expSeconds: number): void {
    const bucket = this.buckets.get(expSeconds);
    if (bucket) bucket.add(socket);
    else this.buckets.set(expSeconds, new Set([socket]));
  }

  remove(socket: TypedSocket, expSeconds: number): void {
    const bucket = this.buckets.get(expSeconds);
    if (bucket?.delete(socket) && bucket.size === 0) this.buckets.delete(expSeconds);
  }

  /** Everything whose `exp` (seconds, as in the token) has passed. */
  sweep(nowSeconds: number): void {
    for (const [exp, sockets] of this.buckets) {
      if (exp > nowSeconds) continue;
      this.buckets.delete(exp);
      for (const socket of sockets) this.expire(socket);
    }
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
