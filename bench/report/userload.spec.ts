import { describe, expect, it } from '@jest/globals';
import type { ScenarioResult } from '../scenarios/context.js';
import { EQUAL_LOAD_RULE, LADDER_RULE } from '../scenarios/userload-rules.js';
import { num, type SectionKit, stepTable, table } from './markdown.js';
import { SECTIONS } from './sections.js';

const kit: SectionKit = { table, stepTable, chart: () => '', num };
const render = (id: string, summary: Record<string, unknown>) => SECTIONS[id]({ id, title: id, durationS: 1, steps: [], summary, notes: [] } satisfies ScenarioResult, kit).join('\n');
const counted = { ratio: 22.59, counts: true, why: 'both delivered the offered load; no generator saturated' };
const notCounted = { ratio: 88.88, counts: false, why: 'not at equal load: the hub fell behind' };
const byRate = [
  { key: '100', p99: counted, p50: counted, cpuPer1000: counted },
  { key: '300', p99: notCounted, p50: notCounted, cpuPer1000: notCounted },
];
const clean = (md: string) => {
  expect(md).not.toMatch(/undefined|NaN|null/);
  return md;
};

describe('the user-load report sections', () => {
  it('many-channels: highest rate kept per side and each equal-load ratio with whether it counts, rules printed', () => {
    const md = clean(
      render('many-channels', {
        highestKept: {
          hub: { rate: 100, exhausted: false, endedBy: '300 msg/s: publishes refused or skipped' },
          baseline: { rate: 1000, exhausted: true, endedBy: 'kept up at every rate tried' },
          rule: LADDER_RULE,
        },
        atEqualLoad: { byRate, rule: EQUAL_LOAD_RULE },
      }),
    );
    expect(md).toContain('| hub | 100 | no | 300 msg/s: publishes refused or skipped |');
    expect(md).toContain('| baseline | 1,000 | yes | kept up at every rate tried |');
    expect(md).toContain('| 100 | 22.59× | 22.59× | 22.59× | yes / yes / yes | both delivered the offered load; no generator saturated |');
    expect(md).toContain('| 300 | 88.88× | 88.88× | 88.88× | no / no / no | not at equal load: the hub fell behind |');
    expect(md).toContain(LADDER_RULE);
    expect(md).toContain(EQUAL_LOAD_RULE);
    expect(clean(render('many-channels', {}))).toContain('none recorded');
  });

  it('bodies: publish-path ratios per size and fan-out ratios', () => {
    const md = clean(
      render('bodies', {
        publish: {
          bySize: [{ bodyBytes: 4096, publishesPerS: { ratio: 0.41, counts: true, why: 'no publish refused' }, ackP99: { ratio: 4.31, counts: false, why: 'the hub refused publishes' } }],
          rule: 'CAPACITY',
        },
        fanout: { bySizeAndRate: byRate, rule: EQUAL_LOAD_RULE },
      }),
    );
    expect(md).toContain('| 4,096 | 0.41× | yes | no publish refused | 4.31× | no | the hub refused publishes |');
    expect(md).toContain('Publish path, rule: CAPACITY.');
    expect(clean(render('bodies', { publish: { bySize: [{ bodyBytes: 200 }] } }))).toContain('| 200 | – | – | – | – | – | – |');
    expect(clean(render('bodies', {}))).toContain('Publish path: no step of both sides recorded.');
  });

  it('through-lb: the two hub doors and the baseline', () => {
    const md = clean(
      render('through-lb', {
        highestKept: { hubRest: { rate: 50, exhausted: true, endedBy: 'kept up' }, baseline: { rate: 20, exhausted: false, endedBy: '50 msg/s: 3 deliveries lost' }, rule: LADDER_RULE },
        atEqualLoad: { socketByRate: byRate, rule: EQUAL_LOAD_RULE },
      }),
    );
    expect(md).toContain('| hub, REST publishes | 50 | yes | kept up |');
    expect(md).toContain('| hub, socket publishes | – | – | – |');
    expect(md).toContain('| baseline, socket publishes | 20 | no | 50 msg/s: 3 deliveries lost |');
  });

  it('idle-15k: KB per connection per side and their ratio, with its rule', () => {
    const md = clean(
      render('idle-15k', {
        hub: { connected: 15000, heapKBPerConnection: 12.94, rssKBPerConnection: 18.76 },
        baseline: { connected: 15000, heapKBPerConnection: 10.85 },
        heapRatio: 1.19,
        rssRatio: null,
        ratioRule: 'hub ÷ baseline of KB',
      }),
    );
    expect(md).toContain('| heap KB per connection | 12.94 | 10.85 | 1.19× |');
    expect(md).toContain('| RSS KB per connection | 18.76 | – | – |');
    expect(md).toContain('Ratios, rule: hub ÷ baseline of KB.');
    expect(clean(render('idle-15k', {}))).toContain('Ratios, rule: –.');
  });

  it('connect-rate: highest rate kept, burst spread and ratio, both rules', () => {
    const md = clean(
      render('connect-rate', {
        burst: 2000,
        hubHighestKept: { rate: 400, endedBy: '700/s: p99 11116.54 ms > 1000 ms' },
        baselineHighestKept: { rate: 2200, endedBy: 'every rate tried was kept' },
        highestKeptRule: 'HANDSHAKE RULE',
        burstSeconds: { hub: { n: 3, min: 4.93, median: 6.45, max: 6.81 }, baseline: null },
        burstRatio: 4.27,
        burstRatioRule: 'BURST RULE',
      }),
    );
    expect(md).toContain('| hub | 400 | 700/s: p99 11116.54 ms > 1000 ms | 6.45 (4.93–6.81) |');
    expect(md).toContain('| baseline | 2,200 | every rate tried was kept | – |');
    expect(md).toContain('seconds to open 2,000 sockets');
    expect(md).toContain('Burst, hub ÷ baseline: 4.27×. Rule: BURST RULE.');
    expect(md).toContain('Highest rate kept, rule: HANDSHAKE RULE.');
    expect(clean(render('connect-rate', {}))).toContain('| hub | – | – | – |');
  });

  it('big-room: subscribe time, presence and memory per side, ratios; a summary before ratios existed renders –', () => {
    const side = (connected: number, allSubscribedS: number, mean: number) => ({
      subscribers: 5000,
      connected,
      failed: 5000 - connected,
      allSubscribedS,
      heapKBPerSubscriber: 13.85,
      presenceSettled: { mean, shareOfRoom: mean ? 0.5 : 0 },
    });
    const md = clean(
      render('big-room', {
        hub: { ...side(4395, 558.6, 2198), presenceStopped: true },
        baseline: side(5000, 12.8, 0),
        ratios: { allSubscribedS: 43.64, heapKBPerSubscriber: 1.26, rule: 'RATIO RULE' },
        fanoutAtEqualLoad: { steps: byRate.slice(0, 1), rule: EQUAL_LOAD_RULE },
      }),
    );
    expect(md).toContain('| seconds until all subscribed | 558.6 | 12.8 | 43.64× |');
    expect(md).toContain('| connected | 4,395 | 5,000 |  |');
    expect(md).toContain('| presence events stopped | yes | – |  |');
    expect(md).toContain('| presence events per client (mean, settled) | 2,198 | 0 |  |');
    expect(md).toContain('Ratios, rule: RATIO RULE.');
    const old = clean(render('big-room', { hub: side(4395, 558.6, 2198), baseline: side(5000, 12.8, 0) }));
    expect(old).toContain('| seconds until all subscribed | 558.6 | 12.8 | – |');
    expect(old).toContain('Hub ÷ baseline at equal load: none recorded. Rule: –.');
  });
});
