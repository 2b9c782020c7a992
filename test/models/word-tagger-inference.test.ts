/**
 * WordTagger's inference fast paths (src/models/word-tagger.ts) against the module path they
 * replace, ≤ 1e-5: the character n-gram mix read as compressed rows (WordBatch.ngramRows, what the
 * tag predictor encodes) instead of the dense (B·T, U) product, the encoder on the fused path
 * (fused-encoder.ts), both inside inferenceMode's pooled buffers; and a trained tag directory's
 * predictions unchanged with the fused encoder turned off.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as h from '../../src/index.ts';
import { WordTagger, denseNgramMix } from '../../src/models/word-tagger.ts';
import { setFusedEncoderEnabled } from '../../src/models/fused-encoder.ts';
import { inferenceMode } from '../../src/autograd/inference.ts';
import { TAG_DEFAULTS, TAG_TASK, encodeSentences, type TagConfig } from '../../src/tasks/tag-template.ts';
import { loadPredictor } from '../../src/tasks/index.ts';
import { conll } from '../tasks/ner-sentences.ts';
import { maxDiff } from '../tensors.ts';

const labels = ['O', 'B-LOC', 'I-LOC', 'B-PER', 'I-PER'];
const config = { ...TAG_DEFAULTS, charBuckets: 64 } as TagConfig;
const sentences = [['Alice', 'flew', 'to', 'Paris', 'on', 'Monday'], ['Bob', '#oslo'], ['@smith', 'visited', 'http://x.org', 'in', '2017', '!', 'Zürich']];
const index = new Map([['alice', 2], ['flew', 3], ['to', 4], ['paris', 5]]);

function tagger(): WordTagger {
  h.manualSeed(7);
  const m = new WordTagger({ vocabSize: 8, numTags: labels.length, labels, scheme: 'BIO', dModel: 24, numHeads: 3, numLayers: 2, dimFeedforward: 40, dropout: 0, maxLen: 16, charBuckets: 64, crf: true });
  // Non-trivial norm parameters, so that a norm read from the wrong place shows.
  for (const [, p] of m.namedParameters()) if (p.ndim === 1) p.data.set(h.randn([p.size]).data as Float32Array);
  return m.eval();
}

test('encodeSentences sparse: the compressed n-gram rows are the dense mix without its zeros', () => {
  const dense = encodeSentences(sentences, index, config);
  const sparse = encodeSentences(sentences, index, config, { sparse: true });
  assert.equal(sparse.ngramMix, null);
  assert.ok(sparse.ngramRows);
  assert.deepEqual(Array.from(sparse.ngrams!.data), Array.from(dense.ngrams!.data));
  assert.deepEqual(Array.from(sparse.words.data), Array.from(dense.words.data));
  assert.deepEqual(Array.from(sparse.shapes.data), Array.from(dense.shapes.data));
  const rebuilt = denseNgramMix(sparse.ngramRows!, sparse.ngrams!.shape[0]);
  assert.deepEqual(rebuilt.shape, dense.ngramMix!.shape);
  assert.deepEqual(Array.from(rebuilt.data), Array.from(dense.ngramMix!.data));
  // Padding words have no n-grams.
  const T = sparse.words.shape[1], o = sparse.ngramRows!.offsets;
  assert.equal(o[1 * T + 2] - o[1 * T + 3], 0);
});

test('WordTagger inference fast paths equal the module path with the dense mix (≤ 1e-5): compressed rows, fused encoder, inferenceMode', () => {
  const m = tagger();
  const dense = encodeSentences(sentences, index, config);
  const sparse = encodeSentences(sentences, index, config, { sparse: true });
  const was = setFusedEncoderEnabled(false);
  let reference: h.Tensor;
  try {
    reference = h.noGrad(() => m.forward(dense)); // (B, T, K): module path, dense n-gram product
  } finally {
    setFusedEncoderEnabled(was);
  }
  const fast = h.noGrad(() => m.forward(sparse));
  assert.ok(maxDiff(reference, fast) <= 1e-5, `compressed rows + fused encoder differ by ${maxDiff(reference, fast)}`);
  // Pooled buffers, twice (the second call reuses the first call's): same values.
  for (let i = 0; i < 2; i++) {
    const pooled = inferenceMode(() => m.forward(sparse), m);
    assert.ok(maxDiff(reference, pooled) <= 1e-5);
  }
  // With gradients the compressed rows are expanded to the dense product (differentiable).
  const withGrad = m.forward(sparse);
  assert.ok(maxDiff(reference, withGrad) <= 1e-5);
  h.sum(withGrad).backward();
  assert.ok((m.ngramEmbed!.weight.grad!.data as Float32Array).some((v) => v !== 0));
});

test('a trained tag directory predicts the same tags with the fused encoder on and off', async () => {
  const root = mkdtempSync(join(tmpdir(), 'heed-tag-fast-'));
  const train = join(root, 'train.conll');
  writeFileSync(train, conll(40));
  const out = join(root, 'run');
  await TAG_TASK.train({ train, maxSteps: 3, batchSize: 8, warmupSteps: 1, evalEvery: 0, charBuckets: 64, dModel: 16, numHeads: 2, numLayers: 2, dimFeedforward: 32, maxLen: 12, dropout: 0 },
    { out, runId: 't', progress: 'none', print: () => undefined });
  const p = await loadPredictor(out);
  const inputs = ['Alice flew to Paris', 'Bob Smith went to Oslo on Monday with Alice and Bob and Carol', ['Zed']];
  const fused = p.predict(inputs).map((r) => r.output);
  const was = setFusedEncoderEnabled(false);
  try {
    assert.deepEqual(p.predict(inputs).map((r) => r.output), fused);
  } finally {
    setFusedEncoderEnabled(was);
  }
  assert.throws(() => p.predict([42]), h.ValueError);
  assert.throws(() => p.predict(['   ']), h.ValueError);
});
