/**
 * Derived figures from committed raw benchmark results (bench/results/*.json), so every ratio that
 * BENCHMARKS.md and README.md quote can be recomputed from a named file:
 *
 *   node --import tsx tools/bench-summary.ts bench/results/quiet-gemm-attention.json [more.json ...]
 *
 * For each file it prints
 *   1. best against best: for every workload, heed's fastest row (any thread count) against each
 *      peer's fastest row (any thread count). A peer's slower thread count is no headline: PyTorch's
 *      2-thread training step is slower than its 1-thread one, so "heed 2T vs PyTorch 2T" flatters heed;
 *   2. the rows of DESIGN.md's performance table that the file's rows can decide, each with the
 *      numbers it was decided from; rows it cannot decide say what is missing.
 *
 * Nothing is measured here; it only reads the JSON written by `npm run bench`.
 */
import { readFileSync } from 'node:fs';

interface Row {
  workload: string;
  impl: string;
  threads: number;
  ms: number;
  gflops?: number;
  note?: string;
}

interface Results {
  started: string;
  options: unknown;
  machine: { loadAvgBefore?: number; loadAvgAfter?: number };
  peak: Record<string, number>;
  rows: Row[];
}

/** heed's own implementation of a workload (its fastest path); composed-op and js rows are heed's references. */
const isHeed = (impl: string) => impl === 'heed' || impl.startsWith('heed-native');
const isPeer = (impl: string) => !impl.startsWith('heed');
const fmt = (x: number, d = 2) => x.toFixed(d);
const fmtMs = (ms: number) => (ms < 0.01 ? `${fmt(ms * 1000)} µs` : ms < 10 ? fmt(ms, 3) : fmt(ms, 1));

function fastest(rows: Row[]): Row {
  return rows.reduce((b, r) => (r.ms < b.ms ? r : b));
}

function bestAgainstBest(res: Results): string[] {
  const out = ['| workload | heed best (ms, threads) | peer | peer best (ms, threads) | peer / heed |', '|---|---:|---|---:|---:|'];
  const workloads = [...new Set(res.rows.map((r) => r.workload))];
  for (const w of workloads) {
    const rows = res.rows.filter((r) => r.workload === w && r.ms > 0);
    const heed = rows.filter((r) => isHeed(r.impl));
    if (heed.length === 0) continue;
    const h = fastest(heed);
    for (const impl of [...new Set(rows.filter((r) => isPeer(r.impl)).map((r) => r.impl))]) {
      const p = fastest(rows.filter((r) => r.impl === impl));
      out.push(`| ${w} | ${fmtMs(h.ms)} (${h.threads}T) | ${impl} | ${fmtMs(p.ms)} (${p.threads}T) | ${fmt(p.ms / h.ms)}× |`);
    }
  }
  return out;
}

/** One decided (or undecidable) row of DESIGN.md's performance table. */
interface Verdict {
  target: string;
  measured: string;
  met: 'yes' | 'no' | 'not measured';
}

const range = (xs: number[], d = 2, unit = '') => (xs.length === 0 ? 'none' : `${fmt(Math.min(...xs), d)}–${fmt(Math.max(...xs), d)}${unit}`);

function gemmTargets(res: Results): Verdict[] {
  const sizes = [256, 512, 1024, 2048].map((n) => `sgemm ${n}x${n}x${n}`);
  const ratios: number[] = [];
  for (const w of sizes) {
    for (const t of [1, 2]) {
      const h = res.rows.find((r) => r.workload === w && r.impl === 'heed-native' && r.threads === t);
      const o = res.rows.find((r) => r.workload === w && r.impl.startsWith('onnxruntime-node') && r.threads === t);
      if (h && o) ratios.push(o.ms / h.ms);
    }
  }
  const peak1 = res.peak['1'];
  const pct = sizes.slice(1).map((w) => res.rows.find((r) => r.workload === w && r.impl === 'heed-native' && r.threads === 1)).filter((r): r is Row => r !== undefined).map((r) => (100 * (r.gflops ?? 0)) / peak1);
  return [
    { target: 'fp32 GEMM 256–2048, 1 and 2 threads: ≥ onnxruntime-node in the same run', measured: ratios.length ? `ORT time / heed time ${range(ratios)}× over ${ratios.length} rows` : 'no rows', met: ratios.length === 0 ? 'not measured' : Math.min(...ratios) >= 1 ? 'yes' : 'no' },
    { target: 'fp32 GEMM: ≥ 85% of the measured peak on one thread at n ≥ 512', measured: pct.length ? `${range(pct, 0, '%')} of the run's 1-thread peak probe (${fmt(peak1, 0)} GFLOP/s)` : 'no rows', met: pct.length === 0 ? 'not measured' : Math.min(...pct) >= 85 ? 'yes' : 'no' },
  ];
}

