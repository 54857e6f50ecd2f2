import { describe, expect, it } from '@jest/globals';
import { formatBoundMs, histogramDelta, parseHistogram, type PromHistogram, quantileBound, sample } from './prometheus.js';

// As prom-client 15 renders a histogram, with a look-alike metric beside it that must not be mixed in.
const text = (counts: [number, number, number, number], sum: number) => `# HELP x_seconds a pass
# TYPE x_seconds histogram
x_seconds_bucket{le="0.001"} ${counts[0]}
x_seconds_bucket{le="0.005"} ${counts[1]}
x_seconds_bucket{le="0.01"} ${counts[2]}
x_seconds_bucket{le="+Inf"} ${counts[3]}
x_seconds_sum ${sum}
x_seconds_count ${counts[3]}
x_seconds_total_bucket{le="0.001"} 99
x_seconds_total_count 99
`;

const hist = (bounds: number[], cumulative: number[]): PromHistogram => ({ count: cumulative[cumulative.length - 1], sum: 0, buckets: bounds.map((le, i) => ({ le, count: cumulative[i] })) });

describe('parseHistogram', () => {
  it('reads count, sum and the cumulative buckets in bound order, +Inf last', () => {
    expect(parseHistogram(text([1, 3, 4, 5], 0.042), 'x_seconds')).toEqual({
      count: 5,
      sum: 0.042,
      buckets: [
        { le: 0.001, count: 1 },
        { le: 0.005, count: 3 },
        { le: 0.01, count: 4 },
        { le: Infinity, count: 5 },
      ],
    });
  });

  it('sums the series of several label sets bucket by bucket', () => {
    const labelled =
      'y_bucket{replica="a",le="1"} 2\ny_bucket{le="+Inf",replica="a"} 3\ny_bucket{replica="b",le="1"} 1\ny_bucket{le="+Inf",replica="b"} 1\ny_sum{replica="a"} 2.5\ny_sum{replica="b"} 0.5\ny_count{replica="a"} 3\ny_count{replica="b"} 1\n';
    expect(parseHistogram(labelled, 'y')).toEqual({
      count: 4,
      sum: 3,
      buckets: [
        { le: 1, count: 3 },
        { le: Infinity, count: 4 },
      ],
    });
  });

  it('is null where the hub does not export the histogram (an older build)', () => {
    expect(parseHistogram('crosswire_reconcile_passes_total{outcome="ok"} 7\n', 'crosswire_reconcile_blocked_seconds')).toBeNull();
  });
});

describe('histogramDelta', () => {
  it('leaves only what was observed between the two readings', () => {
    const before = parseHistogram(text([1, 3, 4, 5], 0.04), 'x_seconds')!;
    const after = parseHistogram(text([1, 5, 9, 10], 0.1), 'x_seconds')!;
    const d = histogramDelta(after, before);
    expect(d.count).toBe(5);
    expect(d.sum).toBeCloseTo(0.06, 12);
    expect(d.buckets.map((b) => b.count)).toEqual([0, 2, 5, 5]);
  });
});

describe('quantileBound', () => {
  const bounds = [0.001, 0.005, 0.01, Infinity];

  it('is the bound of the bucket holding the nearest-rank quantile', () => {
    // 100 observations: 90 ≤ 1 ms, 9 more ≤ 5 ms, the last ≤ 10 ms.
    const h = hist(bounds, [90, 99, 100, 100]);
    expect(quantileBound(h, 0.5)).toBe(0.001);
    expect(quantileBound(h, 0.9)).toBe(0.001);
    // Rank 99 is the last observation of the 5 ms bucket, not the first of the next.
    expect(quantileBound(h, 0.99)).toBe(0.005);
    expect(quantileBound(h, 1)).toBe(0.01);
  });

  it('with fewer than 100 observations, p99 is the bucket of the largest', () => {
    expect(quantileBound(hist(bounds, [14, 14, 15, 15]), 0.99)).toBe(0.01);
  });

  it('is Infinity past the last finite bound, null without observations', () => {
    expect(quantileBound(hist(bounds, [0, 0, 1, 2]), 1)).toBe(Infinity);
    expect(quantileBound(hist(bounds, [0, 0, 0, 0]), 0.99)).toBeNull();
  });
});

describe('formatBoundMs', () => {
  const h = hist([0.0001, 0.25, Infinity], [1, 1, 2]);
  it('prints a bound in ms, or past the last finite one', () => {
    expect(formatBoundMs(0.0001, h)).toBe('≤ 0.1 ms');
    expect(formatBoundMs(0.25, h)).toBe('≤ 250 ms');
    expect(formatBoundMs(Infinity, h)).toBe('> 250 ms');
    expect(formatBoundMs(null, h)).toBe('–');
  });
});

describe('sample', () => {
  const counters =
    'crosswire_reconcile_passes_total{outcome="ok"} 7\ncrosswire_reconcile_passes_total{outcome="failed"} 2\ncrosswire_reconcile_passes_total_x 100\nnodejs_eventloop_lag_p99_seconds 0.0123\n';
  it('sums every series of the name, or those with the given labels', () => {
    expect(sample(counters, 'crosswire_reconcile_passes_total')).toBe(9);
    expect(sample(counters, 'crosswire_reconcile_passes_total', { outcome: 'failed' })).toBe(2);
    expect(sample(counters, 'nodejs_eventloop_lag_p99_seconds')).toBe(0.0123);
  });
  it('is null for a name or label set that is absent', () => {
    expect(sample(counters, 'crosswire_reconcile_blocked_seconds_count')).toBeNull();
    expect(sample(counters, 'crosswire_reconcile_passes_total', { outcome: 'skipped' })).toBeNull();
  });
});
