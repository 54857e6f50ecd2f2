import { applyDecorators } from '@nestjs/common';
import { ApiBody, ApiQuery, ApiResponse } from '@nestjs/swagger';
import { z } from 'zod';

const DESCRIPTIONS: Record<number, string> = {
  200: 'OK',
  201: 'Created',
  204: 'No content',
  400: 'Bad input (details lists each field)',
  401: 'Missing, forged or expired token',
  403: 'Allowed to see, not to do',
  404: 'Unknown id, or a private channel the caller is not in',
  409: 'Conflict',
  413: 'Body or request too large',
  503: 'A dependency is down',
};

// The OpenAPI document is generated from the same zod schemas that validate,
// so docs and behaviour cannot drift apart.
const jsonSchema = (schema: z.ZodType) => z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;

export const ApiJsonBody = (schema: z.ZodType) => ApiBody({ schema: jsonSchema(schema) });

export const ApiQueryFrom = (schema: z.ZodObject) =>
  applyDecorators(...Object.entries(schema.shape).map(([name, field]) => ApiQuery({ name, required: !(field as z.ZodType).safeParse(undefined).success, schema: jsonSchema(field as z.ZodType) })));

export const ApiOutcomes = (...statuses: number[]) => applyDecorators(...[...statuses, 503].map((status) => ApiResponse({ status, description: DESCRIPTIONS[status] })));
