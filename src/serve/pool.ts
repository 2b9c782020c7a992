/**
 * A fixed pool of inference workers (./worker.ts). Every worker holds every loaded model, so
 * any idle worker can take any batch. The pool only moves messages; which batch goes where
 * is the scheduler's decision (./scheduler.ts).
 *
 * Workers run the heed sources: under tsx (tests, `node --import tsx`) this file is .ts and
 * workers need the tsx loader too; from dist they are plain .js. (Node 20 does not apply
 * `execArgv: ['--import', 'tsx']` before a worker's .ts entry, so a two-line bootstrap
 * registers tsx and then imports the entry.)
 *
 * A worker that exits unexpectedly fails its in-flight batch (500) and is replaced, with the
 * loaded models loaded again; a worker that dies before answering anything is not replaced
 * (its start-up is broken, and retrying would loop).
 *
 * A batch still running after `batchTimeoutMs` is stopped: its worker is terminated (a stuck
 * forward pass cannot be interrupted any other way), the batch fails with 504, and a fresh
 * worker takes its place with the loaded models, so one stuck request never blocks the rest.
 * (Termination takes effect when the worker next runs JavaScript: a single native kernel call
 * runs to its end first.)
 */
import { Worker } from 'node:worker_threads';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { PredictOptions } from '../tasks/predictor.js';
import type { ModelDirs } from '../tasks/common.js';
import type { RequestResult, WorkerReply, WorkerRequest } from './worker.js';
import { rebuildWorkerError, timedOut } from './errors.js';

export interface PoolOptions {
  size: number;
  threadsPerWorker: number;
  /** URL of the module exporting loadPredictor(dir). */
  loader: string;
  /** URLs of ES modules that register tasks, imported by each worker before the loader. */
  taskModules?: readonly string[];
  /** Called when a worker becomes free for another batch. */
  onIdle: () => void;
  /** Called with unexpected worker failures (logged by the server). */
  onError: (e: Error) => void;
  /** A batch running longer than this is stopped by terminating its worker (→ 504). */
  batchTimeoutMs: number;
}

type Pending = { resolve: (r: WorkerReply) => void; reject: (e: Error) => void };
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

export class PoolWorker {
  busy = false;
  answered = false;
  /** Terminated on purpose (a stuck batch): replaced even if it never answered, never given work again. */
  stopped = false;
  readonly pending = new Map<number, Pending>();
  constructor(readonly worker: Worker) {}
}

const FROM_SOURCES = import.meta.url.endsWith('.ts');
const WORKER_URL = new URL(FROM_SOURCES ? './worker.ts' : './worker.js', import.meta.url);

/** URL of tsx's ESM register API (its CommonJS twin cannot register hooks from a worker). */
function tsxEsmApi(): string {
  const pkgPath = createRequire(import.meta.url).resolve('tsx/package.json');
  const pkg = JSON.parse(readFileSync(pkgPath, 'utf8')) as { exports: Record<string, { import: { default: string } }> };
  return pathToFileURL(join(dirname(pkgPath), pkg.exports['./esm/api'].import.default)).href;
}

function newWorker(options: ConstructorParameters<typeof Worker>[1]): Worker {
  if (!FROM_SOURCES) return new Worker(WORKER_URL, options);
  const tsxApi = tsxEsmApi();
  const bootstrap = `import(${JSON.stringify(tsxApi)}).then((m) => { m.register(); return import(${JSON.stringify(WORKER_URL.href)}); })`;
  return new Worker(bootstrap, { ...options, eval: true });
}

export class WorkerPool {
  readonly workers: PoolWorker[] = [];
  private nextId = 1;
  private closing = false;
  /** Loaded model versions, so a replacement worker can load them again. */
  private readonly loaded = new Map<string, ModelDirs>();

  constructor(private readonly options: PoolOptions) {
    for (let i = 0; i < options.size; i++) this.workers.push(this.spawn());
  }

