import { describe, expect, it } from '@jest/globals';
import { parseArgs, profileFor, UsageError } from './config.js';

describe('--repeat', () => {
  it('defaults to 3 in a full run and 1 with --quick', () => {
    expect(parseArgs([], '/r').repeat).toBe(3);
    expect(parseArgs(['--quick'], '/r').repeat).toBe(1);
  });

  it('takes N from 1 to 10 either way, and refuses anything else', () => {
    expect(parseArgs(['--quick', '--repeat', '2'], '/r').repeat).toBe(2);
    expect(parseArgs(['--repeat', '5'], '/r').repeat).toBe(5);
    for (const bad of ['0', '11', '1.5', 'x']) expect(() => parseArgs(['--repeat', bad], '/r')).toThrow(UsageError);
  });

  it('reaches the profile, with a warm-up in a full run only', () => {
    expect(profileFor(false, 3)).toMatchObject({ repeat: 3, sustainMs: 20_000 });
    expect(profileFor(false).warmupMs).toBeGreaterThan(0);
    expect(profileFor(true)).toMatchObject({ repeat: 1, warmupMs: 0 });
  });
});
