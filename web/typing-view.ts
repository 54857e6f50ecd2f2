import type { UserRef } from '../client/index.js';
import { byId } from './dom.js';

/** How long one `typing` event keeps its user on the line (the sender repeats it every 2 s). */
const SHOWN_MS = 3_500;

/** "alice is typing…": each user until SHOWN_MS after their last `typing` event. */
export class TypingView {
  private readonly line = byId('typing');
  private readonly until = new Map<string, { name: string; at: number }>();
  private timer?: ReturnType<typeof setTimeout>;

  constructor() {
    this.line.textContent = '';
  }

  typing(user: UserRef): void {
    this.until.set(user.id, { name: user.username, at: Date.now() + SHOWN_MS });
    this.render();
  }

  /** Their message arrived: they are done typing it. */
  sent(userId: string): void {
    if (this.until.delete(userId)) this.render();
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.until.clear();
    this.line.textContent = '';
  }

  private render() {
    clearTimeout(this.timer);
    const now = Date.now();
    for (const [id, t] of this.until) if (t.at <= now) this.until.delete(id);
    const names = [...this.until.values()].map((t) => t.name);
    this.line.textContent =
      names.length === 0 ? '' : names.length === 1 ? `${names[0]} is typing…` : names.length <= 3 ? `${names.slice(0, -1).join(', ')} and ${names.at(-1)} are typing…` : 'several people are typing…';
    if (this.until.size > 0) this.timer = setTimeout(() => this.render(), Math.min(...[...this.until.values()].map((t) => t.at)) - now);
  }
}