function attentionTargets(res: Results): Verdict[] {
  if (!res.rows.some((r) => r.workload.startsWith('attention '))) return [];
  const fusedOrt = res.rows.some((r) => r.workload.startsWith('attention fwd') && /onnxruntime/.test(r.impl) && /fused|MultiHeadAttention/i.test(r.impl) && !/unfused/.test(r.impl));
  const mem = res.rows.find((r) => r.workload.startsWith('attention fwd memory'));
  const bwd: number[] = [];
  const bwdL = new Set<string>();
  for (const w of new Set(res.rows.filter((r) => r.workload.startsWith('attention bwd')).map((r) => r.workload))) {
    for (const t of [1, 2]) {
      const h = res.rows.find((r) => r.workload === w && r.impl === 'heed-native fused' && r.threads === t);
      const c = res.rows.find((r) => r.workload === w && r.impl === 'heed composed ops' && r.threads === t);
      if (h && c) {
        bwd.push(c.ms / h.ms);
        bwdL.add(w.replace('attention bwd ', ''));
      }
    }
  }
  return [
    { target: "fused attention forward, L = 64…8192: ≥ 1.2× onnxruntime-node's fused MultiHeadAttention at every L", measured: fusedOrt ? 'see rows' : "no row of ORT's fused com.microsoft MultiHeadAttention (the harness runs ORT's unfused graph), no L = 64 row", met: 'not measured' },
    { target: 'fused attention forward: no L×L buffer', measured: mem ? `${mem.workload}: ${mem.note ?? ''}` : 'no memory row', met: mem ? 'yes' : 'not measured' },
    { target: 'fused attention backward ≥ 3× the composed ops at every L', measured: bwd.length ? `${range(bwd)}× over ${bwd.length} rows (${[...bwdL].join('; ')}); no composed rows at other L or d` : 'no rows', met: bwd.length === 0 ? 'not measured' : Math.min(...bwd) >= 3 ? 'yes' : 'no' },
    { target: 'fused attention backward: no L×L buffer', measured: 'no memory row for the backward', met: 'not measured' },
  ];
}

function int8Targets(res: Results): Verdict[] {
  const rows = res.rows.filter((r) => r.workload.startsWith('int8 gemm') && r.impl === 'heed-native');
  const xs = rows.map((r) => ({ w: r.workload, t: r.threads, x: Number(/([\d.]+)x fp32/.exec(r.note ?? '')?.[1]) })).filter((r) => Number.isFinite(r.x));
  const ms = [...new Set(xs.map((r) => Number(/gemm (\d+)x/.exec(r.w)?.[1])))].sort((a, b) => a - b);
  return [{ target: 'int8 GEMM / GEMV ≥ 2× our fp32 at every M from 1 to 512', measured: xs.length ? `${range(xs.map((r) => r.x))}× over ${xs.length} rows (M = ${ms.join(', ')}); ${xs.filter((r) => r.x < 2).map((r) => `${r.w} ${r.t}T ${fmt(r.x)}×`).join(', ') || 'none below 2×'}` : 'no rows', met: xs.length === 0 ? 'not measured' : Math.min(...xs.map((r) => r.x)) >= 2 ? 'yes' : 'no' }];
}

