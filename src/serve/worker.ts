/**
 * Inference worker (worker_threads). Holds loaded Predictors by version key and runs batched
 * predict() calls, so the server's event loop never waits on a forward pass.
 *
 * Messages are handled strictly one after another (a promise chain), so an `unload` sent
 * after a `predict` for the same key always runs after it: that ordering is what makes hot
 * reload safe.
 *
 * workerData: { loader, taskModules } — URL of the module exporting loadPredictor(dir)
 * (src/tasks/index by default; tests pass their own), and the URLs of modules that register a
 * user's tasks (heed.registerTask), imported first.
 *
 * Threads: the native kernels' thread pool is one per process, shared by every worker. A
 * kernel call that finds it busy runs on its caller's thread instead (native/threadpool.cpp),
 * so W workers with a pool of T threads use at most W + T − 1 cores. HEED_NUM_THREADS in this
 * thread's env (set by the pool from threadsPerWorker) sizes that shared pool.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { Prediction, PredictOptions, Predictor } from '../tasks/predictor.js';
import type { ModelDirs } from '../tasks/common.js';
import { workerErrorInfo as info, type WorkerErrorInfo } from './errors.js';
import { backendInfo, setNumThreads } from '../backend/registry.js';

export type WorkerRequest =
  | { type: 'load'; id: number; key: string; dir: ModelDirs }
  | { type: 'unload'; id: number; key: string }
  | { type: 'predict'; id: number; key: string; requests: unknown[][]; options: PredictOptions };

export type RequestResult = { ok: true; predictions: Prediction[] } | { ok: false; error: WorkerErrorInfo };

export type WorkerReply =
  | { type: 'loaded'; id: number; task: string; config: Record<string, unknown> }
  | { type: 'done'; id: number }
  | { type: 'predicted'; id: number; results: RequestResult[]; inferenceMs: number; batchSize: number }
  | { type: 'error'; id: number; error: WorkerErrorInfo };

/** Inputs used to warm a freshly loaded model (first-call allocations, JIT), by task. */
const WARMUP_INPUTS: Record<string, unknown[]> = {
  g2p: ['hello'],
  spam: ['Congratulations, you have won a prize. Reply now.'],
  digits: [Array.from({ length: 64 }, () => 0)],
};

type Loader = (dir: ModelDirs) => Predictor | Promise<Predictor>;

const predictors = new Map<string, Predictor>();
let loader: Promise<Loader> | null = null;

function applyThreads(): void {
  const n = Number(process.env.HEED_NUM_THREADS);
  const b = backendInfo();
  if (b.nativeAvailable && Number.isInteger(n) && n > 0 && b.threads !== n) setNumThreads(n);
}

async function getLoader(): Promise<Loader> {
  applyThreads();
  const { loader: url, taskModules = [] } = workerData as { loader: string; taskModules?: string[] };
  loader ??= (async () => {
    for (const m of taskModules) await import(m);
    return import(url);
  })().then((m: { loadPredictor?: Loader }) => {
    if (typeof m.loadPredictor !== 'function') throw new Error(`serve worker: ${(workerData as { loader: string }).loader} does not export loadPredictor`);
    return m.loadPredictor;
  });
  return loader;
}

function warmUp(p: Predictor): void {
  const inputs = (WARMUP_INPUTS[p.task] ?? ['hello']).filter((x) => {
    try { p.validateInput(x); return true; } catch { return false; }
  });
  if (inputs.length > 0) p.predict(inputs, { attention: true });
}

/** Validates each request alone, runs the valid ones as one batch, and splits the answers back. */
function predictBatch(p: Predictor, requests: unknown[][], options: PredictOptions): RequestResult[] {
  const results: (RequestResult | null)[] = requests.map((inputs) => {
    try {
      for (const x of inputs) p.validateInput(x);
      return null;
    } catch (e) {
      return { ok: false, error: info(e) };
    }
  });
  const valid = requests.flatMap((inputs, i) => (results[i] === null ? [i] : []));
  const flat = valid.flatMap((i) => requests[i]);
  if (flat.length === 0) return results as RequestResult[];
  let predictions: Prediction[];
  try {
    predictions = p.predict(flat, options);
  } catch (e) {
    if (valid.length === 1) {
      results[valid[0]] = { ok: false, error: info(e) };
      return results as RequestResult[];
    }
    // One request broke the batch: run each alone so the others still get answers.
    for (const i of valid) results[i] = predictBatch(p, [requests[i]], options)[0];
    return results as RequestResult[];
  }
  let at = 0;
  for (const i of valid) {
    results[i] = { ok: true, predictions: predictions.slice(at, at + requests[i].length) };
    at += requests[i].length;
  }
  return results as RequestResult[];
}

async function handle(msg: WorkerRequest): Promise<WorkerReply> {
  try {
    switch (msg.type) {
      case 'load': {
        const p = await (await getLoader())(msg.dir);
        warmUp(p);
        predictors.set(msg.key, p);
        return { type: 'loaded', id: msg.id, task: p.task, config: JSON.parse(JSON.stringify(p.config)) as Record<string, unknown> };
      }
      case 'unload':
        predictors.delete(msg.key);
        return { type: 'done', id: msg.id };
      case 'predict': {
        const p = predictors.get(msg.key);
        if (p === undefined) throw new Error(`serve worker: model version ${msg.key} is not loaded`);
        const t0 = performance.now();
        const results = predictBatch(p, msg.requests, msg.options);
        const batchSize = msg.requests.reduce((n, r) => n + r.length, 0);
        return { type: 'predicted', id: msg.id, results, inferenceMs: performance.now() - t0, batchSize };
      }
    }
  } catch (e) {
    return { type: 'error', id: msg.id, error: info(e) };
  }
}

if (parentPort !== null) {
  const port = parentPort;
  let chain = Promise.resolve();
  port.on('message', (msg: WorkerRequest) => {
    chain = chain.then(async () => port.postMessage(await handle(msg)));
  });
}
