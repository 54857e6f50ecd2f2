import fc from 'fast-check';
import { type OneOrMany, add, has, members, remove } from './one-or-many.js';

describe('OneOrMany', () => {
  it('behaves as a Set under any sequence of adds and removes, and holds a lone member without one', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), fc.constantFrom('a', 'b', 'c', 'd'))), (ops) => {
        let m: OneOrMany<string> | undefined;
        const model = new Set<string>();
        for (const [adding, v] of ops) {
          if (adding) ((m = add(m, v)), model.add(v));
          else ((m = remove(m, v)), model.delete(v));
          expect(members(m).sort()).toEqual([...model].sort());
          for (const x of ['a', 'b', 'c', 'd']) expect(has(m, x)).toBe(model.has(x));
          expect(m === undefined).toBe(model.size === 0);
          if (model.size === 1) expect(m instanceof Set).toBe(false);
        }
      }),
    );
  });
});
