import fc from 'fast-check';
import type { Fields } from './catalog.js';
import { REFS, type RefName } from './fixture.js';
import { anyString, anyValue, edgeString } from './values.js';

// Inputs shaped like an operation's own schema, then spoiled: fields dropped,
// wrong types, unknown keys, values just outside their limits. Ids and
// usernames may name the fixture's real ones, so a request can get past the
// checks it does not spoil.

/** A reference to a fixture id or username, resolved when the case runs (the fixture can change between cases). */
export class Ref {
  constructor(
    readonly name: RefName,
    readonly as: 'id' | 'username',
  ) {}
  toJSON() {
    return `<${this.name}.${this.as}>`;
  }
}

export const idRef = fc.constantFrom(...REFS).map((n) => new Ref(n, 'id'));

/** An id: a real or unknown uuid most of the time, otherwise malformed. */
export const idValue: fc.Arbitrary<unknown> = fc.oneof(
  { arbitrary: idRef, weight: 6 },
  { arbitrary: fc.uuid().map((u) => u.toUpperCase()), weight: 1 },
  { arbitrary: fc.uuid(), weight: 1 },
  { arbitrary: anyString, weight: 2 },
);

/** A value that the field's own JSON schema accepts, or nearly. */
function plausible(name: string, schema: Record<string, unknown>): fc.Arbitrary<unknown> {
  if (Array.isArray(schema.enum)) return fc.constantFrom(...(schema.enum as unknown[]));
  if (schema.format === 'uuid' || /id$/i.test(name)) return idValue;
  if (/username/i.test(name))
    return fc.oneof(
      fc.constantFrom('owner', 'member', 'outsider').map((n) => new Ref(n as RefName, 'username')),
      fc.stringMatching(/^[a-z0-9_.-]{3,32}$/),
    );
  if (/password/i.test(name)) return fc.oneof(fc.constant('password123'), fc.string({ minLength: 8, maxLength: 20 }));
  if (schema.type === 'integer' || schema.type === 'number') {
    const min = typeof schema.minimum === 'number' ? schema.minimum : 0;
    const max = typeof schema.maximum === 'number' ? Math.min(schema.maximum, 2 ** 31) : 1000;
    return fc.oneof(fc.integer({ min, max }), fc.constantFrom(min - 1, max + 1));
  }
  if (typeof schema.pattern === 'string') {
    const max = typeof schema.maxLength === 'number' ? schema.maxLength : 64;
    return fc.stringMatching(new RegExp(schema.pattern)).filter((s) => s.length <= max);
  }
  if (schema.type === 'string') return fc.string({ minLength: 1, maxLength: 64 });
  return anyValue; // e.g. a message body: any JSON value
}

/** An object built from `fields`: each field plausible, hostile or missing, maybe with unknown keys. */
export function objectFrom(fields: Fields): fc.Arbitrary<Record<string, unknown>> {
  const entries = Object.entries(fields.properties).map(([name, schema]) =>
    fc.oneof({ arbitrary: plausible(name, schema), weight: 5 }, { arbitrary: anyValue, weight: 3 }, { arbitrary: fc.constant(undefined), weight: 1 }).map((v) => [name, v] as const),
  );
  const extra = fc.dictionary(fc.oneof(edgeString, fc.constantFrom('__proto__', 'constructor', 'extra')), anyValue, { maxKeys: 2 });
  return fc.tuple(fc.tuple(...entries), fc.oneof({ arbitrary: fc.constant({}), weight: 4 }, { arbitrary: extra, weight: 1 })).map(([pairs, more]) => {
    const o: Record<string, unknown> = {};
    for (const [k, v] of pairs) if (v !== undefined) o[k] = v;
    for (const [k, v] of Object.entries(more)) Object.defineProperty(o, k, { value: v, enumerable: true, configurable: true, writable: true });
    return o;
  });
}

/** Anything that could arrive where `fields` is expected: mostly near-valid objects, sometimes not an object at all. */
export function inputFor(fields: Fields | undefined): fc.Arbitrary<unknown> {
  const shaped = fields ? [{ arbitrary: objectFrom(fields), weight: 6 }] : [];
  return fc.oneof(...shaped, { arbitrary: anyValue, weight: 2 }, { arbitrary: fc.constantFrom(null, [], {}, '', 0, true), weight: 1 });
}

/** Replaces every Ref at the top level of an object (or the value itself) with what it names now. */
export function resolveRefs(value: unknown, lookup: (r: Ref) => string): unknown {
  if (value instanceof Ref) return lookup(value);
  if (!value || typeof value !== 'object' || Array.isArray(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) Object.defineProperty(out, k, { value: v instanceof Ref ? lookup(v) : v, enumerable: true, configurable: true, writable: true });
  return out;
}
