import { describe, expect, it } from '@jest/globals';
import { spread } from './stats.js';

describe('spread', () => {
  it('keeps the values in measured order and gives their min, median and max', () => {
    expect(spread([0.97, 0.86, 1.04])).toEqual({ values: [0.97, 0.86, 1.04], min: 0.86, median: 0.97, max: 1.04 });
  });

  it('takes the mean of the middle two for an even count', () => {
    expect(spread([4, 1, 3, 2])).toMatchObject({ min: 1, median: 2.5, max: 4 });
    expect(spread([0.0135, 0.0137])?.median).toBe(0.0136);
  });

  it('is one value for a single measurement (a --quick run)', () => {
    expect(spread([28])).toEqual({ values: [28], min: 28, median: 28, max: 28 });
  });

  it('leaves out what was not measured, and is null when nothing was', () => {
    expect(spread([null, 5, undefined, NaN, 7])).toEqual({ values: [5, 7], min: 5, median: 6, max: 7 });
    expect(spread([])).toBeNull();
    expect(spread([null, Infinity])).toBeNull();
  });
});
