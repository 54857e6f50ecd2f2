// socket.io's scale options in the report: the variants scenario's table (one
// row per side at equal load, spread over the repeats) and the storm's
// baseline parts.
import type { ScenarioResult } from '../scenarios/context.js';
import type { BaselineStormRow } from '../scenarios/storm.js';
import type { Spread, VariantRow } from '../scenarios/variants.js';
import type { Cell } from './markdown.js';
import { countedText } from './spread.js';

type Table = (header: string[], rows: Cell[][]) => string;

/** `median (min–max)`, or the one figure when there was one run. */
export const spreadCell = (s: Spread | null): string => countedText(s, 1);

export function variantsSection(s: ScenarioResult, table: Table): string[] {
  const sum = s.summary as { rows: VariantRow[]; perRoomBusRule: string };
  return [
    table(
      [
        'side',
        'adapter',
        'delivered msg/s',
        'p50 ms',
        'p99 ms',
        'server CPU ms / 1,000 deliveries',
        'bus B/msg, member server',
        'bus B/msg, server without members',
        'share',
        'per-room bus',
        'lost',
        'dup',
        'out of order',
      ],
      sum.rows.map((r) => [
        r.variant,
        r.adapter,
        spreadCell(r.deliveredPerS),
        spreadCell(r.p50Ms),
        spreadCell(r.p99Ms),
        spreadCell(r.serverCpuMsPer1000Deliveries),
        spreadCell(r.memberBusBytesPerMessage),
        spreadCell(r.idleBusBytesPerMessage),
        r.idleToMemberBusShare,
        r.perRoomBus === null ? '–' : r.perRoomBus ? 'yes' : 'no',
        r.lost,
        r.duplicates,
        r.outOfOrder,
      ]),
    ),
    '',
    `Figures: median (min–max) over the runs. Rule: ${sum.perRoomBusRule}.`,
  ];
}

export function stormBaselinesSection(s: ScenarioResult, table: Table): string[] {
  const rows = Object.entries((s.summary as { baselines?: Record<string, BaselineStormRow> }).baselines ?? {});
  if (!rows.length) return [];
  return [
    table(
      ['baseline part', 'fault', 'clients', 'back', 'recovered', 'all back ms', 'all caught up ms', 'lost', 'lost on recovered', 'not back', 'dup', 'out of order'],
      rows.map(([id, r]) => [id, r.fault, r.subscribers, r.back, r.recovered, r.allBackMs, r.allCaughtUpMs, r.lost, r.lostOnRecovered, r.notBack, r.duplicates, r.outOfOrder]),
    ),
  ];
}