  private spawn(): PoolWorker {
    const worker = newWorker({
      workerData: { loader: this.options.loader, taskModules: this.options.taskModules ?? [] },
      env: { ...process.env, HEED_NUM_THREADS: String(this.options.threadsPerWorker), HEED_QUIET: '1' },
    });
    const pw = new PoolWorker(worker);
    worker.on('message', (reply: WorkerReply) => {
      pw.answered = true;
      const p = pw.pending.get(reply.id);
      pw.pending.delete(reply.id);
      p?.resolve(reply);
    });
    worker.on('error', (e) => this.options.onError(e));
    worker.on('exit', (code) => {
      for (const p of pw.pending.values()) p.reject(new Error(`inference worker exited with code ${code}`));
      pw.pending.clear();
      if (this.closing || !(pw.answered || pw.stopped)) return;
      if (!pw.stopped) this.options.onError(new Error(`inference worker exited with code ${code}; starting a new one`));
      const replacement = this.spawn();
      this.workers[this.workers.indexOf(pw)] = replacement;
      replacement.busy = true;
      Promise.all([...this.loaded].map(([key, dir]) => this.send(replacement, { type: 'load', key, dir })))
        .catch((e: Error) => this.options.onError(e))
        .finally(() => { replacement.busy = false; this.options.onIdle(); });
    });
    return pw;
  }

  private send(pw: PoolWorker, msg: DistributiveOmit<WorkerRequest, 'id'>): Promise<WorkerReply> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      pw.pending.set(id, { resolve, reject });
      pw.worker.postMessage({ ...msg, id });
    });
  }

  /** Loads a model version into every worker (warming it up); resolves with its task and config. */
  async load(key: string, dir: ModelDirs): Promise<{ task: string; config: Record<string, unknown> }> {
    const replies = await Promise.all(this.workers.map((w) => this.send(w, { type: 'load', key, dir })));
    const failed = replies.find((r) => r.type === 'error');
    if (failed !== undefined && failed.type === 'error') {
      await this.unload(key);
      throw rebuildWorkerError(failed.error);
    }
    this.loaded.set(key, dir);
    const first = replies[0];
    if (first.type !== 'loaded') throw new Error('serve pool: unexpected reply to load');
    return { task: first.task, config: first.config };
  }

  /** Drops a model version from every worker, after any batch already sent to it. */
  async unload(key: string): Promise<void> {
    this.loaded.delete(key);
    await Promise.all(this.workers.map((w) => this.send(w, { type: 'unload', key })));
  }

  idleWorker(): PoolWorker | undefined {
    return this.workers.find((w) => !w.busy && !w.stopped);
  }

  /** Terminates a worker whose batch is stuck; its 'exit' handler fails its messages and replaces it. */
  private stop(pw: PoolWorker, reason: string): void {
    if (pw.stopped) return;
    pw.stopped = true;
    this.options.onError(new Error(`${reason}; terminating its inference worker and starting a new one`));
    for (const p of pw.pending.values()) p.reject(timedOut(this.options.batchTimeoutMs));
    pw.pending.clear();
    void pw.worker.terminate();
  }

  /** Runs one batch on a given idle worker. */
  async run(pw: PoolWorker, key: string, requests: unknown[][], options: PredictOptions):
  Promise<{ results: RequestResult[]; inferenceMs: number; batchSize: number }> {
    pw.busy = true;
    const timer = setTimeout(() => this.stop(pw, `a batch of ${requests.length} request(s) for ${key} ran past ${this.options.batchTimeoutMs} ms`), this.options.batchTimeoutMs);
    try {
      const reply = await this.send(pw, { type: 'predict', key, requests, options });
      if (reply.type === 'error') throw rebuildWorkerError(reply.error);
      if (reply.type !== 'predicted') throw new Error('serve pool: unexpected reply to predict');
      return reply;
    } finally {
      clearTimeout(timer);
      pw.busy = false;
      this.options.onIdle();
    }
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.workers.map((w) => w.worker.terminate()));
  }
}
