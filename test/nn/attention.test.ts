import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as h from '../../src/index.ts';
import { nn } from '../../src/index.ts';
import { maxDiff } from '../tensors.ts';

test('MultiheadAttention maps (B, L, E) to (B, L, E); weights average over heads', () => {
  h.manualSeed(0);
  const attn = new nn.MultiheadAttention(16, 4);
  const x = h.randn([2, 5, 16]);
  const { output, weights } = attn.forward(x, x, x, { needWeights: true });
  assert.deepEqual(output.shape, [2, 5, 16]);
  assert.deepEqual(weights!.shape, [2, 5, 5]);
  const fast = attn.forward(x).output;
  assert.ok(maxDiff(output, fast) < 1e-5, 'weights path equals the sdpa path');
  assert.equal(attn.forward(x).weights, null);
});

test('causal attention never reads the future', () => {
  h.manualSeed(1);
  const attn = new nn.MultiheadAttention(8, 2);
  const x = h.randn([1, 6, 8]);
  const y1 = attn.forward(x, x, x, { isCausal: true }).output;
  const x2 = x.clone();
  for (let i = 4 * 8; i < 6 * 8; i++) x2.data[i] += 10;
  const y2 = attn.forward(x2, x2, x2, { isCausal: true }).output;
  for (let i = 0; i < 4 * 8; i++) assert.ok(Math.abs(y1.data[i] - y2.data[i]) < 1e-6);
  assert.ok(Math.abs(y1.data[5 * 8] - y2.data[5 * 8]) > 1e-4);
});

test('KV-cache incremental decoding equals the full causal forward', () => {
  h.manualSeed(2);
  for (const numKvHeads of [4, 2, 1]) {
    const attn = new nn.MultiheadAttention(16, 4, { numKvHeads });
    const x = h.randn([2, 5, 16]);
    const full = attn.forward(x, x, x, { isCausal: true }).output;
    const cache = new nn.KVCache();
    const steps: h.Tensor[] = [];
    for (let t = 0; t < 5; t++) {
      const xt = h.narrow(x, 1, t, 1);
      steps.push(attn.forward(xt, xt, xt, { isCausal: true, kvCache: cache }).output);
    }
    assert.ok(maxDiff(h.cat(steps, 1), full) < 1e-5, `numKvHeads=${numKvHeads}`);
  }
});

test('keyPaddingMask (true = padding) equals an attnMask (true = may attend) and masks combine by AND', () => {
  h.manualSeed(3);
  const attn = new nn.MultiheadAttention(8, 2);
  const x = h.randn([2, 4, 8]);
  const pad = h.tensor([[false, false, false, true], [false, false, true, true]]);
  const keep = h.logicalNot(pad).reshape([2, 1, 1, 4]);
  const a = attn.forward(x, x, x, { keyPaddingMask: pad }).output;
  const b = attn.forward(x, x, x, { attnMask: keep }).output;
  assert.ok(maxDiff(a, b) < 1e-6);
  const causal = h.tensor([[true, false, false, false], [true, true, false, false], [true, true, true, false], [true, true, true, true]]);
  const both = attn.forward(x, x, x, { keyPaddingMask: pad, attnMask: causal }).output;
  const anded = attn.forward(x, x, x, { attnMask: h.logicalAnd(keep, causal.reshape([1, 1, 4, 4])) }).output;
  assert.ok(maxDiff(both, anded) < 1e-6);
  const viaIsCausal = attn.forward(x, x, x, { keyPaddingMask: pad, isCausal: true, needWeights: true });
  assert.ok(maxDiff(viaIsCausal.output, both) < 1e-5);
});

test('GQA with numKvHeads = numHeads is MHA; bad head counts are ConfigErrors naming the values', () => {
  assert.throws(() => new nn.MultiheadAttention(10, 4), (e: Error) => e instanceof h.ConfigError && /embedDim=10/.test(e.message) && /numHeads=4/.test(e.message));
  assert.throws(() => new nn.MultiheadAttention(12, 6, { numKvHeads: 4 }), (e: Error) => e instanceof h.ConfigError && /numKvHeads=4/.test(e.message));
  const attn = new nn.MultiheadAttention(8, 2, { numKvHeads: 2 });
  assert.deepEqual(attn.kProj.weight.shape, [8, 8]);
  const mqa = new nn.MultiheadAttention(8, 2, { numKvHeads: 1 });
  assert.deepEqual(mqa.kProj.weight.shape, [4, 8]);
});

test('masks that do not fit are ShapeErrors naming the expected shapes', () => {
  const attn = new nn.MultiheadAttention(8, 2);
  const x = h.randn([2, 4, 8]);
  assert.throws(() => attn.forward(x, x, x, { attnMask: h.ones([3, 4], { dtype: 'bool' }) }), (e: Error) => e instanceof h.ShapeError && /\[3, 4\]/.test(e.message) && /\[4, 4\]/.test(e.message));
  assert.throws(() => attn.forward(x, x, x, { keyPaddingMask: h.zeros([2, 5], { dtype: 'bool' }) }), h.ShapeError);
  assert.throws(() => attn.forward(h.randn([4, 8])), h.ShapeError);
});

