/**
 * linearFused (x·Wᵀ + bias, act, dropout, residual in the GEMM's epilogue) at the d 256 step's shapes
 * against the plain sgemm of the same product, on 1 thread, timed on the calling thread's CPU clock
 * (a loaded machine does not decide the answer); optionally A/B against another addon build in the
 * same process (interleaved rounds, order alternating; medians).
 *
 *   node --import tsx bench/gemm-fused.ts [--base path/to/old/heed.node] [--rounds 9] [--out f.json]
 */
import { createRequire } from 'node:module';
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { nativeLoad, filled } from './native-util.ts';
import { median } from './peers/common.ts';
import { readArgs } from './args.ts';

const flags = readArgs(import.meta.url, {
  rounds: { kind: 'int', default: 9, min: 1, help: 'interleaved rounds' },
  out: { kind: 'string', default: '', help: 'raw results file (JSON)' },
  base: { kind: 'string', default: '', help: 'another build\'s heed.node to A/B against' },
});
if (!nativeLoad) throw new Error('bench/gemm-fused.ts needs the native addon (npm run build:native)');
const rounds = flags.rounds;
const out = flags.out;
const basePath = flags.base;
type Fn = (...a: unknown[]) => void;
interface Impl { name: string; k: Record<string, Fn>; setThreads: (n: number) => void; cpu: () => number; peak: (t: number) => number }
const impls: Impl[] = [{ name: 'this tree', k: nativeLoad.kernels as unknown as Record<string, Fn>, setThreads: nativeLoad.setThreads, cpu: nativeLoad.threadCpuNs, peak: nativeLoad.peakFlops }];
if (basePath) {
  const a = createRequire(import.meta.url)(resolve(basePath)) as Record<string, unknown>;
  impls.unshift({ name: `base ${basePath}`, k: a.kernels as Record<string, Fn>, setThreads: a.setNumThreads as (n: number) => void, cpu: a.threadCpuNs as () => number, peak: a.peakFlops as (t: number) => number });
}
// rows × outF × inF and the epilogue of each linearFused call of the step (calls/step)
const CASES: { rows: number; outF: number; inF: number; act: number; res: boolean; calls: number }[] = [
  { rows: 704, outF: 256, inF: 256, act: 0, res: true, calls: 4 },
  { rows: 768, outF: 256, inF: 256, act: 0, res: true, calls: 2 },
  { rows: 704, outF: 1024, inF: 256, act: 1, res: false, calls: 2 },
  { rows: 768, outF: 1024, inF: 256, act: 1, res: false, calls: 2 },
  { rows: 704, outF: 256, inF: 1024, act: 0, res: true, calls: 2 },
  { rows: 768, outF: 256, inF: 1024, act: 0, res: true, calls: 2 },
];
const res = new Map<string, number[]>();
const peaks = new Map<string, number[]>(impls.map((i) => [i.name, []]));
const push = (key: string, v: number) => res.set(key, [...(res.get(key) ?? []), v]);
const load0 = loadavg();
for (let r = 0; r < rounds; r++) {
  for (const impl of impls) {
    impl.setThreads(1);
    const c0 = impl.cpu(), w0 = performance.now();
    const g = impl.peak(1);
    peaks.get(impl.name)!.push((g * (performance.now() - w0) * 1e6) / (impl.cpu() - c0));
  }
  for (const c of CASES) {
    const x = filled(c.rows * c.inF, 1), w = filled(c.outF * c.inF, 2), bias = filled(c.outF, 3), resid = filled(c.rows * c.outF, 4);
    const y = new Float32Array(c.rows * c.outF);
    const arms: [string, (i: Impl) => void][] = [
      ['sgemm NT', (i) => i.k.sgemm(x, w, y, 1, c.rows, c.outF, c.inF, false, true, 1, 0, 0, 0, 0, null, 0)],
      ['sgemm NT +bias', (i) => i.k.sgemm(x, w, y, 1, c.rows, c.outF, c.inF, false, true, 1, 0, 0, 0, 0, bias, c.act)],
      ['linearFused', (i) => i.k.linearFused(x, w, y, c.rows, c.outF, c.inF, bias, c.act, 0.1, 1234, c.res ? resid : null)],
    ];
    const order = r % 2 ? [...impls].reverse() : impls;
    for (const impl of order) {
      impl.setThreads(1);
      for (const [name, fn] of arms) {
        fn(impl);
        for (let rep = 0; rep < 5; rep++) {
          const t0 = impl.cpu();
          fn(impl);
          push(`${impl.name}|${c.rows}×${c.outF}×${c.inF}${c.act ? ' relu' : ''}${c.res ? ' +res' : ''}|${name}`, impl.cpu() - t0);
        }
      }
    }
  }
}
const load1 = loadavg();
console.log(`${new Date().toISOString()} load ${load0.map((v) => v.toFixed(2)).join(' ')} → ${load1.map((v) => v.toFixed(2)).join(' ')}; ${rounds} rounds; peak (thread CPU clock): ${impls.map((i) => `${i.name} ${median(peaks.get(i.name)!).toFixed(0)}`).join(', ')} GFLOP/s`);
const rows: unknown[] = [];
console.log(`| case | arm | ${impls.map((i) => `${i.name}: µs (% peak)`).join(' | ')} |`);
console.log(`|---|---|${impls.map(() => '---:|').join('')}`);
for (const c of CASES) {
  const ck = `${c.rows}×${c.outF}×${c.inF}${c.act ? ' relu' : ''}${c.res ? ' +res' : ''}`;
  for (const arm of ['sgemm NT', 'sgemm NT +bias', 'linearFused']) {
    const cells = impls.map((i) => {
      const s = res.get(`${i.name}|${ck}|${arm}`)!, us = median(s) / 1e3;
      const pct = (100 * 2 * c.rows * c.outF * c.inF) / (us * 1e3) / median(peaks.get(i.name)!);
      rows.push({ impl: i.name, case: ck, callsPerStep: c.calls, arm, medianUs: us, pctPeak: pct, samplesNs: s });
      return `${us.toFixed(0)} (${pct.toFixed(1)}%)`;
    });
    console.log(`| ${ck} ×${c.calls} | ${arm} | ${cells.join(' | ')} |`);
  }
}
if (out) {
  writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), command: `node --import tsx ${process.argv.slice(1).join(' ')}`, load: [load0, load1], rounds, peaks: Object.fromEntries(peaks), rows }, null, 1) + '\n');
  console.log(`wrote ${out}`);
}
