/**
 * Dynamic batching. Requests wait in a bounded queue per model; whenever a worker is idle,
 * the scheduler sends it a batch: the oldest request plus the following ones with the same
 * predict options, up to maxBatchSize inputs. While some batch is running, a queue is sent
 * once it holds maxBatchSize inputs or its oldest request has waited maxBatchDelayMs; when
 * no batch is running at all, it is sent at once (an idle server never makes a lone request
 * wait). Under load, queues fill while the workers are busy, so batches grow on their own.
 *
 * Each request keeps its own promise and its own slice of the batch's answers, so batching
 * never mixes answers between requests. A request that times out is dropped from the queue
 * (or its late answer is ignored) and gets 504.
 */
import type { Prediction, PredictOptions } from '../tasks/predictor.js';
import { HttpError, INPUT_ERROR_NAMES, overloaded, timedOut, unprocessable } from './errors.js';
import type { ServeMetrics } from './metrics.js';
import type { WorkerPool } from './pool.js';

export interface SchedulerOptions {
  maxBatchSize: number;
  maxBatchDelayMs: number;
  maxQueue: number;
  timeoutMs: number;
}

interface Job {
  inputs: unknown[];
  options: PredictOptions;
  optionsKey: string;
  enqueuedAt: number;
  settled: boolean;
  timer: NodeJS.Timeout;
  resolve: (p: Prediction[]) => void;
  reject: (e: Error) => void;
}

export class Scheduler {
  private readonly queues = new Map<string, Job[]>();
  private readonly queued = new Map<string, number>();
  private inFlight = 0;
  private inFlightRequests = 0;
  private wakeTimer: NodeJS.Timeout | null = null;
  private drainWaiters: (() => void)[] = [];

  constructor(
    private readonly pool: WorkerPool,
    private readonly options: SchedulerOptions,
    private readonly metrics: ServeMetrics,
    /** The loaded version key of a model at dispatch time (hot reload swaps it). */
    private readonly versionOf: (model: string) => string,
    private readonly onError: (e: Error) => void,
  ) {}

  /** Queues a request; resolves with one prediction per input, in order. */
  submit(model: string, inputs: unknown[], options: PredictOptions): Promise<Prediction[]> {
    const depth = this.queued.get(model) ?? 0;
    if (depth + inputs.length > this.options.maxQueue) {
      return Promise.reject(overloaded(`model '${model}' has ${depth} inputs queued (limit ${this.options.maxQueue}); retry shortly`));
    }
    return new Promise((resolve, reject) => {
      const job: Job = {
        inputs, options, optionsKey: `${options.attention === true}|${options.nBest ?? ''}`,
        enqueuedAt: performance.now(), settled: false, resolve, reject,
        timer: setTimeout(() => this.expire(model, job), this.options.timeoutMs),
      };
      const q = this.queues.get(model) ?? [];
      q.push(job);
      this.queues.set(model, q);
      this.setDepth(model, depth + inputs.length);
      this.pump();
    });
  }

  /** Inputs waiting (not yet sent to a worker), over all models. */
  get depth(): number {
    let n = 0;
    for (const d of this.queued.values()) n += d;
    return n;
  }

  /** Requests accepted and not yet answered (queued or running). */
  get pendingRequests(): number {
    let n = this.inFlightRequests;
    for (const q of this.queues.values()) n += q.length;
    return n;
  }

