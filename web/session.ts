import type { UserDto } from '../client/index.js';

// sessionStorage, not localStorage: a reload stays signed in, closing the tab
// forgets the token, and each tab may be someone else.

export interface Session {
  token: string;
  user: UserDto;
}

const SESSION_KEY = 'crosswire.session';
const ADMIN_KEY = 'crosswire.adminToken';

export function loadSession(): Session | undefined {
  try {
    const s = JSON.parse(sessionStorage.getItem(SESSION_KEY) ?? 'null') as Session | null;
    return s && typeof s.token === 'string' && typeof s.user?.id === 'string' ? s : undefined;
  } catch {
    return undefined;
  }
}

export function saveSession(s: Session): void {
  sessionStorage.setItem(SESSION_KEY, JSON.stringify(s));
}

export function clearSession(): void {
  sessionStorage.removeItem(SESSION_KEY);
}

export const adminToken = {
  load: (): string | undefined => sessionStorage.getItem(ADMIN_KEY) ?? undefined,
  save: (token: string) => sessionStorage.setItem(ADMIN_KEY, token),
  clear: () => sessionStorage.removeItem(ADMIN_KEY),
};
