/**
 * FusedEncoder (src/models/fused-encoder.ts) against the module path it replaces: the same
 * values (≤ 1e-5 in fp32) for post- and pre-norm layers, relu and gelu, key padding masks
 * (suffix and not), causal, packed q|k|v, pruned heads and int8 projections, on bare encoders
 * and on every model that uses it; null (the module path) for each case it does not cover; and
 * no stale packed weights after the weights change.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as h from '../../src/index.ts';
import { models, nn, optim } from '../../src/index.ts';
import { FusedEncoder, SHRINK_WINDOW, fusedEncodeBlocker, fusedEncoderAllocatedBytes, fusedEncoderWorkBytes, runEncoder, setFusedEncoderEnabled } from '../../src/models/fused-encoder.ts';
import { resetStorageStats, storageStats } from '../../src/tensor/storage-pool.ts';
import { quantizeDynamic } from '../../src/compress/quantize-dynamic.ts';
import { markWeightsChanged } from '../../src/nn/weights-version.ts';
import { AttentionRecorder } from '../../src/nn/attention/recorder.ts';
import { MultiheadAttention } from '../../src/nn/attention/multihead.ts';
import { getPeftModel } from '../../src/train/peft/peft-model.ts';
import type { EncoderCallOptions } from '../../src/nn/transformer.ts';
import type { Module } from '../../src/nn/module.ts';
import { maxDiff } from '../tensors.ts';

const D = 24, H = 3, F = 40;

function encoder(o: { normFirst?: boolean; activation?: 'relu' | 'gelu' | 'gelu_tanh'; layers?: number } = {}): nn.TransformerEncoder {
  const norm = o.normFirst ? new nn.LayerNorm(D) : null;
  const enc = new nn.TransformerEncoder(o.layers ?? 2, () => new nn.TransformerEncoderLayer(D, H, { dimFeedforward: F, normFirst: o.normFirst, activation: o.activation ?? 'relu' }), norm);
  // Non-trivial norm parameters, so that a norm read from the wrong place shows.
  for (const [, p] of enc.namedParameters()) if (p.ndim === 1) p.data.set(h.randn([p.size]).data as Float32Array);
  return enc.eval();
}

/** fn on the module path and on the fused path (asserting it ran), under noGrad. */
function bothPaths<T>(fn: () => T): { module: T; fused: T } {
  const was = setFusedEncoderEnabled(false);
  try {
    const module = h.noGrad(fn);
    setFusedEncoderEnabled(true);
    return { module, fused: h.noGrad(fn) };
  } finally {
    setFusedEncoderEnabled(was);
  }
}

function assertSameEncoder(enc: nn.TransformerEncoder, x: h.Tensor, o: EncoderCallOptions = {}, tol = 1e-5): void {
  assert.equal(h.noGrad(() => fusedEncodeBlocker(enc, x, o)), null, 'the fused path must cover this case');
  const r = bothPaths(() => runEncoder(enc, x, o));
  const d = maxDiff(r.module, r.fused);
  assert.ok(d <= tol, `fused differs from the module path by ${d}`);
}

const pad = (rows: number[][]): h.Tensor => h.tensor(rows.map((r) => r.map((v) => v === 1)), undefined, { dtype: 'bool' });

test('fused encoder equals the module path: post/pre-norm × relu/gelu × masks (none, suffix padding, inner padding, causal)', () => {
  h.manualSeed(0);
  const x = h.randn([2, 7, D]);
  const suffix = pad([[0, 0, 0, 0, 0, 1, 1], [0, 0, 0, 0, 0, 0, 0]]);
  const inner = pad([[0, 1, 0, 0, 1, 0, 1], [1, 0, 0, 0, 0, 0, 0]]);
  for (const normFirst of [false, true]) {
    for (const activation of ['relu', 'gelu'] as const) {
      const enc = encoder({ normFirst, activation });
      for (const o of [{}, { keyPaddingMask: suffix }, { keyPaddingMask: inner }, { isCausal: true }, { isCausal: true, keyPaddingMask: suffix }] as EncoderCallOptions[]) {
        assertSameEncoder(enc, x, o);
      }
    }
  }
});

