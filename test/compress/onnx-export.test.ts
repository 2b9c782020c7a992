/**
 * exportOnnx on every exportable architecture and layer option, run in onnxruntime-node:
 * the tagger on a padded batch, GPT with past key/values (prefill + incremental steps + a greedy
 * loop equal to heed's generate), a post-norm learned-position gelu_tanh Seq2Seq; the graphs use
 * only ai.onnx opset-17 operators with dynamic batch and sequence axes; a module without an ONNX
 * mapping is an OnnxExportError naming its type and path.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import onnxProto from 'onnx-proto';
import * as h from '../../src/index.ts';
import { models } from '../../src/index.ts';
import { exportOnnx } from '../../src/compress/onnx/export.ts';
import { Tensor } from '../../src/tensor/tensor.ts';
import { noGrad } from '../../src/autograd/mode.ts';
import { logSoftmax } from '../../src/ops/softmax.ts';
import { narrow, reshape } from '../../src/ops/shape.ts';
import { OnnxExportError, DTypeError, ShapeError } from '../../src/errors.ts';

const session = (bytes: Uint8Array) => ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
const int32 = (t: Tensor) => new ort.Tensor('int32', t.data as Int32Array, t.shape);
const ids = (rows: number[][]): Tensor => new Tensor(Int32Array.from(rows.flat()), [rows.length, rows[0].length]);

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** The operators of ai.onnx opset 17 the exporters may emit (every runtime implements them). */
const STANDARD_OPS = new Set(['Add', 'And', 'Cast', 'Concat', 'Conv', 'Div', 'Equal', 'Erf', 'Expand', 'Gather', 'Identity', 'LayerNormalization',
  'LessOrEqual', 'LogSoftmax', 'MatMul', 'Max', 'Mul', 'Not', 'Range', 'ReduceSum', 'Relu', 'Reshape', 'Shape', 'Sigmoid', 'Slice', 'Softmax',
  'Squeeze', 'Sub', 'Tanh', 'Transpose', 'Unsqueeze', 'Where']);

test('every graph is ai.onnx opset 17 with standard operators only and symbolic batch and sequence axes', () => {
  h.manualSeed(1);
  const x = ids([[4, 5, 0]]);
  const exports = [
    exportOnnx(new models.EncoderClassifier({ vocabSize: 9, numClasses: 2, dModel: 8, numHeads: 2, dimFeedforward: 16, pooling: 'mean' }), [x]),
    exportOnnx(new models.TokenTagger({ vocabSize: 9, numTags: 3, dModel: 8, numHeads: 2, dimFeedforward: 16 }), [x]),
    exportOnnx(new models.ViT({ numClasses: 10, dModel: 8, numHeads: 2, dimFeedforward: 16 }), [h.randn([1, 1, 8, 8])]),
    exportOnnx(new models.GPT({ vocabSize: 9, dModel: 8, numHeads: 2, numLayers: 1, maxLen: 8 }), [x]),
    exportOnnx(new models.Seq2SeqTransformer({ srcVocabSize: 9, tgtVocabSize: 9, dModel: 8, numHeads: 2, dimFeedforward: 16 }), [x, ids([[1]])]),
  ];
  for (const e of exports) {
    for (const g of e.graphs) {
      const m = onnxProto.onnx.ModelProto.decode(g.bytes);
      assert.deepEqual(m.opsetImport.map((o) => [o.domain, Number(o.version)]), [['', 17]], `${e.model} ${g.name}`);
      const ops = new Set(m.graph!.node.map((n) => n.opType));
      assert.deepEqual([...ops].filter((op) => !STANDARD_OPS.has(op)), [], `${e.model} ${g.name}`);
      assert.ok(m.graph!.node.every((n) => !n.domain), 'default domain only');
      assert.deepEqual(g.opTypes, [...ops].sort());
      assert.equal(m.graph!.input[0].type!.tensorType!.shape!.dim![0].dimParam, 'batch', `${e.model} ${g.name}: dynamic batch`);
    }
  }
  // Weights tied in heed are stored once (the Seq2Seq output projection is its target embedding, transposed: one copy each way).
  const s2s = onnxProto.onnx.ModelProto.decode(exports[4].graphs[1].bytes);
  assert.equal(s2s.graph!.initializer.filter((t) => t.name === 'tgtEmbed.weight').length, 1);
});

