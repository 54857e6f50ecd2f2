import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry, Summary, collectDefaultMetrics } from 'prom-client';

/** One registry per app instance, so several hubs in one test process do not collide. */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();

  readonly httpRequests = new Counter({
    name: 'crosswire_http_requests_total',
    help: 'HTTP requests by method, route and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });
  readonly socketConnections = new Counter({
    name: 'crosswire_socket_connections_total',
    help: 'Socket.IO connections accepted',
    registers: [this.registry],
  });
  readonly socketsOpen = new Gauge({
    name: 'crosswire_sockets_open',
    help: 'Socket.IO connections open on this replica',
    registers: [this.registry],
  });
  readonly socketEvents = new Counter({
    name: 'crosswire_socket_events_total',
    help: 'Client-to-server socket events by event and outcome code',
    labelNames: ['event', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly handshakeRejections = new Counter({
    name: 'crosswire_socket_handshake_rejections_total',
    help: 'Socket handshakes refused, by reason',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly publishLatency = new Histogram({
    name: 'crosswire_publish_duration_seconds',
    help: 'Publish latency: stored and handed to fan-out, either door',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  /** The last ten seconds only: what the cluster view shows as "publish p99". */
  readonly publishRecent = new Summary({
    name: 'crosswire_publish_recent_seconds',
    help: 'Publish latency over the last 10 s (sliding window)',
    percentiles: [0.5, 0.99],
    maxAgeSeconds: 10,
    ageBuckets: 5,
    registers: [this.registry],
  });
  readonly socketDeliveries = new Counter({
    name: 'crosswire_socket_deliveries_total',
    help: 'message:created written to sockets (one per socket per message)',
    registers: [this.registry],
  });
  readonly rateLimited = new Counter({
    name: 'crosswire_rate_limited_total',
    help: 'Requests, events and handshakes refused by a rate limit, by limit and where it was counted (redis: cluster-wide, local: this replica while Redis is away)',
    labelNames: ['limit', 'store'] as const,
    registers: [this.registry],
  });
  readonly publishesPending = new Gauge({
    name: 'crosswire_publishes_pending',
    help: 'Publishes admitted and not yet answered on this replica (PUBLISH_MAX_PENDING bounds it)',
    registers: [this.registry],
  });
  readonly shed = new Counter({
    name: 'crosswire_shed_total',
    help: 'Work refused because a bound was full (503), by what',
    labelNames: ['what'] as const,
    registers: [this.registry],
  });
  /** Counted where scrypt runs, so a test can see that an unknown username costs a verification like a wrong password. */
  readonly passwordWork = new Counter({
    name: 'crosswire_password_work_total',
    help: 'scrypt derivations run, by op: hash (register, password change, the dummy hash unknown usernames are checked against) or verify (login, password change)',
    labelNames: ['op'] as const,
    registers: [this.registry],
  });
  readonly deliveries = new Counter({
    name: 'crosswire_messages_delivered_total',
    help: 'message:created emitted to local rooms, by path: live (publish or bus), holdback (read after a hold), reconcile (read by the tick)',
    labelNames: ['path'] as const,
    registers: [this.registry],
  });
  readonly holdbacks = new Counter({
    name: 'crosswire_delivery_holdbacks_total',
    help: 'Seqs that arrived before the one preceding them and were held back',
    registers: [this.registry],
  });
  readonly catchUpReads = new Counter({
    name: 'crosswire_delivery_catchup_reads_total',
    help: 'Reads of missing seqs from Postgres by the hold-back or the tick, by outcome (ok, failed)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly reconcilePasses = new Counter({
    name: 'crosswire_reconcile_passes_total',
    help: 'Reconciliation ticks run, by outcome (ok, failed)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly backgroundErrors = new Counter({
    name: 'crosswire_background_errors_total',
    help: 'Failures of work nobody awaits (loops, pool connections, Redis commands), by source; each is also logged',
    labelNames: ['source'] as const,
    registers: [this.registry],
  });
  readonly reconcileDuration = new Histogram({
    name: 'crosswire_reconcile_pass_seconds',
    help: 'A reconciliation pass from start to end, its queries included',
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });
  readonly reconcileBlocked = new Histogram({
    name: 'crosswire_reconcile_blocked_seconds',
    help: 'The event-loop time of a reconciliation pass: its synchronous work, summed, without the time its queries are out',
    buckets: [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25],
    registers: [this.registry],
  });
  readonly sessionsEnded = new Counter({
    name: 'crosswire_sessions_ended_total',
    help: 'Sockets ended because their session ended, by reason (expired, revoked)',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  // Reliability (issue 10): how late deliveries are, how clients resume, and what slow consumers cost.
  /** Stored (the message's createdAt, Postgres' clock) to emitted to this replica's sockets. */
  readonly deliveryLag = new Histogram({
    name: 'crosswire_delivery_lag_seconds',
    help: "Time from a message being stored (createdAt) to its emission to this replica's attached sockets, by path",
    labelNames: ['path'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly resumes = new Counter({
    name: 'crosswire_subscribe_resumes_total',
    help: 'Subscribes acked with a sinceSeq (clients resuming after a reconnect), by whether the ack said hasMore',
    labelNames: ['has_more'] as const,
    registers: [this.registry],
  });
  readonly resumedMessages = new Counter({
    name: 'crosswire_subscribe_missed_messages_total',
    help: 'Messages caught up through subscribe acks (their missed lists)',
    registers: [this.registry],
  });
  readonly presenceReaps = new Counter({
    name: 'crosswire_presence_reaps_total',
    help: 'Dead instances whose presence leases this replica reaped (it won the reap lock)',
    registers: [this.registry],
  });
  readonly presenceReapedLeaves = new Counter({
    name: 'crosswire_presence_reaped_leaves_total',
    help: 'Users announced left because their instance was reaped',
    registers: [this.registry],
  });
  readonly slowConsumerCuts = new Counter({
    name: 'crosswire_slow_consumer_disconnects_total',
    help: 'Transports closed because their send buffer passed SOCKET_BUFFER_MAX_BYTES',
    registers: [this.registry],
  });
  readonly oversizedPackets = new Counter({
    name: 'crosswire_socket_oversized_packets_total',
    help: 'Packets larger than SOCKET_BUFFER_MAX_BYTES let through alone onto an empty send buffer (e.g. a subscribe ack with many missed messages)',
    registers: [this.registry],
  });
  /** Each closed socket's largest send buffer over its life (engine.io writeBuffer + ws bufferedAmount). */
  readonly socketBufferPeak = new Histogram({
    name: 'crosswire_socket_buffer_peak_bytes',
    help: 'Per closed socket: the largest its send buffer (engine.io writeBuffer + ws bufferedAmount) ever was, bytes',
    buckets: [1024, 4096, 16_384, 65_536, 262_144, 1_048_576, 4_194_304, 16_777_216],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }
}
