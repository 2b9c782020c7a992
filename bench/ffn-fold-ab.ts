/**
 * The d 256 G2P training step's FFN backward with and without the thirteenth session's fold, one build
 * (this tree's addon), one process, one thread, the thread CPU clock:
 *   plain: linearBackwardFused of the second Linear (gx = g · W2, unmasked), reluDropoutBackward
 *     (dz = gx · 1/(1 − p) where h > 0) into the first Linear's g, then the first Linear's linearBackwardFused;
 *   fold: the second Linear's linearBackwardFused with maskScale, its dx GEMM writing dz straight into the
 *     first Linear's g (ops/linear-fused.ts ReluFold), then the same first Linear's call.
 * The step's four FFN pairs (rows 768, 768, 704, 704; d 256, F 1024; bench/step-roofline.ts's table), every
 * operand its own buffer (≈ 40 MB for the four), so the calls read them from memory as in the step; with
 * --evict MB, that many MB are written between the pairs (the step's other kernels between two FFNs).
 * Arms alternate A B B A within a round; the paired difference per round is reported with its median and
 * how many rounds favour the fold. The results of both arms are checked to be the same bits first.
 *
 *   node --import tsx bench/ffn-fold-ab.ts [--rounds 16] [--evict 0] [--out file.json]
 */
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { filled, loadKernelArm, nativeLoad } from './native-util.ts';
import { readArgs } from './args.ts';

const flags = readArgs(import.meta.url, {
  rounds: { kind: 'int', default: 16, min: 1, help: 'rounds of A B B A' },
  evict: { kind: 'int', default: 0, min: 0, help: 'MB written between two FFN pairs (0: none)' },
  out: { kind: 'string', default: '', help: 'raw results file (JSON)' },
});
if (!nativeLoad) { console.error('ffn-fold-ab: the native addon is not built (npm run build:native)'); process.exit(2); }
const nk = loadKernelArm(null);
const cpuMs = () => nativeLoad!.threadCpuNs() / 1e6;

const D = 256, F = 1024, scale = Math.fround(1 / 0.9);
let seed = 1;
const rnd = (n: number) => filled(n, seed++);
// h: the ReLU-dropout output (zeros where relu or dropout zeroed it, about half)
const hidden = (n: number) => { const a = filled(n, seed++); for (let i = 0; i < n; i++) if (a[i] < 0 || i % 10 === 0) a[i] = 0; return a; };
interface Lin { rows: number; inF: number; outF: number; g: Float32Array; x: Float32Array; w: Float32Array; gx: Float32Array; gw: Float32Array; gb: Float32Array }
const lin = (rows: number, inF: number, outF: number, x: Float32Array, g: Float32Array): Lin => ({
  rows, inF, outF, g, x, w: rnd(outF * inF), gx: new Float32Array(rows * inF), gw: new Float32Array(outF * inF), gb: new Float32Array(outF),
});
// l2: the second Linear (x = h, rows × F; g = dy, rows × D); l1: the first (g = dz, rows × F; x rows × D)
const ffns = [768, 768, 704, 704].map((rows) => {
  const l2 = lin(rows, F, D, hidden(rows * F), rnd(rows * D));
  const l1 = lin(rows, D, F, rnd(rows * D), new Float32Array(rows * F));
  return { l1, l2 };
});
const evictBuf = new Float32Array(flags.evict * 262144);
const call = (l: Lin, maskScale: number, gx = l.gx) =>
  nk.linearBackwardFused({ g: l.g, x: l.x, w: l.w, gx, gw: l.gw, gb: l.gb, rows: l.rows, inF: l.inF, outF: l.outF, maskScale });

type Arm = 'plain' | 'fold';
/** One step's four FFN backwards: [second Linear (+ the mask pass), first Linear] ms. */
function run(arm: Arm): [number, number] {
  let t2 = 0, t1 = 0;
  for (const { l1, l2 } of ffns) {
    if (evictBuf.length) evictBuf.fill(seed++ & 1);
    const a = cpuMs();
    if (arm === 'plain') {
      call(l2, 0);
      nk.reluDropoutBackward({ y: l2.x, dy: l2.gx, dz: l1.g, scale });
    } else {
      call(l2, scale, l1.g);
    }
    const b = cpuMs();
    call(l1, 0);
    const c = cpuMs();
    t2 += b - a;
    t1 += c - b;
  }
  return [t2, t1];
}

// the same bits: the first Linear's gradients after each arm
const snap = () => ffns.flatMap(({ l1 }) => [l1.g.slice(), l1.gx.slice(), l1.gw.slice(), l1.gb.slice()]);
run('plain');
const a = snap();
for (const { l1 } of ffns) { l1.g.fill(NaN); l1.gx.fill(NaN); }
run('fold');
const b = snap();
const same = a.every((x, i) => x.length === b[i].length && x.every((v, j) => Object.is(v, b[i][j])));
if (!same) { console.error('ffn-fold-ab: the arms differ in bits'); process.exit(1); }

for (let i = 0; i < 3; i++) { run('plain'); run('fold'); }
const parts = ['second', 'first', 'both'] as const;
const raw: Record<Arm, number[][]> = { plain: [], fold: [] };
const diffs: Record<(typeof parts)[number], number[]> = { second: [], first: [], both: [] };
for (let r = 0; r < flags.rounds; r++) {
  const a1 = run('plain'), b1 = run('fold'), b2 = run('fold'), a2 = run('plain');
  raw.plain.push(a1, a2);
  raw.fold.push(b1, b2);
  for (let p = 0; p < 2; p++) diffs[parts[p]].push((b1[p] + b2[p] - a1[p] - a2[p]) / 2);
  diffs.both.push(diffs.second[r] + diffs.first[r]);
}
const med = (x: number[]) => { const s = [...x].sort((u, v) => u - v); const n = s.length; return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2; };
const pick = (t: number[], p: number) => (p === 2 ? t[0] + t[1] : t[p]);
console.log(`ffn-fold-ab: one step's 4 FFN backwards, ${flags.rounds} rounds of A B B A, 1 thread, thread CPU clock, evict ${flags.evict} MB; the arms' results the same bits; load ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
console.log('| calls | plain ms (median) | fold ms (median) | paired fold − plain, median ms | rounds the fold is faster |');
console.log('|---|---:|---:|---:|---:|');
const summary: Record<string, unknown> = {};
const label = { second: 'second Linear\'s backward (+ reluDropoutBackward in plain)', first: 'first Linear\'s backward', both: 'both' };
parts.forEach((part, p) => {
  const pl = med(raw.plain.map((t) => pick(t, p))), fo = med(raw.fold.map((t) => pick(t, p)));
  const faster = diffs[part].filter((d) => d < 0).length;
  summary[part] = { plainMs: pl, foldMs: fo, pairedMedianMs: med(diffs[part]), faster, rounds: flags.rounds };
  console.log(`| ${label[part]} | ${pl.toFixed(3)} | ${fo.toFixed(3)} | ${med(diffs[part]).toFixed(3)} | ${faster} of ${flags.rounds} |`);
});
if (flags.out) writeFileSync(flags.out, JSON.stringify({ loadavg: os.loadavg(), rounds: flags.rounds, evict: flags.evict, same, summary, diffs, raw }, null, 2) + '\n');
