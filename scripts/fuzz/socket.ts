import fc from 'fast-check';
import { EVENT_NAMES, SOCKET_EVENTS } from './catalog.js';
import { TOKEN_KINDS, USER_ROLES, type TokenKind, type UserRole } from './fixture.js';
import { inputFor } from './inputs.js';
import { anyValue, edgeString, hostileJson } from './values.js';

// Generated socket traffic: client→server events with spoiled payloads and
// argument lists, events the hub does not know, and handshakes with bad auth.

export interface EventCase {
  who: UserRole;
  event: string;
  /** The arguments before the ack callback: none, the payload, or the payload and one more. */
  args: unknown[];
  withAck: boolean;
}

export function eventCase(): fc.Arbitrary<EventCase> {
  const known = fc.constantFrom(...EVENT_NAMES).chain((event) =>
    fc.record({
      event: fc.constant<string>(event),
      args: fc.oneof(
        { arbitrary: inputFor(SOCKET_EVENTS[event].fields).map((p) => [p]), weight: 8 },
        { arbitrary: fc.constant([]), weight: 1 },
        { arbitrary: fc.tuple(inputFor(SOCKET_EVENTS[event].fields), anyValue).map((a) => [...a]), weight: 1 },
      ),
    }),
  );
  const unknown = fc.record({
    event: fc.oneof(
      fc.constantFrom('x:revoke', 'x:sessions', 'session', 'message:created', 'CHANNEL:SUBSCRIBE', '__proto__', 'constructor'),
      edgeString.filter((s) => s !== '' && !RESERVED.has(s)),
    ),
    args: fc.array(anyValue, { maxLength: 2 }),
  });
  return fc
    .record({
      who: fc.constantFrom(...USER_ROLES),
      call: fc.oneof({ arbitrary: known, weight: 9 }, { arbitrary: unknown, weight: 1 }),
      withAck: fc.oneof({ arbitrary: fc.constant(true), weight: 4 }, fc.constant(false)),
    })
    .map(({ who, call, withAck }): EventCase => ({ who, event: call.event, args: [...call.args], withAck }));
}

/** Names socket.io reserves: the client library refuses to emit them, so they never reach the hub. */
export const RESERVED = new Set(['connect', 'connect_error', 'disconnect', 'disconnecting', 'newListener', 'removeListener']);

export interface HandshakeCase {
  /** `auth` as sent: `{token}` of a kind, or a generated object (socket.io itself refuses a non-object before the hub sees it; the client cannot encode a very deep one). */
  auth: { kind: 'token'; token: TokenKind } | { kind: 'value'; value: unknown };
}

export const handshakeCase: fc.Arbitrary<HandshakeCase> = fc.oneof(
  { arbitrary: fc.constantFrom(...TOKEN_KINDS).map((token): HandshakeCase => ({ auth: { kind: 'token', token } })), weight: 3 },
  {
    arbitrary: fc
      .oneof(
        hostileJson.map((token) => ({ token })),
        fc.dictionary(edgeString, hostileJson, { maxKeys: 3 }),
      )
      .map((value): HandshakeCase => ({ auth: { kind: 'value', value } })),
    weight: 1,
  },
);
