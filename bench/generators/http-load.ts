// HTTP load through autocannon (closed loop over N connections, or a fixed
// overall rate): GET history, or POST publishes each with its own body,
// send time and clientMsgId.
import autocannon from 'autocannon';
import type { LatencySummary } from '../histogram.js';
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

export interface HttpLoadResult {
  requests: number;
  rps: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  latency: { p50Ms: number; p99Ms: number; maxMs: number; samples: number };
  durationS: number;
  statusCodes: Record<string, number>;
}

/** autocannon's percentiles as a LatencySummary: p99 only from 1,000 samples. */
export function latencyOf(r: HttpLoadResult): LatencySummary {
  const l = r.latency;
  return l.samples >= 1000
    ? { samples: l.samples, p50Ms: l.p50Ms, p99Ms: l.p99Ms, maxMs: l.maxMs }
    : { samples: l.samples, p50Ms: l.p50Ms, p99Ms: null, maxMs: l.maxMs, note: `p99 not reported: ${l.samples} samples (< 1000)` };
}

export class HttpLoadJob implements Job {
  constructor(private readonly args: HttpLoadArgs) {}

  async start(): Promise<unknown> {
    return null;
  }

  private async run(): Promise<HttpLoadResult> {
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
          setupRequest: (req: autocannon.Request) => {
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
      latency: {
        p50Ms: result.latency.p50,
        p99Ms: result.latency.p99,
        maxMs: result.latency.max,
        // autocannon sets latency.totalCount (the number of samples); its types leave it out.
        samples: (result.latency as autocannon.Histogram & { totalCount?: number }).totalCount ?? result.requests.total,
      },
      durationS: result.duration,
      statusCodes: Object.fromEntries((['1xx', '2xx', '3xx', '4xx', '5xx'] as const).map((k) => [k, result[k]])),
    };
  }

  async call(name: string): Promise<unknown> {
    if (name === 'run') return this.run();
    throw new Error(`http-load: unknown command ${name}`);
  }

  async stop(): Promise<void> {}
}
