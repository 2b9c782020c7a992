/**
 * The fused attention out-projection + dropout + residual of the Transformer layers
 * (src/nn/residual-attention.ts) against the composed path, which the layers take when outProj
 * has a forward hook: same output, same gradients, same dropout draws, for encoder and decoder
 * layers, pre- and post-norm, in training and eval. Also: the layers fall back (and run the hooks)
 * for hooked attention modules, and the fused path is taken when it can be.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as h from '../../src/index.ts';
import { maxDiff } from '../tensors.ts';
import { canFuseOutProjection } from '../../src/nn/residual-attention.ts';

for (const kind of ['encoder', 'decoder'] as const) for (const normFirst of [true, false]) for (const training of [true, false]) {
  test(`${kind} layer (${normFirst ? 'pre' : 'post'}-norm, ${training ? 'training' : 'eval'}): the fused out-projection equals the composed one`, () => {
    h.manualSeed(3);
    const opts = { dimFeedforward: 48, dropout: 0.2, normFirst };
    const layer = kind === 'encoder' ? new h.nn.TransformerEncoderLayer(16, 2, opts) : new h.nn.TransformerDecoderLayer(16, 2, opts);
    layer.train(training);
    const x = h.randn([3, 5, 16], { generator: new h.Generator(1), requiresGrad: true });
    const mem = h.randn([3, 4, 16], { generator: new h.Generator(2), requiresGrad: true });
    const upstream = h.randn([3, 5, 16], { generator: new h.Generator(4) });
    const attns = kind === 'encoder' ? [layer.selfAttn] : [layer.selfAttn, (layer as h.nn.TransformerDecoderLayer).crossAttn];
    const run = () => {
      x.grad = null;
      mem.grad = null;
      for (const p of layer.parameters()) p.grad = null;
      h.manualSeed(99); // the same dropout seeds on both paths
      const y = kind === 'encoder' ? (layer as h.nn.TransformerEncoderLayer).call(x, { isCausal: true }) : (layer as h.nn.TransformerDecoderLayer).call(x, mem, { tgtIsCausal: true });
      h.sum(h.mul(y, upstream)).backward();
      const last = attns[attns.length - 1];
      return {
        y, gx: x.grad!, gWo: layer.selfAttn.outProj.weight.grad!, gbo: last.outProj.bias!.grad!, gWq: last.qProj!.weight.grad!,
        ...(kind === 'decoder' ? { gmem: mem.grad! } : {}),
      };
    };
    for (const a of attns) assert.ok(canFuseOutProjection(a, layer.dropout1), 'a plain layer should take the fused path');
    const fused = run();
    const hooks = attns.map((a) => a.outProj.registerForwardHook(() => undefined));
    for (const a of attns) assert.ok(!canFuseOutProjection(a, layer.dropout1), 'a hooked outProj must take the composed path');
    const composed = run();
    for (const hk of hooks) hk.remove();
    assert.ok(maxDiff(fused.y, composed.y) < 1e-5, `output differs by ${maxDiff(fused.y, composed.y)}`);
    for (const k of Object.keys(fused).filter((n) => n !== 'y') as (keyof typeof fused)[]) {
      assert.ok(maxDiff(fused[k]!, composed[k]!) < 1e-4, `${k} differs by ${maxDiff(fused[k]!, composed[k]!)}`);
    }
  });
}

test('a forward hook on the attention module still runs (the layer takes the composed path)', () => {
  h.manualSeed(5);
  const layer = new h.nn.TransformerEncoderLayer(16, 2, { dimFeedforward: 32, dropout: 0 });
  const x = h.randn([2, 3, 16], { generator: new h.Generator(1) });
  const plain = layer.call(x);
  let calls = 0;
  // The hook zeroes the attention's output: the layer must then equal x + ff(…) without attention
  const hk = layer.selfAttn.registerForwardHook((_m, _a, out) => { calls++; return { ...(out as h.nn.AttentionOutput), output: h.zeros([2, 3, 16]) }; });
  const hooked = layer.call(x);
  hk.remove();
  assert.equal(calls, 1);
  assert.ok(maxDiff(plain, hooked) > 1e-3, 'the hook did not change the output');
  assert.ok(!canFuseOutProjection(layer.selfAttn, layer.dropout1) || calls === 1);
});

test('subclasses that override forward (prefix tuning) and batchFirst=false attention are not fused', () => {
  const attn = new h.nn.MultiheadAttention(16, 2, { batchFirst: false });
  assert.ok(!canFuseOutProjection(attn, new h.nn.Dropout(0.1)));
  class Shifted extends h.nn.MultiheadAttention {
    override forward(q: h.Tensor, k?: h.Tensor, v?: h.Tensor, o?: h.nn.MultiheadAttentionCallOptions): h.nn.AttentionOutput {
      return super.forward(q, k, v, o);
    }
  }
  assert.ok(!canFuseOutProjection(new Shifted(16, 2), new h.nn.Dropout(0.1)));
  assert.ok(canFuseOutProjection(new h.nn.MultiheadAttention(16, 2), new h.nn.Dropout(0.1)));
});