test('kdim and vdim differ from embedDim; batchFirst=false takes (L, B, E)', () => {
  h.manualSeed(4);
  const attn = new nn.MultiheadAttention(8, 2, { kdim: 5, vdim: 3 });
  const q = h.randn([2, 4, 8]), k = h.randn([2, 6, 5]), v = h.randn([2, 6, 3]);
  assert.deepEqual(attn.forward(q, k, v).output.shape, [2, 4, 8]);
  const tf = new nn.MultiheadAttention(8, 2, { batchFirst: false });
  const bf = new nn.MultiheadAttention(8, 2);
  bf.loadStateDict(tf.stateDict());
  const x = h.randn([2, 4, 8]);
  assert.ok(maxDiff(h.transpose(tf.forward(h.transpose(x, 0, 1)).output, 0, 1), bf.forward(x).output) < 1e-6);
});

test('AttentionRecorder collects per-layer, per-head weights that sum to 1', () => {
  h.manualSeed(5);
  const enc = new nn.TransformerEncoder(2, () => new nn.TransformerEncoderLayer(8, 2, { dropout: 0 }));
  const rec = new nn.AttentionRecorder(enc);
  rec.record(() => enc.forward(h.randn([1, 3, 8])));
  const maps = rec.toAttentionMaps(0, ['a', 'b', 'c'], ['a', 'b', 'c']);
  assert.deepEqual(maps.map((m) => [m.name, m.kind, m.layer]), [['layers.0.selfAttn', 'self', 0], ['layers.1.selfAttn', 'self', 1]]);
  assert.equal(maps[0].weights.length, 2);
  for (const row of maps[1].weights[1]) assert.ok(Math.abs(row.reduce((a, b) => a + b, 0) - 1) < 1e-5);
});

test('gradcheck: MultiheadAttention in float64 with masks and GQA', () => {
  h.manualSeed(6);
  const attn = new nn.MultiheadAttention(4, 2, { numKvHeads: 1 }).to('float64');
  const x = h.randn([1, 3, 4], { dtype: 'float64', requiresGrad: true });
  const pad = h.tensor([[false, false, true]]);
  const r = h.gradcheck((xx) => attn.forward(xx, xx, xx, { keyPaddingMask: pad, isCausal: true }).output, [x]);
  assert.ok(r.ok, JSON.stringify(r));
  const w = attn.qProj.weight;
  const r2 = h.gradcheck(() => attn.forward(x, x, x, { needWeights: true }).output, [w]);
  assert.ok(r2.ok, JSON.stringify(r2));
});

test('a keyPaddingMask with holes (not a suffix) still equals the attnMask it stands for', () => {
  h.manualSeed(7);
  const attn = new nn.MultiheadAttention(8, 2);
  const x = h.randn([2, 4, 8]);
  const pad = h.tensor([[true, false, false, true], [false, true, false, false]]);
  const a = attn.forward(x, x, x, { keyPaddingMask: pad, isCausal: true }).output;
  const b = attn.forward(x, x, x, { attnMask: h.logicalNot(pad).reshape([2, 1, 1, 4]), isCausal: true }).output;
  assert.ok(maxDiff(a, b) < 1e-6);
});

test('packedQkv (one inProj, rows q | k | v, as PyTorch in_proj_weight and GPT-2 c_attn) equals separate projections, in self- and cross-attention, with GQA', () => {
  h.manualSeed(7);
  for (const numKvHeads of [4, 2]) {
    const sep = new nn.MultiheadAttention(16, 4, { numKvHeads });
    const packed = new nn.MultiheadAttention(16, 4, { numKvHeads, packedQkv: true });
    assert.equal(packed.qProj, null);
    assert.deepEqual(packed.inProj!.weight.shape, [16 + 2 * numKvHeads * 4, 16]);
    packed.inProj!.weight.data.set(h.cat([sep.qProj!.weight, sep.kProj!.weight, sep.vProj!.weight], 0).data);
    packed.inProj!.bias!.data.set(h.cat([sep.qProj!.bias!, sep.kProj!.bias!, sep.vProj!.bias!], 0).data);
    packed.outProj.loadStateDict(sep.outProj.stateDict());
    const x = h.randn([2, 5, 16]), mem = h.randn([2, 3, 16]);
    assert.ok(maxDiff(packed.forward(x, x, x, { isCausal: true }).output, sep.forward(x, x, x, { isCausal: true }).output) < 1e-5);
    assert.ok(maxDiff(packed.forward(x, mem, mem).output, sep.forward(x, mem, mem).output) < 1e-5);
  }
  assert.throws(() => new nn.MultiheadAttention(16, 4, { packedQkv: true, kdim: 8 }), (e: Error) => e instanceof h.ConfigError && /packedQkv needs kdim = vdim/.test(e.message));
});
