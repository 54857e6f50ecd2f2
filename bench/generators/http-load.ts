// HTTP load through autocannon (closed loop over N connections, or a fixed
// overall rate): GET history, or POST publishes each with its own body,
// send time and clientMsgId.
import autocannon from 'autocannon';
import { makeBody } from './body.js';
import type { Job } from './protocol.js';

export interface HttpLoadArgs {
  url: string;
  path: string;
  /** Requests go round-robin over these paths (e.g. 100 channels); `path` when absent. */
  paths?: string[];
  method: 'GET' | 'POST';
  token: string;
  connections: number;
  durationMs: number;
  overallRate?: number;
  /** POST: publish bodies of this many bytes, tagged. */
  publish?: { bytes: number; tag: string };
}

export class HttpLoadJob implements Job {
  constructor(private readonly args: HttpLoadArgs) {}

  async start(): Promise<unknown> {
    return null;
  }

  private async run(): Promise<unknown> {
    const a = this.args;
    let n = 0;
    const publish = a.publish;
    const result = await autocannon({
      url: a.url + a.path,
      method: a.method,
      connections: a.connections,
      duration: a.durationMs / 1000,
      ...(a.overallRate ? { overallRate: a.overallRate } : {}),
      headers: { authorization: `Bearer ${a.token}`, 'content-type': 'application/json' },
      requests: [
        {
          setupRequest: (req: any) => {
            const k = n++;
            const path = a.paths ? a.paths[k % a.paths.length] : req.path;
            if (!publish) return { ...req, path };
            return { ...req, path, body: JSON.stringify({ body: makeBody(Date.now(), publish.tag, k, publish.bytes), clientMsgId: `${publish.tag}-${process.pid}-${k}` }) };
          },
        },
      ],
    });
    return {
      requests: result.requests.total,
      rps: result.requests.average,
      non2xx: result.non2xx,
      errors: result.errors,
      timeouts: result.timeouts,
      latency: { p50Ms: result.latency.p50, p99Ms: result.latency.p99, maxMs: result.latency.max, samples: (result.latency as any).totalCount ?? result.requests.total },
      durationS: result.duration,
      statusCodes: Object.fromEntries(['1xx', '2xx', '3xx', '4xx', '5xx'].map((k) => [k, (result as any)[k]])),
    };
  }

  async call(name: string): Promise<unknown> {
    if (name === 'run') return this.run();
    throw new Error(`http-load: unknown command ${name}`);
  }

  async stop(): Promise<void> {}
}
