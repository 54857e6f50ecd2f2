import { sameJson } from './messages.mapper.js';

describe('sameJson', () => {
  it('ignores key order at every depth', () => {
    expect(sameJson({ a: 1, b: { c: [1, { d: 2, e: 3 }] } }, { b: { c: [1, { e: 3, d: 2 }] }, a: 1 })).toBe(true);
  });
  it('tells different values, shapes and array orders apart', () => {
    expect(sameJson({ a: 1 }, { a: 2 })).toBe(false);
    expect(sameJson({ a: 1 }, { a: 1, b: 1 })).toBe(false);
    expect(sameJson([1, 2], [2, 1])).toBe(false);
    expect(sameJson([], {})).toBe(false);
    expect(sameJson(null, {})).toBe(false);
    expect(sameJson('1', 1)).toBe(false);
  });
  it('compares scalars and null', () => {
    expect(sameJson(null, null)).toBe(true);
    expect(sameJson('x', 'x')).toBe(true);
  });
});
