// Prometheus metrics for a tandem server, with prom-client. Counts come from the engine's own
// counters, read when scraped (the relay path pays nothing for them); what the engine does not
// count (refused upgrades, pair latency) is observed here.
import { performance } from 'node:perf_hooks';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ServerLogEvent, ServerStats } from '@tandem/server-core';
import type { Refusal } from './gate.js';

/** A server's metrics: a registry to scrape and the hooks that feed it. */
export interface TandemMetrics {
  readonly registry: Registry;
  /** Feed a server log event (only `paired` is read). */
  observe(event: ServerLogEvent): void;
  /** Which log events `observe` reads. */
  wants(type: ServerLogEvent['type']): boolean;
  /** Count a refused upgrade. */
  refused(refusal: Refusal): void;
  /** Mark a frame's arrival (binding hook), so the pair latency runs from the request's arrival. */
  frameArrived(): void;
  /** The Prometheus text exposition and its content type. */
  scrape(): Promise<{ contentType: string; body: string }>;
}

export interface MetricsOptions {
  /** Also collect Node's process metrics (CPU, memory, GC, event-loop lag). Default true. */
  processMetrics?: boolean;
  /** Metric name prefix. Default `tandem_`. */
  prefix?: string;
  /** Log lines dropped because standard output fell behind or went away (the host's log writer). */
  logDropped?: () => number;
}

/** Metrics over a server's counters. `stats` is read on every scrape. */
export function createMetrics(stats: () => ServerStats, options: MetricsOptions = {}): TandemMetrics {
  const registry = new Registry();
  const p = options.prefix ?? 'tandem_';
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 50 }); // a coarser lag sampler wakes the loop less often (the bench compares relay CPU with and without metrics)
  // one snapshot per scrape, shared by every collector below
  let snapshot: ServerStats | null = null;
  const current = () => (snapshot ??= stats());
  const total = (name: string, help: string, read: (s: ServerStats) => number) =>
    new Counter({
      name: p + name,
      help,
      registers: [registry],
      collect() {
        this.reset();
        this.inc(read(current()));
      },
    });
  const gauge = (name: string, help: string, read: (s: ServerStats) => number) =>
    new Gauge({
      name: p + name,
      help,
      registers: [registry],
      collect() {
        this.set(read(current()));
      },
    });
  gauge('connections', 'Open client connections', (s) => s.connections);
  const logDropped = options.logDropped;
  if (logDropped)
    new Counter({
      name: `${p}log_lines_dropped_total`,
      help: 'Log lines dropped because standard output fell behind or went away',
      registers: [registry],
      collect() {
        this.reset();
        this.inc(logDropped());
      },
    });
  gauge('pairs', 'Current pairs', (s) => s.pairs);
  total('connections_opened_total', 'Connections accepted', (s) => s.opened);
  total('connections_closed_total', 'Connections ended, for any reason', (s) => s.closed);
  total('pings_total', 'Keepalive pings sent', (s) => s.pings);
  total('ping_timeouts_total', 'Connections closed for missing their ping deadline', (s) => s.timeouts);
  total(
    'slow_consumer_closes_total',
    'Connections closed for not reading (queued bytes over the cap)',
    (s) => s.slowConsumers,
  );
  gauge('detached_sessions', 'Resumable sessions waiting for their client to come back', (s) => s.detached);
  gauge('detached_bytes', 'Bytes detached sessions hold for replay', (s) => s.detachedBytes);
  total(
    'detach_refused_total',
    'Sessions ended on a lost link because a detached-session cap was full',
    (s) => s.detachRefused,
  );
  total('resumes_total', 'Sessions resumed on a new link', (s) => s.resumes);
  total('codes_confirmed_total', 'Code pairings both sides confirmed', (s) => s.codesConfirmed);
  total(
    'nameplates_burnt_total',
    'Nameplates burnt by a claim that did not end in confirmation (a wrong code, an abort, a timeout)',
    (s) => s.nameplatesBurnt,
  );
  total('resume_failures_total', 'Resume attempts refused', (s) => s.resumeFailures);
  total('resume_expired_total', 'Detached sessions ended (grace over or replay buffer full)', (s) => s.resumeExpired);
  gauge(
    'directory_available',
    '1 while pairings can be decided (in a cluster: while Redis is reachable)',
    (s) => s.directoryAvailable,
  );
  total(
    'cluster_resets_total',
    'Times this node lost its Redis state and ended its cross-node pairs',
    (s) => s.clusterResets,
  );
  total('sessions_handed_over_total', 'Sessions whose client resumed through another node', (s) => s.handedOver);
  total('auth_expired_total', 'Links closed (4003) because their authorization expired', (s) => s.authExpired);
  total(
    'node_messages_invalid_total',
    "Texts on this node's cluster channel dropped because they were not node messages",
    (s) => s.nodeMessagesInvalid,
  );
  new Counter({
    name: `${p}node_messages_total`,
    help: 'Messages between cluster nodes, by direction',
    labelNames: ['direction'],
    registers: [registry],
    collect() {
      this.reset();
      const s = current();
      this.labels('sent').inc(s.nodeMessagesSent);
      this.labels('received').inc(s.nodeMessagesReceived);
    },
  });
  new Counter({
    name: `${p}relayed_total`,
    help: 'Signals relayed inside pairs, by type',
    labelNames: ['type'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [type, n] of Object.entries(current().relayedByType)) this.labels(type).inc(n);
    },
  });
  new Counter({
    name: `${p}errors_total`,
    help: 'Error replies and refused frames, by code',
    labelNames: ['code'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [code, n] of Object.entries(current().errorsByCode)) this.labels(code).inc(n);
    },
  });
  new Counter({
    name: `${p}rate_limited_total`,
    help: 'Connections closed for a rate limit, by unit',
    labelNames: ['unit'],
    registers: [registry],
    collect() {
      this.reset();
      const s = current();
      this.labels('messages').inc(s.rateLimited);
      this.labels('bytes').inc(s.byteRateLimited);
    },
  });
  const refused = new Counter({
    name: `${p}refused_connections_total`,
    help: 'Upgrades refused before the WebSocket, by reason',
    labelNames: ['reason'],
    registers: [registry],
  });
  for (const reason of ['max_connections', 'max_connections_per_ip', 'origin', 'draining', 'unauthorized'])
    refused.labels(reason).inc(0);
  const pairLatency = new Histogram({
    name: `${p}pair_latency_seconds`,
    help: 'From a pair_request arriving to both sides being sent paired',
    registers: [registry],
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
  });
  let frameAt = 0;
  return {
    registry,
    observe(e) {
      if (e.type === 'paired') pairLatency.observe((performance.now() - frameAt) / 1000);
    },
    wants: (type) => type === 'paired',
    refused: (r) => refused.labels(r.reason).inc(),
    frameArrived() {
      frameAt = performance.now();
    },
    async scrape() {
      snapshot = null;
      try {
        return { contentType: registry.contentType, body: await registry.metrics() };
      } finally {
        snapshot = null;
      }
    },
  };
}
