// The console table a run ends with: one line per step.
import type { ScenarioResult, StepResult } from '../scenarios/context.js';

const fmt = (v: number | null | undefined, digits = 0) => (v === null || v === undefined ? '–' : v.toFixed(digits));

export function busiest(s: StepResult): string {
  const top = [...s.cpu.processes].sort((a, b) => b.core - a.core).slice(0, 2);
  return top.map((p) => `${p.name} ${Math.round(p.core * 100)}%`).join(', ');
}

export function stepRow(s: StepResult): string[] {
  return [
    s.name,
    fmt(s.durationS, 1),
    String(s.latency?.samples ?? '–'),
    fmt(s.latency?.p50Ms, 1),
    s.latency?.p99Ms === null && s.latency ? `(n<1000)` : fmt(s.latency?.p99Ms, 1),
    fmt(s.deliveredPerS),
    fmt(s.lost),
    s.saturated,
    busiest(s),
  ];
}

export const STEP_HEADER = ['step', 'window s', 'samples', 'p50 ms', 'p99 ms', 'delivered/s', 'lost', 'saturated', 'busiest processes'];

export function renderTable(scenarios: ScenarioResult[]): string {
  const rows = [STEP_HEADER, ...scenarios.flatMap((sc) => sc.steps.map(stepRow))];
  const widths = STEP_HEADER.map((_, i) => Math.min(60, Math.max(...rows.map((r) => r[i].length))));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(rows[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}
