/**
 * Seq2SeqTransformer's input path: with plain modules it runs as one op (ops/embed-positions.ts), and
 * with a forward hook on the embeddings module by module. Both give the same logits, the same
 * gradients and the same dropout draws, in training and eval; learned positions stay composed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as h from '../../src/index.ts';
import { maxDiff } from '../tensors.ts';

for (const training of [true, false]) for (const positional of ['sinusoidal', 'learned'] as const) {
  test(`Seq2SeqTransformer: the fused input path equals the modules (${training ? 'training' : 'eval'}, ${positional})`, () => {
    h.manualSeed(4);
    const model = new h.models.Seq2SeqTransformer({ srcVocabSize: 13, tgtVocabSize: 11, dModel: 16, numHeads: 2, numEncoderLayers: 1, numDecoderLayers: 1, dimFeedforward: 32, dropout: 0.2, positional });
    model.train(training);
    const src = h.tensor(Int32Array.from([3, 4, 5, 6, 0, 7, 8, 9, 10, 11]), [2, 5], { dtype: 'int32' });
    const tgt = h.tensor(Int32Array.from([1, 3, 4, 5, 1, 6, 7, 0]), [2, 4], { dtype: 'int32' });
    const run = () => {
      for (const p of model.parameters()) p.grad = null;
      h.manualSeed(77);
      const logits = model.forward(src, tgt);
      h.sum(h.mul(logits, logits)).backward();
      return { logits, gs: model.srcEmbed.weight.grad!, gt: model.tgtEmbed.weight.grad!, next: h.randn([1]).data[0] };
    };
    const fused = run();
    const hooks = [model.srcEmbed, model.tgtEmbed].map((m) => m.registerForwardHook(() => undefined));
    const composed = run();
    for (const hk of hooks) hk.remove();
    assert.equal(fused.next, composed.next, 'the paths draw the generator differently');
    assert.ok(maxDiff(fused.logits, composed.logits) < 1e-5, `logits differ by ${maxDiff(fused.logits, composed.logits)}`);
    assert.ok(maxDiff(fused.gs, composed.gs) < 1e-4, `source table gradient differs by ${maxDiff(fused.gs, composed.gs)}`);
    assert.ok(maxDiff(fused.gt, composed.gt) < 1e-4, `target table gradient differs by ${maxDiff(fused.gt, composed.gt)}`);
  });
}
