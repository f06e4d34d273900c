/** Prometheus metrics of the operator, and the HTTP server for /metrics, /healthz and /readyz. */
import http from 'node:http';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export class OperatorMetrics {
  readonly registry = new Registry();
  readonly reconcileDuration = new Histogram({
    name: 'vdi_operator_reconcile_duration_seconds',
    help: 'Time one reconcile of a session took, by outcome',
    labelNames: ['outcome'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly reconcileErrors = new Counter({
    name: 'vdi_operator_reconcile_errors_total',
    help: 'Reconciles that failed (retried with backoff) or failed terminally',
    labelNames: ['kind'],
    registers: [this.registry],
  });
  readonly queueDepth = new Gauge({
    name: 'vdi_operator_queue_depth',
    help: 'Session keys waiting to be reconciled, by priority (finish: a ready or failed desktop its session does not report yet; new: created/edited/deleted sessions; refresh: the rest)',
    labelNames: ['priority'],
    registers: [this.registry],
  });
  readonly eventsDropped = new Counter({
    name: 'vdi_operator_events_dropped_total',
    help: 'Kubernetes Events not sent because the queue of Events waiting for the API server was full',
    registers: [this.registry],
  });
  readonly sessionsByPhase = new Gauge({
    name: 'vdi_operator_sessions',
    help: 'Sessions by phase',
    labelNames: ['phase'],
    registers: [this.registry],
  });
  readonly usageWrites = new Counter({
    name: 'vdi_operator_usage_writes_total',
    help: 'GPU-hour ledger counts, by outcome: ok (written), conflict (read again), error (counted next round), deferred (nothing changed; written at its checkpoint)',
    labelNames: ['outcome'],
    registers: [this.registry],
  });
  readonly usageRound = new Histogram({
    name: 'vdi_operator_usage_round_seconds',
    help: 'Time one GPU-hour count of every owner holding slices took (the leader, every VDI_USAGE_INTERVAL_SECONDS)',
    buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 120, 300],
    registers: [this.registry],
  });
  readonly viewerLooks = new Counter({
    name: 'vdi_operator_viewer_looks_total',
    help: "Looks at who watches a desktop (Selkies' /api/sessions), by outcome: ok, refused, unreachable",
    labelNames: ['outcome'],
    registers: [this.registry],
  });
  readonly sessionKeyMismatch = new Gauge({
    name: 'vdi_operator_session_key_mismatch',
    help: '1 while the Lease is held by a replica with another VDI_SESSION_KEY (its fingerprint differs): desktops one starts do not open with the passwords the other derives',
    registers: [this.registry],
  });
  readonly leader = new Gauge({
    name: 'vdi_operator_leader',
    help: '1 while this replica holds the lease',
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'vdi_operator_' });
  }
}

export function startHttpServer(
  port: number,
  metrics: OperatorMetrics,
  ready: () => boolean,
  host = '0.0.0.0',
): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    const send = (code: number, body: string, type = 'text/plain') => {
      res.writeHead(code, { 'Content-Type': type });
      res.end(body);
    };
    if (req.url === '/healthz') return send(200, 'ok');
    if (req.url === '/readyz') return ready() ? send(200, 'ok') : send(503, 'caches not synced');
    if (req.url === '/metrics') {
      metrics.registry.metrics().then(
        (text) => send(200, text, metrics.registry.contentType),
        (err: unknown) => send(500, String(err)),
      );
      return;
    }
    send(404, 'not found');
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}
