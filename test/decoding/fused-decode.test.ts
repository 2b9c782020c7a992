/**
 * The fused decoding step (src/models/seq2seq-step.ts) and its search loops
 * (src/models/seq2seq-search.ts) against the module-by-module path ({ fused: false }):
 * - greedy: the same tokens and scores, for pre-/post-norm, relu/gelu, grouped-query attention,
 *   learned positions, unscaled embeddings and padded sources; sequences end at different steps,
 *   so finished rows are dropped (FusedDecoder.gather) while others go on;
 * - a batch decodes as its sequences one by one;
 * - batched beam search (all inputs × beams in one step, caches reordered in place) returns what
 *   the module path's beam search returns for each input alone; beam 1 is greedy;
 * - models the fused step does not cover (hooks, gelu_tanh, training mode) fall back and still agree.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as h from '../../src/index.ts';
import { models } from '../../src/index.ts';
import { FusedDecoder, fusedDecodeBlocker, fusedDecoderWorkspaceBytes } from '../../src/models/seq2seq-step.ts';
import { SHRINK_WINDOW } from '../../src/models/fused-encoder.ts';
import { ValueError } from '../../src/errors.ts';

const BOS = 1, EOS = 2, TOL = 1e-4;
const base = { srcVocabSize: 13, tgtVocabSize: 7, dModel: 16, numHeads: 4, dimFeedforward: 24, maxLen: 12, dropout: 0, tieOutput: false };
const ids = (rows: number[][]): h.Tensor => h.tensor(rows, undefined, { dtype: 'int32' });
// Twelve sources of lengths 1…7, padded with 0 at the end.
const SOURCES = [[3], [4, 5, 6, 7, 8, 9, 10], [11, 12], [5, 5, 5], [6, 3, 9, 4], [12, 11, 10, 9, 8],
  [7, 7], [3, 4, 5, 6, 7, 8], [9], [10, 3, 10], [4, 8, 12, 4], [6, 5, 4, 3, 12, 11]];
const pad = (rows: number[][]): h.Tensor => {
  const S = Math.max(...rows.map((r) => r.length));
  return ids(rows.map((r) => [...r, ...new Array(S - r.length).fill(0)]));
};

function model(seed: number, extra: Record<string, unknown> = {}): models.Seq2SeqTransformer {
  h.manualSeed(seed);
  const m = new models.Seq2SeqTransformer({ ...base, ...extra });
  // Output weights 4× the default init: each argmax is then decided by margins far above float rounding.
  const W = m.outProj.weight;
  for (let i = 0; i < W.size; i++) W.data[i] *= 4;
  return m.eval();
}

/**
 * The first seed from `seed` whose model's outputs (on the module path) end at ≥ 3 different
 * steps: random models often repeat one token to maxLen, which would leave the dropping of
 * finished rows untested.
 */
function varied(seed: number, extra: Record<string, unknown>, lengths: (m: models.Seq2SeqTransformer) => number[]): models.Seq2SeqTransformer {
  for (let s = seed; s < seed + 60; s++) {
    const m = model(s, extra);
    if (new Set(lengths(m)).size >= 3) return m;
  }
  throw new Error('no seed gives outputs of varied lengths');
}
const greedyLengths = (maxLen: number) => (m: models.Seq2SeqTransformer): number[] =>
  m.greedyDecode(pad(SOURCES), { bos: BOS, eos: EOS, maxLen, fused: false }).tokens.map((t) => t.length);

const VARIANTS: [string, Record<string, unknown>][] = [
  ['pre-norm relu', {}],
  ['post-norm', { normFirst: false }],
  ['gelu, learned positions, unscaled embeddings', { activation: 'gelu', positional: 'learned', scaleEmbeddings: false }],
  ['grouped-query attention (2 kv heads), untied output', { numKvHeads: 2, tieOutput: false }],
];

for (const [name, extra] of VARIANTS) {
  test(`fused greedy decoding equals the module path: ${name}`, () => {
    const m = varied(11, extra, greedyLengths(10));
    const src = pad(SOURCES);
    assert.equal(fusedDecodeBlocker((m as unknown as { stepParts(): Parameters<typeof fusedDecodeBlocker>[0] }).stepParts()), null);
    const fused = m.greedyDecode(src, { bos: BOS, eos: EOS, maxLen: 10 });
    const plain = m.greedyDecode(src, { bos: BOS, eos: EOS, maxLen: 10, fused: false });
    assert.deepEqual(fused.tokens, plain.tokens);
    fused.scores.forEach((s, b) => assert.ok(Math.abs(s - plain.scores[b]) < TOL, `row ${b}: ${s} vs ${plain.scores[b]}`));
  });
}