  /** Resolves once every queue is empty and no batch is running. */
  drain(): Promise<void> {
    if (this.idle()) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  close(): void {
    if (this.wakeTimer !== null) clearTimeout(this.wakeTimer);
  }

  private idle(): boolean {
    return this.inFlight === 0 && this.depth === 0;
  }

  private setDepth(model: string, depth: number): void {
    this.queued.set(model, depth);
    this.metrics.queueDepth.set({ model }, depth);
  }

  private settle(job: Job): boolean {
    if (job.settled) return false;
    job.settled = true;
    clearTimeout(job.timer);
    return true;
  }

  private expire(model: string, job: Job): void {
    if (!this.settle(job)) return;
    const q = this.queues.get(model);
    const at = q?.indexOf(job) ?? -1;
    if (q !== undefined && at >= 0) {
      q.splice(at, 1);
      this.setDepth(model, (this.queued.get(model) ?? 0) - job.inputs.length);
    }
    job.reject(timedOut(this.options.timeoutMs));
    this.checkDrained();
  }

  /** Sends ready batches to idle workers; arms a timer for the earliest not-yet-ready queue. */
  pump(): void {
    if (this.wakeTimer !== null) { clearTimeout(this.wakeTimer); this.wakeTimer = null; }
    let wakeIn = Infinity;
    for (;;) {
      const worker = this.pool.idleWorker();
      if (worker === undefined) return;
      // The model whose oldest request has waited longest goes first.
      let model: string | null = null;
      let oldest = Infinity;
      for (const [m, q] of this.queues) if (q.length > 0 && q[0].enqueuedAt < oldest) { oldest = q[0].enqueuedAt; model = m; }
      if (model === null) return;
      const now = performance.now();
      const waited = now - oldest;
      // An idle server sends a lone request at once; waiting only pays while batches are running.
      const busy = this.inFlight > 0;
      if (busy && (this.queued.get(model) ?? 0) < this.options.maxBatchSize && waited < this.options.maxBatchDelayMs) {
        wakeIn = Math.min(wakeIn, this.options.maxBatchDelayMs - waited);
        break;
      }
      this.dispatch(model, worker);
    }
    if (wakeIn < Infinity) this.wakeTimer = setTimeout(() => this.pump(), Math.max(1, Math.ceil(wakeIn)));
  }

  private takeBatch(model: string): Job[] {
    const q = this.queues.get(model) ?? [];
    const head = q[0];
    const batch: Job[] = [];
    let size = 0;
    for (let i = 0; i < q.length;) {
      const job = q[i];
      if (job.optionsKey === head.optionsKey && (batch.length === 0 || size + job.inputs.length <= this.options.maxBatchSize)) {
        batch.push(job);
        size += job.inputs.length;
        q.splice(i, 1);
        if (size >= this.options.maxBatchSize) break;
      } else {
        i++;
      }
    }
    this.setDepth(model, (this.queued.get(model) ?? 0) - size);
    return batch;
  }

  private dispatch(model: string, worker: ReturnType<WorkerPool['idleWorker']> & object): void {
    const batch = this.takeBatch(model);
    this.inFlight++;
    this.inFlightRequests += batch.length;
    const key = this.versionOf(model);
    this.pool.run(worker, key, batch.map((j) => j.inputs), batch[0].options)
      .then(({ results, inferenceMs, batchSize }) => {
        this.metrics.batchSize.observe({ model }, batchSize);
        this.metrics.inferenceDuration.observe({ model }, inferenceMs / 1000);
        results.forEach((r, i) => {
          const job = batch[i];
          if (!this.settle(job)) return;
          if (r.ok) job.resolve(r.predictions);
          else if (INPUT_ERROR_NAMES.has(r.error.name)) job.reject(unprocessable(r.error.message));
          else {
            this.onError(new Error(`predict failed for model '${model}': ${r.error.name}: ${r.error.message}`));
            job.reject(new HttpError(500, 'internal', 'internal error'));
          }
        });
      })
      .catch((e: Error) => {
        // A stopped (stuck) batch is a 504 like any other timeout; anything else is ours.
        const answer = e instanceof HttpError ? e : new HttpError(500, 'internal', 'internal error');
        if (!(e instanceof HttpError)) this.onError(e);
        for (const job of batch) if (this.settle(job)) job.reject(answer);
      })
      .finally(() => {
        this.inFlight--;
        this.inFlightRequests -= batch.length;
        this.checkDrained();
      });
  }

  private checkDrained(): void {
    if (this.idle()) {
      for (const w of this.drainWaiters.splice(0)) w();
    }
  }
}
