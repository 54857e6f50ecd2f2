// The reconcile scenario in the report: one row per build measured, the
// figures as the scenario computed them (its notes, printed under the table,
// give each figure's rule).
import type { ScenarioResult } from '../scenarios/context.js';
import type { Cell } from './markdown.js';

export function reconcileSection(sc: ScenarioResult, table: (header: string[], rows: Cell[][]) => string): string[] {
  const v = (x: number | string | boolean | null | undefined, unit = '') => (x === null || x === undefined ? '–' : `${typeof x === 'number' ? x.toLocaleString('en-US') : String(x)}${unit}`);
  const pct = (x: number) => `${Math.round(x * 100)}%`;
  return [
    table(
      [
        'build',
        'passes in window',
        'blocked / pass: mean',
        'p99',
        'max',
        'pass: mean',
        'p99',
        'period − RECONCILE_MS',
        'event-loop delay p99 / max',
        'hub CPU / pass',
        'statements / pass',
        'by query',
        'sockets open',
        'machine busy',
        'other load',
      ],
      sc.steps.map((s) => {
        const m = s.metrics;
        return [
          m.build,
          `${v(m.passes)} in ${s.durationS} s${m.failedPasses ? ` (${v(m.failedPasses)} failed)` : ''}`,
          v(m.blockedMeanMs, ' ms'),
          v(m.blockedP99),
          v(m.blockedMax),
          v(m.passMeanMs, ' ms'),
          v(m.passP99),
          m.passFromPeriodMs === null ? '–' : `${v(m.passFromPeriodMs)} ± ${v(m.passFromPeriodPlusMinusMs)} ms`,
          `${v(m.loopDelayP99Ms)} / ${v(m.loopDelayMaxMs)} ms`,
          v(m.hubCpuMsPerPass, ' ms'),
          v(m.statementsPerPass),
          m.statementsByQuery === null
            ? '–'
            : Object.entries(JSON.parse(String(m.statementsByQuery)) as Record<string, number>)
                .map(([q, n]) => `${n} × \`${q}…\``)
                .join('; '),
          v(m.socketsOpenAtEnd),
          pct(s.cpu.machineBusy),
          pct(s.cpu.otherLoad),
        ];
      }),
    ),
  ];
}