test('a batch decodes as its sequences one by one (greedy, fused)', () => {
  const m = varied(12, {}, greedyLengths(10));
  const batch = m.greedyDecode(pad(SOURCES), { bos: BOS, eos: EOS, maxLen: 10 });
  SOURCES.forEach((s, b) => {
    const one = m.greedyDecode(ids([s]), { bos: BOS, eos: EOS, maxLen: 10 });
    assert.deepEqual(one.tokens[0], batch.tokens[b], `source ${b}`);
    assert.ok(Math.abs(one.scores[0] - batch.scores[b]) < TOL);
  });
});

for (const alpha of [0, 1]) {
  test(`batched beam search (fused, in-place cache reorder) equals the module path's beam search per input (lengthPenalty ${alpha})`, () => {
    const o = { bos: BOS, eos: EOS, maxLen: 8, beamSize: 3, nBest: 3, lengthPenalty: alpha };
    // Inputs whose best hypotheses end at different steps, so done inputs' rows are dropped mid-search.
    const m = varied(13, {}, (x) => x.beamSearch(pad(SOURCES), { ...o, fused: false }).map((r) => r[0].tokens.length));
    const batched = m.beamSearch(pad(SOURCES), o);
    SOURCES.forEach((s, b) => {
      const alone = m.beamSearch(ids([s]), { ...o, fused: false })[0];
      assert.deepEqual(batched[b].map((x) => x.tokens), alone.map((x) => x.tokens), `source ${b}`);
      batched[b].forEach((x, i) => assert.ok(Math.abs(x.score - alone[i].score) < TOL));
    });
  });
}

test('beam search with beam 1 and no length penalty is greedy decoding (fused)', () => {
  const m = varied(14, {}, greedyLengths(9));
  const src = pad(SOURCES);
  const greedy = m.greedyDecode(src, { bos: BOS, eos: EOS, maxLen: 9 });
  const beam1 = m.beamSearch(src, { bos: BOS, eos: EOS, maxLen: 9, beamSize: 1, lengthPenalty: 0 });
  assert.deepEqual(beam1.map((r) => r[0].tokens), greedy.tokens);
  beam1.forEach((r, b) => assert.ok(Math.abs(r[0].score - greedy.scores[b]) < TOL));
});

test('models the fused step does not cover fall back to the module path, with the same result', () => {
  const hooked = model(15);
  const handle = hooked.decoder.layers.toArray()[0].registerForwardHook(() => undefined);
  const parts = (m: models.Seq2SeqTransformer) => (m as unknown as { stepParts(): Parameters<typeof fusedDecodeBlocker>[0] }).stepParts();
  assert.match(fusedDecodeBlocker(parts(hooked)) ?? '', /hooks/);
  const src = pad(SOURCES.slice(0, 4));
  const withHook = hooked.greedyDecode(src, { bos: BOS, eos: EOS, maxLen: 8 });
  handle.remove();
  assert.equal(fusedDecodeBlocker(parts(hooked)), null);
  assert.deepEqual(hooked.greedyDecode(src, { bos: BOS, eos: EOS, maxLen: 8 }).tokens, withHook.tokens);

  const tanh = model(16, { activation: 'gelu_tanh' });
  assert.match(fusedDecodeBlocker(parts(tanh)) ?? '', /gelu_tanh/);
  assert.deepEqual(tanh.greedyDecode(src, { bos: BOS, eos: EOS, maxLen: 8 }).tokens, tanh.greedyDecode(src, { bos: BOS, eos: EOS, maxLen: 8, fused: false }).tokens);

  const training = model(17).train();
  assert.match(fusedDecodeBlocker(parts(training)) ?? '', /training/);

  // heed compress --prune-heads leaves layers with different head counts (the step sizes its buffers once).
  const pruned = model(18);
  (pruned.decoder.layers.toArray()[1] as unknown as { selfAttn: h.nn.MultiheadAttention }).selfAttn.pruneHeads([0]);
  assert.match(fusedDecodeBlocker(parts(pruned)) ?? '', /pruned heads/);
  assert.deepEqual(pruned.greedyDecode(src, { bos: BOS, eos: EOS, maxLen: 8 }).tokens, pruned.greedyDecode(src, { bos: BOS, eos: EOS, maxLen: 8, fused: false }).tokens);
});

test('FusedDecoder.step refuses a position out of sequence or past maxSteps (ValueError)', () => {
  const m = model(18);
  const src = pad(SOURCES.slice(0, 2));
  const { memory, srcPad } = h.noGrad(() => m.encode(src));
  const parts = (m as unknown as { stepParts(): Parameters<typeof fusedDecodeBlocker>[0] }).stepParts();
  const dec = FusedDecoder.tryCreate(parts, memory, srcPad, 2)!;
  assert.throws(() => dec.step([BOS, BOS], 1), (e: unknown) => e instanceof ValueError && /position 1, expected 0/.test((e as Error).message));
  dec.step([BOS, BOS], 0);
  dec.step([3, 3], 1);
  assert.throws(() => dec.step([3, 3], 2), ValueError);
  // Padding inside a row (not at its end) is a mask the fused kernel call does not take: no fused decoder.
  const S = src.shape[1];
  const hole = h.tensor([Array.from({ length: S }, (_, j) => j === 1), new Array(S).fill(false)], undefined, { dtype: 'bool' }); // (2, S)
  assert.equal(FusedDecoder.tryCreate(parts, memory, hole, 2), null);
});

