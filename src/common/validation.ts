import { z } from 'zod';
import { AppError, type FieldProblem } from './errors.js';

export function problemsOf(error: z.ZodError): FieldProblem[] {
  return error.issues.flatMap((issue) => {
    const path = issue.path.map(String);
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({ field: [...path, key].join('.'), reason: 'unknown field' }));
    }
    return [{ field: path.join('.') || '(body)', reason: issue.message }];
  });
}

/** Parses at the edge; both doors use it, so REST and sockets reject alike. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown, what = 'input'): z.infer<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const details = problemsOf(result.error);
  throw new AppError('BAD_REQUEST', `invalid ${what}: ${details.map((d) => `${d.field} ${d.reason}`).join('; ')}`, details);
}

export const uuid = z.uuid({ error: 'must be a uuid' });

/** UTF-8 bytes of JSON.stringify(value): the size docs/SPEC.md limits a body by. */
export function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value) ?? '', 'utf8');
}
