import { describe, expect, it } from '@jest/globals';
import { perRoomBus, spread } from './variants.js';

describe('spread', () => {
  it('min / median / max of the figures present, the median of an even count the mean of the middle two', () => {
    expect(spread([30, 10, null, 20])).toEqual({ min: 10, median: 20, max: 30, n: 3 });
    expect(spread([4, 1, 3, 2])).toEqual({ min: 1, median: 2.5, max: 4, n: 4 });
    expect(spread([null, undefined, NaN])).toBeNull();
  });
});

describe('perRoomBus', () => {
  it('holds below a tenth of the member server’s bytes, not at or above it', () => {
    expect(perRoomBus(0, 733)).toEqual({ share: 0, perRoom: true });
    expect(perRoomBus(3.9, 741.9)).toEqual({ share: 0.005, perRoom: true });
    expect(perRoomBus(72, 720)).toEqual({ share: 0.1, perRoom: false });
    expect(perRoomBus(628, 628)).toEqual({ share: 1, perRoom: false });
  });

  it('cannot decide without bytes on the member server', () => {
    expect(perRoomBus(10, 0)).toEqual({ share: null, perRoom: null });
    expect(perRoomBus(null, 10)).toEqual({ share: null, perRoom: null });
  });
});