test('decodes one after another reuse the decoder\'s buffers and still equal the module path (growing and shrinking batches, beams between)', () => {
  const m = varied(19, {}, greedyLengths(10));
  // Batch sizes and lengths that grow, shrink and grow again, so reused buffers are both larger
  // than needed (stale values beyond the live rows) and regrown.
  const batches = [SOURCES.slice(0, 2), SOURCES, SOURCES.slice(3, 4), SOURCES.slice(1, 9), SOURCES.slice(5)];
  for (const [i, rows] of batches.entries()) {
    const maxLen = 6 + (i % 3) * 2;
    const src = pad(rows);
    const fused = m.greedyDecode(src, { bos: BOS, eos: EOS, maxLen });
    const plain = m.greedyDecode(src, { bos: BOS, eos: EOS, maxLen, fused: false });
    assert.deepEqual(fused.tokens, plain.tokens, `batch ${i}`);
    fused.scores.forEach((s, b) => assert.ok(Math.abs(s - plain.scores[b]) < TOL, `batch ${i} row ${b}`));
    const o = { bos: BOS, eos: EOS, maxLen, beamSize: 2, nBest: 2 };
    assert.deepEqual(m.beamSearch(src, o).map((r) => r.map((x) => x.tokens)), m.beamSearch(src, { ...o, fused: false }).map((r) => r.map((x) => x.tokens)), `beams ${i}`);
  }
});

test('two fused decoders of one model alive at once do not share buffers (the second allocates its own)', () => {
  const m = model(20);
  const parts = (m as unknown as { stepParts(): Parameters<typeof fusedDecodeBlocker>[0] }).stepParts();
  const encA = h.noGrad(() => m.encode(pad(SOURCES.slice(0, 3))));
  const encB = h.noGrad(() => m.encode(pad(SOURCES.slice(6, 9))));
  const steps = (dec: FusedDecoder, tokens: number[][]) => tokens.map((t, i) => Array.from(dec.step(t, i)));
  const tokens = [[BOS, BOS, BOS], [3, 4, 5], [6, 3, 4]];
  // Each alone (released after), then both interleaved step by step.
  const alone = [encA, encB].map((e) => {
    const dec = FusedDecoder.tryCreate(parts, e.memory, e.srcPad, 3)!;
    const out = steps(dec, tokens);
    dec.release();
    return out;
  });
  const a = FusedDecoder.tryCreate(parts, encA.memory, encA.srcPad, 3)!;
  const b = FusedDecoder.tryCreate(parts, encB.memory, encB.srcPad, 3)!;
  tokens.forEach((t, i) => {
    assert.deepEqual(Array.from(a.step(t, i)), alone[0][i], `decoder A, step ${i}`);
    assert.deepEqual(Array.from(b.step(t, i)), alone[1][i], `decoder B, step ${i}`);
  });
  a.release();
  b.release();
});

test('the decode buffers kept between decodes are dropped once the recent decodes need under half of them', () => {
  const m = model(21, { dModel: 32, dimFeedforward: 32 });
  const big = pad(Array.from({ length: 400 }, (_, i) => SOURCES[i % SOURCES.length])); // 400 rows
  const small = pad(SOURCES.slice(0, 2));
  m.greedyDecode(big, { bos: BOS, eos: EOS, maxLen: 10 });
  const afterBig = fusedDecoderWorkspaceBytes(m.decoder);
  assert.ok(afterBig > 1 << 20, `a 400-row decode keeps its buffers for the next: ${afterBig} bytes`);
  for (let i = 0; i < SHRINK_WINDOW - 1; i++) m.greedyDecode(small, { bos: BOS, eos: EOS, maxLen: 10 });
  assert.equal(fusedDecoderWorkspaceBytes(m.decoder), afterBig, 'a few small decodes keep them (the window is not full)');
  m.greedyDecode(small, { bos: BOS, eos: EOS, maxLen: 10 });
  const afterSmall = fusedDecoderWorkspaceBytes(m.decoder);
  assert.ok(afterSmall < afterBig / 2, `after ${SHRINK_WINDOW} small decodes: ${afterSmall} of ${afterBig} bytes kept`);
  // Decoding goes on correctly on the regrown buffers.
  assert.deepEqual(m.greedyDecode(small, { bos: BOS, eos: EOS, maxLen: 10 }).tokens, m.greedyDecode(small, { bos: BOS, eos: EOS, maxLen: 10, fused: false }).tokens);
});
