import { Injectable, type PipeTransform } from '@nestjs/common';
import type { z } from 'zod';
import { parseInput } from './validation.js';

/** One schema per payload, applied by whichever door the payload came in by. */
@Injectable()
export class ZodPipe<S extends z.ZodType> implements PipeTransform<unknown, z.infer<S>> {
  constructor(
    private readonly schema: S,
    private readonly what = 'input',
  ) {}

  transform(value: unknown): z.infer<S> {
    return parseInput(this.schema, value, this.what);
  }
}
