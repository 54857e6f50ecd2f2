import { DeliveryTracker } from './delivery-tracker.js';

describe('DeliveryTracker', () => {
  it('advances the watermark over contiguous seqs and holds early ones aside', () => {
    const t = new DeliveryTracker();
    t.track('c', 3);
    expect(t.record('c', 5)).toBe(true);
    expect(t.watermark('c')).toBe(3);
    expect(t.has('c', 5)).toBe(true);
    expect(t.has('c', 4)).toBe(false);
    expect(t.record('c', 4)).toBe(true);
    expect(t.watermark('c')).toBe(5);
  });

  it('reports duplicates, below the watermark or already ahead', () => {
    const t = new DeliveryTracker();
    t.track('c', 0);
    t.record('c', 1);
    t.record('c', 3);
    expect(t.record('c', 1)).toBe(false);
    expect(t.record('c', 3)).toBe(false);
    expect(t.record('c', 2)).toBe(true);
    expect(t.watermark('c')).toBe(3);
  });

  it('keeps an existing watermark when tracked again, forgets on untrack', () => {
    const t = new DeliveryTracker();
    t.track('c', 2);
    t.record('c', 3);
    t.track('c', 0);
    expect(t.watermark('c')).toBe(3);
    t.untrack('c');
    expect(t.isTracked('c')).toBe(false);
    expect(t.tracked()).toEqual([]);
    expect(t.record('c', 9)).toBe(true);
  });
});
