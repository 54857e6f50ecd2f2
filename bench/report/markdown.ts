// docs/benchmark.md from a run's results: headline, claims, targets,
// profiles, then each scenario's steps and charts (a scenario without a
// section of its own here gets the generic one, or one from SECTIONS in
// sections.ts), and how the run was made.
import type { ProfileResult } from '../profile.js';
import { loginFloodSection } from './login-flood.js';
import { overloadSection } from './overload.js';
import { reconcileSection } from './reconcile.js';
import type { ScenarioResult, StepResult } from '../scenarios/context.js';
import type { ScalingRow } from '../scenarios/scaling.js';
import type { ScalingVerdict } from './rules/scaling.js';
import { keptUp } from '../scenarios/delivery.js';
import { BUS_SHARE, coldBus, twoCores } from './claims.js';
import { EQUAL_LOAD, equalLoad, p99Times } from './headline.js';
import type { Results } from './results.js';
import { SECTIONS } from './sections.js';
import { isSpread, spreadText } from './spread.js';
import { stormBaselinesSection } from './variants.js';

/** What a table cell holds: a primitive, written as String() writes it ('–' when missing). */
export type Cell = string | number | boolean | null | undefined;
const esc = (s: Cell) =>
  String(s ?? '–')
    .replace(/\|/g, '\\|')
    .replace(/\n/g, ' ');
export const num = (v: unknown, d = 0) => (typeof v === 'number' ? v.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: 0 }) : '–');
const pct = (v: number) => `${Math.round(v * 100)}%`;