test('fused encoder: batch 1, one token, packed q|k|v (inProj) and pruned heads', () => {
  h.manualSeed(1);
  const enc = encoder({ normFirst: true });
  assertSameEncoder(enc, h.randn([1, 1, D]));
  assertSameEncoder(enc, h.randn([1, 5, D]));
  const packed = new nn.TransformerEncoder(2, () => {
    const l = new nn.TransformerEncoderLayer(D, H, { dimFeedforward: F });
    l.selfAttn = new MultiheadAttention(D, H, { packedQkv: true });
    return l;
  }).eval();
  assertSameEncoder(packed, h.randn([2, 6, D]), { keyPaddingMask: pad([[0, 0, 0, 0, 1, 1], [0, 0, 0, 0, 0, 0]]) });
  const pruned = encoder();
  (pruned.layers.toArray()[0] as nn.TransformerEncoderLayer).selfAttn.pruneHeads([1]); // layer 0 keeps 2 heads, layer 1 all 3
  assertSameEncoder(pruned, h.randn([2, 5, D]));
});

test('fused encoder runs int8 QuantizedLinear projections and equals the int8 module path', () => {
  h.manualSeed(2);
  for (const normFirst of [false, true]) {
    for (const activation of ['relu', 'gelu'] as const) {
      const enc = encoder({ normFirst, activation });
      quantizeDynamic(enc);
      assert.ok(enc.namedModules().some(([, m]) => m instanceof nn.QuantizedLinear));
      assertSameEncoder(enc, h.randn([2, 6, D]), { keyPaddingMask: pad([[0, 0, 0, 1, 1, 1], [0, 0, 0, 0, 0, 0]]) });
    }
  }
});

test('fused encoder equals the module path inside the models: classifier, tagger, ViT, Seq2Seq (encode and greedy decode), fp32 and int8', () => {
  h.manualSeed(3);
  const ids = h.tensor([[5, 6, 7, 8, 9, 0, 0], [10, 11, 12, 13, 14, 15, 16]], undefined, { dtype: 'int32' });
  const text = { vocabSize: 30, dModel: D, numHeads: H, numLayers: 2, dimFeedforward: F, maxLen: 16, dropout: 0 };
  const image = h.randn([2, 1, 8, 8]);
  const cases: [string, () => Module, (m: Module) => h.Tensor][] = [
    ['classifier mean', () => new models.EncoderClassifier({ ...text, numClasses: 3, pooling: 'mean' }), (m) => (m as models.EncoderClassifier).forward(ids)],
    ['classifier cls', () => new models.EncoderClassifier({ ...text, numClasses: 3, pooling: 'cls' }), (m) => (m as models.EncoderClassifier).forward(ids)],
    ['tagger', () => new models.TokenTagger({ ...text, numTags: 5 }), (m) => (m as models.TokenTagger).forward(ids)],
    ['vit', () => new models.ViT({ numClasses: 10, dModel: D, numHeads: H, dimFeedforward: F }), (m) => (m as models.ViT).forward(image)],
    ['seq2seq encode', () => new models.Seq2SeqTransformer({ srcVocabSize: 30, tgtVocabSize: 20, dModel: D, numHeads: H, dimFeedforward: F, maxLen: 16 }), (m) => (m as models.Seq2SeqTransformer).encode(ids).memory],
    ['seq2seq greedy', () => new models.Seq2SeqTransformer({ srcVocabSize: 30, tgtVocabSize: 20, dModel: D, numHeads: H, dimFeedforward: F, maxLen: 16, normFirst: true }),
      (m) => h.tensor((m as models.Seq2SeqTransformer).greedyDecode(ids, { bos: 1, eos: 2, maxLen: 8 }).tokens.map((t) => [...t, ...Array(9 - t.length).fill(-1)]), undefined, { dtype: 'int32' })],
  ];
  for (const [name, build, run] of cases) {
    for (const int8 of [false, true]) {
      const m = build().eval();
      if (int8) quantizeDynamic(m);
      const r = bothPaths(() => run(m));
      assert.ok(maxDiff(r.module, r.fused) <= 1e-5, `${name}${int8 ? ' int8' : ''}: fused differs by ${maxDiff(r.module, r.fused)}`);
    }
  }
});

