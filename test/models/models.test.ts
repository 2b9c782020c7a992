import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as h from '../../src/index.ts';
import { models, nn } from '../../src/index.ts';

const ids = (rows: number[][]): h.Tensor => h.tensor(rows, undefined, { dtype: 'int32' });

/** A few plain SGD steps; returns the losses. */
function sgd(m: nn.Module, lossFn: () => h.Tensor, steps = 8, lr = 0.05): number[] {
  const losses: number[] = [];
  for (let s = 0; s < steps; s++) {
    m.zeroGrad();
    const loss = lossFn();
    losses.push(loss.item());
    loss.backward();
    for (const p of m.parameters()) if (p.grad) for (let i = 0; i < p.size; i++) p.data[i] -= lr * p.grad.data[i];
  }
  return losses;
}

for (const pooling of ['cls', 'mean'] as const) {
  test(`EncoderClassifier (${pooling} pooling): padding does not change the logits, and it trains`, () => {
    h.manualSeed(0);
    const m = new models.EncoderClassifier({ vocabSize: 20, numClasses: 3, dModel: 16, numHeads: 2, dimFeedforward: 32, pooling, dropout: 0 });
    const a = m.forward(ids([[4, 5, 6]])), b = m.forward(ids([[4, 5, 6, 0, 0]]));
    assert.deepEqual(a.shape, [1, 3]);
    for (let i = 0; i < 3; i++) assert.ok(Math.abs(a.data[i] - b.data[i]) < 1e-5);
    const x = ids([[4, 5, 6, 0], [7, 8, 9, 10]]), y = h.tensor([0, 2], undefined, { dtype: 'int32' });
    const losses = sgd(m, () => h.crossEntropy(m.forward(x), y));
    assert.ok(losses[losses.length - 1] < losses[0], JSON.stringify(losses));
  });
}

test('TokenTagger gives (B, T, numTags) logits', () => {
  const m = new models.TokenTagger({ vocabSize: 20, numTags: 5, dModel: 16, numHeads: 2, dimFeedforward: 32 });
  assert.deepEqual(m.forward(ids([[1, 2, 3], [4, 5, 0]])).shape, [2, 3, 5]);
  assert.throws(() => m.forward(ids([Array(129).fill(1)])), (e: Error) => e instanceof h.ShapeError && /maxLen=128/.test(e.message));
});

test('ViT classifies 8×8 digits with patch 2 and 4; bad patch sizes are ConfigErrors', () => {
  h.manualSeed(1);
  for (const patchSize of [2, 4]) {
    const vit = new models.ViT({ numClasses: 10, patchSize, dModel: 16, numHeads: 2, dimFeedforward: 32, dropout: 0 });
    const x = h.randn([3, 1, 8, 8]);
    assert.deepEqual(vit.forward(x).shape, [3, 10]);
    const y = h.tensor([1, 2, 3], undefined, { dtype: 'int32' });
    const losses = sgd(vit, () => h.crossEntropy(vit.forward(x), y));
    assert.ok(losses[losses.length - 1] < losses[0], `patch ${patchSize}: ${JSON.stringify(losses)}`);
  }
  assert.throws(() => new models.ViT({ numClasses: 10, patchSize: 3 }), (e: Error) => e instanceof h.ConfigError && /patchSize=3/.test(e.message));
  assert.throws(() => new models.ViT({ numClasses: 10 }).forward(h.zeros([2, 64])), h.ShapeError);
});

test('LstmAttentionSeq2Seq: greedy decoding equals argmax of the teacher-forced forward; it trains', () => {
  h.manualSeed(2);
  for (const attention of ['general', 'additive'] as const) {
    const m = new models.LstmAttentionSeq2Seq({ srcVocabSize: 10, tgtVocabSize: 8, embedDim: 8, hiddenSize: 12, attention, dropout: 0 });
    const src = ids([[3, 4, 5, 0]]);
    const { tokens } = m.greedyDecode(src, { bos: 1, eos: 2, maxLen: 5 });
    const seq = [1, ...tokens[0]];
    const logits = m.forward(src, ids([seq]));
    for (let t = 0; t < tokens[0].length; t++) {
      const row = Array.from(logits.data.slice(t * 8, (t + 1) * 8));
      assert.equal(row.indexOf(Math.max(...row)), tokens[0][t], `${attention} t=${t}`);
    }
    const tgtIn = ids([[1, 3, 4], [1, 5, 6]]), tgtOut = ids([[3, 4, 2], [5, 6, 2]]);
    const s = ids([[3, 4, 0], [5, 6, 7]]);
    const losses = sgd(m, () => h.crossEntropy(m.forward(s, tgtIn).reshape([-1, 8]), tgtOut.reshape([-1])), 6, 0.2);
    assert.ok(losses[losses.length - 1] < losses[0], JSON.stringify(losses));
  }
});

