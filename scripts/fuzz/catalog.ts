import { z } from 'zod';
import { channelRefSchema, subscribeSchema } from '../../src/channels/channels.schemas.js';
import type { ErrorCode } from '../../src/common/errors.js';
import type { ClientToServerEvents } from '../../src/events/events.js';
import { publishEventSchema } from '../../src/messages/messages.schemas.js';

// What the fuzzer aims at, derived from the hub itself: REST operations from
// its OpenAPI document (generated from the zod schemas that validate), socket
// events from the client→server event map with the schemas their gateways use.

/** A JSON-schema object's fields: what a near-valid input is made of. */
export interface Fields {
  properties: Record<string, Record<string, unknown>>;
  required: string[];
}

export interface RestOperation {
  method: string;
  /** OpenAPI path, e.g. `/api/channels/{id}/members/{userId}`. */
  template: string;
  pathParams: string[];
  query: Record<string, Record<string, unknown>>;
  body?: Fields;
  authenticated: boolean;
}

interface OpenApiDoc {
  paths: Record<
    string,
    Record<
      string,
      { parameters?: Array<{ name: string; in: string; schema?: Record<string, unknown> }>; requestBody?: { content?: Record<string, { schema?: Record<string, unknown> }> }; security?: unknown[] }
    >
  >;
}

const fieldsOf = (schema: Record<string, unknown> | undefined): Fields | undefined =>
  schema && typeof schema.properties === 'object' ? { properties: schema.properties as Fields['properties'], required: (schema.required as string[] | undefined) ?? [] } : undefined;

/** Every operation of the hub's OpenAPI document (`GET /api/docs-json`). */
export function restOperations(doc: OpenApiDoc): RestOperation[] {
  const ops: RestOperation[] = [];
  for (const [template, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const params = op.parameters ?? [];
      const body = op.requestBody?.content?.['application/json']?.schema;
      ops.push({
        method: method.toUpperCase(),
        template,
        pathParams: params.filter((p) => p.in === 'path').map((p) => p.name),
        query: Object.fromEntries(params.filter((p) => p.in === 'query').map((p) => [p.name, p.schema ?? {}])),
        body: fieldsOf(body),
        authenticated: (op.security ?? []).length > 0,
      });
    }
  }
  return ops;
}

export async function fetchOperations(baseUrl: string): Promise<RestOperation[]> {
  const res = await fetch(`${baseUrl}/api/docs-json`);
  if (!res.ok) throw new Error(`GET /api/docs-json answered ${res.status}: the fuzzer derives its routes from the OpenAPI document`);
  return restOperations((await res.json()) as OpenApiDoc);
}

export interface SocketEvent {
  /** The zod schema the gateway validates the payload with. */
  fields: Fields;
  /** Whether the event is acknowledged at all (`typing` never is). */
  acked: boolean;
  /** The ack error codes CONTRACT §5 allows (the fuzz's hub has Postgres up, so UNAVAILABLE counts as a failure). */
  codes: ErrorCode[];
}

const fieldsFromZod = (schema: z.ZodType): Fields => fieldsOf(z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }))!;

/**
 * One entry per client→server event: the Record type makes the compiler
 * refuse a map that misses an event of ClientToServerEvents or names one it
 * does not have.
 */
export const SOCKET_EVENTS: Record<keyof ClientToServerEvents, SocketEvent> = {
  'channel:subscribe': { fields: fieldsFromZod(subscribeSchema), acked: true, codes: ['BAD_REQUEST', 'NOT_FOUND'] },
  'channel:unsubscribe': { fields: fieldsFromZod(channelRefSchema), acked: true, codes: ['BAD_REQUEST'] },
  'message:publish': { fields: fieldsFromZod(publishEventSchema), acked: true, codes: ['BAD_REQUEST', 'PAYLOAD_TOO_LARGE', 'NOT_FOUND', 'CONFLICT'] },
  typing: { fields: fieldsFromZod(channelRefSchema), acked: false, codes: [] },
};

export const EVENT_NAMES = Object.keys(SOCKET_EVENTS) as Array<keyof ClientToServerEvents>;
