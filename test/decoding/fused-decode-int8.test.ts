/**
 * The fused decoding step on int8 models (quantizeDynamic): its projections run through the
 * packed int8 kernel with the GEMM epilogue (bias, activation, residual), and q|k|v as one
 * concatenated pack. The oracle is the module path ({ fused: false }), which runs every
 * QuantizedLinear as a module:
 * - per step, the fused log-probabilities equal the module path's to 1e-4;
 * - greedy decoding and batched beam search give the same tokens and scores;
 * - both q|k|v packings are covered: whole 32-column panels (the three packs concatenated,
 *   dModel 64) and partial panels (the stacked int8 rows packed again, dModel 16);
 * - a partly quantized model (FFN only) decodes fused; q, k and v of mixed kinds fall back.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as h from '../../src/index.ts';
import { models } from '../../src/index.ts';
import { FusedDecoder, fusedDecodeBlocker, type DecoderParts } from '../../src/models/seq2seq-step.ts';

const BOS = 1, EOS = 2, TOL = 1e-4;
const ids = (rows: number[][]): h.Tensor => h.tensor(rows, undefined, { dtype: 'int32' });
const SOURCES = [[3], [4, 5, 6, 7, 8, 9, 10], [11, 12], [5, 5, 5], [6, 3, 9, 4], [12, 11, 10, 9, 8],
  [7, 7], [3, 4, 5, 6, 7, 8], [9], [10, 3, 10], [4, 8, 12, 4], [6, 5, 4, 3, 12, 11]];
const pad = (rows: number[][]): h.Tensor => {
  const S = Math.max(...rows.map((r) => r.length));
  return ids(rows.map((r) => [...r, ...new Array(S - r.length).fill(0)]));
};
const parts = (m: models.Seq2SeqTransformer): DecoderParts => (m as unknown as { stepParts(): DecoderParts }).stepParts();

/** A random model, quantized (all Linears unless `modules` says which), in eval mode. */
function int8Model(seed: number, extra: Record<string, unknown>, modules?: string | string[]): models.Seq2SeqTransformer {
  h.manualSeed(seed);
  const m = new models.Seq2SeqTransformer({ srcVocabSize: 13, tgtVocabSize: 9, dModel: 16, numHeads: 4, dimFeedforward: 24, maxLen: 12, dropout: 0, tieOutput: false, ...extra });
  // Output weights 4× the default init: argmax margins far above the int8 rounding.
  const W = m.outProj.weight;
  for (let i = 0; i < W.size; i++) W.data[i] *= 4;
  h.quantizeDynamic(m, modules === undefined ? {} : { modules });
  return m.eval();
}

const VARIANTS: [string, Record<string, unknown>][] = [
  ['pre-norm relu, dModel 16 (partial panels: q|k|v repacked)', {}],
  ['post-norm gelu, dModel 64 (whole panels: q|k|v packs concatenated)', { dModel: 64, dimFeedforward: 96, normFirst: false, activation: 'gelu' }],
  ['grouped-query attention (2 kv heads), dModel 32', { dModel: 32, dimFeedforward: 48, numKvHeads: 2 }],
];

