import { z } from 'zod';
import { username } from '../auth/auth.schemas.js';
import { uuid } from '../common/validation.js';

export const channelName = z
  .string()
  .min(1, 'must be 1-64 characters')
  .max(64, 'must be 1-64 characters')
  .regex(/^[a-z0-9_.-]+$/, 'may contain only a-z, 0-9, _ . -');
const visibility = z.enum(['public', 'private']);

export const createChannelSchema = z.strictObject({ name: channelName, visibility: visibility.optional() });
export type CreateChannel = z.infer<typeof createChannelSchema>;

export const updateChannelSchema = z
  .strictObject({ name: channelName.optional(), visibility: visibility.optional() })
  .refine((b) => b.name !== undefined || b.visibility !== undefined, 'give name or visibility');
export type UpdateChannel = z.infer<typeof updateChannelSchema>;

export const listChannelsSchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(200).optional(),
});
export type ListChannels = z.infer<typeof listChannelsSchema>;

export const addMemberSchema = z.strictObject({ username });

export const channelIdParam = z.strictObject({ id: uuid });
export const memberParams = z.strictObject({ id: uuid, userId: uuid });

export const subscribeSchema = z.strictObject({
  channelId: uuid,
  sinceSeq: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
});
export const channelRefSchema = z.strictObject({ channelId: uuid });
