import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as h from '../../src/index.ts';
import { models, nn } from '../../src/index.ts';

const small = { srcVocabSize: 11, tgtVocabSize: 9, dModel: 16, numHeads: 2, dimFeedforward: 32, maxLen: 12, dropout: 0 };
const ids = (rows: number[][]): h.Tensor => h.tensor(rows, undefined, { dtype: 'int32' });

test('forward maps (B, S) and (B, T) ids to (B, T, V) logits; the output projection is tied', () => {
  h.manualSeed(0);
  const m = new models.Seq2SeqTransformer(small);
  const logits = m.forward(ids([[3, 4, 5, 0], [6, 7, 0, 0]]), ids([[1, 3, 4], [1, 5, 2]]));
  assert.deepEqual(logits.shape, [2, 3, 9]);
  assert.equal(m.outProj.weight, m.tgtEmbed.weight);
  assert.ok(m.namedParameters().every(([n]) => n !== 'outProj.weight'));
  assert.ok('outProj.weight' in m.stateDict());
});

test('padding in the source does not change the outputs of the other positions', () => {
  h.manualSeed(1);
  const m = new models.Seq2SeqTransformer(small).eval();
  const a = m.forward(ids([[3, 4, 5]]), ids([[1, 3]]));
  const b = m.forward(ids([[3, 4, 5, 0, 0]]), ids([[1, 3]]));
  for (let i = 0; i < a.size; i++) assert.ok(Math.abs(a.data[i] - b.data[i]) < 1e-5);
});

test('greedy decoding on the KV cache equals the argmax of repeated full forwards', () => {
  h.manualSeed(2);
  for (const normFirst of [true, false]) {
    const m = new models.Seq2SeqTransformer({ ...small, normFirst }).eval();
    const src = ids([[3, 4, 5, 6], [7, 8, 0, 0]]);
    const { tokens } = m.greedyDecode(src, { bos: 1, eos: 2, maxLen: 6 });
    for (let b = 0; b < 2; b++) {
      const seq = [1];
      for (let t = 0; t < tokens[b].length; t++) {
        const logits = m.forward(h.narrow(src, 0, b, 1), ids([seq]));
        const last = Array.from(logits.data.slice((seq.length - 1) * 9, seq.length * 9));
        const best = last.indexOf(Math.max(...last));
        assert.equal(best, tokens[b][t], `normFirst=${normFirst} b=${b} t=${t}`);
        seq.push(best);
      }
    }
  }
});

test('beam search with beamSize 1 equals greedy; n-best lists are sorted and distinct', () => {
  h.manualSeed(3);
  const m = new models.Seq2SeqTransformer(small).eval();
  const src = ids([[3, 4, 5, 6], [7, 8, 9, 0]]);
  const greedy = m.greedyDecode(src, { bos: 1, eos: 2, maxLen: 6 });
  const beam1 = m.beamSearch(src, { beamSize: 1, bos: 1, eos: 2, maxLen: 6, lengthPenalty: 0 });
  assert.deepEqual(beam1.map((r) => r[0].tokens), greedy.tokens);
  const beam = m.beamSearch(src, { beamSize: 4, nBest: 3, bos: 1, eos: 2, maxLen: 6 });
  for (const hyps of beam) {
    assert.equal(hyps.length, 3);
    for (let i = 1; i < hyps.length; i++) assert.ok(hyps[i - 1].score >= hyps[i].score);
    assert.equal(new Set(hyps.map((x) => x.tokens.join(','))).size, 3);
  }
});

test('toConfig/fromConfig rebuild the model; unknown keys list the valid ones', () => {
  const m = new models.Seq2SeqTransformer({ ...small, positional: 'learned' });
  const m2 = models.Seq2SeqTransformer.fromConfig(JSON.parse(JSON.stringify(m.toConfig())));
  assert.deepEqual(m2.loadStateDict(m.stateDict()), { missingKeys: [], unexpectedKeys: [] });
  assert.throws(() => models.Seq2SeqTransformer.fromConfig({ ...small, dmodel: 8 }), (e: Error) => e instanceof h.ConfigError && /dmodel/.test(e.message) && /dModel/.test(e.message));
  assert.throws(() => new models.Seq2SeqTransformer({ ...small, activation: 'tanh' as 'relu' }), h.ConfigError);
  assert.throws(() => new models.Seq2SeqTransformer({ ...small, shareEmbeddings: true }), h.ConfigError);
});

