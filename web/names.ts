import type { UserRef } from '../client/index.js';
import { shortId } from './format.js';

/**
 * Usernames the page has learnt (its own user, presence lists, typing). A
 * message carries only `authorId`, so a name learnt later is pushed to the
 * messages already shown.
 */
export class Names {
  private readonly known = new Map<string, string>();
  private readonly listeners = new Set<(id: string, name: string) => void>();

  learn(user: UserRef): void {
    if (this.known.get(user.id) === user.username) return;
    this.known.set(user.id, user.username);
    for (const l of this.listeners) l(user.id, user.username);
  }

  label(id: string): string {
    return this.known.get(id) ?? shortId(id);
  }

  onLearnt(listener: (id: string, name: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
