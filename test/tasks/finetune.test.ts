/**
 * Transfer learning (src/tasks/finetune.ts): a classifier's backbone starts from a pretrained
 * masked LM by a key copy and only its head is reported newly initialized; freezing keeps the
 * frozen backbone out of the optimizer; gradual unfreezing opens groups from the top, as a pure
 * function of the step; discriminative rates give the backbone lr · bodyLrRatio; the masked-LM
 * batches mask what BERT masks; bad --init-from directories and flag combinations are typed errors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as h from '../../src/index.ts';
import { models } from '../../src/index.ts';
import { saveCheckpoint } from '../../src/io/checkpoint.ts';
import { Vocab } from '../../src/data/vocab.ts';
import {
  FINETUNE_DEFAULTS, checkFinetuneConfig, finetuneParamGroups, inLabelFraction, initBackbone, loadPretrained, setupFreezing, type FinetuneConfig,
} from '../../src/tasks/finetune.ts';
import { maskTokens, chunkTexts } from '../../src/tasks/mlm.ts';
import { runPretrain } from '../../src/cli/commands/pretrain.ts';
import { SPAM_TASK } from '../../src/tasks/spam.ts';
import { resolveTaskConfig } from '../../src/tasks/common.ts';
import { loadPredictor } from '../../src/tasks/index.ts';

const SIZES = { dModel: 16, numHeads: 2, numLayers: 2, dimFeedforward: 32, maxLen: 12, dropout: 0 };
const WORDS = ['the', 'cat', 'sat', 'on', 'mat', 'money', 'win', '<mask>'];

async function pretrainedDir(): Promise<{ dir: string; mlm: models.MaskedLM }> {
  const dir = mkdtempSync(join(tmpdir(), 'heed-ft-'));
  const vocab = Vocab.fromTokens(WORDS);
  h.manualSeed(2);
  const mlm = new models.MaskedLM({ vocabSize: vocab.size, ...SIZES });
  await saveCheckpoint(dir, { task: 'mlm', runId: 'r', config: { model: mlm.toConfig() }, weights: mlm.stateDict(), files: { vocab: { name: 'words.vocab.json', json: vocab.toJSON() } } });
  return { dir, mlm };
}

function classifier(vocabSize: number): models.EncoderClassifier {
  h.manualSeed(9);
  return new models.EncoderClassifier({ vocabSize, numClasses: 2, pooling: 'mean', ...SIZES });
}

const cfg = (o: Partial<FinetuneConfig> = {}) => ({ ...FINETUNE_DEFAULTS, lr: 1e-3, weightDecay: 0.01, ...o });

test('a classifier backbone starts from a pretrained masked LM by a key copy; only the head is newly initialized', async () => {
  const { dir, mlm } = await pretrainedDir();
  try {
    const pre = await loadPretrained(dir);
    assert.equal(pre.vocab.size, mlm.config.vocabSize);
    const clf = classifier(pre.vocab.size);
    const fresh = initBackbone(clf, pre);
    assert.deepEqual(fresh.sort(), ['head.bias', 'head.weight']);
    const a = clf.stateDict()['backbone.encoder.layers.1.linear2.weight'], b = mlm.stateDict()['backbone.encoder.layers.1.linear2.weight'];
    assert.deepEqual(Array.from(a.data), Array.from(b.data));
    assert.throws(() => initBackbone(classifier(pre.vocab.size + 1), pre), h.CheckpointError, 'another vocabulary size is a shape error naming the key');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('freeze encoder: the frozen backbone gets no optimizer group; gradual unfreezing opens groups from the top by step', () => {
  const clf = classifier(20);
  const c = cfg({ freeze: 'encoder', initFrom: 'x' });
  assert.equal(setupFreezing(clf, c), null);
  const names = finetuneParamGroups(clf, c).flatMap((g) => g.params.map(([n]) => n));
  assert.deepEqual(names.sort(), ['head.bias', 'head.weight']);

  const clf2 = classifier(20);
  const c2 = cfg({ freeze: 'encoder', unfreezeEvery: 10, initFrom: 'x' });
  const hook = setupFreezing(clf2, c2)!;
  const trainable = () => clf2.namedParameters().filter(([, p]) => p.requiresGrad).map(([n]) => n);
  hook(9);
  assert.ok(trainable().every((n) => n.startsWith('head.')), 'steps 0–9: the head only');
  hook(10);
  assert.ok(trainable().some((n) => n.startsWith('backbone.encoder.layers.1.')) && trainable().includes('backbone.encoder.norm.weight'));
  assert.ok(!trainable().some((n) => n.startsWith('backbone.encoder.layers.0.')), 'step 10: the top layer only');
  hook(30);
  assert.ok(trainable().includes('backbone.tokEmbed.weight'), 'step 30: everything, the embeddings last');
  hook(10);
  assert.ok(!trainable().includes('backbone.tokEmbed.weight'), 'a pure function of the step (a resumed run matches)');
  const groups = finetuneParamGroups(clf2, c2).flatMap((g) => g.params.map(([n]) => n));
  assert.ok(groups.includes('backbone.tokEmbed.weight'), 'a gradually unfrozen backbone is in the optimizer from the start');
});

test('discriminative learning rates: the backbone trains at lr · bodyLrRatio, the head at lr', () => {
  const clf = classifier(20);
  const groups = finetuneParamGroups(clf, cfg({ bodyLrRatio: 0.25 }));
  const lrOf = (name: string) => groups.find((g) => g.params.some(([n]) => n === name))!.lr;
  assert.equal(lrOf('head.weight'), 1e-3);
  assert.equal(lrOf('backbone.encoder.layers.0.selfAttn.qProj.weight'), 2.5e-4);
});

test('masked-LM batches choose about maskProb of the real tokens, never padding, and corrupt them 80/10/10', () => {
  const T = 50, B = 40;
  const ids = new Int32Array(B * T);
  for (let i = 0; i < ids.length; i++) ids[i] = i % T < 45 ? 4 + (i % 7) : 0; // 5 padding positions per row
  const b = maskTokens(new h.Tensor(ids, [B, T]), 99, 100, 0.15, new h.Generator(1));
  const M = b.positions.size;
  assert.ok(Math.abs(M / (B * 45) - 0.15) < 0.03, `masked share ${M / (B * 45)}`);
  let masks = 0;
  for (let m = 0; m < M; m++) {
    const p = (b.positions.data as Int32Array)[m];
    assert.notEqual(ids[p], 0, 'padding is never a target');
    assert.equal((b.targets.data as Int32Array)[m], ids[p], 'the target is the original token');
    if (b.ids.data[p] === 99) masks++;
  }
  assert.ok(Math.abs(masks / M - 0.8) < 0.08, `<mask> share ${masks / M}`);
  const chunks = chunkTexts([{ id: 'a', text: 'one two three four five six seven eight nine ten eleven' }], 5);
  assert.deepEqual([...chunks.train, ...chunks.valid].map((c) => c.length).sort(), [5, 5], 'a tail shorter than min(8, size) words is dropped');
});

test('labelFraction keeps a fixed, hash-chosen share of the examples', () => {
  const ids = Array.from({ length: 5000 }, (_, i) => `mail/${i}`);
  const kept = ids.filter((id) => inLabelFraction(id, 0.1));
  assert.ok(Math.abs(kept.length / ids.length - 0.1) < 0.015);
  assert.deepEqual(kept, ids.filter((id) => inLabelFraction(id, 0.1)));
  assert.equal(ids.filter((id) => inLabelFraction(id, 1)).length, 5000);
});

test('bad input: --init-from directories and flag combinations that cannot work are typed errors', async () => {
  const empty = mkdtempSync(join(tmpdir(), 'heed-ft-'));
  const hf = mkdtempSync(join(tmpdir(), 'heed-ft-'));
  try {
    await assert.rejects(loadPretrained(empty), /holds no config\.json/);
    writeFileSync(join(hf, 'config.json'), JSON.stringify({ model_type: 'bert', architectures: ['BertForMaskedLM'] }));
    await assert.rejects(loadPretrained(hf), (e: Error) => e instanceof h.ConfigError && /Hugging Face checkpoint.*loadInitSource/.test(e.message));
    mkdirSync(join(empty, 'x'));
    assert.throws(() => checkFinetuneConfig('spam', cfg({ unfreezeEvery: 5 })), /needs --freeze encoder/);
    assert.throws(() => checkFinetuneConfig('spam', cfg({ peft: 'lora' })), /--init-from/);
    assert.throws(() => checkFinetuneConfig('spam', cfg({ peft: 'lora', initFrom: 'a', freeze: 'encoder' })), /already freezes/);
    assert.throws(() => checkFinetuneConfig('spam', cfg({ labelFraction: 0 })), h.ConfigError);
    await assert.rejects(runPretrain(['bert']), /unknown objective 'bert'/);
    await assert.rejects(runPretrain([]), /missing the objective/);
  } finally {
    rmSync(empty, { recursive: true, force: true });
    rmSync(hf, { recursive: true, force: true });
  }
});

test('spam with --peft: the run directory holds the adapter only, serves over its recorded base, and refuses a changed base', async () => {
  const { dir: base } = await pretrainedDir();
  const root = mkdtempSync(join(tmpdir(), 'heed-ft-runs-'));
  const quiet = { progress: 'none' as const, print: () => {} };
  try {
    const runs: Record<string, string> = {};
    for (const peftKind of ['lora', 'adapter'] as const) {
      runs[peftKind] = join(root, peftKind);
      const c = resolveTaskConfig(SPAM_TASK.spec, { initFrom: base, peft: peftKind, maxSteps: 2, evalEvery: 0, warmupSteps: 1, batchSize: 4, labelFraction: 0.02 });
      await SPAM_TASK.train(c as never, { out: runs[peftKind], runId: 't', ...quiet });
      const weights = await h.readSafetensors(join(runs[peftKind], 'model.safetensors'));
      assert.ok(Object.keys(weights.tensors).every((k) => k.startsWith('head.') || /lora[AB]|loraEmbedding[AB]|\.adapter\./.test(k)), 'no frozen base weight in the run checkpoint');
      const cfg = JSON.parse(readFileSync(join(runs[peftKind], 'adapter_config.json'), 'utf8'));
      assert.equal(cfg.base_model_name_or_path, base);
    }
    // Two adapters over one base, as `heed serve a=runs/lora b=runs/adapter` loads them.
    for (const dir of Object.values(runs)) {
      const p = await loadPredictor(dir);
      const [r] = p.predict(['the cat win money']);
      assert.ok(r.output === 'ham' || r.output === 'spam');
    }
    // The base directory changes under the adapter: refused, naming the base it was made for.
    h.manualSeed(77);
    const other = new models.MaskedLM({ vocabSize: Vocab.fromTokens(WORDS).size, ...SIZES });
    await saveCheckpoint(base, { task: 'mlm', runId: 'r2', config: { model: other.toConfig() }, weights: other.stateDict(), files: { vocab: { name: 'words.vocab.json', json: Vocab.fromTokens(WORDS).toJSON() } } });
    await assert.rejects(loadPredictor(runs.lora), (e: Error) => e instanceof h.CheckpointError && /made for EncoderClassifier .* whose weights differ/.test(e.message));
  } finally {
    rmSync(base, { recursive: true, force: true });
    rmSync(root, { recursive: true, force: true });
  }
});
