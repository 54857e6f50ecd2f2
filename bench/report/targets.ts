// Issue 8's targets, each judged from this run's results: PASS, FAIL, or null
// where this run could not tell (a scenario not run, too few samples, a ratio
// that does not count because the servers did not saturate).
import type { ScenarioResult, StepResult } from '../scenarios/context.js';
import { keptUp } from '../scenarios/delivery.js';
import { ratioVerdict } from '../scenarios/fanout.js';
import { judgeLoginFlood } from './login-flood.js';
import { judgeOverload } from './overload.js';
import type { Verdict } from './results.js';

type Scenarios = Record<string, ScenarioResult>;

const find = (sc: Scenarios, id: string, pred: (s: StepResult) => boolean) => sc[id]?.steps.find(pred);
const ms = (v: number | null | undefined) => (v == null ? 'n/a' : `${v} ms`);

export function judgeTargets(sc: Scenarios): Verdict[] {
  const out: Verdict[] = [];
  const add = (id: string, text: string, measured: string, pass: boolean | null, note = '') => out.push({ id, text, measured, pass, note });
  const notRun = (id: string, text: string, scenario: string) => add(id, text, 'not run', null, `scenario ${scenario} was not part of this run`);

  // Publish path.
  const pub = (name: string) => find(sc, 'publish', (s) => s.name === name);
  const rest32 = pub('REST publish hot channel, 32 concurrent');
  if (rest32)
    add('publish-rest', '≥ 1,000 persisted publishes/s over REST, 32 concurrent, one hot channel, one replica', `${rest32.metrics.publishesPerS}/s`, Number(rest32.metrics.publishesPerS) >= 1000);
  else notRun('publish-rest', '≥ 1,000 persisted publishes/s over REST (32 concurrent)', 'publish');
  const sock64 = pub('socket publish hot channel, 64 in flight');
  if (sock64)
    add('publish-socket', '≥ 2,000 persisted publishes/s over the socket, 64 acks in flight over 8 sockets', `${sock64.metrics.publishesPerS}/s`, Number(sock64.metrics.publishesPerS) >= 2000);
  else notRun('publish-socket', '≥ 2,000 persisted publishes/s over the socket (64 in flight)', 'publish');
  for (const door of ['REST', 'socket'] as const) {
    const s = pub(`${door} publish hot channel, 200/s fixed`);
    const text = `p99 ≤ 50 ms at 200 publishes/s over ${door === 'REST' ? 'REST' : 'the socket'}`;
    if (!s) notRun(`publish-p99-${door.toLowerCase()}`, text, 'publish');
    else if (s.latency?.p99Ms == null) add(`publish-p99-${door.toLowerCase()}`, text, `p50 ${ms(s.latency?.p50Ms)}`, null, s.latency?.note ?? 'no p99');
    else add(`publish-p99-${door.toLowerCase()}`, text, `p99 ${ms(s.latency.p99Ms)} (${s.latency.samples} samples)`, s.latency.p99Ms <= 50);
  }

  // Fan-out.
  const fo = sc.fanout?.steps ?? [];
  const at = (side: string, subs: number, replicas: number, rate: number, confirm = false) =>
    fo.find((s) => s.side === side && s.params.subscribers === subs && s.params.replicas === replicas && s.params.rate === rate && !!s.params.confirm === confirm);
  /** The lowest ladder rate above `rate` where the hub/baseline ratio counts (the servers, not the generators, set the pace). */
  const saturatedAbove = (replicas: number, rate: number) => {
    const rates = [...new Set(fo.filter((s) => s.params.subscribers === 500 && s.params.replicas === replicas && !s.params.confirm).map((s) => Number(s.params.rate)))].sort((a, b) => a - b);
    for (const r of rates.filter((x) => x > rate)) {
      const h = at('hub', 500, replicas, r);
      const b = at('baseline', 500, replicas, r);
      if (!h || !b) continue;
      const v = ratioVerdict(h, b);
      if (v.counts) return { rate: r, h, b, v };
    }
    return undefined;
  };
  const ratioTarget = (id: string, text: string, replicas: number, rate: number | null, min: number, why = '', confirm = false) => {
    if (!sc.fanout) return notRun(id, text, 'fanout');
    const h = rate === null ? undefined : at('hub', 500, replicas, rate, confirm);
    const b = rate === null ? undefined : at('baseline', 500, replicas, rate, confirm);
    if (!h || !b) return add(id, text, 'no step at that rate', null, why || `no hub and baseline step at ${rate} msg/s in this run`);
    const v = ratioVerdict(h, b);
    const measured = `hub ${h.deliveredPerS}/s vs baseline ${b.deliveredPerS}/s at ${rate} msg/s: ${v.ratio ?? 'n/a'}×`;
    if (v.counts) return add(id, text, measured, (v.ratio ?? 0) >= min);
    // Both kept up at this rate (the ladder's own rule: nothing lost, p99 under 1 s, no publish failed): no ratio
    // of capacities is seen there, so it is taken where the servers do saturate: the next rate up.
    const above = saturatedAbove(replicas, rate!);
    if (!keptUp(h) || !above) return add(id, text, measured, null, v.why);
    add(
      id,
      text,
      `${measured} (both kept up); where the servers saturate, at ${above.rate} msg/s: hub ${above.h.deliveredPerS}/s vs baseline ${above.b.deliveredPerS}/s, ${above.v.ratio}×`,
      (above.v.ratio ?? 0) >= min,
      `at ${rate} msg/s neither side fell behind, so the ratio of capacities is read at the next rate, where ${above.v.why}`,
    );
  };
  {
    const text = 'Fan-out, 500 subscribers, one replica: ≥ 0.8× the baseline’s deliveries/s at the highest rate the baseline sustains';
    const checks = fo.filter((s) => s.params.confirm && s.params.subscribers === 500 && s.params.replicas === 1);
    const b = checks.find((s) => s.side === 'baseline');
    const sustain = sustainOf(sc.fanout?.summary['500x1']);
    if (!sc.fanout) notRun('fanout-1', text, 'fanout');
    else if (sustain) {
      const at = sustain.baseline.highestSustainedRate;
      const ratio = sustain.ratioAtBaselineCapacity;
      add(
        'fanout-1',
        text,
        at === null || ratio === null
          ? 'the baseline sustained none of the probed rates'
          : `hub ${ratio}× the baseline’s deliveries at ${at} msg/s, the highest rate the baseline sustained (probes of ${sustain.windowS} s); highest sustained: hub ${sustain.hub.highestSustainedRate ?? 'none'} vs baseline ${at} msg/s (${sustain.capacityRatio ?? 'n/a'}×)`,
        at === null || ratio === null ? null : ratio >= 0.8,
        sustain.rule,
      );
    } else if (!b) add('fanout-1', text, 'no sustain check ran', null, 'the baseline kept up at none of the ladder’s rates');
    else if (b.sustained !== true)
      add(
        'fanout-1',
        text,
        `baseline at ${b.params.rate} msg/s over ${b.durationS} s: ${b.sustained === null ? 'window < 20 s' : 'not sustained'}`,
        null,
        'no rate the baseline sustains (p99 < 1 s, nothing lost, ≥ 20 s) was found in this run',
      );
    else ratioTarget('fanout-1', text, 1, Number(b.params.rate), 0.8, '', true);
  }
  {
    const text = 'Fan-out, 500 subscribers, one replica: p99 ≤ 2× the baseline’s at 50 msg/s';
    const h = at('hub', 500, 1, 50);
    const b = at('baseline', 500, 1, 50);
    if (!sc.fanout) notRun('fanout-p99', text, 'fanout');
    else if (!h || !b || h.latency?.p99Ms == null || b.latency?.p99Ms == null) add('fanout-p99', text, 'no p99 at 50 msg/s for both sides', null, 'the step did not run or had < 1,000 samples');
    else add('fanout-p99', text, `hub p99 ${h.latency.p99Ms} ms vs baseline ${b.latency.p99Ms} ms`, h.latency.p99Ms <= 2 * b.latency.p99Ms);
  }
  ratioTarget('fanout-2', 'Fan-out, 500 subscribers, two replicas: ≥ 0.7× the baseline at 200 msg/s', 2, 200, 0.7);
  {
    const hubSteps = fo.filter((s) => s.side === 'hub');
    const lost = hubSteps.reduce((a, s) => a + (s.lost ?? 0), 0);
    if (!sc.fanout) notRun('fanout-lost', 'Fan-out: nothing lost', 'fanout');
    else {
      const failed = hubSteps.reduce((a, s) => a + Number(s.metrics.publishErrors ?? 0), 0);
      const expected = hubSteps.reduce((a, s) => a + Number(s.metrics.acked ?? 0) * Number(s.params.subscribers), 0);
      add(
        'fanout-lost',
        'Fan-out: nothing lost (hub)',
        `${lost} of ${expected} deliveries of acknowledged messages missing`,
        lost === 0,
        `missing = not received within the drain wait after the step (late under overload, or lost); ${failed} publishes failed or timed out under overload and, never acknowledged, are not expected anywhere`,
      );
    }
  }

  // Idle.
  const idle = sc.idle?.summary as { hub?: { heapKBPerConnection: number; rssKBPerConnection: number }; baseline?: { heapKBPerConnection: number; rssKBPerConnection: number } } | undefined;
  if (idle?.hub && idle.baseline) {
    const r = idle.hub.heapKBPerConnection / idle.baseline.heapKBPerConnection;
    add(
      'idle-heap',
      'Idle: heap per subscribed connection ≤ 1.3× the baseline’s (two forced GCs)',
      `hub ${idle.hub.heapKBPerConnection} KB vs baseline ${idle.baseline.heapKBPerConnection} KB (${r.toFixed(2)}×); RSS ${idle.hub.rssKBPerConnection} vs ${idle.baseline.rssKBPerConnection} KB`,
      r <= 1.3,
    );
  } else notRun('idle-heap', 'Idle: heap per connection ≤ 1.3× the baseline’s', 'idle');

  // Read path.
  const loaded = find(sc, 'read', (s) => s.params.pollers === 50);
  if (loaded) add('read-push-p50', 'WebSocket delivery p50 ≤ 20 ms while 50 clients poll every 100 ms', `p50 ${ms(loaded.latency?.p50Ms)}`, (loaded.latency?.p50Ms ?? Infinity) <= 20);
  else notRun('read-push-p50', 'WebSocket delivery p50 ≤ 20 ms while 50 clients poll', 'read');
  const get = find(sc, 'read', (s) => s.params.page === 'latest 50');
  if (get) add('read-get', 'GET history served at ≥ 2,000 req/s on one replica', `${get.metrics.requestsPerS} req/s`, Number(get.metrics.requestsPerS) >= 2000);
  else notRun('read-get', 'GET history ≥ 2,000 req/s', 'read');

  // Bus traffic only where needed.
  const cold = (sc.scaling?.steps ?? []).filter((s) => s.params.coldChannel).pop();
  if (cold) {
    const acked = Number(cold.metrics.acked) || 1;
    const per = Object.entries(cold.metrics)
      .filter(([k]) => k.startsWith('redisBytesIn.'))
      .map(([k, v]) => [k.slice('redisBytesIn.'.length), Math.round(Number(v) / acked)] as const);
    const subscribed = per[0]?.[1] ?? 0;
    const others = per.slice(1);
    // Background traffic (canary, presence) remains: a replica without subscribers should get well under a tenth of what one with them gets.
    const ok = others.every(([, v]) => v < subscribed / 10);
    add('bus', 'A replica with no subscriber of a channel receives none of its messages from Redis', per.map(([n, v]) => `${n} ${v} B/msg`).join(', ') + ` (only ${per[0]?.[0]} has subscribers)`, ok);
  } else notRun('bus', 'Bus traffic only where needed', 'scaling');

  // No regressions.
  const st = sc.storm?.summary as { lost: number; subscribers: number; notBack: number; missingOnClientsNotBack: number } | undefined;
  if (st)
    add(
      'storm-lost',
      'Reconnect storm: 0 lost',
      `${st.lost} lost across ${st.subscribers - st.notBack} clients that resubscribed${st.notBack ? `; ${st.notBack} clients not back within the wait (missing ${st.missingOnClientsNotBack})` : ''}`,
      st.notBack ? null : st.lost === 0,
      st.notBack ? 'not every client got back within the wait, so the promise could not be checked for all; see the storm scenario' : '',
    );
  else notRun('storm-lost', 'Reconnect storm: 0 lost', 'storm');

  // Reliability (issue 10).
  judgeOverload(sc.overload, (v) => out.push(v));
  // Issue 14: refused sign-ins must not starve delivery.
  judgeLoginFlood(sc['login-flood'], (v) => out.push(v));
  return out;
}

/** The sustain probes the fan-out scenario records per configuration (bench/scenarios/fanout.ts), when the run has them. */
interface Sustain {
  rule: string;
  windowS: number;
  baseline: { highestSustainedRate: number | null };
  hub: { highestSustainedRate: number | null };
  capacityRatio: number | null;
  ratioAtBaselineCapacity: number | null;
}
export function sustainOf(summary: unknown): Sustain | null {
  const s = (summary as { sustain?: Sustain | null } | undefined)?.sustain;
  return s && typeof s === 'object' && s.baseline && s.hub ? s : null;
}
