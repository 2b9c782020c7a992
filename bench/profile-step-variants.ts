/**
 * The bench/train.ts G2P step in one process, with each of this session's step fusions switched off
 * in turn by a no-op forward hook (a hooked module takes the module-by-module path): the models are
 * built alike (same seed, same batch), and their steps interleave round by round (A, B, C, then B, C, A, …)
 * on the main thread's CPU clock, 1 thread, so a loaded machine hits every variant alike.
 *
 *   node --import tsx bench/profile-step-variants.ts [--rounds 30] [--d 256] [--kernels] [--out file.json]
 *
 * Variants: all fusions; no stacked projections (a hook on every attention's kProj); no fused input
 * path (hooks on both embeddings). Per variant: the median step and the mean of the fastest quarter.
 */
import { writeFileSync } from 'node:fs';
import { execSync } from 'node:child_process';
import { heedStep, makeTrainBatch, TRAIN_CONFIGS } from './train.ts';
import { setBackend, setNumThreads, backendInfo } from '../src/backend/registry.ts';
import { cpuNowMs, timeKernelCalls } from './native-util.ts';
import { k } from '../src/backend/registry.ts';
import { MultiheadAttention } from '../src/nn/attention/multihead.ts';
import { readArgs } from './args.ts';

const flags = readArgs(import.meta.url, {
  rounds: { kind: 'int', default: 30, min: 1, help: 'interleaved rounds' },
  d: { kind: 'int', default: 256, choices: TRAIN_CONFIGS.map((c) => c.dModel), help: 'the training step\'s model width (bench/train.ts TRAIN_CONFIGS)' },
  kernels: { kind: 'bool', help: 'also time every kernel call (per variant: ms/step and calls/step by kernel)' },
  out: { kind: 'string', default: '', help: 'raw results file (JSON)' },
});
if (backendInfo().nativeAvailable) setBackend('native');
setNumThreads(1);
const rounds = flags.rounds;
const cfg = TRAIN_CONFIGS.find((c) => c.dModel === flags.d) ?? TRAIN_CONFIGS[0];
const batch = makeTrainBatch();
type H = Awaited<ReturnType<typeof heedStep>>;
const variants: { name: string; h: H }[] = [];
for (const name of ['all fusions', 'no stacked projections', 'no fused input path']) {
  const h = await heedStep(batch, cfg);
  if (name === 'no stacked projections') for (const m of h.model.modules()) if (m instanceof MultiheadAttention) m.kProj?.registerForwardHook(() => undefined);
  if (name === 'no fused input path') for (const m of [h.model.srcEmbed, h.model.tgtEmbed]) m.registerForwardHook(() => undefined);
  for (let i = 0; i < 3; i++) h.step();
  variants.push({ name, h });
}
// with --kernels, every kernel call is timed too (per variant: ms/step and calls/step by kernel)
const timer = flags.kernels ? timeKernelCalls(k, cpuNowMs) : null;
const byKernel = variants.map(() => new Map<string, { ms: number; calls: number }>());
const times = variants.map(() => [] as number[]);
for (let r = 0; r < rounds; r++) {
  // the order rotates round by round: the first step of a round ran slower in every variant (order, not code)
  variants.forEach((_, j) => {
    const i = (j + r) % variants.length, v = variants[i];
    if (timer) { timer.time = new Map(); timer.on = true; }
    const t0 = cpuNowMs();
    v.h.step();
    times[i].push(cpuNowMs() - t0);
    if (timer) {
      timer.on = false;
      for (const [name, e] of timer.time) {
        const acc = byKernel[i].get(name) ?? { ms: 0, calls: 0 };
        acc.ms += e.ms / rounds;
        acc.calls += e.calls / rounds;
        byKernel[i].set(name, acc);
      }
    }
  });
}
const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return s[s.length >> 1]; };
const fastQ = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b).slice(0, Math.max(1, xs.length >> 2)); return s.reduce((a, b) => a + b, 0) / s.length; };
const uptime = execSync('uptime').toString().trim();
console.log(`G2P d ${cfg.dModel}, 1 thread, CPU clock, ${rounds} interleaved rounds; ${uptime}`);
const rows = variants.map((v, i) => ({ variant: v.name, medianMs: median(times[i]), fastQuarterMs: fastQ(times[i]), loss: v.h.loss() }));
for (const r of rows) console.log(`${r.variant.padEnd(24)} median ${r.medianMs.toFixed(1)} ms   fastest quarter ${r.fastQuarterMs.toFixed(1)} ms   loss ${r.loss.toFixed(7)}`);
if (timer) {
  const names = [...new Set(byKernel.flatMap((m) => [...m.keys()]))].sort((a, b) => (byKernel[0].get(b)?.ms ?? 0) - (byKernel[0].get(a)?.ms ?? 0));
  console.log(`kernel (mean ms/step, calls/step)`.padEnd(28) + variants.map((v) => v.name.padStart(26)).join(''));
  for (const n of names) console.log(n.padEnd(28) + byKernel.map((m) => { const e = m.get(n); return (e ? `${e.ms.toFixed(2)} (${Math.round(e.calls)})` : '—').padStart(26); }).join(''));
  console.log('sum of kernels'.padEnd(28) + byKernel.map((m) => [...m.values()].reduce((a, e) => a + e.ms, 0).toFixed(2).padStart(26)).join(''));
}
const out = flags.out;
if (out) writeFileSync(out, JSON.stringify({ bench: 'profile-step-variants', uptime, rounds, rows, times, kernels: byKernel.map((m) => Object.fromEntries(m)) }, null, 2));
