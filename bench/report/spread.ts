// A figure measured more than once (--repeat), and how the report writes it.
// The shape matches the `Spread` the scenarios record (bench/scenarios/context.ts
// on the measuring branch); defined here too so the report reads results files
// written before it existed, where a figure is a plain number.

export interface Spread {
  values: number[];
  min: number;
  median: number;
  max: number;
}

/** A figure as a results file may hold it: one measurement, several, or none. */
export type Figure = number | Spread | null | undefined;

export function isSpread(v: unknown): v is Spread {
  if (typeof v !== 'object' || v === null) return false;
  const s = v as Record<string, unknown>;
  return Array.isArray(s.values) && typeof s.min === 'number' && typeof s.median === 'number' && typeof s.max === 'number';
}

/** The median of the values (the mean of the middle two for an even count), with their min and max; null for no values. */
export function spreadOf(values: number[]): Spread | null {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!v.length) return null;
  const mid = Math.floor(v.length / 2);
  const median = v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
  return { values: v, min: v[0], median, max: v[v.length - 1] };
}

/** The value a rule compares: the median of a spread, the number itself, or null. */
export function central(f: Figure): number | null {
  if (typeof f === 'number') return Number.isFinite(f) ? f : null;
  return isSpread(f) ? f.median : null;
}

const fmt = (v: number, digits: number) => v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 });

/**
 * "median (min–max, n runs)" for a spread of more than one value; the number
 * alone for one value or a plain number; "n/a" for none.
 */
export function spreadText(f: Figure, digits = 1, unit = ''): string {
  if (f === null || f === undefined) return 'n/a';
  if (typeof f === 'number') return Number.isFinite(f) ? `${fmt(f, digits)}${unit}` : 'n/a';
  if (!isSpread(f) || !f.values.length) return 'n/a';
  if (f.values.length === 1) return `${fmt(f.median, digits)}${unit}`;
  return `${fmt(f.median, digits)}${unit} (${fmt(f.min, digits)}–${fmt(f.max, digits)}, ${f.values.length} runs)`;
}
