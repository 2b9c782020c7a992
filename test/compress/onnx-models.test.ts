/**
 * exportOnnx on the architectures beyond the Transformer classifier / tagger / ViT / GPT / Seq2Seq
 * (test/compress/onnx-export.test.ts), each run in onnxruntime-node on padded batches and compared
 * with heed's own forward to 1e-4:
 *   - the Hugging Face BERT, RoBERTa, DistilBERT and GPT-2 checkpoints of test/fixtures/hf, loaded
 *     by fromPretrained (RoBERTa's offset positions, GPT-2's packed q/k/v);
 *   - the CNN classifier with each attention (none, SE, CBAM, MHSA) and BatchNorm running statistics;
 *   - LSTM and GRU layers (gate re-ordering, bidirectional, 2 layers) and the LSTM seq2seq with every
 *     attention score, as encoder + decoder-step graphs, including a greedy loop equal to heed's;
 *   - MaskedLM, MultimodalFusion (cross and concat), PatchTST, SASRec (with item-side fusion) and
 *     WordTagger (character features and a constrained CRF, decoded by Viterbi outside the graph).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import onnxProto from 'onnx-proto';
import * as h from '../../src/index.ts';
import { models, nn } from '../../src/index.ts';
import { exportOnnx } from '../../src/compress/onnx/export.ts';
import { fromPretrained } from '../../src/models/pretrained.ts';
import { Tensor } from '../../src/tensor/tensor.ts';
import { noGrad } from '../../src/autograd/mode.ts';
import { eq } from '../../src/ops/elementwise.ts';
import { Module } from '../../src/nn/module.ts';
import { LSTM } from '../../src/nn/lstm.ts';
import { GRU } from '../../src/nn/gru.ts';
import { CnnClassifier } from '../../src/models/cnn.ts';
import { LstmAttentionSeq2Seq } from '../../src/models/lstm-seq2seq.ts';
import { MaskedLM } from '../../src/models/masked-lm.ts';
import { MultimodalFusion } from '../../src/models/multimodal.ts';
import { PatchTSTForecaster } from '../../src/models/forecaster.ts';
import { SASRec } from '../../src/models/sasrec.ts';
import { WordTagger, charNgramIds, realWordMask } from '../../src/models/word-tagger.ts';
import { viterbi } from '../../src/nn/tag-transitions.ts';
import { NUM_CALENDAR_FIELDS } from '../../src/data/calendar.ts';

const session = (bytes: Uint8Array) => ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
const ortOf = (t: Tensor) => new ort.Tensor(t.dtype === 'int32' ? 'int32' : 'float32', t.data as Int32Array | Float32Array, t.shape);
const ids = (rows: number[][]): Tensor => new Tensor(Int32Array.from(rows.flat()), [rows.length, rows[0].length]);
const HF = join(import.meta.dirname, '..', 'fixtures', 'hf');

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Sets every parameter and buffer of `m` to seeded noise (no model here is trained), BatchNorm variances positive. */
function randomize(m: Module, seed: number): void {
  h.manualSeed(seed);
  for (const [name, t] of Object.entries(m.stateDict())) {
    if (t.dtype !== 'float32') continue;
    const r = h.randn(t.shape).data as Float32Array;
    (t.data as Float32Array).set(name.endsWith('runningVar') ? r.map((v) => 0.5 + Math.abs(v)) : r.map((v) => 0.3 * v));
  }
}

/** Every graph these tests exported, for the opset check at the end. */
const exported: { model: string; graph: string; bytes: Uint8Array }[] = [];

/** Exports `model`, runs graph `graph` on `feeds`, returns its outputs. */
async function runExported(model: Module, sample: Tensor[], feeds: Record<string, Tensor>, graph = 'model'): Promise<ort.InferenceSession.OnnxValueMapType> {
  const exp = exportOnnx(model, sample);
  exp.graphs.forEach((g) => exported.push({ model: exp.model, graph: g.name, bytes: g.bytes }));
  const s = await session(exp.graphs.find((g) => g.name === graph)!.bytes);
  return s.run(Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, ortOf(v)])));
}

