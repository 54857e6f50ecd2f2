// A figure measured more than once (--repeat), and how the report writes it.
// The shape is the `Spread` the scenarios record (bench/stats.ts); a results
// file written before --repeat holds a plain number instead, which reads too.

import { type Spread, spread } from '../stats.js';

export type { Spread };

/** A figure as a results file may hold it: one measurement, several, or none. */
export type Figure = number | Spread | null | undefined;

export function isSpread(v: unknown): v is Spread {
  if (typeof v !== 'object' || v === null) return false;
  const s = v as Record<string, unknown>;
  return Array.isArray(s.values) && typeof s.min === 'number' && typeof s.median === 'number' && typeof s.max === 'number';
}

/** The spread of the finite values (bench/stats.ts: one definition for the scenarios that record it and the report that reads it). */
export function spreadOf(values: number[]): Spread | null {
  return spread(values);
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

/** A spread recorded with its count (bench/stats.ts CountedSpread) as "median (min–max)", the median alone for one run; '–' without a median. */
export function countedText(s: { n?: number; min?: number; median?: number; max?: number } | null | undefined, digits: number): string {
  if (typeof s?.median !== 'number') return '–';
  const f = (v: number | undefined) => (typeof v === 'number' ? fmt(v, digits) : '–');
  return s.n === 1 ? f(s.median) : `${f(s.median)} (${f(s.min)}–${f(s.max)})`;
}
