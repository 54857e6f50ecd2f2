import { z } from 'zod';
import { uuid } from '../common/validation.js';
import type { Json } from '../events/dto.js';

// Postgres cannot store U+0000 in text or in a jsonb string or key, and jsonb
// refuses a lone UTF-16 surrogate (JSON allows the escape "\ud800"); refuse
// both as bad input here rather than fail in the database with a 500.
// With the u flag, [\ud800-\udfff] matches only unpaired surrogates.
const LONE_SURROGATE = /[\ud800-\udfff]/u;
const unstorable = (s: string) => s.includes('\u0000') || LONE_SURROGATE.test(s);

function hasUnstorable(value: unknown, depth = 0): boolean {
  if (depth > 200) return true;
  if (typeof value === 'string') return unstorable(value);
  if (Array.isArray(value)) return value.some((v) => hasUnstorable(v, depth + 1));
  if (value && typeof value === 'object') {
    return Object.entries(value).some(([k, v]) => unstorable(k) || hasUnstorable(v, depth + 1));
  }
  return false;
}

const body = z
  .custom<Json>((v) => v !== undefined, { error: 'is required (any JSON value, null included)' })
  .refine((v) => !hasUnstorable(v), 'must not contain U+0000 or a lone surrogate, or nest deeper than 200 levels');

export const publishBodySchema = z.strictObject({
  body,
  clientMsgId: z
    .string()
    .min(1)
    .max(64, 'must be at most 64 characters')
    .refine((s) => !unstorable(s), 'must not contain U+0000 or a lone surrogate')
    .optional(),
});
export type PublishInput = z.infer<typeof publishBodySchema>;

export const publishEventSchema = publishBodySchema.extend({ channelId: uuid });

const seq = z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
export const historyQuerySchema = z.strictObject({
  afterSeq: seq.optional(),
  beforeSeq: seq.optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});
export type HistoryQuery = z.infer<typeof historyQuerySchema>;
