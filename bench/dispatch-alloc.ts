/**
 * Where the time of a small op goes when no storage scope is open (bench/dispatch.ts's "add of 64
 * floats"): the op as the harness calls it, and its parts alone, interleaved batch by batch in one
 * process on the main thread's CPU clock (the addon's threadCpuNs) and on the process's (which also
 * counts V8's background GC threads: the ArrayBuffer sweeper frees the outputs' backing stores there).
 *
 *   node --import tsx bench/dispatch-alloc.ts [--batches 200] [--out bench/results/dispatch-alloc-<date>.json]
 *
 * Rows: add (h.add of two 64-float tensors: a new 256-byte Float32Array per call), alloc (a new
 * Float32Array(64) alone), tensor (new Tensor over a preallocated array), kernel (the reference add
 * into a preallocated output), and add in a scope (the same add inside a storage scope that is closed
 * every 1000 calls, so from the second batch on every output comes from the pool: no allocation).
 */
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import * as h from '../src/index.ts';
import { Tensor } from '../src/tensor/tensor.ts';
import { openStorageScope } from '../src/tensor/storage-pool.ts';
import { k } from '../src/backend/registry.ts';
import { nativeLoad } from './native-util.ts';
import { readArgs } from './args.ts';

const flags = readArgs(import.meta.url, {
  batches: { kind: 'int', default: 200, min: 1, help: 'timed batches per case' },
  out: { kind: 'string', default: '', help: 'raw results file (JSON)' },
});
const batches = flags.batches, inner = 1000;
const tcpu = () => (nativeLoad ? nativeLoad.threadCpuNs() : performance.now() * 1e6);
const a = h.randn([64]), b = h.randn([64]);
const out64 = new Float32Array(64);
let sink: unknown;
const cases: Record<string, () => void> = {
  add: () => { sink = h.add(a, b); },
  alloc: () => { sink = new Float32Array(64); },
  tensor: () => { sink = new Tensor(out64, a.shape); },
  kernel: () => { k.binarySame({ op: 0, a: a.data as Float32Array, b: b.data as Float32Array, out: out64 }); },
};
const names = [...Object.keys(cases), 'add in a scope'];
const res: Record<string, { thread: number[]; proc: number[] }> = Object.fromEntries(names.map((n) => [n, { thread: [], proc: [] }]));
const load0 = loadavg();
for (let bi = -20; bi < batches; bi++) {
  for (const name of names) {
    const fn = cases[name] ?? cases.add;
    const scope = name === 'add in a scope' ? openStorageScope() : null;
    const c0 = tcpu(), p0 = process.cpuUsage();
    for (let i = 0; i < inner; i++) fn();
    const p1 = process.cpuUsage(p0), c1 = tcpu();
    scope?.close([]);
    if (bi < 0) continue;
    res[name].thread.push((c1 - c0) / inner);
    res[name].proc.push(((p1.user + p1.system) * 1e3) / inner);
  }
}
const q = (x: number[], p: number) => [...x].sort((u, v) => u - v)[Math.min(x.length - 1, Math.floor(p * x.length))];
const mean = (x: number[]) => x.reduce((u, v) => u + v, 0) / x.length;
console.log(`${new Date().toISOString()} load ${load0[0].toFixed(2)} → ${loadavg()[0].toFixed(2)}; ${batches} batches of ${inner} calls, ns per call`);
console.log('| case | main thread CPU p50 | p90 | mean | process CPU mean |\n|---|---:|---:|---:|---:|');
const rows = names.map((n) => ({ case: n, threadP50: q(res[n].thread, 0.5), threadP90: q(res[n].thread, 0.9), threadMean: mean(res[n].thread), processMean: mean(res[n].proc) }));
for (const r of rows) console.log(`| ${r.case} | ${r.threadP50.toFixed(0)} | ${r.threadP90.toFixed(0)} | ${r.threadMean.toFixed(0)} | ${r.processMean.toFixed(0)} |`);
const out = flags.out;
if (out) writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), command: process.argv.slice(1).join(' '), load: [load0, loadavg()], batches, inner, rows }, null, 1));
void sink;
