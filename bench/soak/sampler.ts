// One sample of a replica: heap after forced GC (bench/memory.ts: through the
// inspector, opened by SIGUSR1 and closed again, so the hub needs no GC
// endpoint and no --expose-gc) and its own /metrics: RSS, handles, event-loop
// lag, sockets, and its delivery-lag histogram.
import { measureMemory } from '../memory.js';

export interface ReplicaSample {
  replica: string;
  /** Seconds since the soak started. */
  t: number;
  heapAfterGcBytes: number | null;
  rssBytes: number | null;
  activeHandles: number | null;
  eventLoopLagP99Ms: number | null;
  socketsOpen: number | null;
  slowConsumerCuts: number | null;
  presenceReaps: number | null;
  resumes: number | null;
}

/** Sum of the series of `name` (all labels) in Prometheus text; null when absent. */
export function metric(text: string, name: string): number | null {
  let sum: number | null = null;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-zA-Z0-9_:]+)(\{[^}]*\})? (\S+)$/.exec(line);
    if (m?.[1] === name) sum = (sum ?? 0) + Number(m[3]);
  }
  return sum;
}

export async function sampleReplica(r: { name: string; url: string; pid: number; inspectPort: number }, t: number, adminToken: string): Promise<ReplicaSample> {
  // /metrics may be an operators' route (admin token); the header is ignored where it is public.
  const text = await fetch(`${r.url}/metrics`, { headers: { authorization: `Bearer ${adminToken}` }, signal: AbortSignal.timeout(5_000) })
    .then((res) => (res.ok ? res.text() : ''))
    .catch(() => '');
  const heap = await measureMemory(r.pid, r.inspectPort).catch(() => null);
  const lag = metric(text, 'nodejs_eventloop_lag_p99_seconds');
  return {
    replica: r.name,
    t,
    heapAfterGcBytes: heap?.heapUsed ?? null,
    rssBytes: heap?.rss ?? metric(text, 'process_resident_memory_bytes'),
    activeHandles: metric(text, 'nodejs_active_handles_total'),
    eventLoopLagP99Ms: lag === null ? null : Math.round(lag * 10_000) / 10,
    socketsOpen: metric(text, 'crosswire_sockets_open'),
    slowConsumerCuts: metric(text, 'crosswire_slow_consumer_disconnects_total'),
    presenceReaps: metric(text, 'crosswire_presence_reaps_total'),
    resumes: metric(text, 'crosswire_subscribe_resumes_total'),
  };
}

/** Least-squares slope of y over x (both finite); null with fewer than 3 points. */
export function slope(points: Array<{ x: number; y: number }>): number | null {
  const n = points.length;
  if (n < 3) return null;
  const mx = points.reduce((s, p) => s + p.x, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  let num = 0;
  let den = 0;
  for (const p of points) {
    num += (p.x - mx) * (p.y - my);
    den += (p.x - mx) ** 2;
  }
  return den === 0 ? null : num / den;
}