test('LstmAttentionSeq2Seq: a source\'s logits do not depend on the padding its batch added', () => {
  h.manualSeed(4);
  const m = new models.LstmAttentionSeq2Seq({ srcVocabSize: 10, tgtVocabSize: 8, embedDim: 8, hiddenSize: 12, numLayers: 2, dropout: 0 });
  const tgt = ids([[1, 3, 4]]);
  const alone = m.forward(ids([[3, 4, 5]]), tgt);
  const padded = m.forward(ids([[3, 4, 5, 0, 0]]), tgt);
  // in a batch with a longer source, in either order
  const batched = m.forward(ids([[6, 7, 8, 9, 3], [3, 4, 5, 0, 0]]), ids([[1, 3, 4], [1, 3, 4]]));
  const second = h.narrow(batched, 0, 1, 1);
  for (let i = 0; i < alone.size; i++) {
    assert.ok(Math.abs(alone.data[i] - padded.data[i]) < 1e-5, `padded ${i}`);
    assert.ok(Math.abs(alone.data[i] - second.data[i]) < 1e-5, `batched ${i}`);
  }
  const g = m.greedyDecode(ids([[3, 4, 5, 0, 0], [6, 7, 8, 9, 3]]), { bos: 1, eos: 2, maxLen: 5 });
  assert.deepEqual(g.tokens[0], m.greedyDecode(ids([[3, 4, 5]]), { bos: 1, eos: 2, maxLen: 5 }).tokens[0]);
});

for (const fusion of ['cross', 'concat'] as const) {
  test(`MultimodalFusion (${fusion}) classifies (text, image) pairs and trains`, () => {
    h.manualSeed(3);
    const m = new models.MultimodalFusion({ vocabSize: 12, numClasses: 2, dModel: 16, numHeads: 2, dimFeedforward: 32, fusion, dropout: 0 });
    const t = ids([[1, 2, 3], [4, 5, 0]]), img = h.randn([2, 1, 8, 8]);
    assert.deepEqual(m.forward(t, img).shape, [2, 2]);
    const y = h.tensor([0, 1], undefined, { dtype: 'int32' });
    const losses = sgd(m, () => h.crossEntropy(m.forward(t, img), y));
    assert.ok(losses[losses.length - 1] < losses[0], JSON.stringify(losses));
    assert.throws(() => m.forward(t, h.randn([3, 1, 8, 8])), h.ShapeError);
  });
}

test('every model round-trips through toConfig/fromConfig and rejects unknown keys', () => {
  const built: [{ toConfig(): object; stateDict(): Record<string, h.Tensor> }, (c: Record<string, unknown>) => nn.Module][] = [
    [new models.EncoderClassifier({ vocabSize: 9, numClasses: 2, dModel: 8, numHeads: 2 }), models.EncoderClassifier.fromConfig],
    [new models.TokenTagger({ vocabSize: 9, numTags: 2, dModel: 8, numHeads: 2 }), models.TokenTagger.fromConfig],
    [new models.ViT({ numClasses: 3, dModel: 8, numHeads: 2 }), models.ViT.fromConfig],
    [new models.GPT({ vocabSize: 9, dModel: 8, numHeads: 2, numLayers: 1 }), models.GPT.fromConfig],
    [new models.LstmAttentionSeq2Seq({ srcVocabSize: 9, tgtVocabSize: 7, embedDim: 4, hiddenSize: 6 }), models.LstmAttentionSeq2Seq.fromConfig],
    [new models.MultimodalFusion({ vocabSize: 9, numClasses: 2, dModel: 8, numHeads: 2 }), models.MultimodalFusion.fromConfig],
  ];
  for (const [m, from] of built) {
    const cfg = JSON.parse(JSON.stringify(m.toConfig())) as Record<string, unknown>;
    const m2 = from(cfg);
    assert.deepEqual(m2.loadStateDict(m.stateDict()), { missingKeys: [], unexpectedKeys: [] });
    assert.throws(() => from({ ...cfg, bogusKey: 1 }), (e: Error) => e instanceof h.ConfigError && /bogusKey/.test(e.message) && /Valid keys/.test(e.message));
  }
});
