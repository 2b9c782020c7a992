/**
 * Load test of `heed serve` with autocannon, on 127.0.0.1 only, bounded in time and requests.
 *
 *   node --import tsx bench/serve/load.ts [--model DIR] [--seconds 8] [--workers N] [--threads 1]
 *        [--concurrency 1,8,64] [--runs on,off,overload] [--max-batch-size N] [--max-batch-delay-ms MS]
 *        [--peer ort] [--out bench/results/serve-<task>-<date>.json]
 *
 * The model's task (config.json) picks the requests: G2P sends one CMUdict test word per request
 * (cycling through 500, greedy decoding), spam one SpamAssassin test mail (cycling through 500).
 * For each of {batching on (the server's default maxBatchSize and maxBatchDelayMs unless given),
 * off (maxBatchSize 1)} it starts the server as a child process (so autocannon's own work does
 * not show up as server event-loop lag), then runs each concurrency for --seconds and at most
 * --max-requests requests. --runs picks which of on, off and the overload run to do.
 *
 * CPU per request (Linux /proc): each row also reports the server's CPU time per answered request
 * by thread (main = the event loop; worker = the busiest other thread, the inference worker when
 * there is one; other = the rest: V8's GC helpers, libuv, further workers) and the load
 * generator's (this process). On a shared machine these, not req/s, say what a request costs:
 * 2 cores ÷ (server + load generator CPU per request) bounds req/s when both share the cores.
 *
 * --peer ort (classifiers): the same model exported to ONNX and served by onnxruntime-node behind a
 * bare Fastify route (bench/serve/ort-server.ts): same URL, body, bearer key and tokenization, one
 * request per session.run, intra-op threads = --threads. It has no worker threads, queue, rate
 * limits, metrics or logs, which favours it; its rows say so. The same bare route calling heed's
 * predictor in-process (rows 'heed in-process') separates heed serve's architecture from the runtime.
 *
 * Reported per run: requests/s, latency p50/p99, mean batch size (from heed_batch_size), the
 * server's p99 event-loop delay during the run (heed_event_loop_lag_seconds, reset by the
 * scrape before the run), and every non-200 status. The normal runs must answer only 200;
 * a last run overloads the server on purpose (queue of 16 inputs, 64 connections) and must
 * answer only 200 or 503. Anything else fails the bench (exit code 1).
 *
 * The model: --model DIR, else runs/serve-bench-g2p if present, else it trains one there
 * with `heed demo --seconds 90` (the demo's G2P Transformer: d 128, 2+2 layers, 4 heads).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { availableParallelism, loadavg, cpus } from 'node:os';
import autocannon from 'autocannon';
import { loadCmudict } from '../../src/data/cmudict.js';
import { loadSpamAssassin } from '../../src/data/spam.js';
import { METRIC_NAMES } from '../../src/serve/metrics.js';
import { ROUTES } from '../../src/serve/routes.js';
import { DEFAULT_SERVE_CONFIG } from '../../src/serve/config.js';
import { readArgs } from '../args.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const args = process.argv.slice(2);
const flags = readArgs(import.meta.url, {
  seconds: { kind: 'number', default: 8, min: 0, help: 'seconds per concurrency' },
  'max-requests': { kind: 'int', default: 50000, min: 1, help: 'requests per concurrency at most' },
  workers: { kind: 'int', default: DEFAULT_SERVE_CONFIG.workers, min: 1, help: 'server workers (as the server ships: one per core but one)' },
  'max-batch-size': { kind: 'int', default: DEFAULT_SERVE_CONFIG.maxBatchSize, min: 1, help: 'batching on: the largest batch' },
  'max-batch-delay-ms': { kind: 'number', default: DEFAULT_SERVE_CONFIG.maxBatchDelayMs, min: 0, help: 'batching on: the longest wait for a batch to fill' },
  threads: { kind: 'int', default: 1, min: 1, help: 'native pool threads per worker' },
  concurrency: { kind: 'ints', default: [1, 8, 64], min: 1, help: 'concurrent connections' },
  model: { kind: 'string', help: 'the model directory (default runs/serve-bench-g2p, trained when absent)' },
  peer: { kind: 'string', default: '', choices: ['', 'ort'], help: 'ort: also onnxruntime-node serving the same classifier (spam only)' },
  out: { kind: 'string', default: '', help: 'raw results file (JSON)' },
  runs: { kind: 'strings', default: ['on', 'off', 'overload'], choices: ['on', 'off', 'overload'], help: 'which servers: batching on, batching off, the overload run (queue of 16)' },
});
const SECONDS = flags.seconds;
const MAX_REQUESTS = flags.maxRequests;
const WORKERS = String(flags.workers); // as the server ships: one per core but one
// Batching as the server ships it unless given: the rows then measure the default config.
const MAX_BATCH = String(flags.maxBatchSize);
const BATCH_DELAY = String(flags.maxBatchDelayMs);
const THREADS = String(flags.threads);
const CONCURRENCY = flags.concurrency;
let modelDir = flags.model ?? join(root, 'runs', 'serve-bench-g2p');
const PEER = flags.peer;
const OUT = flags.out;
/** Which servers to run: batching on, batching off, and the overload run (queue of 16). */
const RUNS = new Set(flags.runs);

