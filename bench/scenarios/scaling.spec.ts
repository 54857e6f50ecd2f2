import { describe, expect, it } from '@jest/globals';
import { planPinning } from './scaling.js';

describe('planPinning', () => {
  it('pins only when every replica and every generator can have a core of its own', () => {
    expect(planPinning(8, ['hub1', 'hub2', 'hub3'], 3).pin).toBe(true);
    expect(planPinning(6, ['hub1', 'hub2', 'hub3'], 3).pin).toBe(false);
  });

  it('on 2 cores never pins, and says why', () => {
    const p = planPinning(2, ['hub1'], 3);
    expect(p.pin).toBe(false);
    expect(p.why).toMatch(/2 cores ≤ 1 replica\(s\) \+ 3 generator/);
  });
});