export function table(header: string[], rows: Cell[][]): string {
  return [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`)].join('\n');
}

const p99 = (s: StepResult) => (s.latency ? (s.latency.p99Ms === null ? `n<1000` : num(s.latency.p99Ms, 1)) : '–');
const cpuOf = (s: StepResult, kinds: string[]) => s.cpu.processes.filter((p) => kinds.includes(p.kind));
const serverCpu = (s: StepResult) =>
  cpuOf(s, ['hub', 'baseline'])
    .map((p) => `${p.name} ${pct(p.core)}`)
    .join(', ') || '–';
const genMax = (s: StepResult) => {
  const g = cpuOf(s, ['generator']);
  return g.length ? pct(Math.max(...g.map((p) => p.core))) : '–';
};
const pg = (s: StepResult) => pct(cpuOf(s, ['postgres'])[0]?.core ?? 0);

export function stepTable(steps: StepResult[], extra: Array<[string, (s: StepResult) => Cell]> = []): string {
  return table(
    [
      'step',
      'window s',
      'samples',
      'p50 ms',
      'p99 ms',
      'per s',
      'lost',
      ...extra.map(([h]) => h),
      'saturated',
      'server CPU (of a core)',
      'Postgres',
      'busiest generator',
      'machine busy',
      'other load',
    ],
    steps.map((s) => [
      s.name,
      num(s.durationS, 1),
      s.latency?.samples ?? '–',
      num(s.latency?.p50Ms, 1),
      p99(s),
      num(s.deliveredPerS),
      s.lost ?? '–',
      ...extra.map(([, f]) => f(s)),
      s.saturated,
      serverCpu(s),
      pg(s),
      genMax(s),
      pct(s.cpu.machineBusy),
      pct(s.cpu.otherLoad),
    ]),
  );
}

/** What the "before" column is, from the earlier file's own record: its date, its commit when it has one, its command. */
export function beforeLabel(b: NonNullable<Results['before']>): string {
  return `the run of ${b.startedAt.slice(0, 16).replace('T', ' ')} UTC (\`${b.file}\`, ${b.commit ? `commit ${b.commit}` : 'commit not recorded in that file'}; \`${b.command}\`)`;
}

const verdict = (pass: boolean | null | undefined) => (pass == null ? 'n/a' : pass ? '**PASS**' : '**FAIL**');

/** This run's targets, and with --before the earlier run's figure for each. */
function targetsTable(r: Results): string[] {
  if (!r.before)
    return [
      table(
        ['target', 'measured', 'result', 'note'],
        r.targets.map((t) => [t.text, t.measured, verdict(t.pass), t.note]),
      ),
    ];
  const earlier = new Map(r.before.targets.map((t) => [t.id, t]));
  return [
    `Before: ${beforeLabel(r.before)}, on the same machine; its targets judged by this run’s rules.`,
    '',
    table(
      ['target', `before (${r.before.startedAt.slice(0, 10)})`, 'this run', 'result', 'note'],
      r.targets.map((t) => {
        const b = earlier.get(t.id);
        return [t.text, b ? `${b.measured} (${verdict(b.pass)})` : '–', t.measured, verdict(t.pass), t.note];
      }),
    ),
  ];
}

function profileSection(p: ProfileResult): string {
  return [
    `### ${p.target}`,
    '',
    `Load: ${p.load}; ${p.samples} samples over ${p.seconds} s (\`node --cpu-prof\` on a fresh replica).`,
    '',
    table(
      ['self %', 'package'],
      p.topPackages.map((x) => [x.selfPct, x.pkg]),
    ),
    '',
    table(
      ['self %', 'function', 'where'],
      p.topFunctions.map((x) => [x.selfPct, x.fn, x.where]),
    ),
  ].join('\n');
}

/** What a scenario's section gets to lay out its figures (sections.ts). */
export interface SectionKit {
  table: (header: string[], rows: Cell[][]) => string;
  stepTable: typeof stepTable;
  /** A chart charts.ts drew for this run, as a Markdown image ('' when absent). */
  chart: (file: string) => string;
  num: (v: unknown, digits?: number) => string;
}
export type Section = (sc: ScenarioResult, kit: SectionKit) => string[];

/** Scenarios with a section of their own in renderMarkdown; any other scenario of a run is rendered after them, by its SECTIONS entry or genericSection. */
const RENDERED_ABOVE = new Set(['polling', 'fanout', 'scaling', 'idle', 'reconcile', 'publish', 'overload', 'login-flood', 'storm', 'read', 'claims']);

/** A scenario without a section: its steps, then its summary's plain figures (nested objects as JSON). */
export const genericSection: Section = (s, kit) => {
  const flat = Object.entries(s.summary).map(([k, v]): Cell[] => [k, v === null || typeof v !== 'object' ? (v as Cell) : isSpread(v) ? spreadText(v, 2) : JSON.stringify(v)]);
  return [...(s.steps.length ? [kit.stepTable(s.steps)] : []), ...(flat.length ? ['', kit.table(['measure', 'value'], flat)] : [])];
};

/** Equal load (headline.ts): hub and baseline at the same rate and subscribers, each figure the median of its runs with min–max. */
function equalLoadTable(s: ScenarioResult): string[] {
  const rows = equalLoad(s);
  if (!rows.length) return [];
  return [
    `**At equal load** (${rows[0].rate} msg/s to ${rows[0].subscribers} subscribers; with repeats, median (min–max, n runs)). ${rows[0].rule ? `How these are measured: ${rows[0].rule}.` : "Read from the ladder steps at that rate; CPU is each server's own processes (hub replicas, or baseline servers) over the step ÷ its deliveries × 1,000; hub ÷ baseline is the ratio of the medians."}`,
    '',
    table(
      ['replicas', 'side', 'p50 ms', 'p99 ms', 'publish ack p50 ms', 'own CPU ms / 1,000 deliveries', 'hub ÷ baseline (p99)'],
      rows.flatMap((x) => [
        [x.replicas, 'hub', spreadText(x.hub.p50Ms), spreadText(x.hub.p99Ms), spreadText(x.hub.ackP50Ms), spreadText(x.hub.ownCpuMsPer1000), p99Times(x)],
        [x.replicas, 'baseline', spreadText(x.baseline.p50Ms), spreadText(x.baseline.p99Ms), spreadText(x.baseline.ackP50Ms), spreadText(x.baseline.ownCpuMsPer1000), ''],
      ]),
    ),
    '',
    ...(rows[0].subscribers === EQUAL_LOAD.subscribers ? [] : [`(This run had no ${EQUAL_LOAD.subscribers}-subscriber steps at ${EQUAL_LOAD.rate} msg/s: the largest count it had is shown.)`, '']),
  ];
}

/** Which hub steps fell behind, with the hub's CPU and the first refusal each saw: measured, not inferred. */
export function behindText(s: ScenarioResult, profiles: ProfileResult[]): string[] {
  const behind = s.steps.filter((x) => x.side === 'hub' && !keptUp(x));
  const profiled = profiles.some((p) => p.load === 'fanout');
  const lines = behind.map((x) => {
    const hubs = x.cpu.processes.filter((p) => p.kind === 'hub').map((p) => `${p.name} ${pct(p.core)} of a core`);
    const err = x.metrics.firstPublishError ? `; first refusal: ${String(x.metrics.firstPublishError)}` : '';
    return `- ${x.name}: ${hubs.join(', ') || 'no hub CPU recorded'}; ${x.metrics.publishErrors ?? 0} of ${x.metrics.published ?? '–'} publishes refused or timed out${err}`;
  });
  return [
    behind.length
      ? 'Hub steps that fell behind (lost, p99 ≥ 1 s, or a publish refused or timed out), with each hub process’s CPU over the step; refused publishes were never acknowledged, so they are not counted as lost:'
      : 'No hub step fell behind in this run.',
    ...(lines.length ? ['', ...lines] : []),
    '',
    profiled ? 'The CPU profile of a replica under this load is in the Profiles section.' : 'This run has no CPU profile of the fan-out load (`--profile-all` takes one).',
  ];
}

/** The scaling section's capacity model, with the bus term as this run measured it. */
export function capacityModel(sc: Record<string, ScenarioResult>): string {
  const bus = coldBus(sc);
  const cpu = 'A capacity model for another machine: deliveries/s per core ≈ 1,000 / (hub CPU-s per 1,000 deliveries)';
  if (!bus) return `${cpu}; the bus term was not measured in this run (no step with a channel subscribed on one replica only), so it is not modelled.`;
  const [first, firstBytes] = bus.perReplica[0];
  const others = bus.perReplica.slice(1);
  const measured = `in this run a message of a channel only ${first} serves brought ${first} ${firstBytes} B from Redis and ${others.map(([n, v]) => `${n} ${v} B`).join(', ')}`;
  return others.every(([, v]) => v < BUS_SHARE * firstBytes)
    ? `${cpu}, and Redis bus bytes/s ≈ messages/s × (replicas holding subscribers of the channel) × bytes per message: ${measured} (under a tenth: their background traffic, canary and presence), so a replica without subscribers of a channel does not receive its messages.`
    : `${cpu}, and Redis bus bytes/s ≈ messages/s × replicas × bytes per message: ${measured}, so every replica receives the channel's messages whether or not it has subscribers of it.`;
}

function scenario(sc: ScenarioResult | undefined, body: (sc: ScenarioResult) => string[]): string {
  if (!sc) return '';
  return [`## ${sc.title}`, '', `Took ${num(sc.durationS)} s.`, '', ...body(sc), '', ...sc.notes.map((n) => `- ${n}`), ''].join('\n');
}

export function renderMarkdown(r: Results & { profiles?: ProfileResult[] }, charts: Array<{ file: string; title: string }>, chartDir: string, headline: string): string {
  const sc = r.scenarios;
  const chart = (file: string) => {
    const c = charts.find((x) => x.file === file);
    return c ? `![${c.title}](${chartDir}/${c.file})` : '';
  };
  const m = r.machine;
  const out: string[] = [
    '# Crosswire benchmark',
    '',
    `Generated by \`${r.command}\` (${r.mode} run${r.commit ? `, commit ${r.commit}` : ''}) on ${r.startedAt.slice(0, 10)}; the run took ${Math.floor(r.durationS / 60)} min ${r.durationS % 60} s after the build. Do not edit by hand: run the command again. Raw results: \`bench/results/${r.startedAt.replace(/[:.]/g, '-')}.json\`.`,
    '',
    '**Headline** (the figures a reader asks for first; each is read from this run’s results, each ratio and verdict computed by the rules in the sections below):',
    '',
    headline,
    '',
    `**Machine.** ${m.cpuModel}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.os}; Node ${m.node}, PostgreSQL ${m.postgres} (embedded, fsync on), Redis ${m.redis}. Load average at start: ${m.loadAverageAtStart.join(', ')}. Everything (servers, Redis, Postgres, ${String(r.config.generatorProcesses)} generator processes) shares these cores; the "other load" column is CPU used by processes outside the benchmark during each step.`,
    '',
    '## The seed’s claims',
    '',
    'Each verdict is computed from the figures beside it by the rule printed in the last column (bench/report/claims.ts); a claim no figure can decide is marked a design argument.',
    '',
    table(
      ['#', 'claim', 'what Crosswire measured (same hub, this run)', 'verdict', 'rule'],
      r.claims.map((c) => [c.n, c.claim, c.measured, c.condition ? `**${c.verdict}**: ${c.condition}` : `**${c.verdict}**`, c.rule ?? '(not recorded: re-render)']),
    ),
    '',
    '## Targets of the performance issue',
    '',
    ...targetsTable(r),
    '',
  ];
  const profiles = r.profiles ?? [];
  if (profiles.length) {
    const all = r.command.includes('--profile-all');
    out.push(
      all ? '## Profiles' : '## Profiles where a target fails',
      '',
      all ? 'The top of a CPU profile of one replica under each profiled load.' : 'The top of a CPU profile of one replica under the load of the failing target.',
      '',
      ...profiles.map(profileSection).flatMap((s) => [s, '']),
    );
  }
  out.push(
    '## How to read the tables',
    '',
    '- **window s**: the measuring window of the step; **samples**: latency samples in it. A p99 is shown only from 1,000 samples (`n<1000` otherwise).',
    '- **per s**: deliveries per second for delivery steps (messages × subscribers received in the window), publishes/s for publish steps, responses/s for GET steps.',
    '- **lost**: messages acknowledged to the publisher that a client had not received when the step ended plus a drain wait (late under overload, or lost).',
    '- **saturated**: `server` when a server process (hub or baseline) used ≥ 85% of a core and no generator did; `generator` when a load generator did; `both`; `machine` when no single process did but the machine was ≥ 90% busy; `none` otherwise. A hub/baseline ratio counts only where the servers, not the generators, set the pace: no generator at ≥ 85% of a core or with an event-loop lag p99 above 100 ms, and a server side saturated or fell behind (on a saturated machine: starved of CPU while every generator kept up). Elsewhere it says "not measurable here", with the reason.',
    '- A rate is **sustained** when p99 < 1 s and nothing is lost over a window of at least 20 s; shorter steps never claim it.',
    '- CPU is read from /proc for each process tree (Postgres with its backends) before and after each step.',
    '',
  );
  out.push(
    scenario(sc.polling, (s) => [
      chart('polling-latency.svg'),
      chart('polling-bytes.svg'),
      chart('polling-cpu.svg'),
      '',
      stepTable(s.steps, [
        ['bytes up/msg', (x) => num(x.metrics.bytesUpPerMessage)],
        ['bytes down/msg', (x) => num(x.metrics.bytesDownPerMessage)],
        ['server CPU ms/msg', (x) => num(x.metrics.serverCpuMsPerMessage, 3)],
      ]),
      '',
      '**Where the curves cross** (messages/s; null: not between the rates measured):',
      '',
      table(
        ['series', 'crossing'],
        Object.entries(s.summary.crossings as Record<string, number | null>).map(([k, v]) => [k, v ?? 'no crossing']),
      ),
      '',
      '**Clients one replica holds before p99 passes 1 s** (10 msg/s on the channel):',
      '',
      table(
        ['way', 'held up to', 'tried up to', 'note'],
        Object.entries(s.summary.capacity as Record<string, { heldUpTo: number; triedUpTo: number; exhaustedLadder: boolean }>).map(([k, v]) => [
          k,
          v.heldUpTo,
          v.triedUpTo,
          v.exhaustedLadder ? 'every step held: the limit is above the largest step tried' : '',
        ]),
      ),
    ]),
    scenario(sc.fanout, (s) => [
      chart('fanout.svg'),
      '',
      stepTable(s.steps, [
        ['offered/s', (x) => num(x.offeredPerS)],
        ['sustained', (x) => (x.sustained === null ? '(window < 20 s)' : x.sustained ? 'yes' : 'no')],
        ['ack p50 ms', (x) => num(x.metrics.ackP50Ms, 1)],
        ['generator lag p99 ms', (x) => num(x.metrics.generatorLagP99Ms, 0)],
        ['publish errors', (x) => x.metrics.publishErrors ?? '–'],
      ]),
      '',
      ...equalLoadTable(s),
      ...behindText(s, r.profiles ?? []),
      '',
      '**Hub / baseline per step**:',
      '',
      table(
        ['configuration', 'msg/s', 'hub deliveries/s', 'baseline deliveries/s', 'ratio', 'counts?'],
        Object.values(
          s.summary as Record<
            string,
            { subscribers: number; replicas: number; ratios: Array<{ rate: number; sustainCheck: boolean; hubPerS: number; baselinePerS: number; ratio: unknown; counts: boolean; why: string }> }
          >,
        ).flatMap((c) =>
          c.ratios.map((x) => [
            `${c.subscribers} subs × ${c.replicas}${x.sustainCheck ? ' (sustain check)' : ''}`,
            x.rate,
            num(x.hubPerS),
            num(x.baselinePerS),
            typeof x.ratio === 'number' ? x.ratio : isSpread(x.ratio) ? spreadText(x.ratio, 2) : '–',
            x.counts ? 'yes' : x.why,
          ]),
        ),
      ),
    ]),
    scenario(sc.scaling, (s) => {
      const rows = Object.entries(s.summary as Record<string, ScalingRow | undefined>)
        .filter(([k, x]) => /^\d+$/.test(k) && Boolean(x))
        .map(([, x]) => x!)
        .sort((a, b) => a.replicas - b.replicas);
      return [
        chart('scaling.svg'),
        '',
        table(
          [
            'replicas',
            'highest rate kept up (msg/s)',
            'deliveries/s',
            'hub CPU-s / 1,000 deliveries',
            'server CPU-s / 1,000 (hub+Redis+PG)',
            'bytes from Redis per message, per replica',
            'same, channel subscribed on hub1 only',
            'limit found?',
            'pinned',
          ],
          rows.map((x) => [
            x.replicas,
            x.highestRateKeptUp ?? 'none',
            num(x.deliveriesPerS),
            x.hubCpuSecondsPer1000Deliveries,
            x.serverCpuSecondsPer1000Deliveries,
            JSON.stringify(x.redisBytesInPerMessage),
            x.coldChannelRedisBytesInPerMessage ? JSON.stringify(x.coldChannelRedisBytesInPerMessage) : '–',
            x.ladderExhausted ? 'no: kept up at the ladder’s top rate, the limit is above it' : x.highestRateKeptUp === null ? 'below the lowest rate' : 'yes',
            x.pinning ? (x.pinning.pinned ? 'yes' : 'no') : '–',
          ]),
        ),
        '',
        ...scalingVerdictLines(s.summary),
        capacityModel(sc),
        '',
        `${twoCores(r.machine.cores, s.summary.pinned === true, Math.max(0, ...rows.map((x) => x.replicas)))}. Claim 6 above is decided from these figures by its printed rule.`,
        '',
        stepTable(s.steps),
      ];
    }),
    scenario(sc.idle, (s) => [
      table(
        ['server', 'connections', 'heap KB / connection', 'RSS KB / connection', 'external KB / connection', 'connect + subscribe took'],
        s.steps.map((x) => [x.side, x.delivered, x.metrics.heapKBPerConnection, x.metrics.rssKBPerConnection, x.metrics.externalKBPerConnection, `${x.durationS} s`]),
      ),
    ]),
    scenario(sc.reconcile, (s) => reconcileSection(s, table)),
    scenario(sc.publish, (s) => [chart('publish.svg'), '', stepTable(s.steps, [['server CPU ms/publish', (x) => num(x.metrics.serverCpuMsPerPublish, 2)]])]),
    scenario(sc.overload, (s) => overloadSection(s, table)),
    scenario(sc['login-flood'], (s) => [...loginFloodSection(s, table), '', stepTable(s.steps)]),
    scenario(sc.storm, (s) => [
      table(
        ['measure', 'value'],
        // A flat summary: numbers, strings and nulls (the baselines' rows have their own table).
        Object.entries(s.summary as Record<string, Cell>)
          .filter(([k]) => k !== 'baselines')
          .map(([k, v]) => [k, v]),
      ),
      '',
      ...stormBaselinesSection(s, table),
      '',
      stepTable(s.steps),
    ]),
    scenario(sc.read, (s) => [
      stepTable(s.steps),
      '',
      table(
        ['measure', 'value'],
        // A flat summary: numbers, and the headers (strings, null when absent).
        Object.entries(s.summary as Record<string, Cell>).map(([k, v]) => [k, v ?? 'absent']),
      ),
    ]),
    scenario(sc.claims, (s) => [
      stepTable(s.steps, [
        ['connections opened', (x) => x.metrics.connectionsOpened ?? '–'],
        ['per 1,000 msgs', (x) => num(x.metrics.connectionsPer1000Messages, 1)],
      ]),
    ]),
  );
  for (const [id, s] of Object.entries(sc)) if (!RENDERED_ABOVE.has(id)) out.push(scenario(s, (x) => (SECTIONS[id] ?? genericSection)(x, { table, stepTable, chart, num })));
  out.push(
    '## Configuration',
    '',
    `- Profile: ${JSON.stringify(r.config.profile)}.`,
    `- Hub: built code (\`dist/src/main.js\`), one process per replica, environment as \`npm run cluster\` gives it (scripts/cluster-config.ts) plus ${JSON.stringify(r.config.hubEnv)}; \`MIGRATE_ON_START=false\` (the bench migrates once). Limits raised for the bench: ${r.config.limitsRaised.length ? r.config.limitsRaised.join('; ') : 'none (no hub limit was in the way)'}.`,
    '- Bench users are inserted directly into the database (placeholder password hash, so they cannot log in) with tokens signed by the run’s own secret, generated into the run’s temporary folder.',
    '- Clients connect to the replicas directly (no HAProxy); each replica and baseline server reaches Redis through a byte-counting proxy of its own.',
    `- Baseline (bench/baseline/server.ts): socket.io 4 + @socket.io/redis-adapter on ioredis, no auth, no persistence, same event names and \`message:created\` shape as the hub. Server options: \`${JSON.stringify(r.config.baseline.server)}\`; adapter: \`${JSON.stringify(r.config.baseline.adapter)}\`; ioredis: \`${JSON.stringify(r.config.baseline.redis)}\`.`,
    `- Load generators: ${String(r.config.generatorProcesses)} processes (bench/generators), socket.io-client over WebSocket, Node http with keep-alive, autocannon for REST closed loops; latencies in hdr-histogram-js (µs), from a send time inside each message body (same machine clock).`,
    '',
  );
  return out.join('\n');
}

/** Claim 6's rule and its checks, as the scaling scenario computed them (bench/report/rules/scaling.ts). */
function scalingVerdictLines(summary: Record<string, unknown>): string[] {
  const v = summary.verdict as ScalingVerdict | undefined;
  const text = (k: string) => (typeof summary[k] === 'string' ? summary[k] : 'n/a');
  if (!v) return [];
  const checks = v.checks.map(
    (c) =>
      `N = ${c.replicas}, ${c.what === 'cpu' ? 'hub CPU per delivery ÷ N = 1' : 'bus bytes without ÷ with subscribers'}: ${c.value ?? 'n/a'} (${c.limit}) ${c.ok === null ? 'n/a' : c.ok ? 'ok' : 'fails'}`,
  );
  return [`**Verdict: ${v.verdict}.** Rule: ${v.rule}. ${checks.join('; ')}.`, `Pinning: ${text('pinningWhy')}. ${text('whatThisMachineShows')}.`, ''];
}