test('tagger: the exported graph equals heed on a padded batch, padding masked as in heed', async () => {
  h.manualSeed(2);
  const tagger = new models.TokenTagger({ vocabSize: 40, numTags: 7, dModel: 16, numHeads: 4, dimFeedforward: 32 }).eval();
  const x = ids([[5, 9, 13, 2, 0, 0, 0], [7, 7, 8, 30, 31, 32, 3], [11, 0, 0, 0, 0, 0, 0]]);
  const r = await (await session(exportOnnx(tagger, [x]).graphs[0].bytes)).run({ input_ids: int32(x) });
  assert.deepEqual(r.logits.dims, [3, 7, 7]);
  assert.ok(maxAbsDiff(r.logits.data as Float32Array, noGrad(() => tagger.forward(x)).data) < 1e-4);
});

test('GPT with past key/values: prefill, then one token at a time, equals the full forward; a greedy loop equals generate()', async () => {
  h.manualSeed(3);
  const gpt = new models.GPT({ vocabSize: 50, dModel: 32, numHeads: 4, numLayers: 2, maxLen: 32, tieOutput: false }).eval();
  const prompt = ids([[3, 14, 15, 9, 2], [6, 5, 35, 8, 9]]);
  const s = await session(exportOnnx(gpt, [prompt]).graphs[0].bytes);
  const B = 2, H = 4, hd = 8, L = 2;
  const empty = new ort.Tensor('float32', new Float32Array(0), [B, H, 0, hd]);
  let past: Record<string, ort.Tensor> = {};
  for (let i = 0; i < L; i++) past = { ...past, [`past_key_${i}`]: empty, [`past_value_${i}`]: empty };
  const pre = await s.run({ input_ids: int32(prompt), ...past });
  assert.ok(maxAbsDiff(pre.logits.data as Float32Array, noGrad(() => gpt.forward(prompt)).data) < 1e-4);
  assert.deepEqual(pre.present_key_0.dims, [B, H, 5, hd]);

  // Greedy continuation in the runtime, feeding present_* back as past_*.
  const seq = [[3, 14, 15, 9, 2], [6, 5, 35, 8, 9]];
  let out = pre;
  for (let n = 0; n < 6; n++) {
    const V = 50, T = out.logits.dims[1], logits = out.logits.data as Float32Array;
    const next = seq.map((_, b) => {
      const row = logits.subarray((b * T + T - 1) * V, (b * T + T) * V);
      return row.indexOf(Math.max(...row));
    });
    next.forEach((t, b) => seq[b].push(t));
    past = Object.fromEntries(Array.from({ length: L }, (_, i) => [[`past_key_${i}`, out[`present_key_${i}`]], [`past_value_${i}`, out[`present_value_${i}`]]]).flat());
    out = await s.run({ input_ids: int32(ids(next.map((t) => [t]))), ...past });
    // The step's logits equal the last position of heed's full forward over the whole sequence so far.
    const full = noGrad(() => gpt.forward(ids(seq))); // (B, T, V)
    const lastRow = reshape(narrow(full, 1, seq[0].length - 1, 1), [B, 1, V]);
    assert.ok(maxAbsDiff(out.logits.data as Float32Array, lastRow.data) < 1e-4, `step ${n}`);
  }
  const heedGreedy = gpt.generate(prompt, { maxNewTokens: 6, temperature: 0 });
  assert.deepEqual(Array.from(heedGreedy.data), seq.flat());
});

