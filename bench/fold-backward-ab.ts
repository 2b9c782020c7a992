/**
 * The d 256 G2P training step's Linear backward calls with and without the eleventh session's folds
 * (native linearBackwardFused), in one process on the process CPU clock, one thread:
 *   base (main's addon, --base): linearBackward, then for the FFN's first Linear reluDropoutBackwardBias
 *     (its dz and bias gradient in a pass of their own), for the attention projections reduceAxis (their
 *     bias gradients), and layerNormBackwardDropout writing its dz bias sums (the norm-fed Linears' db);
 *   fold (this tree's addon): linearBackwardFused, every bias gradient summed off the dW GEMM's packing
 *     (the FFN's ReLU-dropout backward as reluDropoutBackward, without sums); layerNormBackwardDropout
 *     without bias sums.
 * The calls are the step's (bench/step-roofline.ts's table): per step 4 FFN pairs (rows 768, 768, 704,
 * 704; d 256, F 1024), 8 projections with a reduceAxis (QKV 768/704 × 768, cross KV 768 × 512, cross
 * Q 704 × 256), 6 norm-fed projections (704 × 256 ×4, 768 × 256 ×2) besides the FFN's second Linears,
 * 10 layerNormBackwardDropout calls (rows 704 ×6, 768 ×4). Every operand is its own buffer (≈ 130 MB
 * a step), so the calls read them from memory as in the step. Arms alternate A B B A within a round;
 * the paired difference per round is reported with its median and how many rounds favour the fold.
 *
 *   node --import tsx bench/fold-backward-ab.ts --base /path/to/main/heed.node [--rounds 12] [--same] [--out file.json]
 *
 * Since the twelfth session the library has neither reluDropoutBackwardBias nor the norm's dzBias
 * output: the base arm runs what they computed as the kernels that remain (reluDropoutBackward, then
 * reduceAxis over dz; the norm's dz, then reduceAxis over it), and both addons are called through this
 * tree's specs, so --base must be a build from the twelfth session on.
 */
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { cpuNowMs, filled, loadKernelArm } from './native-util.ts';
import { readArgs } from './args.ts';

const flags = readArgs(import.meta.url, {
  base: { kind: 'string', default: '', help: 'main\'s heed.node (required)' },
  rounds: { kind: 'int', default: 12, min: 1, help: 'rounds of A B B A' },
  out: { kind: 'string', default: '', help: 'raw results file (JSON)' },
  same: { kind: 'bool', help: 'both arms run the folded calls (--base then an earlier build of the fold): an A/B of two fold builds' },
});
if (!flags.base) { console.error('fold-backward-ab: --base <path to main\'s heed.node> is required'); process.exit(2); }

const base = loadKernelArm(flags.base), foldArm = loadKernelArm(null);

const D = 256, F = 1024, scale = Math.fround(1 / 0.9);
let seed = 1;
const rnd = (n: number) => filled(n, seed++);
const relu = (n: number) => { const a = filled(n, seed++); for (let i = 0; i < n; i++) if (i % 3 === 0) a[i] = 0; return a; };

interface Lin { rows: number; inF: number; outF: number; g: Float32Array; x: Float32Array; w: Float32Array; gx: Float32Array; gw: Float32Array; gb: Float32Array }
const lin = (rows: number, inF: number, outF: number, x = rnd(rows * inF)): Lin => ({
  rows, inF, outF, g: rnd(rows * outF), x, w: rnd(outF * inF), gx: new Float32Array(rows * inF), gw: new Float32Array(outF * inF), gb: new Float32Array(outF),
});
// the FFN: h = relu-dropout output (rows × F) is the second Linear's x; dz1 the first Linear's g
const ffns = [768, 768, 704, 704].map((rows) => {
  const h = relu(rows * F);
  const l2 = lin(rows, F, D, h), l1 = lin(rows, D, F);
  return { rows, h, l1, l2 };
});
const projReduce = [[768, 768], [768, 768], [704, 768], [704, 768], [768, 512], [768, 512], [704, 256], [704, 256]].map(([r, o]) => lin(r, D, o));
const projNorm = [704, 704, 704, 704, 768, 768].map((r) => lin(r, D, D));
const norms = [704, 704, 704, 704, 704, 704, 768, 768, 768, 768].map((rows) => ({
  rows, x: rnd(rows * D), weight: rnd(D), mean: rnd(rows), rstd: filled(rows, 1), dy: rnd(rows * D), dxAdd: rnd(rows * D),
  dx: new Float32Array(rows * D), dweight: new Float32Array(D), dbias: new Float32Array(D), dz: new Float32Array(rows * D), dzBias: new Float32Array(D),
}));

