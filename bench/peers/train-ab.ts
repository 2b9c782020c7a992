/**
 * Interleaved heed / PyTorch training-step A/B on a noisy machine: 3 rounds per thread count,
 * each round 10 heed steps then one PyTorch subprocess (bench/peers/train_torch.py), so both
 * see the same minutes of machine load. Ratio = median PyTorch ms / median heed ms.
 *
 *   node --import tsx bench/peers/train-ab.ts 1,2
 */
process.env.HEED_QUIET = '1';
const { makeTrainBatch } = await import('../train.ts');
const tt = await import('./train_torch.ts');
const reg = await import('../../src/backend/registry.ts');
const { median } = await import('./common.ts');
// heed step (same as bench/train.ts)
const { Tensor } = await import('../../src/tensor/tensor.ts');
const { Seq2SeqTransformer } = await import('../../src/models/seq2seq.ts');
const { crossEntropy } = await import('../../src/ops/loss.ts');
const { reshape } = await import('../../src/ops/shape.ts');
const { AdamW } = await import('../../src/train/optim/index.ts');
const b = makeTrainBatch();
const model = new Seq2SeqTransformer({ srcVocabSize: 30, tgtVocabSize: 45, dModel: 256, numHeads: 4, numEncoderLayers: 2, numDecoderLayers: 2, dimFeedforward: 1024, dropout: 0.1, maxLen: 48 });
model.train();
const opt = new AdamW(model, { lr: 1e-3, weightDecay: 0.01 });
const src = new Tensor(b.src, [b.B, b.S]), tin = new Tensor(b.tgtIn, [b.B, b.T]), tout = new Tensor(b.tgtOut, [b.B * b.T]);
const step = () => { opt.zeroGrad(); crossEntropy(reshape(model.call(src, tin), [-1, 45]), tout, { ignoreIndex: 0, labelSmoothing: 0.1 }).backward(); opt.step(); };
const threadsList = (process.argv[2] ?? '1').split(',').map(Number);
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