test('fused encoder falls back (null, and the module path runs) for every case it does not cover', () => {
  h.manualSeed(4);
  const x = h.randn([2, 5, D]);
  const blocked = (enc: nn.TransformerEncoder, o: EncoderCallOptions = {}, input = x): void => {
    const reason = h.noGrad(() => fusedEncodeBlocker(enc, input, o));
    assert.ok(reason !== null, 'expected a reason to fall back');
    assert.equal(h.noGrad(() => FusedEncoder.tryCreate(enc, input, o)), null);
  };
  const enc = encoder();
  // grad enabled: outside noGrad
  assert.match(fusedEncodeBlocker(enc, x) ?? '', /gradients/);
  const y = runEncoder(enc, x); // falls back and still works with grad
  assert.deepEqual(y.shape, [2, 5, D]);
  blocked(encoder().train());
  const hooked = encoder();
  (hooked.layers.toArray()[1] as nn.TransformerEncoderLayer).registerForwardHook(() => undefined);
  blocked(hooked);
  const headMasked = encoder();
  (headMasked.layers.toArray()[0] as nn.TransformerEncoderLayer).selfAttn.headMask = h.tensor([1, 0, 1]);
  blocked(headMasked);
  for (const opt of [{ rotary: true }, { alibi: true }, { numKvHeads: 1 }]) {
    const e = encoder();
    (e.layers.toArray()[0] as nn.TransformerEncoderLayer).selfAttn = new MultiheadAttention(D, H, opt);
    e.eval();
    blocked(e);
  }
  blocked(encoder({ activation: 'gelu_tanh' }));
  blocked(enc, { mask: h.ones([5, 5], { dtype: 'bool' }) });
  blocked(enc, { keyPaddingMask: pad([[1, 1, 1, 1, 1], [0, 0, 0, 0, 0]]) }); // a row of padding only
  blocked(enc, {}, h.randn([2, 5, D], { dtype: 'float64' }));
  const mixed = encoder();
  const a0 = (mixed.layers.toArray()[0] as nn.TransformerEncoderLayer).selfAttn;
  a0.kProj = nn.QuantizedLinear.fromLinear(a0.kProj!) as unknown as nn.Linear;
  blocked(mixed);
  const rec = new AttentionRecorder(enc);
  rec.record(() => blocked(enc));
  // LoRA: the adapted projections are subclasses
  const lora = encoder();
  getPeftModel(lora, { peftType: 'LORA', targetModules: ['*.selfAttn.qProj'], r: 2 }).eval();
  blocked(lora);
  // a fallback computes the module path's values
  const r = bothPaths(() => runEncoder(headMasked, x));
  assert.equal(maxDiff(r.module, r.fused), 0);
});

test('no stale packed weights: an optimizer step, loadStateDict, a replaced weight or a marked in-place edit after a fused call', () => {
  h.manualSeed(5);
  const x = h.randn([2, 6, D]);
  const enc = encoder({ normFirst: true });
  assertSameEncoder(enc, x); // the packs exist now
  // Trained again: one AdamW step on every weight (train() and the step both bump weightsVersion).
  enc.train();
  const opt = new optim.AdamW(enc.parameters(), { lr: 0.05 });
  h.sum(h.mul(enc.call(x), enc.call(x))).backward();
  opt.step();
  enc.eval();
  assertSameEncoder(enc, x);
  // Another model's weights loaded into it.
  enc.loadStateDict(encoder({ normFirst: true }).stateDict());
  assertSameEncoder(enc, x);
  // A new q weight tensor (identity changes; no version bump).
  const a = (enc.layers.toArray()[1] as nn.TransformerEncoderLayer).selfAttn;
  a.qProj!.weight = new nn.Parameter(h.randn([D, D]));
  assertSameEncoder(enc, x);
  // An in-place edit outside heed, declared with markWeightsChanged.
  (a.vProj!.weight.data as Float32Array).fill(0.01);
  markWeightsChanged();
  assertSameEncoder(enc, x);
  // int8: quantizing replaces the modules, so the plan is rebuilt for the int8 layers.
  quantizeDynamic(enc);
  assertSameEncoder(enc, x);
});

