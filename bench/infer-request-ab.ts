/**
 * Whole requests of the trained fp32 models (digits, spam, tag), this checkout against another
 * (a base commit's `src/`), for what changed outside the model: each child process loads one
 * checkout's predictor and times, on the process CPU clock, single requests (predict([input]) over
 * the 64 inputs bench/compress.ts times, p50 of `calls` after bench/compress-timing.ts's warm-up) and batch 64 (best
 * of 5). Children alternate between the two checkouts (A B B A …, `pairs` times per task), so both
 * see the same machine load; the figure per checkout is the median of its children's.
 *
 *   git archive <base> src package.json tsconfig.json | tar -x -C /tmp/base
 *   ln -s $PWD/node_modules /tmp/base/; mkdir -p /tmp/base/build/Release; cp build/Release/heed.node /tmp/base/build/Release/
 *   HEED_NUM_THREADS=1 node --import tsx bench/infer-request-ab.ts --base /tmp/base --variants /work/compress-models/variants \
 *     [--pairs 3] [--calls 500] [--out bench/results/infer-request-ab-<date>.json]
 *   HEED_NUM_THREADS=1 node --import tsx bench/infer-request-ab.ts --curve [--out bench/results/request-warmup-<date>.json]
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { loadavg, tmpdir } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { WARMUP_CALLS, cpuMs, p50 } from './compress-timing.ts';
import { readArgs } from './args.ts';

const here = fileURLToPath(import.meta.url);
/** The command line (a child's `--child …` words are read apart, by position). */
const FLAGS = {
  base: { kind: 'string', default: '', help: 'the other checkout (its src/, package.json, node_modules link and build/Release/heed.node)' },
  variants: { kind: 'string', default: '/work/compress-models/variants', help: 'the trained models (<task>-fp32 directories)' },
  pairs: { kind: 'int', default: 3, min: 1, help: 'A B B A child pairs per task' },
  calls: { kind: 'int', default: 500, min: 1, help: 'timed single requests per child' },
  tasks: { kind: 'strings', default: ['digits', 'spam', 'tag'], help: 'tasks' },
  curve: { kind: 'bool', help: 'instead: the warm-up curve of single requests in this checkout' },
  out: { kind: 'string', help: 'raw results file (default bench/results/infer-request-ab-<date>.json, request-warmup-<date>.json with --curve)' },
} as const;
const median = (a: number[]): number => [...a].sort((p, q) => p - q)[a.length >> 1];

/** Child: one checkout's predictor on one task; prints { requestCpuMs, requestWallMs, batchCpuMs } as one JSON line. */
async function child(root: string, dir: string, inputsFile: string, calls: number): Promise<void> {
  const { loadPredictor } = await import(pathToFileURL(join(root, 'src/tasks/index.ts')).href) as typeof import('../src/tasks/index.js');
  const inputs = JSON.parse(readFileSync(inputsFile, 'utf8')) as unknown[];
  const p = await loadPredictor(dir);
  let i = 0;
  const request = await p50(() => p.predict([inputs[i++ % inputs.length]]), calls);
  let batch = Infinity;
  for (let r = 0; r < 5; r++) {
    const c0 = cpuMs();
    p.predict(inputs);
    batch = Math.min(batch, cpuMs() - c0);
  }
  console.log(JSON.stringify({ requestCpuMs: request.cpu, requestWallMs: request.wall, batchCpuMs: batch }));
}

