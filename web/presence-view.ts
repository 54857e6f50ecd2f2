import type { UserRef } from '../client/index.js';
import { byId, el } from './dom.js';

/** Who is online in the open channel (the user included), by name. */
export function renderPresence(users: UserRef[], meId: string): void {
  const list = byId<HTMLUListElement>('presence');
  const sorted = [...users].sort((a, b) => (a.id === meId ? -1 : b.id === meId ? 1 : a.username.localeCompare(b.username)));
  list.replaceChildren(
    ...sorted.map((u) => el('li', { class: u.id === meId ? 'presence-user me' : 'presence-user', 'data-testid': 'presence-user', 'data-user-id': u.id, title: `${u.username} is online` }, u.username)),
  );
  list.setAttribute('aria-label', `${users.length} online`);
}

export function clearPresence(): void {
  byId('presence').replaceChildren();
}
