// The seed article's claims (docs/CLAIMS.md), each with what this run
// measured on the same hub and a verdict drawn from those numbers.
import type { ScenarioResult, StepResult } from '../scenarios/context.js';
import type { ClaimVerdict } from './results.js';

type Scenarios = Record<string, ScenarioResult>;
const NOT = (n: string, claim: string, why: string): ClaimVerdict => ({ n, claim, measured: why, verdict: 'not measured', condition: '' });

function pollStep(sc: Scenarios, mode: string, rate: number): StepResult | undefined {
  return sc.polling?.steps.find((s) => s.params.mode === mode && s.params.rate === rate && !s.params.capacity);
}
const POLL100 = 'poll every 100 ms';
const POLL1S = 'poll every 1000 ms';
const PUSH = 'push (subscribed socket)';
const kb = (b: unknown) => (typeof b === 'number' ? (b >= 1024 ? `${(b / 1024).toFixed(1)} KB` : `${Math.round(b)} B`) : 'n/a');

export function judgeClaims(sc: Scenarios): ClaimVerdict[] {
  const out: ClaimVerdict[] = [];
  const idle = sc.idle?.summary as { hub?: { heapKBPerConnection: number; rssKBPerConnection: number }; baseline?: { heapKBPerConnection: number } } | undefined;
  const storm = sc.storm?.summary as { subscribers: number; allCaughtUpMs: number | null; lost: number } | undefined;

  // 1. stateless vs stateful
  if (idle?.hub && storm)
    out.push({
      n: '1',
      claim: 'REST is stateless; WebSocket keeps per-connection state',
      measured: `an idle subscribed socket holds ${idle.hub.heapKBPerConnection} KB of heap on the hub (RSS ${idle.hub.rssKBPerConnection} KB); after SIGKILL of a replica holding ${storm.subscribers} subscribers, all were back and caught up in ${storm.allCaughtUpMs ?? 'n/a'} ms with ${storm.lost} lost`,
      verdict: 'holds only',
      condition: 'the hub keeps per-socket state in memory, but none that must survive a replica: the durable state is in Postgres, so a lost replica costs a reconnect, not messages',
    });
  else out.push(NOT('1', 'REST is stateless; WebSocket keeps per-connection state', 'needs the idle and storm scenarios'));

  // 2 and 8: who starts an exchange; delivery latency
  const push10 = pollStep(sc, PUSH, 10);
  const p100 = pollStep(sc, POLL100, 10);
  const p1s = pollStep(sc, POLL1S, 10);
  if (push10 && p100 && p1s) {
    const l = (s: StepResult) => `p50 ${s.latency?.p50Ms ?? 'n/a'} / p95 ${s.latency?.p95Ms ?? 'n/a'} / p99 ${s.latency?.p99Ms ?? 'n/a'} ms`;
    out.push({
      n: '2',
      claim: 'REST is one-way (only the client starts); WebSocket lets both sides send',
      measured: `at 10 msg/s the server-initiated delivery took ${l(push10)}; a client that must ask saw ${l(p100)} polling every 100 ms and ${l(p1s)} polling every 1 s`,
      verdict: 'holds',
      condition: 'polling delay is bounded below by half the poll interval; push is not',
    });
    out.push({
      n: '8',
      claim: 'REST is slower to deliver; WebSocket delivers much faster',
      measured: `publish-to-receive at 10 msg/s: push ${l(push10)}; polling every 100 ms ${l(p100)}; every 1 s ${l(p1s)}`,
      verdict: (push10.latency?.p50Ms ?? Infinity) < (p100.latency?.p50Ms ?? 0) ? 'holds only' : 'fails',
      condition: 'faster while the server keeps up; when a replica is overloaded push latency grows past any poll interval (see the fan-out steps)',
    });
  } else {
    out.push(NOT('2', 'REST is one-way; WebSocket lets both sides send', 'needs the polling scenario at 10 msg/s'));
    out.push(NOT('8', 'REST is slower to deliver; WebSocket delivers much faster', 'needs the polling scenario at 10 msg/s'));
  }

  // 3. full duplex
  const dx = sc.claims?.summary.duplex as { sockets: number; sent: number; received: number; receivedWhileAwaitingAck: number; ackP50Ms: number } | undefined;
  if (dx)
    out.push({
      n: '3',
      claim: 'REST is request/response; WebSocket is full duplex',
      measured: `${dx.sockets} sockets each publishing while receiving everyone's messages: ${dx.receivedWhileAwaitingAck} of ${dx.received} deliveries arrived on a socket while its own publish still awaited its ack (ack p50 ${dx.ackP50Ms} ms)`,
      verdict: dx.receivedWhileAwaitingAck > 0 ? 'holds' : 'fails',
      condition: '',
    });
  else out.push(NOT('3', 'REST is request/response; WebSocket is full duplex', 'needs the claims scenario'));

  // 4. overhead per message
  const b = (m: string, r: number) => pollStep(sc, m, r)?.metrics.bytesPerMessage;
  const rates = (sc.polling?.summary.rates as number[] | undefined) ?? [];
  if (rates.length) {
    const lo = rates[0];
    const hi = rates[rates.length - 1];
    const cross = (sc.polling?.summary.crossings as Record<string, number | null>)?.['bytesPerMessage: poll 100 ms vs push'];
    out.push({
      n: '4',
      claim: 'every REST request carries headers; WebSocket has "no overhead" per message',
      measured: `bytes on the wire per delivered ~200-byte message, both ways: push ${kb(b(PUSH, lo))} at ${lo} msg/s and ${kb(b(PUSH, hi))} at ${hi} msg/s; polling every 100 ms ${kb(b(POLL100, lo))} and ${kb(b(POLL100, hi))}; every 1 s ${kb(b(POLL1S, lo))} and ${kb(b(POLL1S, hi))}${cross ? `; the 100 ms poller's curve crosses push near ${cross} msg/s` : ''}`,
      verdict: 'holds only',
      condition: `push is not free (Socket.IO framing and the full message envelope), but against polling its per-message cost is far lower at low rates; as the rate nears the poll rate, polling batches messages and the gap closes`,
    });
  } else out.push(NOT('4', 'REST carries headers; WebSocket has no overhead', 'needs the polling scenario'));

  // 5. connections
  const conn = sc.claims?.summary as Record<string, number | null> | undefined;
  if (conn)
    out.push({
      n: '5',
      claim: 'REST opens a new TCP connection per request; WebSocket uses one',
      measured: `TCP connections opened per 1,000 delivered messages (20 clients, 10 msg/s, connection set-up included): pollers with keep-alive ${conn['connectionsPer1000Messages: poll every 100 ms']}, without keep-alive ${conn['connectionsPer1000Messages: poll every 100 ms, no keep-alive']}, push ${conn['connectionsPer1000Messages: push (subscribed socket)']}`,
      verdict: 'holds only',
      condition: 'only without HTTP keep-alive; with it a poller holds one connection, as a socket does',
    });
  else out.push(NOT('5', 'REST opens a TCP connection per request', 'needs the claims scenario'));

  // 6. scaling
  const scal = sc.scaling?.summary as Record<string, { replicas: number; deliveriesPerS: number | null; hubCpuSecondsPer1000Deliveries: number | null }> | undefined;
  if (scal) {
    const rows = ['1', '2', '3'].map((k) => scal[k]).filter(Boolean);
    // Bytes from Redis per message on a channel only the first replica serves: does the bus reach the others?
    const cold = (sc.scaling?.steps ?? []).filter((st) => st.params.coldChannel).pop();
    const acked = Number(cold?.metrics.acked) || 1;
    const perReplica = Object.entries(cold?.metrics ?? {})
      .filter(([k]) => k.startsWith('redisBytesIn.'))
      .map(([k, v]) => [k.slice('redisBytesIn.'.length), Math.round(Number(v) / acked)] as const);
    const narrow = perReplica.length > 1 && perReplica.slice(1).every(([, v]) => v < perReplica[0][1] / 10);
    out.push({
      n: '6',
      claim: 'REST scales horizontally and vertically; WebSocket scales only vertically',
      measured:
        rows.map((r) => `${r.replicas} replica(s): ${r.deliveriesPerS ?? 'n/a'} deliveries/s kept up, ${r.hubCpuSecondsPer1000Deliveries ?? 'n/a'} hub CPU-s per 1,000`).join('; ') +
        (perReplica.length ? `; bytes from Redis per message of a channel only ${perReplica[0][0]} serves: ${perReplica.map(([n, v]) => `${n} ${v} B`).join(', ')}` : ''),
      verdict: 'fails',
      condition: narrow
        ? 'the hub runs as N replicas with the same delivery promise (clients on any replica, messages on all), and each replica receives from Redis only the channels it has subscribers of, so bus traffic grows with where the subscribers are, not with replicas × messages; on this one 2-core machine the curve itself is CPU-bound: the CPU per 1,000 deliveries and the bus bytes per delivery are the figures a capacity model uses'
        : 'the hub runs as N replicas with the same delivery promise (clients on any replica, messages on all); on this one 2-core machine the curve is CPU-bound, and every replica receives every message from Redis, so bus traffic grows with replicas × messages',
    });
  } else out.push(NOT('6', 'WebSocket scales only vertically', 'needs the scaling scenario'));

  out.push({
    n: '7',
    claim: 'REST is addressed by HTTP methods and URLs; WebSocket by IP and port',
    measured: 'design note, no number: Socket.IO is reached by URL (path /socket.io) on the same host and port as REST, through the same HAProxy, with named events',
    verdict: 'fails',
    condition: '',
  });

  // 9. memory
  if (idle?.hub && idle.baseline)
    out.push({
      n: '9',
      claim: 'REST needs no memory or buffers; WebSocket needs memory and buffers',
      measured: `per idle subscribed connection: hub ${idle.hub.heapKBPerConnection} KB heap, ${idle.hub.rssKBPerConnection} KB RSS; plain socket.io ${idle.baseline.heapKBPerConnection} KB heap. A poller holds nothing on the server between requests. Buffer growth for slow readers: not measured in this run`,
      verdict: 'holds',
      condition: 'the cost is per connection, paid whether or not messages flow',
    });
  else out.push(NOT('9', 'WebSocket needs memory and buffers', 'needs the idle scenario'));

  // bench/scenarios/read.ts: requests/s (numbers) and the Cache-Control and ETag headers (string, or null when absent).
  const read = sc.read?.summary as Record<string, number | string | null> | undefined;
  if (read)
    out.push({
      n: 'caching',
      claim: 'REST supports caching',
      measured: `GET history: ${read['requestsPerS: latest 50']} req/s (latest page), ${read['requestsPerS: a page below lastSeq (seq 101-150)']} req/s (a page entirely below lastSeq); headers today: Cache-Control ${read['cacheControl: a page below lastSeq (seq 101-150)'] ?? 'absent'}, ETag ${read['etag: a page below lastSeq (seq 101-150)'] ? 'weak, from Express' : 'absent'}`,
      verdict: 'holds only',
      condition: /max-age/.test(String(read['cacheControl: a page below lastSeq (seq 101-150)'] ?? ''))
        ? 'for pages that can no longer change: a page every seq of which is committed carries Cache-Control: private, max-age=…, immutable, so a client fetches it once; the latest page must be revalidated (ETag), and access is checked on every request that reaches the hub'
        : 'only if the server marks immutable pages cacheable; the hub does not, so every read reaches the replica',
    });
  else out.push(NOT('caching', 'REST supports caching', 'needs the read scenario'));
  out.push(NOT('security', 'WebSocket is harder to secure', 'not a benchmark figure: each defence and its test are listed in docs/CONTRACT.md and docs/TEST-MATRIX.md'));
  out.push(NOT('fallback', 'older browsers need a fallback', 'not measured here: Socket.IO long-polling through HAProxy is exercised by test/cluster/lb.cluster.ts'));
  return out;
}
