/** Properties of the attention stack that hold whatever the weights. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as h from '../../src/index.ts';
import { nn, models } from '../../src/index.ts';
import type { AttentionMap } from '../../src/tasks/predictor.ts';
import { nativeSkip } from '../requirements.ts';
import { maxDiff } from '../tensors.ts';

test('the fused attention kernel (native) equals the composed ops (js) inside MultiheadAttention, forward and backward', { skip: nativeSkip }, () => {
  const prev = h.getBackend();
  try {
    h.manualSeed(0);
    const attn = new nn.MultiheadAttention(16, 4, { numKvHeads: 2 });
    const x = h.randn([2, 7, 16], { requiresGrad: true });
    const pad = h.tensor([[false, false, false, false, false, false, false], [false, false, false, false, true, true, true]]);
    const run = (backend: 'js' | 'native'): [h.Tensor, h.Tensor, h.Tensor] => {
      h.setBackend(backend);
      attn.zeroGrad(); x.grad = null;
      const y = attn.forward(x, x, x, { isCausal: true, keyPaddingMask: pad }).output;
      y.backward(h.onesLike(y));
      return [y, x.grad!, attn.kProj.weight.grad!];
    };
    const js = run('js'), nat = run('native');
    for (let i = 0; i < 3; i++) assert.ok(maxDiff(js[i], nat[i]) < 1e-4, `tensor ${i}: ${maxDiff(js[i], nat[i])}`);
  } finally {
    h.setBackend(prev);
  }
});

test('GQA equals MHA whose key/value heads are copied to every query head of their group', () => {
  h.manualSeed(1);
  const E = 8, H = 4, Hkv = 2, hd = 2;
  const gqa = new nn.MultiheadAttention(E, H, { numKvHeads: Hkv });
  const mha = new nn.MultiheadAttention(E, H);
  const sd = gqa.stateDict();
  const widen = (w: h.Tensor): h.Tensor => {
    // rows of kv head g serve query heads g·(H/Hkv) … : repeat each head's hd rows H/Hkv times
    const rows: h.Tensor[] = [];
    for (let q = 0; q < H; q++) rows.push(h.narrow(w, 0, Math.floor(q / (H / Hkv)) * hd, hd));
    return h.cat(rows, 0);
  };
  mha.loadStateDict({ ...sd, 'kProj.weight': widen(sd['kProj.weight']), 'kProj.bias': widen(sd['kProj.bias']), 'vProj.weight': widen(sd['vProj.weight']), 'vProj.bias': widen(sd['vProj.bias']) });
  const x = h.randn([2, 5, E]);
  assert.ok(maxDiff(gqa.forward(x, x, x, { isCausal: true }).output, mha.forward(x, x, x, { isCausal: true }).output) < 1e-5);
});

test('Seq2Seq incremental decoding on the KV cache gives the same log-probabilities as the full forward', () => {
  h.manualSeed(2);
  const m = new models.Seq2SeqTransformer({ srcVocabSize: 9, tgtVocabSize: 7, dModel: 16, numHeads: 2, dimFeedforward: 32, maxLen: 10, numKvHeads: 1 }).eval();
  const src = h.tensor([[3, 4, 5, 0], [6, 7, 8, 3]], undefined, { dtype: 'int32' });
  const tgt = h.tensor([[1, 3, 4, 5], [1, 6, 2, 3]], undefined, { dtype: 'int32' });
  const full = h.logSoftmax(m.forward(src, tgt), -1); // (B, T, V)
  const { memory, srcPad } = m.encode(src);
  const caches = m.decoder.makeCache();
  for (let t = 0; t < 4; t++) {
    const step = m.decodeStep(h.narrow(tgt, 1, t, 1), memory, srcPad, caches, t); // (B, V)
    assert.ok(maxDiff(step, h.narrow(full, 1, t, 1).reshape([2, 7])) < 1e-5, `step ${t}`);
  }
});

test('beam search finds a hypothesis at least as probable as greedy (no length penalty)', () => {
  h.manualSeed(3);
  const m = new models.Seq2SeqTransformer({ srcVocabSize: 9, tgtVocabSize: 6, dModel: 16, numHeads: 2, dimFeedforward: 32, maxLen: 8 }).eval();
  const src = h.tensor([[3, 4, 5], [6, 7, 8]], undefined, { dtype: 'int32' });
  const greedy = m.greedyDecode(src, { bos: 1, eos: 2, maxLen: 5 });
  const beam = m.beamSearch(src, { beamSize: 5, bos: 1, eos: 2, maxLen: 5, lengthPenalty: 0 });
  for (let b = 0; b < 2; b++) assert.ok(beam[b][0].score >= greedy.scores[b] - 1e-5, `${beam[b][0].score} < ${greedy.scores[b]}`);
});

test('recorded attention maps have the AttentionMap shape the viz page reads', () => {
  h.manualSeed(4);
  const m = new models.Seq2SeqTransformer({ srcVocabSize: 9, tgtVocabSize: 6, dModel: 8, numHeads: 2, dimFeedforward: 16, maxLen: 8, numEncoderLayers: 1, numDecoderLayers: 1 }).eval();
  const rec = new nn.AttentionRecorder(m);
  rec.record(() => m.forward(h.tensor([[3, 4, 5]], undefined, { dtype: 'int32' }), h.tensor([[1, 3]], undefined, { dtype: 'int32' })));
  const maps: AttentionMap[] = rec.toAttentionMaps(0, ['<s>', 'a'], ['c', 'a', 't']);
  assert.deepEqual(maps.map((x) => `${x.kind}:${x.name}`), ['self:encoder.layers.0.selfAttn', 'self:decoder.layers.0.selfAttn', 'cross:decoder.layers.0.crossAttn']);
  const cross = maps[2];
  assert.deepEqual([cross.weights.length, cross.weights[0].length, cross.weights[0][0].length], [2, 2, 3]);
});

test('gradcheck in float64: TransformerEncoderLayer and TransformerDecoderLayer (both norm orders)', () => {
  h.manualSeed(5);
  for (const normFirst of [false, true]) {
    const enc = new nn.TransformerEncoderLayer(4, 2, { dimFeedforward: 6, dropout: 0, normFirst }).to('float64');
    const dec = new nn.TransformerDecoderLayer(4, 2, { dimFeedforward: 6, dropout: 0, normFirst, activation: 'gelu' }).to('float64');
    const x = h.randn([1, 3, 4], { dtype: 'float64', requiresGrad: true }), mem = h.randn([1, 2, 4], { dtype: 'float64', requiresGrad: true });
    const r1 = h.gradcheck((a) => enc.forward(a, { isCausal: true }), [x, enc.selfAttn.qProj.weight, enc.linear1.weight]);
    assert.ok(r1.ok, `encoder normFirst=${normFirst} ${JSON.stringify(r1)}`);
    const r2 = h.gradcheck((a, b) => dec.forward(a, b, { tgtIsCausal: true }), [x, mem, dec.crossAttn.kProj.weight, dec.norm3.weight]);
    assert.ok(r2.ok, `decoder normFirst=${normFirst} ${JSON.stringify(r2)}`);
  }
});
