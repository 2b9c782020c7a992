/**
 * The serving workload's model side on the process CPU clock: g2p predict() (normalize, encode,
 * greedy decoding on the fused step, outputs) on batches of B CMUdict test words, as one
 * `heed serve` worker runs them, for each B in --batches, interleaved rep by rep; with the
 * CPU time split by kernel (per word), so the JavaScript share is the remainder.
 *
 *   HEED_NUM_THREADS=1 node --import tsx bench/serve/decode-batches.ts [--model DIR[,DIR2]] [--batches 1,16,32,64]
 *     [--reps 15] [--baseline <another heed checkout>] [--out bench/results/serve-decode-<tag>.json]
 *
 * --baseline loads the same models a second time through another checkout's sources (its
 * src/tasks/g2p.ts: e.g. `git worktree add /tmp/before <commit>`, with node_modules and
 * build/Release/heed.node beside it) and times both codes interleaved in this one process, so an
 * A/B of a change sees the same machine load.
 *
 * Several model directories (comma-separated: e.g. an fp32 model and its `heed compress` int8
 * form) are timed interleaved in one process. Figures: median CPU µs per word over the reps
 * (each rep decodes 512 words in batches of B), and words/s on one thread = 1e6 / that; the
 * garbage collector's pause time per word (mean over the reps; its concurrent helper threads not
 * counted; with --baseline both codes share one heap, so a row's GC figure also holds the other's).
 */
import { writeFileSync } from 'node:fs';
import { PerformanceObserver } from 'node:perf_hooks';
import { loadavg, cpus } from 'node:os';
import { pathToFileURL } from 'node:url';
import { loadG2PPredictor, type G2PPredictor } from '../../src/tasks/g2p.js';
import { loadCmudict } from '../../src/data/cmudict.js';
import { k as kernels, backendInfo } from '../../src/backend/registry.js';
import { median } from '../peers/common.ts';
import { cpuNowMs, timeKernelCalls } from '../native-util.js';
import { readArgs } from '../args.ts';

const args = process.argv.slice(2);
const flags = readArgs(import.meta.url, {
  model: { kind: 'strings', default: ['/work/compress-models/train/g2p-student'], help: 'g2p model directories' },
  batches: { kind: 'ints', default: [1, 16, 32, 64], min: 1, help: 'batch sizes' },
  reps: { kind: 'int', default: 15, min: 1, help: 'timed repetitions per batch' },
  baseline: { kind: 'string', help: 'another checkout whose src/tasks/g2p.ts decodes the same batches, for an A/B' },
  out: { kind: 'string', help: 'raw results file (JSON)' },
});
const MODELS = flags.model;
const BATCHES = flags.batches;
const REPS = flags.reps;
const WORDS = 512;

const words = loadCmudict().test.words.slice(0, 500).map((w) => w.word);
const loadBefore = loadavg();
const BASELINE = flags.baseline;
const predictors: [string, G2PPredictor][] = [];
for (const m of MODELS) predictors.push([m, await loadG2PPredictor(m)]);
if (BASELINE !== undefined) {
  const other = await import(pathToFileURL(`${BASELINE}/src/tasks/g2p.ts`).href) as { loadG2PPredictor: typeof loadG2PPredictor };
  for (const m of MODELS) predictors.push([`baseline:${m}`, await other.loadG2PPredictor(m)]);
}

/** Garbage-collector pause time (ms, all kinds), summed as the entries arrive. */
let gcMs = 0;
new PerformanceObserver((list) => { for (const e of list.getEntries()) gcMs += e.duration; }).observe({ entryTypes: ['gc'] });
const gcSamples = new Map<string, number[]>();

/** CPU ms of decoding WORDS words in batches of B, cycling through the word list from `at`. */
function rep(p: G2PPredictor, B: number, at: number): number {
  const t0 = cpuNowMs();
  for (let i = 0; i < WORDS; i += B) {
    const batch = Array.from({ length: Math.min(B, WORDS - i) }, (_, j) => words[(at + i + j) % words.length]);
    p.predict(batch);
  }
  return cpuNowMs() - t0;
}

