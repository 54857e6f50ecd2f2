import http from 'node:http';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import fc from 'fast-check';
import type { RestOperation } from './catalog.js';
import { TOKEN_KINDS, type TokenKind } from './fixture.js';
import { Ref, idValue, inputFor, resolveRefs } from './inputs.js';
import { anyString, badJsonText, edgeString } from './values.js';

// One generated HTTP request: an operation of the catalogue, spoiled in its
// path ids, query, body, encoding, headers or token.

export type Body = { kind: 'none' } | { kind: 'json'; value: unknown } | { kind: 'text'; text: string };

export interface RestCase {
  op: RestOperation;
  /** Another method on the operation's path (404: Express has no 405), or a path Crosswire does not have. */
  twist: 'none' | 'method' | 'suffix';
  path: Record<string, unknown>;
  query: string;
  body: Body;
  token: TokenKind;
  scheme: string;
  contentType?: string;
  encoding: 'none' | 'gzip' | 'deflate' | 'br' | 'gzip-garbage' | 'compress';
  requestId?: string;
  headers: Record<string, string>;
}

export const REQUEST_ID = /^[\w.-]{1,128}$/;

const headerSafe = (s: string) => s.replace(/[^\x20-\x7e]/g, '?');
/** Lone surrogates cannot be percent-encoded: they become U+FFFD, as a browser would send them. */
const wellFormed = (s: string) => s.replace(/[\ud800-\udfff]/gu, '\ufffd');

function queryFor(op: RestOperation): fc.Arbitrary<string> {
  const known = Object.entries(op.query).map(([name, schema]) =>
    fc
      .oneof(
        { arbitrary: fc.constant(undefined), weight: 3 },
        { arbitrary: fc.integer({ min: -5, max: 600 }).map(String), weight: 3 },
        { arbitrary: schema.type === 'string' ? fc.string({ maxLength: 20 }) : fc.constantFrom('1', '0'), weight: 1 },
        { arbitrary: anyString, weight: 2 },
      )
      .map((v) => (v === undefined ? [] : [[name, v] as [string, string]])),
  );
  const pairs = fc.tuple(fc.tuple(...known), fc.array(fc.tuple(edgeString, edgeString), { maxLength: 2 }), fc.boolean()).map(([ks, extra, repeat]) => {
    const list = ks.flat();
    if (repeat && list.length) list.push(list[0]);
    return [...list, ...extra];
  });
  const encode = (s: string) => encodeURIComponent(wellFormed(s));
  return fc.oneof(
    { arbitrary: pairs.map((ps) => ps.map(([k, v]) => `${encode(k)}=${encode(v)}`).join('&')), weight: 5 },
    { arbitrary: fc.constantFrom('', '%', '%zz', '&&=&', 'limit', 'limit=%00', 'cursor=%E0%A4%A', '=1', 'a[b]=1', 'limit[]=1', '__proto__[x]=1'), weight: 1 },
  );
}

const bodyArb = (op: RestOperation): fc.Arbitrary<Body> =>
  fc.oneof(
    { arbitrary: fc.constant<Body>({ kind: 'none' }), weight: op.body ? 1 : 4 },
    { arbitrary: inputFor(op.body).map((value): Body => ({ kind: 'json', value })), weight: 6 },
    { arbitrary: badJsonText.map((text): Body => ({ kind: 'text', text })), weight: 2 },
  );

