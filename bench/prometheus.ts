// A prom-client histogram read from /metrics text at two moments: what it
// counted in between, and what its buckets can say about that (an upper bound
// per quantile, never an interpolated value the buckets cannot support).

export interface PromHistogram {
  count: number;
  sum: number;
  /** Cumulative counts by upper bound, ascending; the last bound is +Inf. */
  buckets: Array<{ le: number; count: number }>;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{([^}]*)\})? (\S+)/;

/** The sum of the series of `name` whose labels include every one of `where`; null when there is none. */
export function sample(text: string, name: string, where: Record<string, string> = {}): number | null {
  let sum: number | null = null;
  for (const line of text.split('\n')) {
    const m = SAMPLE.exec(line);
    if (m?.[1] !== name) continue;
    const labels = m[2] ?? '';
    if (Object.entries(where).every(([k, v]) => new RegExp(`(?:^|,)${k}="${v}"`).test(labels))) sum = (sum ?? 0) + Number(m[3]);
  }
  return sum;
}

/** The histogram `name` (its series summed over label sets other than le); null when /metrics lacks it. */
export function parseHistogram(text: string, name: string): PromHistogram | null {
  let count: number | null = null;
  let sum = 0;
  const byLe = new Map<number, number>();
  for (const line of text.split('\n')) {
    const m = SAMPLE.exec(line);
    if (!m || !m[1].startsWith(name)) continue;
    const value = Number(m[3]);
    const suffix = m[1].slice(name.length);
    if (suffix === '_count') count = (count ?? 0) + value;
    else if (suffix === '_sum') sum += value;
    else if (suffix === '_bucket') {
      const le = /(?:^|,)le="([^"]+)"/.exec(m[2] ?? '')?.[1];
      if (le === undefined) continue;
      const bound = le === '+Inf' ? Infinity : Number(le);
      byLe.set(bound, (byLe.get(bound) ?? 0) + value);
    }
  }
  if (count === null) return null;
  const buckets = [...byLe].map(([le, c]) => ({ le, count: c })).sort((a, b) => a.le - b.le);
  return { count, sum, buckets };
}

/** What was observed between two readings of the same histogram (`before` null: since the start). */
export function histogramDelta(after: PromHistogram, before: PromHistogram | null): PromHistogram {
  if (!before) return after;
  const earlier = new Map(before.buckets.map((b) => [b.le, b.count]));
  return {
    count: after.count - before.count,
    sum: after.sum - before.sum,
    buckets: after.buckets.map((b) => ({ le: b.le, count: b.count - (earlier.get(b.le) ?? 0) })),
  };
}

/**
 * The upper bound of the bucket holding the q-quantile by nearest rank (the
 * ceil(q·n)-th smallest observation): every observation up to that rank is at
 * most this. q = 1 gives the bucket of the largest. Infinity when it lies
 * past the last finite bound; null without observations.
 */
export function quantileBound(h: PromHistogram, q: number): number | null {
  if (h.count <= 0) return null;
  const rank = Math.max(1, Math.ceil(q * h.count));
  for (const b of h.buckets) if (b.count >= rank) return b.le;
  return Infinity;
}

/** A bound as the report prints it: "≤ 5 ms", or "> 250 ms" past the last finite bucket. */
export function formatBoundMs(bound: number | null, h: PromHistogram): string {
  if (bound === null) return '–';
  if (bound !== Infinity) return `≤ ${+(bound * 1000).toPrecision(6)} ms`;
  const finite = h.buckets.filter((b) => b.le !== Infinity);
  return finite.length ? `> ${+(finite[finite.length - 1].le * 1000).toPrecision(6)} ms` : '–';
}
