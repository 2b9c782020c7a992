/**
 * Interleaved heed / PyTorch training-step A/B on a noisy machine: 3 rounds per thread count,
 * each round 10 heed steps then one PyTorch subprocess (bench/peers/train_torch.py), so both
 * see the same minutes of machine load. Ratio = median PyTorch ms / median heed ms.
 *
 *   node --import tsx bench/peers/train-ab.ts 1,2
 */
process.env.HEED_QUIET = '1';
const { readArgs, argsError } = await import('../args.ts');
const words = readArgs(import.meta.url, {}, { positional: { name: 'threads', help: 'thread counts, comma-separated (default 1)', max: 1 } })._;
const threadsList = (words[0] ?? '1').split(',').map(Number);
if (!threadsList.every((t) => Number.isInteger(t) && t >= 1)) argsError(import.meta.url, `threads ${JSON.stringify(words[0])}: expected a comma-separated list of integers ≥ 1. Fix: e.g. 1,2.`);
const { makeTrainBatch, heedStep } = await import('../train.ts');
const tt = await import('./train_torch.ts');
const reg = await import('../../src/backend/registry.ts');
const { median } = await import('./common.ts');
const b = makeTrainBatch();
const { step } = await heedStep(b); // the same model, batch and optimizer as bench/train.ts
for (const threads of threadsList) {
  const h: number[] = [], p: number[] = [];
  for (let round = 0; round < 3; round++) {
    reg.setNumThreads(threads);
    for (let i = 0; i < 2; i++) step();
    const ts: number[] = [];
    for (let i = 0; i < 10; i++) { const t0 = performance.now(); step(); ts.push(performance.now() - t0); }
    h.push(median(ts));
    const r = await tt.run(b, { threads: [threads], quick: true });
    p.push(r[0].ms);
    console.log(`threads ${threads} round ${round}: heed ${h.at(-1)!.toFixed(1)} ms, pytorch ${p.at(-1)!.toFixed(1)} ms, ratio ${(p.at(-1)! / h.at(-1)!).toFixed(2)}`);
  }
  console.log(`threads ${threads}: heed median ${median(h).toFixed(1)} ms, pytorch median ${median(p).toFixed(1)} ms, ratio ${(median(p) / median(h)).toFixed(2)}×`);
}
