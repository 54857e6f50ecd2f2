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
  readonly shed = new Counter({
    name: 'crosswire_shed_total',
    help: 'Work refused because a bound was full (503), by what',
    labelNames: ['what'] as const,
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
  readonly sessionsEnded = new Counter({
    name: 'crosswire_sessions_ended_total',
    help: 'Sockets ended because their session ended, by reason (expired, revoked)',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });


  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }
}