test('Seq2Seq with post-norm, learned positions and gelu_tanh: encoder and a teacher-forced decoder call equal heed', async () => {
  h.manualSeed(4);
  const m = new models.Seq2SeqTransformer({ srcVocabSize: 20, tgtVocabSize: 24, dModel: 16, numHeads: 2, dimFeedforward: 32, normFirst: false,
    positional: 'learned', activation: 'gelu_tanh', tieOutput: false, scaleEmbeddings: false }).eval();
  const src = ids([[5, 6, 7, 8, 0, 0], [9, 10, 11, 12, 13, 14]]), tgt = ids([[1, 4, 5, 6], [1, 7, 8, 9]]);
  const [encoder, decoder] = exportOnnx(m, [src, tgt]).graphs;
  const e = await (await session(encoder.bytes)).run({ src_ids: int32(src) });
  assert.ok(maxAbsDiff(e.memory.data as Float32Array, noGrad(() => m.encode(src).memory).data) < 1e-4);
  assert.deepEqual(Array.from(e.memory_key_padding_mask.data as Uint8Array, Number), [0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0]);
  const empty = new ort.Tensor('float32', new Float32Array(0), [2, 2, 0, 8]);
  const feeds: Record<string, ort.Tensor> = { input_ids: int32(tgt), memory_key_padding_mask: e.memory_key_padding_mask };
  for (let i = 0; i < 2; i++) Object.assign(feeds, { [`past_key_${i}`]: empty, [`past_value_${i}`]: empty, [`cross_key_${i}`]: e[`cross_key_${i}`], [`cross_value_${i}`]: e[`cross_value_${i}`] });
  const d = await (await session(decoder.bytes)).run(feeds);
  assert.ok(maxAbsDiff(d.log_probs.data as Float32Array, noGrad(() => logSoftmax(m.forward(src, tgt), -1)).data) < 1e-4);
});

test('grouped-query attention: the cache holds the key/value heads, and GPT and Seq2Seq still equal heed', async () => {
  h.manualSeed(6);
  const gpt = new models.GPT({ vocabSize: 30, dModel: 32, numHeads: 4, numKvHeads: 2, numLayers: 1, maxLen: 16 }).eval();
  const prompt = ids([[3, 4, 5], [7, 8, 9]]), next = ids([[11], [12]]);
  const s = await session(exportOnnx(gpt, [prompt]).graphs[0].bytes);
  const empty = new ort.Tensor('float32', new Float32Array(0), [2, 2, 0, 8]);
  const pre = await s.run({ input_ids: int32(prompt), past_key_0: empty, past_value_0: empty });
  assert.deepEqual(pre.present_key_0.dims, [2, 2, 3, 8]);
  const step = await s.run({ input_ids: int32(next), past_key_0: pre.present_key_0, past_value_0: pre.present_value_0 });
  const full = noGrad(() => gpt.forward(ids([[3, 4, 5, 11], [7, 8, 9, 12]]))); // (2, 4, 30)
  assert.ok(maxAbsDiff(step.logits.data as Float32Array, reshape(narrow(full, 1, 3, 1), [2, 1, 30]).data) < 1e-4);

  const m = new models.Seq2SeqTransformer({ srcVocabSize: 12, tgtVocabSize: 12, dModel: 16, numHeads: 4, numKvHeads: 1, dimFeedforward: 32 }).eval();
  const src = ids([[4, 5, 6, 0], [7, 8, 9, 10]]), tgt = ids([[1, 4, 5], [1, 6, 7]]);
  const [encoder, decoder] = exportOnnx(m, [src, tgt]).graphs;
  const e = await (await session(encoder.bytes)).run({ src_ids: int32(src) });
  assert.deepEqual(e.cross_key_0.dims, [2, 1, 4, 4]);
  const none = new ort.Tensor('float32', new Float32Array(0), [2, 1, 0, 4]);
  const feeds: Record<string, ort.Tensor> = { input_ids: int32(tgt), memory_key_padding_mask: e.memory_key_padding_mask };
  for (let i = 0; i < 2; i++) Object.assign(feeds, { [`past_key_${i}`]: none, [`past_value_${i}`]: none, [`cross_key_${i}`]: e[`cross_key_${i}`], [`cross_value_${i}`]: e[`cross_value_${i}`] });
  const d = await (await session(decoder.bytes)).run(feeds);
  assert.ok(maxAbsDiff(d.log_probs.data as Float32Array, noGrad(() => logSoftmax(m.forward(src, tgt), -1)).data) < 1e-4);
});

