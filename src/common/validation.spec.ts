import { z } from 'zod';
import { AppError } from './errors.js';
import { jsonBytes, parseInput } from './validation.js';

describe('parseInput', () => {
  const schema = z.strictObject({ name: z.string().min(1), n: z.number().int().optional() });

  it('returns the parsed value', () => {
    expect(parseInput(schema, { name: 'a', n: 2 })).toEqual({ name: 'a', n: 2 });
  });

  it('reports wrong types and unknown fields field by field', () => {
    try {
      parseInput(schema, { name: 5, extra: true, more: 1 }, 'body');
      throw new Error('expected a failure');
    } catch (e) {
      expect(e).toBeInstanceOf(AppError);
      const err = e as AppError;
      expect(err.code).toBe('BAD_REQUEST');
      expect(err.status).toBe(400);
      expect(err.details).toEqual(
        expect.arrayContaining([
          { field: 'name', reason: expect.stringMatching(/string/) },
          { field: 'extra', reason: 'unknown field' },
          { field: 'more', reason: 'unknown field' },
        ]),
      );
    }
  });

  it('names the whole body when it is not an object', () => {
    expect(() => parseInput(schema, 'text')).toThrow(/\(body\)/);
  });
});

describe('jsonBytes', () => {
  it('counts UTF-8 bytes of the JSON text', () => {
    expect(jsonBytes('é')).toBe(4);
    expect(jsonBytes(null)).toBe(4);
    expect(jsonBytes({ a: 1 })).toBe(7);
  });
});
