import { z } from 'zod';

// Usernames are not lowercased: anything outside the pattern is refused, so
// "Alice" and "alice" can never both exist.
export const username = z
  .string()
  .min(3, 'must be 3-32 characters')
  .max(32, 'must be 3-32 characters')
  .regex(/^[a-z0-9_.-]+$/, 'may contain only a-z, 0-9, _ . -');

const password = z.string().min(8, 'must be 8-256 characters').max(256, 'must be 8-256 characters');

export const credentialsSchema = z.strictObject({ username, password });
export type Credentials = z.infer<typeof credentialsSchema>;

export const passwordChangeSchema = z.strictObject({ currentPassword: password, newPassword: password });
export type PasswordChange = z.infer<typeof passwordChangeSchema>;