for (const fixture of ['bert_base', 'bert_mlm', 'bert_seqcls', 'bert_tokcls', 'distilbert_mlm', 'distilbert_seqcls', 'distilbert_tokcls', 'roberta_mlm', 'roberta_seqcls', 'roberta_tokcls', 'gpt2_lm']) {
  test(`Hugging Face ${fixture} (fromPretrained) exports and equals heed on a right-padded batch`, async () => {
    const model = await fromPretrained(join(HF, fixture));
    model.eval();
    const pad = (model.config as { padId?: number }).padId ?? 0;
    const x = ids([[2, 22, 27, 8, 25, 10, 12], [2, 14, 30, 6, pad, pad, pad]]);
    const input = fixture === 'gpt2_lm' ? ids([[2, 22, 27, 8, 25, 10, 12], [2, 14, 30, 6, 7, 3, 9]]) : x;
    const feeds: Record<string, Tensor> = { input_ids: input };
    if (fixture === 'gpt2_lm') {
      const c = (model as h.models.GPT).config, hd = c.dModel / c.numHeads;
      for (let i = 0; i < c.numLayers; i++) feeds[`past_key_${i}`] = feeds[`past_value_${i}`] = new Tensor(new Float32Array(0), [2, c.numHeads, 0, hd]);
    }
    const r = await runExported(model, [input], feeds);
    const expected = noGrad(() => (model as unknown as { forward(x: Tensor): Tensor }).forward(input));
    const out = r[fixture === 'bert_base' ? 'last_hidden_state' : 'logits'];
    assert.ok(maxAbsDiff(out.data as Float32Array, expected.data) < 1e-4, `${fixture}: ${maxAbsDiff(out.data as Float32Array, expected.data)}`);
    if (fixture === 'bert_base' && (model as h.models.Bert).pooler) {
      const pooled = noGrad(() => (model as h.models.Bert).pool(expected));
      assert.ok(maxAbsDiff(r.pooler_output.data as Float32Array, pooled.data) < 1e-4);
    }
  });
}

for (const attention of ['none', 'se', 'cbam', 'mhsa'] as const) {
  test(`CnnClassifier with '${attention}' attention: eval-mode BatchNorm, pools and the attention blocks equal heed`, async () => {
    const model = new CnnClassifier({ numClasses: 5, imageSize: 8, width: 8, stages: 2, attention, reduction: 4, numHeads: 2 });
    randomize(model, 3);
    model.eval();
    const x = h.randn([3, 1, 8, 8]);
    const r = await runExported(model, [x], { pixel_values: x });
    assert.ok(maxAbsDiff(r.logits.data as Float32Array, noGrad(() => model.forward(x)).data) < 1e-4);
  });
}

test('LSTM and GRU layers (2 layers, bidirectional, batch first or not) equal heed: outputs and final states', async () => {
  for (const [Cls, o] of [[LSTM, { numLayers: 2, bidirectional: true }], [GRU, { numLayers: 2, bidirectional: true }], [LSTM, { batchFirst: false }], [GRU, {}]] as const) {
    h.manualSeed(5);
    const m = new Cls(6, 5, o);
    m.eval();
    const x = h.randn([4, 3, 6]);
    const r = await runExported(m, [x], { x });
    const y = noGrad(() => m.forward(x)) as { output: Tensor; h: Tensor; c?: Tensor };
    assert.ok(maxAbsDiff(r.output.data as Float32Array, y.output.data) < 1e-4, `${Cls.name} output`);
    assert.ok(maxAbsDiff(r.h.data as Float32Array, y.h.data) < 1e-4, `${Cls.name} h`);
    if (y.c) assert.ok(maxAbsDiff(r.c.data as Float32Array, y.c.data) < 1e-4, `${Cls.name} c`);
  }
});

