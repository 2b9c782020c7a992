/**
 * The fused FFN + residual of the Transformer layers (src/nn/residual-ffn.ts) against the composed
 * path, which the layers take when a Linear has a forward hook: same output, same gradients, same
 * dropout draws, for encoder and decoder layers, pre- and post-norm, in training and eval, ReLU and
 * GELU. The composed run also hooks the norms, so it has no residual-gradient links either.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as h from '../../src/index.ts';
import { maxDiff } from '../tensors.ts';


for (const kind of ['encoder', 'decoder'] as const) for (const normFirst of [true, false]) for (const training of [true, false]) for (const activation of ['relu', 'gelu'] as const) {
  test(`${kind} layer (${normFirst ? 'pre' : 'post'}-norm, ${training ? 'training' : 'eval'}, ${activation}): the fused FFN equals the composed one`, () => {
    h.manualSeed(3);
    const opts = { dimFeedforward: 48, dropout: 0.2, normFirst, activation };
    const layer = kind === 'encoder' ? new h.nn.TransformerEncoderLayer(16, 2, opts) : new h.nn.TransformerDecoderLayer(16, 2, opts);
    layer.train(training);
    const x = h.randn([3, 5, 16], { generator: new h.Generator(1), requiresGrad: true });
    const mem = h.randn([3, 4, 16], { generator: new h.Generator(2) });
    const upstream = h.randn([3, 5, 16], { generator: new h.Generator(4) });
    const run = () => {
      x.grad = null;
      for (const p of layer.parameters()) p.grad = null;
      h.manualSeed(99); // the same dropout seeds on both paths
      const y = kind === 'encoder' ? (layer as h.nn.TransformerEncoderLayer).call(x) : (layer as h.nn.TransformerDecoderLayer).call(x, mem);
      h.sum(h.mul(y, upstream)).backward();
      return { y, gx: x.grad!, g1: layer.linear1.weight.grad!, gb2: layer.linear2.bias!.grad! };
    };
    const fused = run();
    // composed: hooked FFN Linears, and hooked norms (no residual-gradient links: the tape adds)
    const norms = [layer.norm1, layer.norm2, ...(kind === 'decoder' ? [(layer as h.nn.TransformerDecoderLayer).norm3] : [])];
    const hooks = [layer.linear1, layer.linear2, ...norms].map((m) => m.registerForwardHook(() => undefined));
    const composed = run();
    for (const hk of hooks) hk.remove();
    assert.ok(maxDiff(fused.y, composed.y) < 1e-5, `output differs by ${maxDiff(fused.y, composed.y)}`);
    for (const k of ['gx', 'g1', 'gb2'] as const) assert.ok(maxDiff(fused[k], composed[k]) < 1e-4, `${k} differs by ${maxDiff(fused[k], composed[k])}`);
  });
}