test('fused encoder work buffers: a big batch followed by small ones does not keep the big buffers; a repeated big batch does', () => {
  h.manualSeed(6);
  const enc = encoder({ normFirst: true });
  const big = h.randn([64, 128, D]), small = h.randn([1, 12, D]);
  h.noGrad(() => runEncoder(enc, big));
  const bigBytes = fusedEncoderWorkBytes(enc);
  assert.ok(bigBytes > 4 << 20, `a 64×128 batch needs megabytes of work buffers, held ${bigBytes} B`);
  // Repeated big batches keep their buffers (nothing is reallocated between them).
  for (let i = 0; i < SHRINK_WINDOW; i++) h.noGrad(() => runEncoder(enc, big));
  assert.equal(fusedEncoderWorkBytes(enc), bigBytes);
  // Small calls after it: within SHRINK_WINDOW calls the big buffers are gone.
  let r = h.noGrad(() => runEncoder(enc, small));
  for (let i = 1; i < SHRINK_WINDOW; i++) r = h.noGrad(() => runEncoder(enc, small));
  const after = fusedEncoderWorkBytes(enc);
  assert.ok(after <= 1 << 20, `after ${SHRINK_WINDOW} small calls the plan still holds ${after} B (the big batch held ${bigBytes} B)`);
  // And the shrunk plan still computes the module path's values, small and big again.
  const m = bothPaths(() => runEncoder(enc, small));
  assert.ok(maxDiff(m.module, r) <= 1e-5);
  assertSameEncoder(enc, big);
});

test('fused encoder allocations: after the largest batch, a stream of varied batches allocates no work buffer, and each call only its result', () => {
  h.manualSeed(7);
  const enc = encoder();
  let seed = 3;
  const rand = (n: number) => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return Math.floor((seed / 2 ** 31) * n); };
  const batch = (B: number, T: number, inner: boolean) => ({
    x: h.randn([B, T, D]),
    // suffix padding (key lengths) or, with `inner`, a padded first key (the additive mask buffer)
    pad: pad(Array.from({ length: B }, (_, b) => Array.from({ length: T }, (_, t) => (inner ? t === 0 && b % 2 === 0 : t >= T - (b % 3)) ? 1 : 0))),
  });
  const largest = batch(16, 12, true);
  h.noGrad(() => runEncoder(enc, largest.x, { keyPaddingMask: largest.pad }));
  const warm = fusedEncoderAllocatedBytes(enc);
  assert.ok(warm >= fusedEncoderWorkBytes(enc) && warm > 0, `the first call allocated ${warm} B of work buffers`);
  // A serving-like stream: 1–16 rows of 4–12 tokens, now and then the largest batch again; more than one
  // SHRINK_WINDOW of calls under half the largest never comes, so the buffers are kept.
  for (let i = 0; i < 3 * SHRINK_WINDOW; i++) {
    const b = i % (SHRINK_WINDOW / 2) === 0 ? largest : batch(1 + rand(16), 4 + rand(9), rand(2) === 1);
    resetStorageStats();
    const y = h.noGrad(() => runEncoder(enc, b.x, { keyPaddingMask: b.pad }));
    const st = storageStats();
    assert.equal(st.allocations, 1, `call ${i}: ${st.allocations} storage allocations, expected only the result's`);
    assert.equal(st.bytes, y.size * 4);
  }
  assert.equal(fusedEncoderAllocatedBytes(enc), warm, 'no work buffer was allocated after the largest batch');
  // and it still computes what the module path does, on the reused buffers
  const last = batch(5, 9, true);
  assertSameEncoder(enc, last.x, { keyPaddingMask: last.pad });
});

test("eval() on a model already in eval mode leaves weightsVersion (a predictor's per-request eval() keeps the fused plan); a mode switch moves it", () => {
  const enc = encoder();
  const v = h.weightsVersion();
  enc.eval();
  assert.equal(h.weightsVersion(), v);
  enc.train();
  assert.notEqual(h.weightsVersion(), v);
  const w = h.weightsVersion();
  enc.train();
  assert.equal(h.weightsVersion(), w);
  enc.eval();
  assert.notEqual(h.weightsVersion(), w);
});
