import { z } from 'zod';
import { uuid } from '../common/validation.js';
import type { Json } from '../events/dto.js';

// Postgres jsonb cannot store U+0000 in a string or key; refuse it as bad
// input here rather than fail in the database.
function hasNul(value: unknown, depth = 0): boolean {
  if (depth > 200) return true;
  if (typeof value === 'string') return value.includes('\u0000');
  if (Array.isArray(value)) return value.some((v) => hasNul(v, depth + 1));
  if (value && typeof value === 'object') {
    return Object.entries(value).some(([k, v]) => k.includes('\u0000') || hasNul(v, depth + 1));
  }
  return false;
}

const body = z
  .custom<Json>((v) => v !== undefined, { message: 'is required (any JSON value, null included)' })
  .refine((v) => !hasNul(v), 'must not contain U+0000 or nest deeper than 200 levels');

export const publishBodySchema = z.strictObject({
  body,
  clientMsgId: z.string().min(1).max(64, 'must be at most 64 characters').optional(),
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
