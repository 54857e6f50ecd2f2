import { describe, expect, it } from '@jest/globals';
import { scalingVerdict } from './scaling.js';

const row = (replicas: number, cpu: number | null, withB: number | null = 400, without: number | null = 10) => ({
  replicas,
  hubCpuSecondsPer1000: cpu,
  busBytesWith: replicas > 1 ? withB : null,
  busBytesWithout: replicas > 1 ? without : null,
});

describe('scalingVerdict', () => {
  it('horizontal: CPU per delivery flat within ±15% and the bus sends a replica without subscribers almost nothing', () => {
    const v = scalingVerdict([row(1, 0.1), row(2, 0.114), row(3, 0.086)]);
    expect(v.verdict).toBe('horizontal');
    expect(v.checks).toHaveLength(4);
    expect(v.rule).toMatch(/±15%/);
  });

  it('not horizontal when CPU per delivery grows past 15% at any N', () => {
    const v = scalingVerdict([row(1, 0.1), row(2, 0.11), row(3, 0.116)]);
    expect(v.verdict).toBe('not horizontal');
    expect(v.checks.find((c) => c.replicas === 3 && c.what === 'cpu')).toMatchObject({ value: 1.16, ok: false });
  });

  it('not horizontal when a replica without subscribers gets 1/10 of the bytes or more (every replica receives every message)', () => {
    expect(scalingVerdict([row(1, 0.1), row(2, 0.1, 400, 40), row(3, 0.1)]).verdict).toBe('not horizontal');
    expect(scalingVerdict([row(1, 0.1), row(2, 0.1, 400, 39), row(3, 0.1)]).verdict).toBe('horizontal');
  });

  it('undecided when a figure is missing or only one replica ran, never horizontal by default', () => {
    expect(scalingVerdict([row(1, 0.1)]).verdict).toBe('undecided');
    expect(scalingVerdict([row(1, null), row(2, 0.1)]).verdict).toBe('undecided');
    expect(scalingVerdict([row(1, 0.1), row(2, 0.1, null, null)]).verdict).toBe('undecided');
  });

  it('a failing check outweighs a missing one', () => {
    expect(scalingVerdict([row(1, 0.1), row(2, 0.2, null, null)]).verdict).toBe('not horizontal');
  });
});