for (const attention of ['dot', 'general', 'concat', 'additive'] as const) {
  test(`LstmAttentionSeq2Seq ('${attention}'): the encoder (per-row lengths) and decoder-step graphs equal heed, and a greedy loop over them reproduces greedyDecode`, async () => {
    h.manualSeed(11);
    const model = new LstmAttentionSeq2Seq({ srcVocabSize: 12, tgtVocabSize: 10, embedDim: 8, hiddenSize: 8, numLayers: 2, attention, dropout: 0 });
    model.eval();
    const src = ids([[4, 5, 6, 7, 8], [9, 3, 0, 0, 0], [5, 0, 0, 0, 0]]);
    const tgtIn = ids([[1, 4, 5], [1, 6, 0], [1, 7, 8]]);
    const exp = exportOnnx(model, [src, tgtIn]);
    exp.graphs.forEach((g) => exported.push({ model: exp.model, graph: g.name, bytes: g.bytes }));
    const enc = await session(exp.graphs[0].bytes), dec = await session(exp.graphs[1].bytes);
    const e = await enc.run({ src_ids: ortOf(src) });
    // Teacher-forced logits of all target positions in one decoder call.
    const d = await dec.run({ input_ids: ortOf(tgtIn), memory: e.memory, memory_key_padding_mask: e.memory_key_padding_mask, h: e.h, c: e.c });
    assert.ok(maxAbsDiff(d.logits.data as Float32Array, noGrad(() => model.forward(src, tgtIn)).data) < 1e-4);
    // Greedy decoding, one step at a time with the state fed back.
    const B = 3, V = 10, maxLen = 6;
    const heed = model.greedyDecode(src, { bos: 1, eos: 2, maxLen });
    let state = { h: e.h, c: e.c }, last = [1, 1, 1];
    const out: number[][] = [[], [], []], done = [false, false, false];
    for (let step = 0; step < maxLen && !done.every(Boolean); step++) {
      const r = await dec.run({ input_ids: new ort.Tensor('int32', Int32Array.from(last), [B, 1]), memory: e.memory, memory_key_padding_mask: e.memory_key_padding_mask, h: state.h, c: state.c });
      const logits = r.logits.data as Float32Array;
      last = Array.from({ length: B }, (_, b) => {
        let best = 0;
        for (let v = 1; v < V; v++) if (logits[b * V + v] > logits[b * V + best]) best = v;
        return best;
      });
      last.forEach((t, b) => { if (!done[b]) { if (t === 2) done[b] = true; else out[b].push(t); } });
      state = { h: r.h_out, c: r.c_out };
    }
    assert.deepEqual(out, heed.tokens);
  });
}

test('MaskedLM (the mlm task\'s model): logits for every position equal heed\'s flattened ones', async () => {
  const model = new MaskedLM({ vocabSize: 20, dModel: 8, numHeads: 2, numLayers: 2, dimFeedforward: 16, maxLen: 10 });
  randomize(model, 4);
  model.eval();
  const x = ids([[3, 4, 5, 6], [7, 8, 0, 0]]);
  const r = await runExported(model, [x], { input_ids: x });
  assert.deepEqual(r.logits.dims, [2, 4, 20]);
  assert.ok(maxAbsDiff(r.logits.data as Float32Array, noGrad(() => model.forward(x)).data) < 1e-4);
});

for (const fusion of ['cross', 'concat'] as const) {
  test(`MultimodalFusion ('${fusion}'): text + image logits equal heed`, async () => {
    const model = new MultimodalFusion({ vocabSize: 15, numClasses: 3, dModel: 8, numHeads: 2, dimFeedforward: 16, fusion, imageSize: 8, patchSize: 2 });
    randomize(model, 6);
    model.eval();
    const x = ids([[3, 4, 5, 6], [7, 8, 0, 0]]), img = h.randn([2, 1, 8, 8]);
    const r = await runExported(model, [x, img], { input_ids: x, pixel_values: img });
    assert.ok(maxAbsDiff(r.logits.data as Float32Array, noGrad(() => model.forward(x, img)).data) < 1e-4);
  });
}

