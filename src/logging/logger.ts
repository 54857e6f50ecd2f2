import { AsyncLocalStorage } from 'node:async_hooks';
import type { LoggerService } from '@nestjs/common';

type Level = 'debug' | 'info' | 'warn' | 'error';
const RANK: Record<Level | 'silent', number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 99 };

/** Per-request / per-socket fields that every log line inside that work carries. */
export const logContext = new AsyncLocalStorage<Record<string, string>>();

/** One JSON object per line on stdout: what log shippers expect from a container. */
export class JsonLogger implements LoggerService {
  constructor(
    private readonly replicaId: string,
    private readonly level: Level | 'silent' = 'info',
    private readonly write: (line: string) => void = (line) => process.stdout.write(line + '\n'),
  ) {}

  log(message: unknown, ...rest: unknown[]) {
    this.emit('info', message, rest);
  }
  error(message: unknown, ...rest: unknown[]) {
    this.emit('error', message, rest);
  }
  warn(message: unknown, ...rest: unknown[]) {
    this.emit('warn', message, rest);
  }
  debug(message: unknown, ...rest: unknown[]) {
    this.emit('debug', message, rest);
  }
  verbose(message: unknown, ...rest: unknown[]) {
    this.emit('debug', message, rest);
  }

  /** Structured form for our own code: a message plus fields. */
  event(level: Level, msg: string, fields: Record<string, unknown> = {}) {
    if (RANK[level] < RANK[this.level]) return;
    this.write(
      JSON.stringify({
        time: new Date().toISOString(),
        level,
        replicaId: this.replicaId,
        ...logContext.getStore(),
        msg,
        ...fields,
      }),
    );
  }

  private emit(level: Level, message: unknown, rest: unknown[]) {
    // Nest passes the context (class name) as the last string argument.
    const context = typeof rest[rest.length - 1] === 'string' ? (rest.pop() as string) : undefined;
    const fields: Record<string, unknown> = {};
    if (context) fields.context = context;
    if (message instanceof Error) {
      fields.err = { name: message.name, message: message.message, stack: message.stack };
      message = message.message;
    }
    const stack = rest.find((r) => typeof r === 'string');
    if (stack) fields.stack = stack;
    this.event(level, typeof message === 'string' ? message : JSON.stringify(message), fields);
  }
}

export const LOGGER = Symbol('LOGGER');
