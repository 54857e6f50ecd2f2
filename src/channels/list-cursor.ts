import { badRequest } from '../common/errors.js';

/** Where a page of `GET /api/channels` ends: the list is ordered by (name, id), names being unique per owner only. */
export interface ListPosition {
  name: string;
  id: string;
}

const NAME = /^[a-z0-9_.-]{1,64}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
// A cursor issued before names were per owner holds a name alone and meant "after that name":
// after its last possible id is the same place, so a client paging across the upgrade goes on.
const LAST_ID = 'ffffffff-ffff-ffff-ffff-ffffffffffff';

/** Opaque to clients; '/' is in neither a name nor an id, so the two parts split unambiguously. */
export const encodeCursor = (p: ListPosition) => Buffer.from(`${p.name}/${p.id}`, 'utf8').toString('base64url');

export function decodeCursor(cursor: string): ListPosition {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const slash = text.indexOf('/');
  const [name, id] = slash < 0 ? [text, LAST_ID] : [text.slice(0, slash), text.slice(slash + 1)];
  if (!NAME.test(name) || !UUID.test(id)) throw badRequest('invalid cursor', [{ field: 'cursor', reason: 'not a cursor this API issued' }]);
  return { name, id };
}
