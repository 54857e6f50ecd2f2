// Figures measured more than once (--repeat): kept whole, with the spread a
// reader needs to judge noise on a shared machine.

/**
 * A figure measured `--repeat` times: the values in the order they were
 * measured (drift over the run shows), and their min, median and max. The
 * report writes it "median (min–max)"; a rule compares the median.
 */
export interface Spread {
  values: number[];
  min: number;
  median: number;
  max: number;
}

/** The spread of the finite values (the median of an even count is the mean of the middle two); null when there are none. */
export function spread(values: Array<number | null | undefined>): Spread | null {
  const v = values.filter((x): x is number => typeof x === 'number' && Number.isFinite(x));
  if (!v.length) return null;
  const sorted = [...v].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  // The mean of two is rounded to 12 significant digits: 0.0135 and 0.0137 give 0.0136, not 0.013600000000000001.
  const median = sorted.length % 2 ? sorted[mid] : +((sorted[mid - 1] + sorted[mid]) / 2).toPrecision(12);
  return { values: v, min: sorted[0], median, max: sorted[sorted.length - 1] };
}

/** A spread with the count in place of the values: the shape the variants and connect-rate summaries record (their tables show n, not each run). */
export interface CountedSpread {
  min: number;
  median: number;
  max: number;
  n: number;
}

export function countedSpread(values: Array<number | null | undefined>): CountedSpread | null {
  const s = spread(values);
  return s && { min: s.min, median: s.median, max: s.max, n: s.values.length };
}
