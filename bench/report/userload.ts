// The report sections of the "users would ask next" scenarios: hub and
// baseline side by side from each summary, every ratio with whether it counts
// and the rule that decides it (userload-rules.ts), then the steps. Summaries
// written before a field existed render it as '–'.
import type { ScenarioResult } from '../scenarios/context.js';
import type { RatioCall, SideBySide } from '../scenarios/userload-rules.js';
import type { Cell, SectionKit } from './markdown.js';
import { countedText } from './spread.js';

// The summaries as the scenarios write them, every field optional: a results file may predate it.
type Top = { rate: number | null; exhausted?: boolean; endedBy?: string } | undefined;
type Rule = { rule?: string };
type Sides = { hub?: Record<string, unknown>; baseline?: Record<string, unknown> };
type Presence = { presenceSettled?: { mean?: number; shareOfRoom?: number } };
interface ManyChannels {
  highestKept?: { hub?: Top; baseline?: Top } & Rule;
  atEqualLoad?: { byRate?: SideBySide[] } & Rule;
}
interface Bodies {
  publish?: { bySize?: Array<{ bodyBytes: number; publishesPerS?: RatioCall; ackP99?: RatioCall }> } & Rule;
  fanout?: { bySizeAndRate?: SideBySide[] } & Rule;
}
interface ThroughLb {
  highestKept?: { hubRest?: Top; hubSocket?: Top; baseline?: Top } & Rule;
  atEqualLoad?: { socketByRate?: SideBySide[] } & Rule;
}
interface Idle15k extends Sides {
  heapRatio?: number | null;
  rssRatio?: number | null;
  ratioRule?: string;
}
type Burst = { n?: number; min?: number; median?: number; max?: number } | null | undefined;
interface ConnectRate {
  burst?: number;
  hubHighestKept?: Top;
  baselineHighestKept?: Top;
  highestKeptRule?: string;
  burstSeconds?: { hub?: Burst; baseline?: Burst };
  burstRatio?: number | null;
  burstRatioRule?: string;
}
interface BigRoom extends Sides {
  hub?: Record<string, unknown> & Presence;
  baseline?: Record<string, unknown> & Presence;
  ratios?: { allSubscribedS?: number | null; heapKBPerSubscriber?: number | null; rssKBPerSubscriber?: number | null } & Rule;
  fanoutAtEqualLoad?: { steps?: SideBySide[] } & Rule;
}

const yesNo = (b: unknown): Cell => (typeof b === 'boolean' ? (b ? 'yes' : 'no') : '–');
const times = (kit: SectionKit, r: unknown) => (typeof r === 'number' ? `${kit.num(r, 2)}×` : '–');
const ruleLine = (what: string, rule: string | undefined) => `${what}: ${typeof rule === 'string' ? rule : '–'}.`;

/** One ratio, its verdict on counting and why. */
const call = (kit: SectionKit, c: RatioCall | undefined): Cell[] => (c ? [times(kit, c.ratio), yesNo(c.counts), c.why] : ['–', '–', '–']);

/** Hub ÷ baseline per paired step (p99, p50, own CPU per 1,000 deliveries); the counting and why of p99 stand for the row unless another differs. */
function sideBySideTable(kit: SectionKit, label: string, rows: SideBySide[] | undefined, rule: string | undefined): string[] {
  if (!rows?.length) return [ruleLine('Hub ÷ baseline at equal load: none recorded. Rule', rule)];
  return [
    kit.table(
      [label, 'p99 hub ÷ baseline', 'p50 hub ÷ baseline', 'own CPU / 1,000 deliveries hub ÷ baseline', 'counts', 'why'],
      rows.map((r) => {
        const cs = [r.p99, r.p50, r.cpuPer1000];
        return [
          r.key,
          times(kit, r.p99?.ratio),
          times(kit, r.p50?.ratio),
          times(kit, r.cpuPer1000?.ratio),
          cs.map((c) => yesNo(c?.counts)).join(' / '),
          [...new Set(cs.map((c) => c?.why ?? '–'))].join('; '),
        ];
      }),
    ),
    '',
    ruleLine('Counts (p99 / p50 / CPU) by this rule', rule),
  ];
}

function ladderTable(kit: SectionKit, tops: Array<[string, Top]>, rule: string | undefined): string[] {
  return [
    kit.table(
      ['side', 'highest rate kept up, msg/s', 'exhausted', 'ended by'],
      tops.map(([side, t]) => [side, kit.num(t?.rate), yesNo(t?.exhausted), t?.endedBy]),
    ),
    '',
    ruleLine('Rule', rule),
  ];
}

export function manyChannelsSection(s: ScenarioResult, kit: SectionKit): string[] {
  const m = s.summary as ManyChannels;
  return [
    ...ladderTable(
      kit,
      [
        ['hub', m.highestKept?.hub],
        ['baseline', m.highestKept?.baseline],
      ],
      m.highestKept?.rule,
    ),
    '',
    ...sideBySideTable(kit, 'msg/s', m.atEqualLoad?.byRate, m.atEqualLoad?.rule),
    '',
    kit.stepTable(s.steps),
  ];
}