for (const [, p] of predictors) for (const B of BATCHES) rep(p, B, 0); // warm-up
const samples = new Map<string, number[]>();
for (let r = 0; r < REPS; r++) {
  for (const [m, p] of predictors) {
    for (const B of BATCHES) {
      const key = `${m}|${B}`;
      const gc0 = gcMs;
      (samples.get(key) ?? samples.set(key, []).get(key)!).push(rep(p, B, r * 37));
      await new Promise((res) => setImmediate(res)); // let the gc entries of this rep arrive
      (gcSamples.get(key) ?? gcSamples.set(key, []).get(key)!).push(gcMs - gc0);
    }
  }
}
// The kernel split: one more rep per row with the kernel timer on (its own wrapping costs a
// little, so it is installed only now; a baseline's rows have none: its kernels are its own).
const timer = timeKernelCalls(kernels, cpuNowMs);
const rows = [];
for (const [m, p] of predictors) {
  for (const B of BATCHES) {
    if (m.startsWith('baseline:')) {
      const us = 1000 * median(samples.get(`${m}|${B}`)!) / WORDS;
      const gcUs = 1000 * gcSamples.get(`${m}|${B}`)!.reduce((a, b) => a + b, 0) / (REPS * WORDS);
      rows.push({ model: m, batch: B, cpuUsPerWord: us, gcPauseUsPerWord: gcUs, wordsPerCpuSecond: 1e6 / us });
      console.log(`baseline ${m.split('/').pop()} B=${B}: ${us.toFixed(1)} µs CPU/word (${(1e6 / us).toFixed(0)} words/s on one thread)`);
      continue;
    }
    timer.time.clear();
    timer.on = true;
    const total = rep(p, B, 0);
    timer.on = false;
    const split = Object.fromEntries([...timer.time].sort((a, b) => b[1].ms - a[1].ms).map(([k, v]) => [k, { usPerWord: 1000 * v.ms / WORDS, callsPerWord: v.calls / WORDS }]));
    const kernelMs = [...timer.time.values()].reduce((s, v) => s + v.ms, 0);
    const us = 1000 * median(samples.get(`${m}|${B}`)!) / WORDS;
    const gcUs = 1000 * gcSamples.get(`${m}|${B}`)!.reduce((a, b) => a + b, 0) / (REPS * WORDS);
    rows.push({ model: m, batch: B, cpuUsPerWord: us, gcPauseUsPerWord: gcUs, wordsPerCpuSecond: 1e6 / us, profiledUsPerWord: 1000 * total / WORDS, outsideKernelsShare: 1 - kernelMs / total, kernels: split });
    console.log(`${m.split('/').pop()} B=${B}: ${us.toFixed(1)} µs CPU/word (${(1e6 / us).toFixed(0)} words/s on one thread), GC pauses ${gcUs.toFixed(1)} µs/word; outside kernels ${(100 * (1 - kernelMs / total)).toFixed(0)}%; ` +
      Object.entries(split).slice(0, 6).map(([k, v]) => `${k} ${v.usPerWord.toFixed(1)}`).join(', '));
  }
}
const out = flags.out;
if (out !== undefined) {
  writeFileSync(out, JSON.stringify({
    baseline: BASELINE ?? null,
    command: `HEED_NUM_THREADS=${process.env.HEED_NUM_THREADS ?? ''} node --import tsx bench/serve/decode-batches.ts ${args.join(' ')}`,
    date: new Date().toISOString(), backend: backendInfo(), cpu: cpus()[0]?.model ?? '?', loadavgBefore: loadBefore, loadavgAfter: loadavg(), reps: REPS, wordsPerRep: WORDS, rows,
  }, null, 2) + '\n');
}