test('PatchTST forecaster: RevIN, patching, calendar embeddings and the ordered quantiles equal heed', async () => {
  h.manualSeed(7);
  const model = new PatchTSTForecaster({ contextLength: 28, horizon: 7, patchLength: 7, patchStride: 3 + 4, dModel: 8, numHeads: 2, numLayers: 1, dimFeedforward: 16, headDim: 4 });
  model.eval();
  const context = new Tensor(Float32Array.from({ length: 2 * 28 }, (_, i) => 100 + 20 * Math.sin(i / 3) + (i % 7)), [2, 28]);
  const calendar = new Tensor(Int32Array.from({ length: 2 * 7 * NUM_CALENDAR_FIELDS }, (_, i) => i % 5), [2, 7, NUM_CALENDAR_FIELDS]);
  const r = await runExported(model, [context, calendar], { context, calendar });
  const expected = noGrad(() => model.forward(context, calendar)).data;
  const scale = Math.max(...Array.from(expected, Math.abs));
  assert.ok(maxAbsDiff(r.quantiles.data as Float32Array, expected) / scale < 1e-5);
});

for (const fusion of ['none', 'attention'] as const) {
  test(`SASRec (fusion '${fusion}'): next-item scores of right-padded histories equal scoreNext`, async () => {
    const model = new SASRec({ numItems: 30, maxLen: 6, dModel: 8, numHeads: 2, numLayers: 2, dimFeedforward: 8, dropout: 0, fusion, titleVocabSize: 10, titleMaxLen: 4, numGenres: 3 });
    model.eval();
    const x = ids([[3, 4, 5, 6, 7], [8, 9, 0, 0, 0], [10, 0, 0, 0, 0]]), lengths = new Tensor(Int32Array.from([5, 2, 1]), [3]);
    const r = await runExported(model, [x, lengths], { item_ids: x, lengths });
    assert.ok(maxAbsDiff(r.scores.data as Float32Array, noGrad(() => model.scoreNext(x, Int32Array.from([5, 2, 1]))).data) < 1e-4);
  });
}

test('WordTagger with character n-grams and a BIO-constrained CRF: emissions equal heed, and Viterbi over the exported transition scores gives CRF.decode\'s paths', async () => {
  const labels = ['O', 'B-PER', 'I-PER', 'B-LOC', 'I-LOC'];
  const model = new WordTagger({ vocabSize: 20, numTags: 5, labels, scheme: 'BIO', dModel: 8, numHeads: 2, numLayers: 1, dimFeedforward: 16, dropout: 0, maxLen: 10, charBuckets: 50, crf: true });
  randomize(model, 9);
  model.eval();
  const sentences = [['John', 'lives', 'in', 'Paris'], ['Hi', 'Mary']];
  const B = 2, T = 4;
  const words = ids([[3, 4, 5, 6], [7, 8, 0, 0]]), shapes = ids([[1, 0, 0, 1], [1, 1, 0, 0]]);
  const grams = sentences.map((s) => s.map((w) => charNgramIds(w, 50)));
  const distinct = [...new Set(grams.flat(2))];
  const mix = new Float32Array(B * T * distinct.length);
  grams.forEach((s, b) => s.forEach((g, t) => g.forEach((id) => { mix[(b * T + t) * distinct.length + distinct.indexOf(id)] += 1 / g.length; })));
  const ngrams = new Tensor(Int32Array.from(distinct), [distinct.length]), ngramMix = new Tensor(mix, [B * T, distinct.length]);
  const r = await runExported(model, [words, shapes, ngrams, ngramMix], { words, shapes, ngrams, ngram_mix: ngramMix });
  const emissions = noGrad(() => model.forward({ words, shapes, ngrams, ngramMix, pad: eq(words, 0), lengths: [4, 2] }));
  assert.ok(maxAbsDiff(r.emissions.data as Float32Array, emissions.data) < 1e-4);
  const e = r.emissions.data as Float32Array, K = 5;
  const paths = [4, 2].map((L, b) => viterbi(e.subarray(b * T * K, b * T * K + L * K), L, K, r.transitions.data as Float32Array, r.start_transitions.data as Float32Array, r.end_transitions.data as Float32Array).path);
  assert.deepEqual(paths, model.crf!.decode(emissions, { mask: realWordMask([4, 2], T) }));
});

