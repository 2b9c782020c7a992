/**
 * Prometheus metrics (prom-client), one registry per server so tests and several servers in
 * one process never share counters. METRIC_NAMES is what dashboards, the HPA's
 * prometheus-adapter rule and the deploy tests refer to.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Registry, Counter, Histogram, Gauge, collectDefaultMetrics } from 'prom-client';

export const METRIC_NAMES = Object.freeze({
  requests: 'heed_http_requests_total',
  requestDuration: 'heed_http_request_duration_seconds',
  queueDepth: 'heed_queue_depth',
  batchSize: 'heed_batch_size',
  inferenceDuration: 'heed_inference_duration_seconds',
  eventLoopLag: 'heed_event_loop_lag_seconds',
  modelsReady: 'heed_models_ready',
});

export class ServeMetrics {
  readonly registry = new Registry();
  readonly requests: Counter<'model' | 'route' | 'status'>;
  readonly requestDuration: Histogram<'model' | 'route' | 'status'>;
  readonly queueDepth: Gauge<'model'>;
  readonly batchSize: Histogram<'model'>;
  readonly inferenceDuration: Histogram<'model'>;
  readonly modelsReady: Gauge;
  private readonly loopDelay = monitorEventLoopDelay({ resolution: 10 });

  constructor() {
    const registers = [this.registry];
    this.requests = new Counter({ name: METRIC_NAMES.requests, help: 'HTTP requests by model, route and status code.', labelNames: ['model', 'route', 'status'], registers });
    this.requestDuration = new Histogram({
      name: METRIC_NAMES.requestDuration, help: 'HTTP request latency in seconds.', labelNames: ['model', 'route', 'status'], registers,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    });
    this.queueDepth = new Gauge({ name: METRIC_NAMES.queueDepth, help: 'Inputs waiting for a worker, per model.', labelNames: ['model'], registers });
    this.batchSize = new Histogram({ name: METRIC_NAMES.batchSize, help: 'Inputs per forward pass.', labelNames: ['model'], registers, buckets: [1, 2, 4, 8, 16, 32, 64] });
    this.inferenceDuration = new Histogram({
      name: METRIC_NAMES.inferenceDuration, help: 'Time of one batched predict() in a worker, in seconds.', labelNames: ['model'], registers,
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    });
    this.modelsReady = new Gauge({ name: METRIC_NAMES.modelsReady, help: '1 when every model is loaded and warmed up.', registers });
    // The p99 event-loop delay since the previous scrape: the server's own responsiveness.
    const loopDelay = this.loopDelay;
    loopDelay.enable();
    new Gauge({
      name: METRIC_NAMES.eventLoopLag, help: 'p99 event-loop delay since the previous scrape, in seconds.', registers,
      collect() {
        this.set(loopDelay.count > 0 ? loopDelay.percentile(99) / 1e9 : 0);
        loopDelay.reset();
      },
    });
    collectDefaultMetrics({ register: this.registry, prefix: 'heed_process_' });
  }

  close(): void {
    this.loopDelay.disable();
  }
}
