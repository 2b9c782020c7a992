// Model configs: one declaration per model (config.ts), the same validation everywhere,
// one naming scheme, and checkpoints of the first version loading through the key migration.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as h from '../../src/index.ts';
import { models } from '../../src/index.ts';
import { loadCheckpoint } from '../../src/io/checkpoint.ts';
import { loadPredictor } from '../../src/tasks/index.ts';

const LEGACY = join(import.meta.dirname, '..', 'fixtures', 'models', 'legacy');
const expected = JSON.parse(readFileSync(join(LEGACY, 'expected.json'), 'utf8')) as Record<string, { input: unknown; output: unknown; alternatives?: { output: unknown; score: number }[] }[]> & { gpt: { idx: number[][]; logits: number[] } };

/** Every declared model config, with the smallest valid config for it. */
const DECLARED: [models.ModelConfig<object, never>, Record<string, unknown>][] = [
  [models.SEQ2SEQ_CONFIG as never, { srcVocabSize: 5, tgtVocabSize: 6 }],
  [models.GPT_CONFIG as never, { vocabSize: 5 }],
  [models.ENCODER_CLASSIFIER_CONFIG as never, { vocabSize: 5, numClasses: 2 }],
  [models.TOKEN_TAGGER_CONFIG as never, { vocabSize: 5, numTags: 2 }],
  [models.VIT_CONFIG as never, { numClasses: 2 }],
  [models.LSTM_SEQ2SEQ_CONFIG as never, { srcVocabSize: 5, tgtVocabSize: 6 }],
  [models.MULTIMODAL_CONFIG as never, { vocabSize: 5, numClasses: 2 }],
];

test('every model validates alike: unknown keys list the valid ones, wrong types and bad sizes name the key', () => {
  for (const [declared, required] of DECLARED) {
    const name = declared.model;
    const c = declared.resolve(required);
    assert.ok(Object.isFrozen(c), name);
    assert.deepEqual(Object.keys(c).sort(), Object.keys(declared.schema).sort(), `${name}: resolve fills every key`);
    assert.throws(() => declared.resolve({ ...required, dmodel: 8 }), (e: Error) => e instanceof h.ConfigError && e.message.startsWith(`${name}: unknown config key 'dmodel'`) && /Valid keys: /.test(e.message), name);
    const numberKey = Object.keys(declared.schema).find((k) => (declared.schema as Record<string, unknown>)[k] === 'number')!;
    assert.throws(() => declared.resolve({ ...required, [numberKey]: '8' }), (e: Error) => e instanceof h.ConfigError && new RegExp(`'${numberKey}' is "8", expected a number`).test(e.message), name);
    const sizeKey = Object.keys(required)[0];
    assert.throws(() => declared.resolve({ ...required, [sizeKey]: 2.5 }), (e: Error) => e instanceof h.ConfigError && new RegExp(`'${sizeKey}' is 2.5, expected a positive integer`).test(e.message), name);
    assert.throws(() => declared.resolve({}), (e: Error) => e instanceof h.ConfigError && /missing required key/.test(e.message), name);
    assert.throws(() => declared.load([] as never), (e: Error) => e instanceof h.ConfigError && /expected an object/.test(e.message), name);
  }
});

test('one naming scheme: every Transformer model sizes itself with dModel, numHeads and numLayers (or numEncoder/DecoderLayers)', () => {
  for (const [declared] of DECLARED) {
    const keys = Object.keys(declared.schema);
    if (declared.model === 'LstmAttentionSeq2Seq') continue; // an LSTM: embedDim, hiddenSize, numLayers (torch.nn.LSTM's names)
    assert.ok(keys.includes('dModel') && keys.includes('numHeads'), `${declared.model}: ${keys.join(', ')}`);
    assert.ok(keys.includes('numLayers') || keys.includes('numEncoderLayers'), `${declared.model}: ${keys.join(', ')}`);
    assert.ok(!keys.some((k) => /^n[A-Z]/.test(k)), `${declared.model} still has a nanoGPT-style key: ${keys.join(', ')}`);
  }
});