const heed = (...a: string[]) => [join(root, 'bench/serve/heed.ts'), ...a];

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

async function waitReady(base: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
    try {
      if ((await fetch(base + ROUTES.ready)).status === 200) return;
    } catch { /* not listening yet */ }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('server not ready after 120 s');
}

/** Parses one metric (summing label sets) from the Prometheus text format. */
function metric(text: string, name: string): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(name + ' ') || line.startsWith(name + '{')) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

let backend = '?';

/** CPU ticks (user + system, CLK_TCK = 100 per second on Linux) of every thread of a process, by thread id. */
function threadTicks(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
        const f = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields from 3 (state) on
        out.set(tid, Number(f[11]) + Number(f[12])); // utime, stime (fields 14, 15)
      } catch { /* the thread ended */ }
    }
  } catch { /* no /proc (not Linux): no CPU split */ }
  return out;
}

/**
 * The server's CPU time per answered request, split by thread: the main thread (event loop: HTTP,
 * auth, JSON, metrics, the scheduler), the busiest other thread (the inference worker, with one
 * worker and a pool of one thread), and the rest (V8's GC helpers, libuv, more workers).
 */
function cpuSplit(pid: number, before: Map<string, number>, after: Map<string, number>, requests: number): CpuSplit {
  const ms = (t: number) => (t * 10) / Math.max(1, requests); // ticks of 10 ms → ms per request
  let main = 0, busiest = 0, rest = 0;
  for (const [tid, t] of after) {
    const d = t - (before.get(tid) ?? 0);
    if (tid === String(pid)) main = d;
    else if (d > busiest) { rest += busiest; busiest = d; } else rest += d;
  }
  return { mainMsPerRequest: ms(main), workerMsPerRequest: ms(busiest), otherMsPerRequest: ms(rest), totalMsPerRequest: ms(main + busiest + rest) };
}

interface CpuSplit { mainMsPerRequest: number; workerMsPerRequest: number; otherMsPerRequest: number; totalMsPerRequest: number }

interface Row { server: string; batching: string; concurrency: number; rps: number; p50: number; p99: number; meanBatch: number; loopLagMs: number; requests: number; statuses: Record<string, number>; errors: number;
  /** Server CPU per request by thread, and the load generator's (this process). */
  serverCpu: CpuSplit; loadGeneratorMsPerRequest: number }

type Server = 'heed' | 'ort' | 'heed-bare';

