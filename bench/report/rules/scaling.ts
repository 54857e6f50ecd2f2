// Claim 6 ("WebSocket scales only vertically") decided by numbers: the hub
// scales out when adding replicas does not make each delivery dearer and a
// replica is not sent the traffic of channels it has no subscriber of. Both
// carry over to a machine with more cores; throughput against N on a 2-core
// machine does not (every replica shares the same two cores).

/** Within this share of the one-replica figure, CPU per delivery counts as flat. */
export const CPU_TOLERANCE = 0.15;
/** A replica without subscribers of a channel must receive under this share of the bus bytes of one with them. */
export const BUS_SHARE = 0.1;

export const SCALING_RULE = `horizontal when hub CPU-s per 1,000 deliveries at every N > 1 stays within ±${CPU_TOLERANCE * 100}% of its value at N = 1 (medians over the repeats, same offered load) and, at every N > 1, each replica without subscribers of a channel receives under 1/${1 / BUS_SHARE} of the bus bytes per message of the replica with them; not horizontal when either fails; undecided when a figure is missing`;

export interface ScalingInput {
  replicas: number;
  /** Hub CPU-s per 1,000 deliveries (the median over the repeats); null: not measured. */
  hubCpuSecondsPer1000: number | null;
  /** Bus bytes per message on the replica with subscribers of the channel, and the most any replica without them received (N > 1 only). */
  busBytesWith?: number | null;
  busBytesWithout?: number | null;
}

export interface ScalingVerdict {
  verdict: 'horizontal' | 'not horizontal' | 'undecided';
  rule: string;
  /** One line per check, with the figures it read. */
  checks: Array<{ replicas: number; what: 'cpu' | 'bus'; value: number | null; limit: string; ok: boolean | null }>;
}

export function scalingVerdict(rows: ScalingInput[]): ScalingVerdict {
  const checks: ScalingVerdict['checks'] = [];
  const one = rows.find((r) => r.replicas === 1)?.hubCpuSecondsPer1000 ?? null;
  const more = rows.filter((r) => r.replicas > 1).sort((a, b) => a.replicas - b.replicas);
  for (const r of more) {
    const ratio = one !== null && one > 0 && r.hubCpuSecondsPer1000 !== null ? r.hubCpuSecondsPer1000 / one : null;
    checks.push({
      replicas: r.replicas,
      what: 'cpu',
      value: ratio === null ? null : Math.round(ratio * 1000) / 1000,
      limit: `${1 - CPU_TOLERANCE}–${1 + CPU_TOLERANCE}× N = 1`,
      ok: ratio === null ? null : Math.abs(ratio - 1) <= CPU_TOLERANCE,
    });
    const share = r.busBytesWith != null && r.busBytesWith > 0 && r.busBytesWithout != null ? r.busBytesWithout / r.busBytesWith : null;
    checks.push({ replicas: r.replicas, what: 'bus', value: share === null ? null : Math.round(share * 1000) / 1000, limit: `< ${BUS_SHARE}`, ok: share === null ? null : share < BUS_SHARE });
  }
  const verdict = !more.length ? 'undecided' : checks.some((c) => c.ok === false) ? 'not horizontal' : checks.some((c) => c.ok === null) ? 'undecided' : 'horizontal';
  return { verdict, rule: SCALING_RULE, checks };
}