for (const [name, extra] of VARIANTS) {
  test(`int8 fused step: every step's log-probabilities equal the module path's (${name})`, () => {
    const m = int8Model(31, extra);
    assert.equal(fusedDecodeBlocker(parts(m)), null);
    const src = pad(SOURCES);
    h.noGrad(() => {
      const { memory, srcPad } = m.encode(src);
      const B = src.shape[0], V = 9, steps = 6;
      const dec = FusedDecoder.tryCreate(parts(m), memory, srcPad, steps)!;
      assert.ok(dec !== null);
      const caches = m.decoder.makeCache();
      let last = new Array(B).fill(BOS);
      for (let t = 0; t < steps; t++) {
        const logits = dec.step(last, t); // (B, V)
        const ref = m.decodeStep(ids(last.map((x) => [x])), memory, srcPad, caches, t).data; // (B, V) log-probabilities
        let worst = 0;
        const next: number[] = [];
        for (let b = 0; b < B; b++) {
          const row = logits.subarray(b * V, (b + 1) * V);
          const max = Math.max(...row), lse = max + Math.log(row.reduce((s, v) => s + Math.exp(v - max), 0));
          for (let v = 0; v < V; v++) worst = Math.max(worst, Math.abs(row[v] - lse - ref[b * V + v]));
          next.push(row.indexOf(max));
        }
        assert.ok(worst <= TOL, `step ${t}: max |Δ log p| = ${worst}`);
        last = next; // the same tokens feed both paths
      }
    });
  });

  test(`int8 fused greedy decoding and beam search equal the module path (${name})`, () => {
    const m = int8Model(32, extra);
    const src = pad(SOURCES);
    const fused = m.greedyDecode(src, { bos: BOS, eos: EOS, maxLen: 10 });
    const plain = m.greedyDecode(src, { bos: BOS, eos: EOS, maxLen: 10, fused: false });
    assert.deepEqual(fused.tokens, plain.tokens);
    fused.scores.forEach((s, b) => assert.ok(Math.abs(s - plain.scores[b]) < TOL, `row ${b}: ${s} vs ${plain.scores[b]}`));
    const o = { bos: BOS, eos: EOS, maxLen: 8, beamSize: 3, nBest: 2 };
    const beams = m.beamSearch(src, o);
    const beamsPlain = m.beamSearch(src, { ...o, fused: false });
    beams.forEach((r, b) => {
      assert.deepEqual(r.map((x) => x.tokens), beamsPlain[b].map((x) => x.tokens), `source ${b}`);
      r.forEach((x, i) => assert.ok(Math.abs(x.score - beamsPlain[b][i].score) < TOL));
    });
  });
}

test('a partly quantized model (FFN int8, attention fp32) decodes fused, as the module path', () => {
  const m = int8Model(33, { dModel: 32, dimFeedforward: 40 }, 'decoder.layers.*.linear*');
  assert.equal(fusedDecodeBlocker(parts(m)), null);
  const src = pad(SOURCES);
  assert.deepEqual(m.greedyDecode(src, { bos: BOS, eos: EOS, maxLen: 9 }).tokens, m.greedyDecode(src, { bos: BOS, eos: EOS, maxLen: 9, fused: false }).tokens);
});

test('q, k and v of mixed kinds (one int8, two fp32) fall back to the module path, with the same result', () => {
  const m = int8Model(34, {}, 'decoder.layers.0.selfAttn.qProj');
  assert.match(fusedDecodeBlocker(parts(m)) ?? '', /mix int8 and fp32/);
  const src = pad(SOURCES.slice(0, 5));
  h.noGrad(() => {
    const { memory, srcPad } = m.encode(src);
    assert.equal(FusedDecoder.tryCreate(parts(m), memory, srcPad, 4), null);
  });
  assert.deepEqual(m.greedyDecode(src, { bos: BOS, eos: EOS, maxLen: 8 }).tokens, m.greedyDecode(src, { bos: BOS, eos: EOS, maxLen: 8, fused: false }).tokens);
});

test('a reloaded int8 checkpoint decodes fused as the model it was saved from', () => {
  const m = int8Model(35, { dModel: 32, dimFeedforward: 40 });
  const copy = int8Model(36, { dModel: 32, dimFeedforward: 40 });
  copy.loadStateDict(m.stateDict()); // repacks every QuantizedLinear in place
  const src = pad(SOURCES);
  const a = m.greedyDecode(src, { bos: BOS, eos: EOS, maxLen: 9 });
  const b = copy.greedyDecode(src, { bos: BOS, eos: EOS, maxLen: 9 });
  assert.deepEqual(b.tokens, a.tokens);
  b.scores.forEach((s, i) => assert.ok(Math.abs(s - a.scores[i]) < TOL));
});
