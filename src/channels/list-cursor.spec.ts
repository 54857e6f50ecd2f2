import { AppError } from '../common/errors.js';
import { decodeCursor, encodeCursor } from './list-cursor.js';

describe('the channel list cursor', () => {
  const id = '0b8e6a3c-5f2d-4c1a-9e7b-2d4f6a8c0e1f';

  it('carries the name and the id of the row a page ended at', () => {
    for (const name of ['q', 'general', 'a.b_c-d', 'z'.repeat(64)]) expect(decodeCursor(encodeCursor({ name, id }))).toEqual({ name, id });
  });

  it('reads a cursor issued before names were per owner (a name alone) as after every channel of that name', () => {
    expect(decodeCursor(Buffer.from('general').toString('base64url'))).toEqual({ name: 'general', id: 'ffffffff-ffff-ffff-ffff-ffffffffffff' });
  });

  it.each([
    ['garbage', '!!!garbage!!!'],
    ['bytes that are no name', 'AAAA'],
    ['an empty name', Buffer.from(`/${id}`).toString('base64url')],
    ['a name with a capital', Buffer.from(`General/${id}`).toString('base64url')],
    ['an id that is no uuid', Buffer.from('general/42').toString('base64url')],
    ['a third part', Buffer.from(`general/${id}/x`).toString('base64url')],
  ])('refuses %s: 400 "invalid cursor", field cursor', (_, cursor) => {
    let thrown: unknown;
    try {
      decodeCursor(cursor);
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(AppError);
    expect(thrown).toMatchObject({ code: 'BAD_REQUEST', message: 'invalid cursor', details: [{ field: 'cursor', reason: 'not a cursor this API issued' }] });
  });
});