function dispatchTargets(res: Results): Verdict[] {
  const rows = res.rows.filter((r) => r.workload.startsWith('dispatch ') && r.impl === 'heed');
  const us = rows.map((r) => r.ms * 1000);
  return [{ target: 'small-op dispatch < 2 µs per op', measured: rows.length ? `heed (native) ${range(us)} µs over ${rows.map((r) => r.workload.replace('dispatch ', '')).join(', ')}` : 'no rows', met: rows.length === 0 ? 'not measured' : Math.max(...us) < 2 ? 'yes' : 'no' }];
}

/**
 * GEMM FLOPs of one training step of bench/train.ts's model (Seq2SeqTransformer d 256, FF 1024,
 * 2 + 2 layers, batch 64, source 12 and target 11 positions), counted from its shapes: the forward's
 * linear layers (2·M·N·K each) times 3 for forward + the two backward products. Attention-score
 * products and the tied output projection (vocabulary < 100) add under 1%.
 */
function g2pStepGemmFlops(): number {
  const d = 256, ff = 1024, B = 64, src = 12, tgt = 11;
  const enc = 2 * B * src * (4 * d * d + 2 * d * ff); // q, k, v, out + FFN
  const dec = 2 * B * tgt * (4 * d * d + 2 * d * d + 2 * d * ff) + 2 * B * src * (2 * d * d); // self, cross q/out, FFN; cross k/v on memory
  return 3 * (2 * enc + 2 * dec);
}

function trainTargets(res: Results): Verdict[] {
  const step = (impl: string, t: number) => res.rows.find((r) => r.workload.startsWith('train step') && r.impl === impl && r.threads === t);
  const h1 = step('heed', 1);
  const h2 = step('heed', 2);
  if (!h1) return [{ target: 'whole training step (G2P d = 256)', measured: 'no rows', met: 'not measured' }];
  const flops = g2pStepGemmFlops();
  const pct = (100 * flops) / (h1.ms * 1e-3) / 1e9 / res.peak['1'];
  const out: Verdict[] = [{ target: 'whole training step (G2P d = 256): ≥ 70% of the measured peak on 1 thread', measured: `${fmt(flops / 1e9, 1)} GFLOP of GEMM per step in ${fmt(h1.ms, 1)} ms = ${fmt(flops / (h1.ms * 1e-3) / 1e9, 0)} GFLOP/s, ${fmt(pct, 0)}% of the run's 1-thread peak (${fmt(res.peak['1'], 0)} GFLOP/s)`, met: pct >= 70 ? 'yes' : 'no' }];
  if (h2) out.push({ target: 'whole training step: 2 threads ≥ 1.8× faster than 1', measured: `${fmt(h1.ms, 1)} / ${fmt(h2.ms, 1)} ms = ${fmt(h1.ms / h2.ms)}×`, met: h1.ms / h2.ms >= 1.8 ? 'yes' : 'no' });
  return out;
}

function designTable(res: Results): string[] {
  const verdicts = [...gemmTargets(res), ...attentionTargets(res), ...trainTargets(res), ...int8Targets(res), ...dispatchTargets(res)];
  return ['| DESIGN.md target | from this file | met |', '|---|---|---|', ...verdicts.filter((v) => v.measured !== 'no rows').map((v) => `| ${v.target} | ${v.measured} | ${v.met} |`)];
}

for (const file of process.argv.slice(2)) {
  const res = JSON.parse(readFileSync(file, 'utf8')) as Results;
  console.log(`## ${file}\n\nstarted ${res.started}, options ${JSON.stringify(res.options)}, load average ${res.machine.loadAvgBefore} → ${res.machine.loadAvgAfter}, peak probe ${Object.entries(res.peak).map(([t, g]) => `${t}T ${fmt(g, 0)}`).join(', ')} GFLOP/s\n`);
  console.log(['### Best against best', '', ...bestAgainstBest(res), '', '### DESIGN.md performance targets decided by this file', '', ...designTable(res), ''].join('\n'));
}
if (process.argv.length < 3) console.error('usage: node --import tsx tools/bench-summary.ts bench/results/<file>.json [...]');