export function bodiesSection(s: ScenarioResult, kit: SectionKit): string[] {
  const m = s.summary as Bodies;
  const bySize = m.publish?.bySize ?? [];
  return [
    bySize.length
      ? kit.table(
          ['body bytes', 'publishes/s hub ÷ baseline', 'counts', 'why', 'ack p99 hub ÷ baseline', 'counts', 'why'],
          bySize.map((r) => [kit.num(r.bodyBytes), ...call(kit, r.publishesPerS), ...call(kit, r.ackP99)]),
        )
      : 'Publish path: no step of both sides recorded.',
    '',
    ruleLine('Publish path, rule', m.publish?.rule),
    '',
    ...sideBySideTable(kit, 'fan-out step', m.fanout?.bySizeAndRate, m.fanout?.rule),
    '',
    kit.stepTable(s.steps, [['payload MB/s', (x) => (typeof x.params.bodyBytes === 'number' && typeof x.deliveredPerS === 'number' ? kit.num((x.deliveredPerS * x.params.bodyBytes) / 1e6, 1) : '–')]]),
  ];
}

export function throughLbSection(s: ScenarioResult, kit: SectionKit): string[] {
  const m = s.summary as ThroughLb;
  const k = m.highestKept;
  return [
    ...ladderTable(
      kit,
      [
        ['hub, REST publishes', k?.hubRest],
        ['hub, socket publishes', k?.hubSocket],
        ['baseline, socket publishes', k?.baseline],
      ],
      k?.rule,
    ),
    '',
    ...sideBySideTable(kit, 'msg/s (socket door)', m.atEqualLoad?.socketByRate, m.atEqualLoad?.rule),
    '',
    kit.stepTable(s.steps),
  ];
}

/** Rows of hub, baseline and hub ÷ baseline for the fields named. */
const sideRows = (kit: SectionKit, m: Sides, rows: Array<[string, string, (number | null)?]>, digits = 2): Cell[][] =>
  rows.map(([label, f, r]) => [
    label,
    typeof m.hub?.[f] === 'boolean' ? yesNo(m.hub[f]) : kit.num(m.hub?.[f], digits),
    typeof m.baseline?.[f] === 'boolean' ? yesNo(m.baseline[f]) : kit.num(m.baseline?.[f], digits),
    r === undefined ? '' : times(kit, r),
  ]);

export function idle15kSection(s: ScenarioResult, kit: SectionKit): string[] {
  const m = s.summary as Idle15k;
  return [
    kit.table(
      ['measure', 'hub', 'baseline', 'hub ÷ baseline'],
      sideRows(kit, m, [
        ['connected', 'connected'],
        ['failed', 'failed'],
        ['seconds to connect and subscribe all', 'connectSeconds'],
        ['heap KB per connection', 'heapKBPerConnection', m.heapRatio ?? null],
        ['RSS KB per connection', 'rssKBPerConnection', m.rssRatio ?? null],
        ['external KB per connection', 'externalKBPerConnection'],
        ['heap after, MB', 'heapAfterMB'],
        ['RSS after, MB', 'rssAfterMB'],
      ]),
    ),
    '',
    ruleLine('Ratios, rule', m.ratioRule),
    '',
    kit.stepTable(s.steps),
  ];
}

export function connectRateSection(s: ScenarioResult, kit: SectionKit): string[] {
  const m = s.summary as ConnectRate;
  const row = (side: string, top: Top, burst: Burst): Cell[] => [side, kit.num(top?.rate), top?.endedBy, countedText(burst, 2)];
  return [
    kit.table(
      ['side', 'highest connects + subscribes/s kept', 'ended by', `seconds to open ${kit.num(m.burst)} sockets, median (min–max)`],
      [row('hub', m.hubHighestKept, m.burstSeconds?.hub), row('baseline', m.baselineHighestKept, m.burstSeconds?.baseline)],
    ),
    '',
    ruleLine('Highest rate kept, rule', m.highestKeptRule),
    '',
    `Burst, hub ÷ baseline: ${times(kit, m.burstRatio)}. ${ruleLine('Rule', m.burstRatioRule)}`,
    '',
    kit.stepTable(s.steps, [
      ['kept', (x) => yesNo(x.metrics.kept)],
      ['why', (x) => x.metrics.why],
    ]),
  ];
}

export function bigRoomSection(s: ScenarioResult, kit: SectionKit): string[] {
  const m = s.summary as BigRoom;
  const r = m.ratios ?? {};
  const presence = (side: 'hub' | 'baseline') => kit.num(m[side]?.presenceSettled?.mean, 1);
  const share = (side: 'hub' | 'baseline') => kit.num(m[side]?.presenceSettled?.shareOfRoom, 3);
  return [
    kit.table(
      ['measure', 'hub', 'baseline', 'hub ÷ baseline'],
      [
        ...sideRows(kit, m, [
          ['subscribers', 'subscribers'],
          ['connected', 'connected'],
          ['failed', 'failed'],
          ['seconds until all subscribed', 'allSubscribedS', r.allSubscribedS ?? null],
          ['seconds until presence settled', 'settledS'],
          ['presence events stopped', 'presenceStopped'],
          ['heap KB per subscriber', 'heapKBPerSubscriber', r.heapKBPerSubscriber ?? null],
          ['RSS KB per subscriber', 'rssKBPerSubscriber', r.rssKBPerSubscriber ?? null],
        ]),
        ['presence events per client (mean, settled)', presence('hub'), presence('baseline'), ''],
        ['share of the room (mean ÷ (clients − 1))', share('hub'), share('baseline'), ''],
      ],
    ),
    '',
    ruleLine('Ratios, rule', r.rule),
    '',
    ...sideBySideTable(kit, 'step', m.fanoutAtEqualLoad?.steps, m.fanoutAtEqualLoad?.rule),
    '',
    kit.stepTable(s.steps),
  ];
}
