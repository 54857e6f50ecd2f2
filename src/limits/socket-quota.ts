import type { Rate } from '../config/config.js';

/**
 * One fixed window of one limit, kept on the socket it limits (socket.data):
 * two numbers. rate-limiter-flexible's memory store would keep a map entry and
 * a timer per socket instead, which every idle connection would carry.
 */
export class Window {
  private endsAt = 0;
  private spent = 0;

  /** 0 when the call may go ahead (and is counted), else milliseconds until the window ends. */
  take(rate: Rate, now = Date.now()): number {
    if (now >= this.endsAt) {
      this.endsAt = now + rate.seconds * 1000;
      this.spent = 0;
    }
    if (this.spent >= rate.points) return Math.max(1, this.endsAt - now);
    this.spent++;
    return 0;
  }
}

/** The per-socket limits' windows, created on a socket's first subscribe or typing. */
export interface SocketQuota {
  subscribe?: Window;
  typing?: Window;
}