async function run(server: Server, batching: boolean, words: string[], key: string, concurrency = CONCURRENCY, maxQueue = '1024'): Promise<Row[]> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const batchFlags = batching ? ['--max-batch-size', MAX_BATCH, '--max-batch-delay-ms', BATCH_DELAY] : ['--max-batch-size', '1', '--max-batch-delay-ms', '0'];
  const argv = server === 'heed'
    ? heed('serve', `${task}=${modelDir}`, '--host', '127.0.0.1', '--port', String(port),
      '--workers', WORKERS, '--threads-per-worker', THREADS, '--rate-limit', '1000000', '--rate-burst', '1000000', '--max-queue', maxQueue, '--max-items', '1',
      '--max-input-chars', '1000000', '--body-limit', '4194304',
      '--log-level', 'warn', ...batchFlags)
    : [join(root, 'bench/serve/ort-server.ts'), modelDir, String(port), server === 'ort' ? 'ort' : 'heed'];
  const child = spawn(process.execPath, ['--import', 'tsx', ...argv],
    { cwd: root, env: { ...process.env, HEED_API_KEYS: key, HEED_QUIET: '1', HEED_ORT_THREADS: THREADS }, stdio: ['ignore', 'inherit', 'inherit'] });
  // Never leave a server behind, even when the bench itself is interrupted.
  const killChild = () => child.kill('SIGKILL');
  process.once('exit', killChild);
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => { killChild(); process.exit(130); });
  const rows: Row[] = [];
  try {
    await waitReady(base, child);
    backend = (await (await fetch(base + ROUTES.ready)).json() as { backend: string }).backend;
    console.error(`${server} server ready at ${base} (batching ${batching ? 'on' : 'off'}, ${backend} backend)`);
    const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
    // Warm-up: JIT, first batches.
    await autocannon({ url: `${base}/v1/models/${task}/predict`, connections: 8, amount: 200, method: 'POST', headers, body: JSON.stringify({ input: words[0] }) });
    for (const c of concurrency) {
      const before = await (await fetch(base + ROUTES.metrics)).text(); // also resets the loop-lag window
      let i = 0;
      const ticks0 = threadTicks(child.pid!), gen0 = process.cpuUsage();
      const result = await autocannon({
        url: `${base}/v1/models/${task}/predict`, connections: c, duration: SECONDS, maxOverallRequests: Math.max(MAX_REQUESTS, c), timeout: 30,
        requests: [{ method: 'POST', headers, setupRequest: (req: Record<string, unknown>) => ({ ...req, body: JSON.stringify({ input: words[i++ % words.length] }) }) }],
      });
      const gen = process.cpuUsage(gen0), ticks1 = threadTicks(child.pid!);
      const after = await (await fetch(base + ROUTES.metrics)).text();
      const batches = metric(after, `${METRIC_NAMES.batchSize}_count`) - metric(before, `${METRIC_NAMES.batchSize}_count`);
      const inputs = metric(after, `${METRIC_NAMES.batchSize}_sum`) - metric(before, `${METRIC_NAMES.batchSize}_sum`);
      const statuses: Record<string, number> = {};
      for (const [code, s] of Object.entries((result as unknown as { statusCodeStats: Record<string, { count: number }> }).statusCodeStats ?? {})) statuses[code] = s.count;
      rows.push({
        server: server === 'heed' ? 'heed serve' : server === 'ort' ? 'onnxruntime-node (bare Fastify)' : 'heed in-process (bare Fastify)',
        batching: server !== 'heed' ? 'none (one request per run)' : (batching ? `on (≤${MAX_BATCH}, ${BATCH_DELAY} ms)` : 'off') + (maxQueue === '1024' ? '' : `, max queue ${maxQueue}`), concurrency: c, rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99,
        meanBatch: batches > 0 ? inputs / batches : 0, loopLagMs: metric(after, METRIC_NAMES.eventLoopLag) * 1000,
        requests: result.requests.total, statuses, errors: result.errors + result.timeouts,
        serverCpu: cpuSplit(child.pid!, ticks0, ticks1, result.requests.total), loadGeneratorMsPerRequest: (gen.user + gen.system) / 1000 / Math.max(1, result.requests.total),
      });
      const r = rows[rows.length - 1];
      console.error(`${r.server}, batching ${r.batching}, c=${c}: ${r.rps.toFixed(0)} req/s, p50 ${r.p50} ms, p99 ${r.p99} ms, batch ${r.meanBatch.toFixed(1)}, loop lag p99 ${r.loopLagMs.toFixed(1)} ms, statuses ${JSON.stringify(statuses)}, errors ${r.errors}; ` +
        `server CPU/request ${r.serverCpu.totalMsPerRequest.toFixed(3)} ms (main ${r.serverCpu.mainMsPerRequest.toFixed(3)}, worker ${r.serverCpu.workerMsPerRequest.toFixed(3)}, other ${r.serverCpu.otherMsPerRequest.toFixed(3)}), load generator ${r.loadGeneratorMsPerRequest.toFixed(3)} ms`);
    }
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    console.error(`server exited with code ${child.exitCode} after SIGTERM`);
  }
  return rows;
}

