import fc from 'fast-check';

// Hostile values: wrong types, huge, deep and unicode-edge strings, odd numbers.

const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c));

/** Strings that break naive code: control and format characters, lone surrogates, injection and path tricks, near-limit lengths. */
export const edgeString: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '',
    ' ',
    '\u0000',
    'a\u0000b',
    '\ud800',
    'x\udfff',
    '\ud83d\ude00',
    '\ufeff',
    '\u202e',
    '\u200b',
    'Ａ',
    'ß',
    'İ',
    '\r\n',
    '\t',
    '../../etc/passwd',
    '%00',
    '%',
    '%zz',
    '%E0%A4%A',
    "' OR 1=1 --",
    '<script>alert(1)</script>',
    '${7*7}',
    '__proto__',
    'constructor',
    'null',
    'undefined',
    'NaN',
    '-1',
    '1e999',
    '0x10',
    'true',
    '[]',
    '{}',
    'Bearer',
    '*',
    '?',
    '#',
    '/',
    '00000000-0000-0000-0000-000000000000',
    'ffffffff-ffff-ffff-ffff-ffffffffffff',
    'password123',
  ),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: fc.oneof(loneSurrogate, fc.constantFrom('\u0000', 'a', '\ud83d\ude00')), maxLength: 10 }),
  fc.string({ unit: fc.constantFrom('a', '-', '_', '.', '0'), minLength: 1, maxLength: 70 }),
);

/** Long strings: just over the limits that count characters or bytes (names 64, usernames 32, passwords 256, clientMsgId 64, cursor 200, token 4,096, message 16 KiB, request 64 KiB). */
export const hugeString: fc.Arbitrary<string> = fc
  .tuple(fc.constantFrom(33, 65, 201, 257, 4097, 16_385, 70_000), fc.constantFrom('a', 'é', '\ud83d\ude00', '\u0000', '0'))
  .map(([n, c]) => c.repeat(Math.ceil(n / c.length)));

export const anyString = fc.oneof({ arbitrary: edgeString, weight: 8 }, { arbitrary: hugeString, weight: 1 });

export const oddNumber = fc.oneof(
  fc.constantFrom(0, -0, -1, 1.5, 2 ** 53, 2 ** 53 + 2, -(2 ** 53), 1e308, -1e-308, Number.MAX_VALUE, 501, 201, 200, 500),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);

/** A JSON value nested `depth` levels: around the body's limit of 200 and far past it. */
export const deepValue: fc.Arbitrary<unknown> = fc.tuple(fc.constantFrom(199, 200, 201, 1000, 5000), fc.boolean()).map(([depth, arrays]) => {
  let v: unknown = 1;
  for (let i = 0; i < depth; i++) v = arrays ? [v] : { a: v };
  return v;
});

/** Any JSON value, hostile in every leaf, including keys JavaScript treats specially. */
export const hostileJson: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    oddNumber,
    anyString,
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.oneof(edgeString, fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString')), tie('value'), { maxKeys: 4 }),
  ),
})).value;

export const anyValue: fc.Arbitrary<unknown> = fc.oneof({ arbitrary: hostileJson, weight: 10 }, { arbitrary: deepValue, weight: 1 });

/** Text that is not JSON, or JSON with a trap in it. */
export const badJsonText = fc.oneof(
  fc.constantFrom(
    '{',
    '{"a":',
    '{"a":1,}',
    "{'a':1}",
    'nul',
    'NaN',
    '{"a":NaN}',
    '\ufeff{}',
    '{"a":1}{"b":2}',
    '[1,2',
    '{"__proto__":{"x":1}}',
    '{"a":"\\ud800"}',
    '{"a":"\\u0000"}',
    '{"a":1e999}',
    '"\\x41"',
    '{"a":01}',
    '\u0000',
    '{"a"\u0000:1}',
    ' ',
    'a=b&c=d',
  ),
  fc.string({ unit: 'binary', maxLength: 60 }),
  fc.integer({ min: 1, max: 50_000 }).map((n) => '['.repeat(n)),
);