test('GPT: the first version\'s key names are migrated by fromConfig, rejected by the constructor with the new name', () => {
  const old = { vocabSize: 9, blockSize: 12, nLayer: 1, nHead: 2, nKvHead: 1, nEmbd: 8, tieWeights: false };
  const gpt = models.GPT.fromConfig(old);
  assert.deepEqual(gpt.toConfig(), { ...models.GPT_DEFAULTS, vocabSize: 9, maxLen: 12, numLayers: 1, numHeads: 2, numKvHeads: 1, dModel: 8, tieOutput: false });
  assert.notEqual(gpt.lmHead.weight, gpt.wte.weight);
  assert.throws(() => new models.GPT(old as never), (e: Error) => e instanceof h.ConfigError && /unknown config key 'blockSize'. It was renamed to 'maxLen'/.test(e.message));
  assert.throws(() => models.GPT.fromConfig({ vocabSize: 9, nEmbd: 8, dModel: 16 }), (e: Error) => e instanceof h.ConfigError && /both 'nEmbd' and its new name 'dModel'/.test(e.message));
  // a key named like an Object.prototype property is an unknown key, not a way around the check
  for (const key of ['__proto__', 'constructor', 'toString']) {
    const saved = JSON.parse(`{"vocabSize": 9, "${key}": {"dModel": 4096}}`) as Record<string, unknown>;
    assert.throws(() => models.GPT.fromConfig(saved), (e: Error) => e instanceof h.ConfigError && e.message.includes(`unknown config key '${key}'`), key);
  }
  // migration does not hide typos: an unknown key in a saved config is still an error
  assert.throws(() => models.GPT.fromConfig({ vocabSize: 9, nEmbed: 8 }), (e: Error) => e instanceof h.ConfigError && /'nEmbed'/.test(e.message));
});

test('a GPT checkpoint written by the first version (nEmbd, nHead, ...) loads strictly and gives the logits it gave then', async () => {
  const ck = await loadCheckpoint(join(LEGACY, 'gpt'));
  const saved = ck.config.model as Record<string, unknown>;
  assert.ok('nEmbd' in saved && 'blockSize' in saved, 'the fixture is in the old form');
  const gpt = models.GPT.fromConfig(saved).eval();
  assert.deepEqual(gpt.loadStateDict(ck.weights, { strict: true }), { missingKeys: [], unexpectedKeys: [] });
  const logits = gpt.forward(h.tensor(expected.gpt.idx, undefined, { dtype: 'int32' }));
  assert.equal(logits.size, expected.gpt.logits.length);
  expected.gpt.logits.forEach((v, i) => assert.ok(Math.abs(logits.data[i] - v) < 1e-5, `logit ${i}: ${logits.data[i]} vs ${v}`));
});

for (const task of ['digits', 'spam', 'g2p']) {
  test(`a ${task} checkpoint written by the first version loads and predicts what it predicted then`, async () => {
    const p = await loadPredictor(join(LEGACY, task));
    assert.equal(p.task, task);
    for (const want of expected[task]) {
      const got = p.predict([want.input as never], task === 'g2p' ? { nBest: 1 } : {})[0];
      assert.deepEqual(got.output, want.output, `${task} ${JSON.stringify(want.input).slice(0, 40)}`);
      for (const [i, alt] of (want.alternatives ?? []).entries()) {
        assert.equal(got.alternatives![i].output, alt.output);
        assert.ok(Math.abs(got.alternatives![i].score - alt.score) < 1e-5, `${task} alternative ${i}: ${got.alternatives![i].score} vs ${alt.score}`);
      }
    }
  });
}

test('models.TransformerTextEncoder no longer shadows the global TextEncoder', () => {
  assert.equal((models as Record<string, unknown>).TextEncoder, undefined);
  assert.equal(typeof models.TransformerTextEncoder, 'function');
  assert.equal(new TextEncoder().encode('a')[0], 97);
});
