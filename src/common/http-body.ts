import express, { type NextFunction, type Request, type Response } from 'express';
import { AppError } from './errors.js';
import { errorBody } from './http-exception.filter.js';

/** The encodings CONTRACT §4 decodes. */
const DECODED = new Set(['identity', 'gzip', 'deflate', 'br']);

/**
 * Body parsing with docs/SPEC.md's limits, answered in the error shape. Every body
 * is read as JSON whatever its Content-Type (curl -d sends form encoding).
 * Mounted as plain Express middleware, so its errors never reach Nest's filters.
 */
export function jsonBodyMiddleware(maxBytes: number) {
  const parse = express.json({ limit: maxBytes, strict: false, type: () => true });
  const tooLarge = () => new AppError('PAYLOAD_TOO_LARGE', `request body exceeds ${maxBytes} bytes`);

  const guard = (req: Request, res: Response, next: NextFunction) => {
    // The contract's list, whatever the Node version: body-parser also decodes zstd where Node can (Node 24, the image's).
    const encoding = (req.headers['content-encoding'] ?? 'identity').toLowerCase();
    if (!DECODED.has(encoding)) {
      res.status(400).json(errorBody(new AppError('BAD_REQUEST', `unsupported content encoding "${encoding}"`)));
      return;
    }
    const length = Number(req.headers['content-length']);
    if (Number.isFinite(length) && length > maxBytes) {
      res.setHeader('Connection', 'close');
      res.status(413).json(errorBody(tooLarge()));
      return;
    }
    next();
  };

  const onError = (err: { type?: string; status?: number; message?: string }, _req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(err);
    if (err.type === 'entity.too.large') {
      res.setHeader('Connection', 'close');
      res.status(413).json(errorBody(tooLarge()));
    } else if (err.type === 'entity.parse.failed') {
      res.status(400).json(errorBody(new AppError('BAD_REQUEST', 'malformed JSON body', [{ field: '(body)', reason: 'not valid JSON' }])));
    } else if (err.status && err.status >= 400 && err.status < 500) {
      res.status(400).json(errorBody(new AppError('BAD_REQUEST', err.message ?? 'bad request')));
    } else {
      next(err);
    }
  };

  return [guard, parse, onError] as const;
}
