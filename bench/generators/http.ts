// Minimal HTTP calls for generators: one keep-alive agent per caller, JSON in and out.
import http from 'node:http';
import type { MessageDto } from '../../src/events/dto.js';

export interface HttpResult {
  status: number;
  /** The parsed JSON (the text when it is not JSON, undefined when empty): cast it to the endpoint's shape once the status says which. */
  body: unknown;
  /** Sent again once: a reused keep-alive connection was reset before any answer (retryReusedReset). */
  retried?: boolean;
}

type RequestOpts = { method: string; token?: string; body?: unknown; agent: http.Agent | false; timeoutMs?: number; retryReusedReset?: boolean };

export function request(url: string, opts: RequestOpts): Promise<HttpResult> {
  const data = opts.body === undefined ? undefined : JSON.stringify(opts.body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        method: opts.method,
        agent: opts.agent,
        headers: {
          ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
          ...(data ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } : {}),
          ...(opts.agent === false ? { connection: 'close' } : {}),
        },
        timeout: opts.timeoutMs ?? 30_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          let body: unknown = text;
          try {
            body = text ? JSON.parse(text) : undefined;
          } catch {
            /* keep text */
          }
          resolve({ status: res.statusCode ?? 0, body });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e: NodeJS.ErrnoException) => {
      // The server closed an idle keep-alive connection as this request went out on it (Node's documented
      // race): what a browser retries. Only for requests that are safe to repeat (a publish with its clientMsgId).
      if (opts.retryReusedReset && req.reusedSocket && e.code === 'ECONNRESET') resolve(request(url, { ...opts, retryReusedReset: false }).then((r) => ({ ...r, retried: true })));
      else reject(e);
    });
    req.end(data);
  });
}

/** What GET /api/channels/:id/messages answers with (200); a publish answers with the MessageDto (201, or 200 when a retry). */
export interface MessagesPage {
  items: MessageDto[];
  lastSeq: number;
}

export const keepAliveAgent = (maxSockets: number) => new http.Agent({ keepAlive: true, maxSockets });