test('a source longer than the positional table is a ShapeError naming both lengths', () => {
  const m = new models.Seq2SeqTransformer(small);
  assert.throws(() => m.forward(ids([Array(13).fill(3)]), ids([[1]])), (e: Error) => e instanceof h.ShapeError && /13/.test(e.message) && /12/.test(e.message));
  const pos = new nn.LearnedPositionalEmbedding(4, 8);
  assert.throws(() => pos.forward(h.zeros([1, 5, 8])), (e: Error) => e instanceof h.ShapeError && /maxLen=4/.test(e.message));
});

test('cross-attention maps are recorded during greedy decoding, one row per step', () => {
  h.manualSeed(4);
  const m = new models.Seq2SeqTransformer(small).eval();
  const rec = new nn.AttentionRecorder(m);
  const out = rec.record(() => m.greedyDecode(ids([[3, 4, 5]]), { bos: 1, eos: 2, maxLen: 4 }));
  const maps = rec.toAttentionMaps(0).filter((x) => x.kind === 'cross');
  assert.deepEqual(maps.map((x) => x.name), ['decoder.layers.0.crossAttn', 'decoder.layers.1.crossAttn']);
  const steps = Math.min(4, out.tokens[0].length + 1);
  assert.equal(maps[0].weights[0].length, steps);
  assert.equal(maps[0].weights[0][0].length, 3);
});

test('srcLengths, srcPaddingMask and the padId default give the same logits', () => {
  h.manualSeed(5);
  const m = new models.Seq2SeqTransformer(small).eval();
  const src = ids([[3, 4, 5, 0], [6, 0, 0, 0]]), tgt = ids([[1, 3], [1, 4]]);
  const a = m.forward(src, tgt);
  const b = m.forward(src, tgt, { srcLengths: h.tensor([3, 1], undefined, { dtype: 'int32' }) });
  const c = m.forward(src, tgt, { srcPaddingMask: h.tensor([[false, false, false, true], [false, true, true, true]]) });
  for (let i = 0; i < a.size; i++) assert.ok(Math.abs(a.data[i] - b.data[i]) < 1e-6 && Math.abs(a.data[i] - c.data[i]) < 1e-6);
  assert.throws(() => m.forward(src, tgt, { srcLengths: h.tensor([3], undefined, { dtype: 'int32' }) }), h.ShapeError);
});

test('a checkpoint written as safetensors loads back by key copy (tied weights included)', async () => {
  const { serializeSafetensors, parseSafetensors } = await import('../../src/io/safetensors.ts');
  h.manualSeed(6);
  const m = new models.Seq2SeqTransformer(small).eval();
  const raw: Record<string, { dtype: 'F32'; shape: number[]; data: Float32Array }> = {};
  for (const [k, t] of Object.entries(m.stateDict())) raw[k] = { dtype: 'F32', shape: [...t.shape], data: t.data as Float32Array };
  const file = parseSafetensors(serializeSafetensors(raw));
  const m2 = models.Seq2SeqTransformer.fromConfig(m.toConfig() as unknown as Record<string, unknown>).eval();
  const sd: Record<string, h.Tensor> = {};
  for (const [k, r] of Object.entries(file.tensors)) sd[k] = h.tensor(r.data as Float32Array, r.shape);
  m2.loadStateDict(sd);
  const src = ids([[3, 4, 5]]), tgt = ids([[1, 3]]);
  assert.deepEqual(Array.from(m2.forward(src, tgt).data), Array.from(m.forward(src, tgt).data));
  assert.equal(m2.outProj.weight, m2.tgtEmbed.weight);
});
