/**
 * ONNX export of trained task models, run in onnxruntime-node on real inputs (SpamAssassin mails,
 * UCI digits, CMUdict words), in padded batches: the runtime's outputs equal heed's to 1e-4, and a
 * greedy generation loop written here over the exported g2p encoder + decoder-step graphs (with
 * past key/values) produces exactly heed's greedy phonemes. The models are exported through the
 * CLI (`heed export onnx <dir>`), as a user would.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { main } from '../../src/cli/main.js';
import { G2P_TASK } from '../../src/tasks/g2p.js';
import { SPAM_TASK, mailWords } from '../../src/tasks/spam.js';
import { DIGITS_TASK } from '../../src/tasks/digits.js';
import { resolveTaskConfig } from '../../src/tasks/common.js';
import { loadTaskModel, loadPredictor } from '../../src/tasks/index.js';
import { readModelConfig } from '../../src/io/checkpoint.js';
import { loadCmudict } from '../../src/data/cmudict.js';
import { loadSpamAssassin } from '../../src/data/spam.js';
import { loadDigits } from '../../src/data/digits.js';
import { Vocab, BOS_ID, EOS_ID } from '../../src/data/vocab.js';
import { padSequences } from '../../src/data/batching.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { noGrad } from '../../src/autograd/mode.js';
import { Seq2SeqTransformer } from '../../src/models/seq2seq.js';
import { EncoderClassifier } from '../../src/models/encoder-classifier.js';
import { ViT } from '../../src/models/vit.js';

const root = mkdtempSync(join(tmpdir(), 'heed-onnx-'));
const quiet = { progress: 'none' as const, print: () => {} };
const dirs = { g2p: join(root, 'g2p'), spam: join(root, 'spam'), digits: join(root, 'digits') };

/** A session on one thread (the machine is shared), all graph optimizations. */
const session = (path: string) => ort.InferenceSession.create(path, { intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
const int32 = (t: Tensor) => new ort.Tensor('int32', t.data as Int32Array, t.shape);

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

async function exportDir(dir: string, out?: string): Promise<string> {
  const lines: string[] = [];
  const log = console.log;
  console.log = (...a: unknown[]) => void lines.push(a.join(' '));
  try {
    const code = await main(['export', 'onnx', dir, ...(out ? ['--out', out] : [])]);
    assert.equal(code, 0, lines.join('\n'));
  } finally {
    console.log = log;
  }
  return lines.join('\n');
}

before(async () => {
  // Short seeded trainings: enough for weights far from their init, and a g2p model whose greedy
  // output is a pronunciation rather than noise (about 40 s in all on a loaded 2-core machine).
  const g2p = resolveTaskConfig(G2P_TASK.spec, { dModel: 32, numHeads: 2, numEncoderLayers: 2, numDecoderLayers: 2, dimFeedforward: 64, dropout: 0, lr: 3e-3,
    maxSteps: 300, warmupSteps: 20, evalEvery: 0, evalWords: 8, maxTokens: 600 });
  await G2P_TASK.train(g2p as never, { out: dirs.g2p, runId: 'onnx', ...quiet });
  const spam = resolveTaskConfig(SPAM_TASK.spec, { dModel: 32, numHeads: 2, numLayers: 2, dimFeedforward: 64, maxSteps: 20, evalEvery: 0, warmupSteps: 2, vocabSize: 2000, maxLen: 64 });
  await SPAM_TASK.train(spam as never, { out: dirs.spam, runId: 'onnx', ...quiet });
  const digits = resolveTaskConfig(DIGITS_TASK.spec, { dModel: 32, numLayers: 2, dimFeedforward: 64, maxSteps: 30, evalEvery: 0, warmupSteps: 2 });
  await DIGITS_TASK.train(digits as never, { out: dirs.digits, runId: 'onnx', ...quiet });
});

test('spam: the exported classifier equals heed on a padded batch of real SpamAssassin mails', async () => {
  const printed = await exportDir(dirs.spam);
  assert.match(printed, /model\.onnx\tEncoderClassifier model, \d+ bytes, opset 17/);
  assert.match(printed, /inputs: {2}input_ids int32\[batch, sequence\]/);
  const { model } = await loadTaskModel(dirs.spam) as { model: EncoderClassifier };
  const vocab = Vocab.load(join(dirs.spam, readModelConfig(dirs.spam).files.vocab));
  const mails = (await loadSpamAssassin()).test.slice(0, 12);
  // Mails of very different lengths, so most rows of the batch are padded.
  const ids = mails.map((m, i) => vocab.encode(mailWords(m.text, 3 + i * 5, 'headTail'), { unknown: 'unk' }));
  const p = padSequences(ids);
  const x = new Tensor(p.data, p.shape);
  assert.ok(ids.some((s) => s.length < p.shape[1]), 'the batch holds padding');
  const s = await session(join(dirs.spam, 'model.onnx'));
  const r = await s.run({ input_ids: int32(x) });
  const expected = noGrad(() => model.forward(x)); // (B, 2)
  assert.deepEqual(r.logits.dims, [12, 2]);
  assert.ok(maxAbsDiff(r.logits.data as Float32Array, expected.data) < 1e-4);
  // One mail alone gives the same logits as in the padded batch (padding is masked in the graph too).
  const one = await s.run({ input_ids: new ort.Tensor('int32', ids[0], [1, ids[0].length]) });
  assert.ok(maxAbsDiff(one.logits.data as Float32Array, (r.logits.data as Float32Array).subarray(0, 2)) < 1e-4);
});

test('digits: the exported ViT equals heed on real UCI digit images', async () => {
  await exportDir(dirs.digits, join(root, 'vit.onnx'));
  const { model } = await loadTaskModel(dirs.digits) as { model: ViT };
  const test = loadDigits().test;
  const B = 25;
  const x = new Tensor(test.images.slice(0, B * 64), [B, 1, 8, 8]); // values in [0, 1], as the task feeds them
  const s = await session(join(root, 'vit.onnx'));
  const r = await s.run({ pixel_values: new ort.Tensor('float32', x.data as Float32Array, x.shape) });
  assert.ok(maxAbsDiff(r.logits.data as Float32Array, noGrad(() => model.forward(x)).data) < 1e-4);
});

test('g2p: a greedy loop over the encoder and decoder-step graphs (past key/values) reproduces heed\'s greedy output on CMUdict words', async () => {
  const printed = await exportDir(dirs.g2p, join(root, 'g2p.onnx'));
  assert.match(printed, /g2p\.encoder\.onnx/);
  assert.match(printed, /g2p\.decoder\.onnx/);
  const { model } = await loadTaskModel(dirs.g2p) as { model: Seq2SeqTransformer };
  const files = readModelConfig(dirs.g2p).files;
  const src = Vocab.load(join(dirs.g2p, files.srcVocab)), tgt = Vocab.load(join(dirs.g2p, files.tgtVocab));
  const words = loadCmudict().valid.words.slice(0, 40).map((w) => w.word);
  const p = padSequences(words.map((w) => src.encode(w)));
  const x = new Tensor(p.data, p.shape); // (B, S), padded
  const B = words.length, maxLen = 30;
  const heed = model.greedyDecode(x, { bos: BOS_ID, eos: EOS_ID, maxLen });

  const enc = await session(join(root, 'g2p.encoder.onnx'));
  const dec = await session(join(root, 'g2p.decoder.onnx'));
  const e = await enc.run({ src_ids: int32(x) });
  assert.ok(maxAbsDiff(e.memory.data as Float32Array, noGrad(() => model.encode(x).memory).data) < 1e-4);
  const L = model.config.numDecoderLayers, H = model.config.numHeads, hd = model.config.dModel / H;
  const empty = new ort.Tensor('float32', new Float32Array(0), [B, H, 0, hd]);
  const feeds: Record<string, ort.Tensor> = { memory_key_padding_mask: e.memory_key_padding_mask };
  for (let i = 0; i < L; i++) {
    Object.assign(feeds, { [`cross_key_${i}`]: e[`cross_key_${i}`], [`cross_value_${i}`]: e[`cross_value_${i}`], [`past_key_${i}`]: empty, [`past_value_${i}`]: empty });
  }
  // The generation loop a user of the exported graphs writes: feed the last token, keep the cache.
  const tokens: number[][] = words.map(() => []);
  const done = new Array<boolean>(B).fill(false);
  let last = new Int32Array(B).fill(BOS_ID);
  let worstStep = 0;
  const caches = model.decoder.makeCache();
  const { memory, srcPad } = noGrad(() => model.encode(x));
  for (let t = 0; t < maxLen && done.some((d) => !d); t++) {
    const input = new Tensor(Int32Array.from(last), [B, 1]);
    const r = await dec.run({ ...feeds, input_ids: int32(input) });
    const logp = r.log_probs.data as Float32Array; // (B, 1, V)
    worstStep = Math.max(worstStep, maxAbsDiff(logp, noGrad(() => model.decodeStep(input, memory, srcPad, caches, t)).data));
    const V = r.log_probs.dims[2];
    last = last.map((_, b) => {
      if (done[b]) return EOS_ID;
      let best = 0;
      for (let v = 1; v < V; v++) if (logp[b * V + v] > logp[b * V + best]) best = v;
      if (best === EOS_ID) done[b] = true; else tokens[b].push(best);
      return best;
    });
    for (let i = 0; i < L; i++) Object.assign(feeds, { [`past_key_${i}`]: r[`present_key_${i}`], [`past_value_${i}`]: r[`present_value_${i}`] });
  }
  assert.ok(worstStep < 1e-4, `log-probabilities differ by ${worstStep}`);
  assert.deepEqual(tokens, heed.tokens);
  const phonemes = tokens.map((t) => tgt.decode(t).join(' '));
  assert.ok(phonemes.filter((s) => s.length > 0).length > B / 2, phonemes.join(' | ')); // the model really speaks
});

test('heed export onnx never overwrites: a second export to the same file fails and leaves it intact', async () => {
  const out = join(root, 'twice.onnx');
  await exportDir(dirs.spam, out);
  const before = readFileSync(out);
  const errs: string[] = [];
  const error = console.error;
  console.error = (...a: unknown[]) => void errs.push(a.join(' '));
  try {
    assert.equal(await main(['export', 'onnx', dirs.spam, '--out', out]), 1);
    assert.equal(await main(['export', 'tflite', dirs.spam]), 1);
    assert.equal(await main(['export', 'onnx', join(root, 'missing')]), 1);
  } finally {
    console.error = error;
  }
  assert.match(errs[0], /already exist.*does not overwrite/);
  assert.match(errs[1], /format 'tflite', expected one of onnx/);
  assert.match(errs[2], /missing/);
  assert.deepEqual(readFileSync(out), before);
  assert.ok(!existsSync(`${out}.tmp-${process.pid}`));
});

test('distilling from a teacher of another task or another vocabulary is a clear error, and writes no student', async () => {
  const base = { dModel: 16, numHeads: 2, numLayers: 1, dimFeedforward: 32, maxSteps: 2, evalEvery: 0, warmupSteps: 1, maxLen: 64 };
  const fromG2p = join(root, 'student-of-g2p');
  const c1 = resolveTaskConfig(SPAM_TASK.spec, { ...base, vocabSize: 2000, distillFrom: dirs.g2p });
  await assert.rejects(SPAM_TASK.train(c1 as never, { out: fromG2p, runId: 'd', ...quiet }), /this is a 'g2p' model, expected a 'spam' model/);
  assert.ok(!existsSync(join(fromG2p, 'config.json')));
  const otherVocab = join(root, 'student-other-vocab');
  const c2 = resolveTaskConfig(SPAM_TASK.spec, { ...base, vocabSize: 500, distillFrom: dirs.spam });
  await assert.rejects(SPAM_TASK.train(c2 as never, { out: otherVocab, runId: 'd', ...quiet }), /the teacher's word vocabulary \(\d+ tokens\) differs from the student's.*Fix/);
  assert.ok(!existsSync(join(otherVocab, 'config.json')));
});

test('heed compress on the trained spam, digits and g2p models: int8 + head pruning, and each copy still predicts', async () => {
  for (const [task, dir, input] of [['spam', dirs.spam, 'Subject: cheap pills now'], ['g2p', dirs.g2p, 'hello'], ['digits', dirs.digits, null]] as const) {
    const out = join(root, `${task}-compressed`);
    const lines: string[] = [];
    const log = console.log;
    console.log = (...a: unknown[]) => void lines.push(a.join(' '));
    try {
      assert.equal(await main(['compress', dir, '--out', out, '--quantize', 'int8', '--prune-heads', '1', '--weights', 'fp16']), 0, lines.join('\n'));
    } finally {
      console.log = log;
    }
    assert.match(lines.join('\n'), /\d+ heads pruned, \d+ int8 layers, float weights as float16/);
    const cfg = readModelConfig(out);
    assert.ok(cfg.compression?.prunedHeads && cfg.compression.quantized);
    if (input !== null) {
      const p = await loadPredictor(out);
      assert.ok(String(p.predict([input])[0].output).length > 0);
    }
  }
});

test('heed compress --quantize int8-static --calibrate: a digits model calibrated on validation examples, saved and reloaded; bad flags and tasks without a reader are clear errors', async () => {
  // digits only: spam's calibration reads the whole SpamAssassin corpus (minutes here); bench/quantize-static.ts measures both.
  const out = join(root, 'digits-static');
  const lines: string[] = [];
  const log = console.log;
  console.log = (...a: unknown[]) => void lines.push(a.join(' '));
  try {
    assert.equal(await main(['compress', dirs.digits, '--out', out, '--quantize', 'int8-static', '--calibrate', '40']), 0, lines.join('\n'));
  } finally {
    console.log = log;
  }
  assert.equal(readModelConfig(out).compression?.quantized?.scheme, 'static');
  // Reloaded: its layers carry the calibrated scales (not the placeholders of the replay), and it still predicts.
  const { model } = await loadTaskModel(out);
  const scales = model.namedModules().map(([, m]) => (m as { inputScale?: Tensor | null }).inputScale).filter((t) => t);
  assert.ok(scales.length > 0 && scales.every((t) => t!.data[0] > 0 && t!.data[0] !== 1), 'calibrated scales');
  const image = Array.from(loadDigits().test.images.subarray(0, 64), (v) => Math.round(v * 16));
  assert.ok(String((await loadPredictor(out)).predict([image])[0].output).length > 0);
  const bad = async (...args: string[]) => {
    const errors: string[] = [];
    const err = console.error;
    console.error = (...a: unknown[]) => void errors.push(a.join(' '));
    try { assert.notEqual(await main(['compress', ...args]), 0); } finally { console.error = err; }
    return errors.join('\n');
  };
  assert.match(await bad(dirs.spam, '--out', join(root, 'x1'), '--quantize', 'int8', '--calibrate', '8'), /--calibrate is the calibration sample of static quantization/);
  assert.match(await bad(dirs.spam, '--out', join(root, 'x2'), '--quantize', 'int8-static', '--calibrate', '0'), /--calibrate '0', expected a whole number/);
  assert.match(await bad(dirs.g2p, '--out', join(root, 'x3'), '--quantize', 'int8-static'), /spam and digits only/);
  assert.match(await bad(out, '--out', join(root, 'x4'), '--quantize', 'int8-static'), /already quantized/);
  for (const x of ['x1', 'x2', 'x3', 'x4']) assert.ok(!existsSync(join(root, x, 'config.json')), `${x}: nothing written`);
});
