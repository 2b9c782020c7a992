/**
 * The FFN fold (ops/linear-fused.ts ReluFold) A/B'd inside the real d 256 training step, one process, one
 * build, 1 thread, the thread CPU clock. The step always runs with the fold (this tree's JS); in the
 * "plain" arm every folded call, linearBackwardFused with maskScale > 0, is replaced by what the unfolded
 * path runs: linearBackwardFused with maskScale 0 into a scratch buffer (the unmasked dx, as the unfolded
 * path's fresh pooled gx; a ring of 4 per size, so not warm) and reluDropoutBackward from it into the
 * call's gx (the dz the first Linear reads).
 * Both arms give the same bits (checked on the first steps' losses, each arm from the same seed). Steps
 * alternate A B B A; per quad one paired difference of the two kernels' ms and of the whole step's.
 * (The fold's JS, one tape node more per FFN in the forward, is in the step's figure of both arms alike.)
 *
 *   node --import tsx bench/ffn-fold-step-ab.ts [--steps 96] [--warm 150] [--out f.json]
 */
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { heedStep, makeTrainBatch, TRAIN_CONFIGS } from './train.ts';
import { k, setBackend, setNumThreads } from '../src/backend/registry.ts';
import { nativeLoad } from './native-util.ts';
import { readArgs } from './args.ts';

const flags = readArgs(import.meta.url, {
  steps: { kind: 'int', default: 96, min: 0, help: 'timed steps (rounded to a multiple of 4, at least 4)' },
  warm: { kind: 'int', default: 150, min: 0, help: 'untimed warm-up steps' },
  out: { kind: 'string', default: '', help: 'raw results file (JSON)' },
});
if (!nativeLoad) { console.error('ffn-fold-step-ab: the native addon is not built (npm run build:native)'); process.exit(2); }
const native = nativeLoad;
setBackend('native');
setNumThreads(1);
const steps = Math.max(4, Math.round(flags.steps / 4) * 4);
type Kernel = (p: Record<string, unknown>) => unknown;
const table = k as unknown as Record<string, Kernel>;
const lbf = table.linearBackwardFused, relu = table.reluDropoutBackward;
const cpuNs = () => native.threadCpuNs();
let arm: 'fold' | 'plain' = 'fold';
// the unmasked dx's buffers: a ring of 4 per size, so that each is last touched a step or two before (as the
// step's pooled buffers are), not kept warm in cache by every call
const scratch = new Map<number, { bufs: Float32Array[]; next: number }>();
const perStep = { linearBackwardFused: 0, reluDropoutBackward: 0, folded: 0 };
table.linearBackwardFused = (p) => {
  const t0 = cpuNs();
  const masked = (p.maskScale as number) > 0;
  try {
    if (!masked || arm === 'fold') return lbf(p);
    const gx = p.gx as Float32Array;
    let ring = scratch.get(gx.length);
    if (!ring) scratch.set(gx.length, ring = { bufs: Array.from({ length: 4 }, () => new Float32Array(gx.length)), next: 0 });
    const s = ring.bufs[ring.next++ % ring.bufs.length];
    lbf({ ...p, gx: s, maskScale: 0 });
    const t1 = cpuNs();
    perStep.linearBackwardFused += t1 - t0;
    relu({ y: p.x, dy: s, dz: gx, scale: p.maskScale });
    perStep.reluDropoutBackward += cpuNs() - t1;
    return undefined;
  } finally {
    if (masked) perStep.folded++;
    if (!masked || arm === 'fold') perStep.linearBackwardFused += cpuNs() - t0;
  }
};
// the loss check: 8 steps from the same seed on each arm
const losses: Record<string, number[]> = {};
for (const a of ['plain', 'fold'] as const) {
  arm = a;
  const hc = await heedStep(makeTrainBatch(), TRAIN_CONFIGS[0]);
  losses[a] = [];
  for (let i = 0; i < 8; i++) { hc.step(); losses[a].push(hc.loss()); }
}
const lossSame = losses.plain.every((x, i) => Object.is(x, losses.fold[i]));
const h = await heedStep(makeTrainBatch(), TRAIN_CONFIGS[0]);
for (let i = 0; i < flags.warm; i++) { arm = i % 2 ? 'plain' : 'fold'; h.step(); }
const res = { fold: [] as { lbf: number; relu: number; step: number; folded: number }[], plain: [] as { lbf: number; relu: number; step: number; folded: number }[] };
const load0 = loadavg();
for (let s = 0; s < steps; s++) {
  arm = s % 4 === 0 || s % 4 === 3 ? 'fold' : 'plain'; // A B B A
  perStep.linearBackwardFused = perStep.reluDropoutBackward = perStep.folded = 0;
  const t0 = cpuNs();
  h.step();
  res[arm].push({ lbf: perStep.linearBackwardFused / 1e6, relu: perStep.reluDropoutBackward / 1e6, step: (cpuNs() - t0) / 1e6, folded: perStep.folded });
}
const load1 = loadavg();
const med = (v: number[]) => { const s = [...v].sort((a, b) => a - b); return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
const quads = steps / 4;
const paired = (get: (r: { lbf: number; relu: number; step: number }) => number) =>
  Array.from({ length: quads }, (_, q) => (get(res.fold[2 * q]) + get(res.fold[2 * q + 1]) - get(res.plain[2 * q]) - get(res.plain[2 * q + 1])) / 2);
const rows = ([['linearBackwardFused', (r) => r.lbf], ['reluDropoutBackward', (r) => r.relu], ['both kernels', (r) => r.lbf + r.relu], ['the whole step', (r) => r.step]] as [string, (r: { lbf: number; relu: number; step: number }) => number][])
  .map(([name, get]) => { const d = paired(get); return { name, plainMs: med(res.plain.map(get)), foldMs: med(res.fold.map(get)), pairedMs: med(d), foldFaster: d.filter((x) => x < 0).length }; });
console.log(`${new Date().toISOString()} load ${load0.map((x) => x.toFixed(2)).join(' ')} → ${load1.map((x) => x.toFixed(2)).join(' ')}; d 256, 1 thread, thread CPU clock; ${steps} steps A B B A after ${flags.warm} warm-up; ${res.fold[0].folded} folded calls per step; losses of 8 steps ${lossSame ? 'the same bits' : 'DIFFER'}`);
console.log('| kernel | plain ms/step | fold ms/step | paired fold − plain ms | quads the fold is faster |\n|---|---:|---:|---:|---:|');
for (const r of rows) console.log(`| ${r.name} | ${r.plainMs.toFixed(3)} | ${r.foldMs.toFixed(3)} | ${r.pairedMs >= 0 ? '+' : ''}${r.pairedMs.toFixed(3)} | ${r.foldFaster}/${quads} |`);
if (flags.out) {
  writeFileSync(flags.out, JSON.stringify({ date: new Date().toISOString(), command: `node --import tsx bench/ffn-fold-step-ab.ts ${process.argv.slice(2).join(' ')}`, load: [load0, load1], steps, warm: flags.warm, lossSame, losses, rows, res }, null, 1) + '\n');
  console.log(`wrote ${flags.out}`);
}
if (!lossSame) process.exit(1);