test('int8 models (quantizeDynamic) export through QDQ: int8 weights + DequantizeLinear, per-row activation rounding as heed; outputs equal heed\'s int8 ones', async () => {
  h.manualSeed(12);
  const clf = new models.EncoderClassifier({ vocabSize: 30, numClasses: 3, dModel: 96, numHeads: 2, numLayers: 2, dimFeedforward: 192, maxLen: 8 });
  randomize(clf, 12);
  clf.eval();
  const x = ids([[3, 4, 5, 6, 7], [8, 9, 0, 0, 0]]);
  const floatBytes = exportOnnx(clf, [x]).graphs[0].bytes.length;
  const float = noGrad(() => clf.forward(x)).data;
  h.quantizeDynamic(clf);
  const int8 = noGrad(() => clf.forward(x)).data;
  const r = await runExported(clf, [x], { input_ids: x });
  assert.ok(maxAbsDiff(r.logits.data as Float32Array, int8) < 1e-4, `vs heed int8: ${maxAbsDiff(r.logits.data as Float32Array, int8)}`);
  assert.ok(maxAbsDiff(int8, float) > 1e-4, 'the int8 outputs differ from the float ones, so the check above is about int8');
  const bytes = exported[exported.length - 1].bytes.length;
  assert.ok(bytes < 0.5 * floatBytes, `int8 file ${bytes} bytes vs float ${floatBytes}`);
  // A whole GPT, its attention projections included, with past key/values.
  const gpt = new models.GPT({ vocabSize: 20, dModel: 16, numHeads: 2, numLayers: 2, maxLen: 8 });
  gpt.eval();
  h.quantizeDynamic(gpt);
  const t = ids([[3, 4, 5]]), feeds: Record<string, Tensor> = { input_ids: t };
  for (let i = 0; i < 2; i++) feeds[`past_key_${i}`] = feeds[`past_value_${i}`] = new Tensor(new Float32Array(0), [1, 2, 0, 8]);
  const g = await runExported(gpt, [t], feeds);
  assert.ok(maxAbsDiff(g.logits.data as Float32Array, noGrad(() => gpt.forward(t)).data) < 1e-4);
});

/** The ai.onnx opset-17 operators these exporters may add to those of onnx-export.test.ts (all standard). */
const STANDARD_OPS = new Set(['Abs', 'Add', 'And', 'AveragePool', 'BatchNormalization', 'Cast', 'Clip', 'Concat', 'Conv', 'CumSum', 'DequantizeLinear', 'Div', 'Equal', 'Erf', 'Exp', 'Expand', 'Floor', 'Greater', 'Reciprocal', 'Sign',
  'GRU', 'Gather', 'Identity', 'LSTM', 'LayerNormalization', 'Less', 'LessOrEqual', 'Log', 'LogSoftmax', 'MatMul', 'Max', 'MaxPool', 'Mul', 'Neg', 'Not', 'Range',
  'ReduceMax', 'ReduceMean', 'ReduceSum', 'Relu', 'Reshape', 'Shape', 'Sigmoid', 'Slice', 'Softmax', 'Split', 'Sqrt', 'Squeeze', 'Sub', 'Tanh', 'Transpose', 'Unsqueeze', 'Where']);

test('every graph exported above is ai.onnx opset 17, default domain, standard operators only', () => {
  assert.ok(exported.length >= 30, `${exported.length} graphs`);
  for (const e of exported) {
    const m = onnxProto.onnx.ModelProto.decode(e.bytes);
    assert.deepEqual(m.opsetImport.map((o) => [o.domain, Number(o.version)]), [['', 17]], `${e.model} ${e.graph}`);
    assert.deepEqual(m.graph!.node.filter((n) => !STANDARD_OPS.has(n.opType!) || n.domain).map((n) => n.opType), [], `${e.model} ${e.graph}`);
  }
});

test('nn.Module classes without an exporter are named in the error', () => {
  assert.throws(() => exportOnnx(new nn.Linear(2, 2), [h.randn([1, 2])]), /Linear has no ONNX exporter/);
});
