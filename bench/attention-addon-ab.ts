/**
 * The fused attention forward of one addon build on `npm run bench`'s attention shapes, on the
 * process CPU clock: run it alternately with another build (HEED_NATIVE_PATH=<other heed.node>) to
 * tell a change in the kernel from the host's drift, which moves both builds alike. One line per
 * run: the build (this tree's, or the path) and each shape's median ms per call.
 *
 *   for i in 1 2 3; do
 *     HEED_NATIVE_PATH=/path/to/old/heed.node node --import tsx bench/attention-addon-ab.ts
 *     node --import tsx bench/attention-addon-ab.ts
 *   done
 */
import { readArgs } from './args.ts';
import { heedForward, type MhaShape } from './peers/ort-mha.ts';
import { randomFloats, median } from './peers/common.ts';
import { nk, nativeLoad, cpuNowMs } from './native-util.ts';

const flags = readArgs(import.meta.url, {
  threads: { kind: 'int', default: 1, min: 1, help: 'thread count' },
  rounds: { kind: 'int', default: 9, min: 1, help: 'timed batches per shape (median)' },
  shapes: { kind: 'strings', default: ['32x12x32', '32x12x64', '32x4x64', '32x12x128', '1x12x1024'], help: 'BxHxL shapes, d 64, non-causal' },
});
if (!nk || !nativeLoad) throw new Error('bench/attention-addon-ab.ts: the native addon is not built (npm run build:native)');
nativeLoad.setThreads(flags.threads);

const cells: string[] = [];
for (const text of flags.shapes) {
  const [B, H, L] = text.split('x').map(Number);
  if (![B, H, L].every((x) => Number.isInteger(x) && x > 0)) throw new Error(`bench/attention-addon-ab.ts: --shapes got '${text}', expected BxHxL (e.g. 32x12x64)`);
  const s: MhaShape = { B, H, L, d: 64, causal: false };
  const n = B * L * H * s.d;
  const f = heedForward(nk, s, randomFloats(n, 3), randomFloats(n, 4), randomFloats(n, 5));
  for (let i = 0; i < 20; i++) await f.call();
  const reps = Math.max(2, Math.round(2e7 / (B * H * L * L)));  // ~20 ms of work per batch
  const ms: number[] = [];
  for (let r = 0; r < flags.rounds; r++) {
    const c0 = cpuNowMs();
    for (let i = 0; i < reps; i++) await f.call();
    ms.push((cpuNowMs() - c0) / reps);
  }
  cells.push(`B${B}H${H}L${L} ${median(ms).toFixed(3)}`);
}
console.log(`${process.env.HEED_NATIVE_PATH ?? "this tree's addon"} (${flags.threads}T): ${cells.join(' | ')}`);