if (!existsSync(join(modelDir, 'config.json'))) {
  console.error(`bench/serve: no model at ${modelDir}; training one with heed demo --seconds 90 …`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', ...heed('demo', '--seconds', '90', '--test-words', '100', '--out', modelDir)], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(1);
}
modelDir = modelDir.replace(/\/$/, '');
const task = String((JSON.parse(readFileSync(join(modelDir, 'config.json'), 'utf8')) as { task?: unknown }).task);
if (task !== 'g2p' && task !== 'spam') {
  console.error(`bench/serve: ${modelDir} is a '${task}' model; this load test sends G2P words or spam mails (tasks g2p, spam).`);
  process.exit(2);
}
if (PEER !== '' && (PEER !== 'ort' || task !== 'spam')) {
  console.error(`bench/serve: --peer ${PEER}: the only peer is 'ort', for classifiers (spam); G2P's ONNX form is two graphs and a generation loop.`);
  process.exit(2);
}

// 500 held-out inputs, as a client would send them.
const words = task === 'g2p'
  ? loadCmudict().test.words.map((w) => w.word).slice(0, 500)
  : (await loadSpamAssassin()).test.map((e) => e.text).slice(0, 500);
const key = randomBytes(24).toString('hex');
const loadBefore = loadavg();
const rows = [...(RUNS.has('on') ? await run('heed', true, words, key) : []), ...(RUNS.has('off') ? await run('heed', false, words, key) : [])];
if (PEER === 'ort') rows.push(...await run('ort', false, words, key), ...await run('heed-bare', false, words, key));
// Overload on purpose: a queue of 16 inputs at 64 connections must shed load with 503 only.
const overload = RUNS.has('overload') ? await run('heed', true, words, key, [64], '16') : [];

const bad = [
  ...rows.filter((r) => r.errors > 0 || Object.keys(r.statuses).some((s) => s !== '200')),
  ...overload.filter((r) => r.errors > 0 || Object.keys(r.statuses).some((s) => s !== '200' && s !== '503')),
];
rows.push(...overload);
const what = task === 'g2p' ? 'one word per request, greedy' : 'one mail per request';
console.log(`\nheed serve load test: ${task} (${modelDir}), ${backend} backend, ${WORKERS} worker(s), native pool of ${THREADS} thread(s), ${availableParallelism()} cores, ${SECONDS} s per run (≤ ${MAX_REQUESTS} requests), ${what}.\n`);
console.log('| server | batching | concurrency | req/s | p50 ms | p99 ms | mean batch | event-loop lag p99 ms | requests | non-200 |');
console.log('|---|---|---:|---:|---:|---:|---:|---:|---:|---|');
for (const r of rows) {
  const non200 = Object.entries(r.statuses).filter(([s]) => s !== '200').map(([s, n]) => `${s}×${n}`).join(' ') || 'none';
  const heedOnly = r.server === 'heed serve';
  console.log(`| ${r.server} | ${r.batching} | ${r.concurrency} | ${r.rps.toFixed(0)} | ${r.p50} | ${r.p99} | ${heedOnly ? r.meanBatch.toFixed(1) : '–'} | ${heedOnly ? r.loopLagMs.toFixed(1) : '–'} | ${r.requests} | ${non200}${r.errors ? `, ${r.errors} socket errors` : ''} |`);
}
const normal = rows.filter((r) => !overload.includes(r) && r.server === 'heed serve');
const maxLag = Math.max(...normal.map((r) => r.loopLagMs));
console.log(`\nmax event-loop lag p99 in the normal runs: ${maxLag.toFixed(1)} ms (target < 50 ms); in the overload run: ${overload.map((r) => r.loopLagMs.toFixed(1)).join(', ')} ms`);
if (OUT !== '') {
  writeFileSync(OUT, JSON.stringify({
    command: `node --import tsx bench/serve/load.ts ${args.join(' ')}`, date: new Date().toISOString(), task, model: modelDir, backend,
    workers: Number(WORKERS), threads: Number(THREADS), seconds: SECONDS, cores: availableParallelism(), cpu: cpus()[0]?.model ?? '?',
    loadavgBefore: loadBefore, loadavgAfter: loadavg(), rows,
  }, null, 2) + '\n');
  console.error(`bench/serve: wrote ${OUT}`);
}
if (bad.length > 0) {
  console.error('bench/serve: unexpected errors or statuses');
  process.exitCode = 1;
}
if (maxLag >= 50) process.exitCode = 1;