for (const positional of ['rope', 'alibi'] as const) {
  test(`GPT with ${positional} positions: prefill and a cached step equal heed`, async () => {
    h.manualSeed(8);
    const gpt = new models.GPT({ vocabSize: 30, dModel: 32, numHeads: 4, numLayers: 2, maxLen: 16, positional }).eval();
    const prompt = ids([[3, 4, 5, 6], [7, 8, 9, 10]]), next = ids([[11], [12]]);
    const s = await session(exportOnnx(gpt, [prompt]).graphs[0].bytes);
    const empty = new ort.Tensor('float32', new Float32Array(0), [2, 4, 0, 8]);
    const pre = await s.run({ input_ids: int32(prompt), past_key_0: empty, past_value_0: empty, past_key_1: empty, past_value_1: empty });
    assert.ok(maxAbsDiff(pre.logits.data as Float32Array, noGrad(() => gpt.forward(prompt)).data) < 1e-4);
    const step = await s.run({ input_ids: int32(next), past_key_0: pre.present_key_0, past_value_0: pre.present_value_0, past_key_1: pre.present_key_1, past_value_1: pre.present_value_1 });
    const full = noGrad(() => gpt.forward(ids([[3, 4, 5, 6, 11], [7, 8, 9, 10, 12]]))); // (2, 5, 30)
    assert.ok(maxAbsDiff(step.logits.data as Float32Array, reshape(narrow(full, 1, 4, 1), [2, 1, 30]).data) < 1e-4);
  });
}

test('a module without an ONNX mapping is an OnnxExportError naming its type and module path', () => {
  h.manualSeed(5);
  const x = ids([[4, 5, 6]]);
  const tagger = new models.TokenTagger({ vocabSize: 9, numTags: 3, dModel: 8, numHeads: 2, dimFeedforward: 16 });
  tagger.backbone.encoder.norm = new h.nn.RMSNorm(8) as never;
  assert.throws(() => exportOnnx(tagger, [x]), (e: unknown) => e instanceof OnnxExportError && e.moduleType === 'RMSNorm' && e.modulePath === 'backbone.encoder.norm' &&
    /module 'backbone\.encoder\.norm' is RMSNorm/.test((e as Error).message));
  const clf = new models.EncoderClassifier({ vocabSize: 9, numClasses: 2, dModel: 8, numHeads: 2, dimFeedforward: 16 });
  clf.backbone.encoder.layers.get(0).selfAttn.vProj = new h.nn.Dropout(0) as never;
  assert.throws(() => exportOnnx(clf, [x]), (e: unknown) => e instanceof OnnxExportError && e.moduleType === 'Dropout' && e.modulePath === 'backbone.encoder.layers.0.selfAttn.vProj');
  assert.throws(() => exportOnnx(new h.nn.Linear(2, 2), [h.randn([1, 2])]), (e: unknown) => e instanceof OnnxExportError && e.moduleType === 'Linear' && /Exportable models: EncoderClassifier/.test((e as Error).message));
});

test('sample inputs: the wrong number or dtype is a typed error, and export leaves the model in its training mode', () => {
  const tagger = new models.TokenTagger({ vocabSize: 9, numTags: 3, dModel: 8, numHeads: 2, dimFeedforward: 16 });
  assert.equal(tagger.training, true);
  assert.throws(() => exportOnnx(tagger, []), (e: unknown) => e instanceof ShapeError && /takes 1 sample input tensor\(s\) \(input_ids\)/.test((e as Error).message));
  assert.throws(() => exportOnnx(tagger, [h.randn([1, 3])]), DTypeError);
  exportOnnx(tagger, [ids([[1, 2]])]);
  assert.equal(tagger.training, true);
});