export function restCase(ops: RestOperation[]): fc.Arbitrary<RestCase> {
  return fc.constantFrom(...ops).chain((op) =>
    fc.record({
      op: fc.constant(op),
      twist: fc.oneof({ arbitrary: fc.constant('none' as const), weight: 20 }, fc.constant('method' as const), fc.constant('suffix' as const)),
      path: fc.record(Object.fromEntries(op.pathParams.map((p) => [p, idValue]))),
      query: Object.keys(op.query).length ? queryFor(op) : fc.oneof({ arbitrary: fc.constant(''), weight: 9 }, queryFor(op)),
      body: bodyArb(op),
      token: fc.constantFrom(...TOKEN_KINDS),
      scheme: fc.oneof({ arbitrary: fc.constant('Bearer '), weight: 10 }, fc.constantFrom('bearer ', 'BEARER ', 'Basic ', 'Bearer  ', 'Bearer', '')),
      contentType: fc.option(
        fc.constantFrom(
          'application/json',
          'text/plain',
          'application/x-www-form-urlencoded',
          'multipart/form-data; boundary=x',
          'application/json; charset=utf-16',
          'application/json; charset=bogus',
          'image/png',
          'application/json; charset=latin1',
        ),
        { nil: undefined, freq: 3 },
      ),
      encoding: fc.oneof({ arbitrary: fc.constant('none' as const), weight: 12 }, fc.constantFrom('gzip' as const, 'deflate' as const, 'br' as const, 'gzip-garbage' as const, 'compress' as const)),
      requestId: fc.option(fc.oneof(fc.constantFrom('req-1.ok_', 'a'.repeat(128), 'a'.repeat(129), 'bad id', '../x', ''), edgeString.map(headerSafe)), { nil: undefined, freq: 3 }),
      headers: fc.dictionary(
        fc.constantFrom('x-forwarded-for', 'origin', 'accept', 'accept-encoding', 'x-http-method-override', 'cookie', 'x-huge', 'expect', 'range', 'if-none-match'),
        fc.oneof(edgeString.map(headerSafe), fc.constantFrom('*', '1.2.3.4, ::1', 'null', 'DELETE', 'x'.repeat(20_000), '*/*;q=0')),
        { maxKeys: 2 },
      ),
    }),
  );
}

const encodeSegment = (v: string) => encodeURIComponent(wellFormed(v));

export interface Prepared {
  method: string;
  path: string;
  headers: Record<string, string>;
  payload?: Buffer;
  /** The request id the hub must echo, when the case sends a sane one. */
  echoId?: string;
}

/** The concrete request, with the fixture's current ids and tokens. */
export function prepare(c: RestCase, lookup: (r: Ref) => string, token: (k: TokenKind) => string | undefined): Prepared {
  let path = c.op.template;
  for (const [name, v] of Object.entries(c.path)) {
    const value = v instanceof Ref ? lookup(v) : String(v);
    // A value that is already URL-safe goes raw, so '%zz' and '..' reach the router as they are.
    path = path.replace(`{${name}}`, /^[\x21-\x7e]+$/.test(value) && !/[?#/]/.test(value) ? value : encodeSegment(value));
  }
  if (c.twist === 'suffix') path += '/x';
  if (c.query) path += `?${c.query}`;
  const method = c.twist === 'method' ? (c.op.method === 'GET' ? 'PUT' : 'GET') : c.op.method;
  const headers: Record<string, string> = { ...c.headers };
  const t = token(c.token);
  if (t !== undefined) headers.authorization = c.scheme + t;
  if (c.contentType) headers['content-type'] = c.contentType;
  if (c.requestId !== undefined) headers['x-request-id'] = c.requestId;
  let payload: Buffer | undefined;
  if (c.body.kind === 'json') {
    let text: string;
    try {
      text = JSON.stringify(resolveRefs(c.body.value, lookup)) ?? 'null';
    } catch {
      text = '['.repeat(10_000); // too deep for JSON.stringify itself: still a hostile body
    }
    payload = Buffer.from(text);
  } else if (c.body.kind === 'text') payload = Buffer.from(c.body.text);
  if (payload && c.encoding !== 'none') {
    const enc = { gzip: gzipSync, deflate: deflateSync, br: brotliCompressSync, 'gzip-garbage': (b: Buffer) => b, compress: (b: Buffer) => b }[c.encoding];
    payload = enc(payload);
    headers['content-encoding'] = c.encoding === 'gzip-garbage' ? 'gzip' : c.encoding;
  }
  return { method, path, headers, payload, echoId: c.requestId !== undefined && REQUEST_ID.test(c.requestId) ? c.requestId : undefined };
}

export interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

/** Sends exactly the prepared request (node:http, so a GET may carry a body); resolves with the answer, or rejects on a transport error. */
export function send(base: string, p: Prepared): Promise<Answer> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: url.hostname, port: url.port, method: p.method, path: p.path, headers: { ...p.headers, ...(p.payload ? { 'content-length': String(p.payload.length) } : {}) }, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString() }));
        res.on('error', reject);
      },
    );
    req.setTimeout(20_000, () => req.destroy(new Error('no answer within 20 s')));
    req.on('error', reject);
    req.end(p.payload);
  });
}