async function main(): Promise<void> {
  const flags = readArgs(import.meta.url, FLAGS);
  const base = resolve(flags.base), variants = flags.variants;
  const pairs = flags.pairs, calls = flags.calls;
  const out = flags.out ?? `bench/results/infer-request-ab-${new Date().toISOString().slice(0, 10)}.json`;
  const self = resolve(here, '../..');
  const { sampleInputs } = await import('./compress.ts');
  const tmp = mkdtempSync(join(tmpdir(), 'heed-request-ab-'));
  const loadBefore = loadavg();
  const rows: Record<string, unknown>[] = [];
  for (const task of flags.tasks) {
    const dir = join(variants, `${task}-fp32`), inputsFile = join(tmp, `${task}.json`);
    writeFileSync(inputsFile, JSON.stringify(await sampleInputs(task, dir)));
    const runs: Record<'base' | 'this', { requestCpuMs: number; requestWallMs: number; batchCpuMs: number }[]> = { base: [], this: [] };
    for (let k = 0; k < pairs; k++) {
      for (const which of (k % 2 === 0 ? ['base', 'this'] : ['this', 'base']) as ('base' | 'this')[]) {
        const r = spawnSync(process.execPath, ['--import', 'tsx', here, '--child', which === 'base' ? base : self, dir, inputsFile, String(calls)],
          { encoding: 'utf8', env: { ...process.env, HEED_NUM_THREADS: '1', HEED_QUIET: '1' } });
        if (r.status !== 0) throw new Error(`infer-request-ab: the ${which} child for ${task} failed: ${r.stderr.slice(-2000)}`);
        runs[which].push(JSON.parse(r.stdout.trim().split('\n').at(-1)!));
      }
    }
    const fig = (which: 'base' | 'this') => ({
      requestCpuMs: median(runs[which].map((r) => r.requestCpuMs)), requestWallMs: median(runs[which].map((r) => r.requestWallMs)),
      batch64CpuMs: median(runs[which].map((r) => r.batchCpuMs)),
    });
    const b = fig('base'), t = fig('this');
    const row = { task, dir, base: b, this: t, requestSpeedup: b.requestCpuMs / t.requestCpuMs, batch64Speedup: b.batch64CpuMs / t.batch64CpuMs, runs };
    rows.push(row);
    console.log(`${task}: request ${b.requestCpuMs.toFixed(3)} → ${t.requestCpuMs.toFixed(3)} ms CPU (${row.requestSpeedup.toFixed(2)}×), batch 64 ${b.batch64CpuMs.toFixed(1)} → ${t.batch64CpuMs.toFixed(1)} ms CPU (${row.batch64Speedup.toFixed(2)}×)`);
  }
  writeFileSync(out, `${JSON.stringify({ command: `HEED_NUM_THREADS=1 node --import tsx bench/infer-request-ab.ts ${process.argv.slice(2).join(' ')}`, date: new Date().toISOString(),
    base, warmupCalls: WARMUP_CALLS, calls, pairs, loadavgBefore: loadBefore, loadavgAfter: loadavg(), rows }, null, 2)}\n`);
  console.log(`wrote ${out}; load ${loadBefore.map((l) => l.toFixed(1)).join(' ')} → ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
}

/**
 * --curve: the warm-up curve of this checkout's requests, why bench/compress.ts warms up 500 calls:
 * per task, in a fresh process, 10 calls (the old warm-up), then blocks of 200; the p50 of each
 * block on the wall and the CPU clock.
 */
async function curve(): Promise<void> {
  const flags = readArgs(import.meta.url, FLAGS);
  const variants = flags.variants;
  const out = flags.out ?? `bench/results/request-warmup-${new Date().toISOString().slice(0, 10)}.json`;
  const { sampleInputs } = await import('./compress.ts');
  const { loadPredictor } = await import('../src/tasks/index.js');
  const loadBefore = loadavg();
  const rows: Record<string, unknown>[] = [];
  for (const task of flags.tasks) {
    const dir = join(variants, `${task}-fp32`);
    const inputs = await sampleInputs(task, dir), p = await loadPredictor(dir);
    const blocks: { calls: string; wallP50Ms: number; cpuP50Ms: number }[] = [];
    let i = 0, done = 0;
    for (const n of [10, 200, 200, 200, 200, 200, 200, 200]) {
      const wall: number[] = [], cpu: number[] = [];
      for (let k = 0; k < n; k++) {
        const c0 = cpuMs(), t0 = performance.now();
        p.predict([inputs[i++ % inputs.length]]);
        wall.push(performance.now() - t0);
        cpu.push(cpuMs() - c0);
      }
      blocks.push({ calls: `${done + 1}-${done + n}`, wallP50Ms: median(wall), cpuP50Ms: median(cpu) });
      done += n;
    }
    rows.push({ task, dir, blocks });
    console.log(`${task}: ${blocks.map((b) => `${b.calls} ${b.cpuP50Ms.toFixed(3)}`).join(', ')} (CPU p50 ms)`);
  }
  writeFileSync(out, `${JSON.stringify({ command: `HEED_NUM_THREADS=1 node --import tsx bench/infer-request-ab.ts ${process.argv.slice(2).join(' ')}`, date: new Date().toISOString(),
    loadavgBefore: loadBefore, loadavgAfter: loadavg(), rows }, null, 2)}\n`);
  console.log(`wrote ${out}`);
}

const c = process.argv.indexOf('--child');
if (c > 0) await child(process.argv[c + 1], process.argv[c + 2], process.argv[c + 3], Number(process.argv[c + 4]));
else if (readArgs(import.meta.url, FLAGS).curve) await curve();
else await main();