const groups = ['ffn', 'projReduce', 'projNorm', 'norms'] as const;
type Group = (typeof groups)[number];
function run(arm: 'base' | 'fold'): Record<Group, number> {
  // --same: the base arm runs the folded calls with its own addon
  const which = flags.same ? 'fold' : arm;
  const fold = arm === 'base' ? base : foldArm;
  const t: Record<Group, number> = { ffn: 0, projReduce: 0, projNorm: 0, norms: 0 };
  let t0 = cpuNowMs();
  for (const { l1, l2 } of ffns) {
    if (which === 'base') {
      base.linearBackward({ g: l2.g, x: l2.x, w: l2.w, gx: l2.gx, gw: l2.gw, rows: l2.rows, inF: l2.inF, outF: l2.outF });
      base.reluDropoutBackward({ y: l2.x, dy: l2.gx, dz: l1.g, scale });
      base.reduceAxis({ op: 0, x: l1.g, out: l1.gb, outer: 1, size: l1.rows, inner: F });
      base.linearBackward({ g: l1.g, x: l1.x, w: l1.w, gx: l1.gx, gw: l1.gw, rows: l1.rows, inF: l1.inF, outF: l1.outF });
    } else {
      fold.linearBackwardFused({ g: l2.g, x: l2.x, w: l2.w, gx: l2.gx, gw: l2.gw, gb: l2.gb, rows: l2.rows, inF: l2.inF, outF: l2.outF });
      fold.reluDropoutBackward({ y: l2.x, dy: l2.gx, dz: l1.g, scale });
      fold.linearBackwardFused({ g: l1.g, x: l1.x, w: l1.w, gx: l1.gx, gw: l1.gw, gb: l1.gb, rows: l1.rows, inF: l1.inF, outF: l1.outF });
    }
  }
  let t1 = cpuNowMs(); t.ffn = t1 - t0; t0 = t1;
  for (const l of projReduce) {
    if (which === 'base') {
      base.linearBackward({ g: l.g, x: l.x, w: l.w, gx: l.gx, gw: l.gw, rows: l.rows, inF: l.inF, outF: l.outF });
      base.reduceAxis({ op: 0, x: l.g, out: l.gb, outer: 1, size: l.rows, inner: l.outF });
    } else {
      fold.linearBackwardFused({ g: l.g, x: l.x, w: l.w, gx: l.gx, gw: l.gw, gb: l.gb, rows: l.rows, inF: l.inF, outF: l.outF });
    }
  }
  t1 = cpuNowMs(); t.projReduce = t1 - t0; t0 = t1;
  for (const l of projNorm) {
    if (which === 'base') base.linearBackward({ g: l.g, x: l.x, w: l.w, gx: l.gx, gw: l.gw, rows: l.rows, inF: l.inF, outF: l.outF });
    else fold.linearBackwardFused({ g: l.g, x: l.x, w: l.w, gx: l.gx, gw: l.gw, gb: l.gb, rows: l.rows, inF: l.inF, outF: l.outF });
  }
  t1 = cpuNowMs(); t.projNorm = t1 - t0; t0 = t1;
  for (const n of norms) {
    (which === 'base' ? base : fold).layerNormBackwardDropout({
      x: n.x, weight: n.weight, mean: n.mean, rstd: n.rstd, dy: n.dy, dyAdd: null, dx: n.dx, dxAdd: n.dxAdd, dweight: n.dweight, dbias: n.dbias,
      rows: n.rows, cols: D, dz: n.dz, p: 0.1, seed: 7,
    });
    if (which === 'base') base.reduceAxis({ op: 0, x: n.dz, out: n.dzBias, outer: 1, size: n.rows, inner: D });
  }
  t1 = cpuNowMs(); t.norms = t1 - t0;
  return t;
}

for (let i = 0; i < 3; i++) { run('base'); run('fold'); }
const diffs: Record<Group | 'all', number[]> = { ffn: [], projReduce: [], projNorm: [], norms: [], all: [] };
const raw: { base: Record<Group, number>[]; fold: Record<Group, number>[] } = { base: [], fold: [] };
for (let r = 0; r < flags.rounds; r++) {
  const a1 = run('base'), b1 = run('fold'), b2 = run('fold'), a2 = run('base');
  raw.base.push(a1, a2);
  raw.fold.push(b1, b2);
  let all = 0;
  for (const g of groups) {
    const d = (b1[g] + b2[g] - a1[g] - a2[g]) / 2;
    diffs[g].push(d);
    all += d;
  }
  diffs.all.push(all);
}
const med = (a: number[]) => { const s = [...a].sort((x, y) => x - y); const n = s.length; return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2; };
const sum = (t: Record<Group, number>) => groups.reduce((s, g) => s + t[g], 0);
console.log(`fold-backward-ab: ${flags.rounds} rounds of A B B A, 1 thread, process CPU clock; load ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
console.log('| calls (one step\'s) | base ms (median) | fold ms (median) | paired fold − base, median ms | rounds the fold is faster |');
console.log('|---|---:|---:|---:|---:|');
const summary: Record<string, unknown> = {};
for (const g of [...groups, 'all'] as const) {
  const b = med(raw.base.map((t) => (g === 'all' ? sum(t) : t[g]))), f = med(raw.fold.map((t) => (g === 'all' ? sum(t) : t[g])));
  const faster = diffs[g].filter((d) => d < 0).length;
  summary[g] = { baseMs: b, foldMs: f, pairedMedianMs: med(diffs[g]), faster, rounds: flags.rounds };
  console.log(`| ${g} | ${b.toFixed(3)} | ${f.toFixed(3)} | ${med(diffs[g]).toFixed(3)} | ${faster} of ${flags.rounds} |`);
}
if (flags.out) writeFileSync(flags.out, JSON.stringify({ loadavg: os.loadavg(), rounds: flags.rounds, summary, diffs, raw }, null, 2) + '\n');
