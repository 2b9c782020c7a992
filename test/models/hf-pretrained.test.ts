/**
 * fromPretrained / savePretrained beyond parity: HF's loading rules (a base checkpoint into a
 * head model and back, newly initialized heads reported, strict mode, mismatched sizes), sharded
 * writing, 16-bit saving, and the bad inputs issue 12 lists, each a one-line typed error that
 * names the file or key and the fix.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, writeFileSync, rmSync, readdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as h from '../../src/index.ts';
import { models } from '../../src/index.ts';

const FIX = new URL('../fixtures/hf/', import.meta.url).pathname;
const quiet = { onReport: () => undefined };

/** A scratch copy of a fixture directory, edited by `edit`. */
function copyOf(name: string, edit: (dir: string) => void = () => undefined): string {
  const dir = mkdtempSync(join(tmpdir(), `heed-hf-${name}-`));
  cpSync(join(FIX, name), dir, { recursive: true });
  edit(dir);
  return dir;
}

function editConfig(dir: string, f: (c: Record<string, unknown>) => void): void {
  const path = join(dir, 'config.json');
  const c = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  f(c);
  writeFileSync(path, JSON.stringify(c));
}

test('a base checkpoint loads into a head model: the backbone and the pooler load, the classifier is newly initialized and reported', async () => {
  let r: models.PretrainedLoadReport | null = null;
  const m = await h.fromPretrained(join(FIX, 'bert_base'), { architecture: 'BertForSequenceClassification', config: { numLabels: 4 }, onReport: (x) => { r = x; } });
  assert.ok(m instanceof models.BertForSequenceClassification);
  assert.deepEqual(r!.missingKeys, ['classifier.weight', 'classifier.bias']);
  assert.deepEqual(r!.newlyInitialized, ['head.outProj.weight', 'head.outProj.bias']);
  assert.deepEqual(r!.unexpectedKeys, []);
  const base = await h.fromPretrained(join(FIX, 'bert_base'), quiet) as models.Bert;
  assert.deepEqual(m.head.dense.weight.data, base.pooler!.weight.data, "BERT's pooler is the classification head's dense layer");
  assert.deepEqual(m.backbone.encoder.layers.get(1).linear2.weight.data, base.backbone.encoder.layers.get(1).linear2.weight.data);
  const ids = h.tensor([[2, 5, 7]], [1, 3], { dtype: 'int32' });
  assert.deepEqual(m.forward(ids).shape, [1, 4]);
});

test('a head checkpoint loads into the base model: the head weights are reported unexpected and the pooler newly initialized', async () => {
  let r: models.PretrainedLoadReport | null = null;
  const m = await h.fromPretrained(join(FIX, 'bert_mlm'), { architecture: 'BertModel', onReport: (x) => { r = x; } });
  assert.ok(m instanceof models.Bert);
  assert.deepEqual(r!.unexpectedKeys.sort(), ['cls.predictions.bias', 'cls.predictions.transform.LayerNorm.bias', 'cls.predictions.transform.LayerNorm.weight',
    'cls.predictions.transform.dense.bias', 'cls.predictions.transform.dense.weight']);
  assert.deepEqual(r!.missingKeys, ['pooler.dense.weight', 'pooler.dense.bias']);
  await assert.rejects(h.fromPretrained(join(FIX, 'bert_mlm'), { architecture: 'BertModel', strict: true }),
    (e: Error) => e instanceof h.CheckpointError && /Missing: \[pooler\.dense\.weight, pooler\.dense\.bias\]/.test(e.message) && /Unexpected: \[cls\./.test(e.message));
});

test('tied embeddings stay tied: the MLM decoder and GPT-2 lm_head share the embedding, and are saved once', async () => {
  const mlm = await h.fromPretrained(join(FIX, 'bert_mlm'), quiet) as models.BertForMaskedLM;
  assert.equal(mlm.lmHead.decoder.weight, mlm.backbone.tokEmbed.weight);
  const gpt = await h.fromPretrained(join(FIX, 'gpt2_lm'), quiet) as models.GPT;
  assert.equal(gpt.lmHead.weight, gpt.wte.weight);
  const out = mkdtempSync(join(tmpdir(), 'heed-hf-tied-'));
  try {
    await h.savePretrained(gpt, out, { overwrite: true });
    const st = await h.readSafetensors(join(out, 'model.safetensors'));
    assert.ok(Object.hasOwn(st.tensors, 'transformer.wte.weight'));
    assert.ok(!Object.hasOwn(st.tensors, 'lm_head.weight'), 'HF does not save a tied lm_head');
    assert.deepEqual(st.tensors['transformer.h.0.attn.c_attn.weight'].shape, [16, 48], 'Conv1D weights are written (in, out)');
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('savePretrained shards above maxShardBytes and writes 16-bit weights on request; both load back', async () => {
  const m = await h.fromPretrained(join(FIX, 'vit'), quiet) as models.ViT;
  const out = mkdtempSync(join(tmpdir(), 'heed-hf-shard-'));
  try {
    const files = await h.savePretrained(m, out, { maxShardBytes: 4096, overwrite: true });
    assert.ok(files.includes('model.safetensors.index.json') && files.filter((f) => /^model-\d{5}-of-\d{5}\.safetensors$/.test(f)).length > 2, files.join(', '));
    const back = await h.fromPretrained(out, { strict: true }) as models.ViT;
    assert.deepEqual(back.head.weight.data, m.head.weight.data);
    await h.savePretrained(m, out, { dtype: 'BF16', overwrite: true });
    assert.ok(!existsSync(join(out, 'model.safetensors.index.json')), 'the old shards are gone');
    const st = await h.readSafetensors(join(out, 'model.safetensors'));
    assert.equal(st.tensors['classifier.weight'].dtype, 'BF16');
    const b16 = await h.fromPretrained(out, { strict: true }) as models.ViT;
    for (let i = 0; i < m.head.weight.size; i++) assert.ok(Math.abs(b16.head.weight.data[i] - m.head.weight.data[i]) <= Math.abs(m.head.weight.data[i]) / 128);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('bad input: an unknown model_type, an unknown architecture and a mismatched pair are ConfigErrors naming config.json', async () => {
  const dir = copyOf('bert_mlm', (d) => editConfig(d, (c) => { c.model_type = 'llama'; }));
  await assert.rejects(h.fromPretrained(dir, quiet), (e: Error) => e instanceof h.ConfigError && /config\.json: model_type 'llama' is not supported/.test(e.message) && /'gpt2'/.test(e.message));
  editConfig(dir, (c) => { c.model_type = 'bert'; c.architectures = ['BertForQuestionAnswering']; });
  await assert.rejects(h.fromPretrained(dir, quiet), (e: Error) => e instanceof h.ConfigError && /architecture 'BertForQuestionAnswering' is not supported/.test(e.message) && /BertForMaskedLM/.test(e.message));
  editConfig(dir, (c) => { c.architectures = ['GPT2LMHeadModel']; });
  await assert.rejects(h.fromPretrained(dir, quiet), (e: Error) => e instanceof h.ConfigError && /'GPT2LMHeadModel' is a 'gpt2' model but model_type is 'bert'/.test(e.message));
  editConfig(dir, (c) => { c.architectures = ['BertForMaskedLM']; c.hidden_act = 'swish'; });
  await assert.rejects(h.fromPretrained(dir, quiet), (e: Error) => e instanceof h.ConfigError && /key 'hidden_act' is "swish"; heed supports 'gelu'/.test(e.message));
  rmSync(dir, { recursive: true, force: true });
});

test('bad input: a config whose sizes disagree with the weights is a CheckpointError naming the file, the key and both shapes; ignoreMismatchedSizes reinitialises it', async () => {
  const dir = copyOf('distilbert_seqcls', (d) => editConfig(d, (c) => { c.hidden_dim = 48; }));
  await assert.rejects(h.fromPretrained(dir, quiet), (e: Error) => e instanceof h.CheckpointError
    && /model\.safetensors: tensor 'distilbert\.transformer\.layer\.0\.ffn\.lin1\.bias' has shape \[32\], but config\.json makes DistilBertForSequenceClassification's backbone\.encoder\.layers\.0\.linear1\.bias \[48\]/.test(e.message)
    && /ignoreMismatchedSizes/.test(e.message));
  let r: models.PretrainedLoadReport | null = null;
  await h.fromPretrained(dir, { onReport: (x) => { r = x; }, ignoreMismatchedSizes: true });
  assert.equal(r!.mismatchedKeys.length, 6); // lin1 weight and bias, lin2 weight, in each of 2 layers (lin2's bias is D)
  rmSync(dir, { recursive: true, force: true });
});

test('bad input: a sharded index naming a missing file is a CheckpointError naming the index and the shard', async () => {
  const dir = copyOf('gpt2_sharded', (d) => rmSync(join(d, 'model-00002-of-00003.safetensors')));
  await assert.rejects(h.fromPretrained(dir, quiet), (e: Error) => e instanceof h.CheckpointError
    && /model\.safetensors\.index\.json: names shard 'model-00002-of-00003\.safetensors'/.test(e.message) && /missing/.test(e.message));
  writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify({ weight_map: { 'transformer.wte.weight': '../../etc/passwd' } }));
  await assert.rejects(h.fromPretrained(dir, quiet), (e: Error) => e instanceof h.CheckpointError && /expected a plain file name/.test(e.message));
  rmSync(dir, { recursive: true, force: true });
});

test('bad input: a directory of PyTorch pickles only is refused, never unpickled', async () => {
  const dir = copyOf('bert_mlm', (d) => { rmSync(join(d, 'model.safetensors')); writeFileSync(join(d, 'pytorch_model.bin'), 'not read'); });
  await assert.rejects(h.fromPretrained(dir, quiet), (e: Error) => e instanceof h.CheckpointError && /never loads pickles/.test(e.message));
  rmSync(dir, { recursive: true, force: true });
  await assert.rejects(h.fromPretrained(join(FIX, 'nope'), quiet), (e: Error) => e instanceof h.CheckpointError && /is not a directory/.test(e.message));
});

test('savePretrained refuses a non-empty directory without overwrite, and a model with no HF layout', async () => {
  const m = await h.fromPretrained(join(FIX, 'bert_tokcls'), quiet);
  const dir = copyOf('bert_tokcls');
  await assert.rejects(h.savePretrained(m, dir), (e: Error) => e instanceof h.CheckpointError && /is not empty/.test(e.message));
  assert.ok(readdirSync(dir).includes('io.json'), 'nothing was deleted');
  rmSync(dir, { recursive: true, force: true });
  const gpt = new models.GPT({ vocabSize: 10, maxLen: 8, numLayers: 1, numHeads: 2, dModel: 8 });
  await assert.rejects(h.savePretrained(gpt, join(tmpdir(), 'never-written')), (e: Error) => e instanceof h.ConfigError && /packedQkv: true/.test(e.message));
  await assert.rejects(h.savePretrained(new models.TokenTagger({ vocabSize: 10, numTags: 3 }), join(tmpdir(), 'never-written')),
    (e: Error) => e instanceof h.ConfigError && /TokenTagger has no Hugging Face layout/.test(e.message));
});

test('a heed-built BERT saves as an HF directory and loads back as the same architecture', async () => {
  const m = new models.BertForTokenClassification({ vocabSize: 30, numLabels: 5, dModel: 8, numHeads: 2, numLayers: 1, dimFeedforward: 16, maxLen: 12, modelType: 'roberta', positions: 'offset', padId: 1, typeVocabSize: 1, layerNormEps: 1e-5 });
  const out = mkdtempSync(join(tmpdir(), 'heed-hf-new-'));
  try {
    await h.savePretrained(m, out, { overwrite: true });
    const cfg = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')) as Record<string, unknown>;
    assert.deepEqual(cfg.architectures, ['RobertaForTokenClassification']);
    assert.equal(cfg.pad_token_id, 1);
    const back = await h.fromPretrained(out, { strict: true }) as models.BertForTokenClassification;
    assert.deepEqual(back.config, m.config);
    const ids = h.tensor([[0, 4, 9, 1]], [1, 4], { dtype: 'int32' });
    assert.deepEqual(back.forward(ids).data, m.eval().forward(ids).data);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('every parameter of every supported architecture has exactly one HF name, which maps back (the table PEFT uses)', async () => {
  const fixtureOf: Record<string, string> = { bert: 'bert_mlm', roberta: 'roberta_mlm', distilbert: 'distilbert_mlm', gpt2: 'gpt2_lm', vit: 'vit' };
  for (const arch of h.HF_ARCHITECTURES.values()) {
    const m = await h.fromPretrained(join(FIX, fixtureOf[arch.modelType]), { architecture: arch.name, ...quiet });
    // GPT2Model loads into heed's GPT, whose lm_head is tied to wte, so it saves as GPT2LMHeadModel
    assert.equal(models.hfArchitectureOfModel(m).name, arch.name === 'GPT2Model' ? 'GPT2LMHeadModel' : arch.name, `${arch.name}: saved as another architecture`);
    const seen = new Map<string, string>();
    for (const [name] of m.namedParameters()) {
      const hf = h.heedToHf(arch.nameMap, name);
      assert.ok(hf, `${arch.name}: ${name} has no HF name`);
      assert.equal(h.hfToHeed(arch.nameMap, hf.name)?.name, name);
      assert.ok(!seen.has(hf.name), `${arch.name}: ${name} and ${seen.get(hf.name)} both map to ${hf.name}`);
      seen.set(hf.name, name);
    }
  }
});

test("GPT-2's causal-mask buffers that older checkpoints saved (attn.bias, attn.masked_bias) are skipped silently; other strangers are reported", async () => {
  const dir = copyOf('gpt2_lm');
  try {
    const path = join(dir, 'model.safetensors');
    const st = await h.readSafetensors(path);
    const tensors = { ...st.tensors };
    tensors['transformer.h.0.attn.bias'] = { dtype: 'F32', shape: [1, 1, 2, 2], data: new Float32Array([1, 0, 1, 1]) };
    tensors['transformer.h.1.attn.masked_bias'] = { dtype: 'F32', shape: [], data: new Float32Array([-1e4]) };
    tensors['transformer.h.0.attn.c_attnX.weight'] = { dtype: 'F32', shape: [1], data: new Float32Array([0]) };
    rmSync(path);
    await h.writeSafetensors(path, tensors);
    let r: models.PretrainedLoadReport | null = null;
    await h.fromPretrained(dir, { onReport: (x) => { r = x; } });
    assert.deepEqual(r!.unexpectedKeys, ['transformer.h.0.attn.c_attnX.weight']);
    assert.deepEqual(r!.missingKeys, []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('LayerNorm gamma / beta keys of TensorFlow-era BERT checkpoints load as weight / bias, as transformers renames them', async () => {
  const dir = copyOf('bert_tokcls');
  try {
    const path = join(dir, 'model.safetensors');
    const st = await h.readSafetensors(path);
    const tensors = Object.fromEntries(Object.entries(st.tensors).map(([k, t]) => [k.replace(/LayerNorm\.weight$/, 'LayerNorm.gamma').replace(/LayerNorm\.bias$/, 'LayerNorm.beta'), t]));
    assert.ok(Object.hasOwn(tensors, 'bert.embeddings.LayerNorm.gamma'));
    rmSync(path);
    await h.writeSafetensors(path, tensors);
    const m = await h.fromPretrained(dir, { strict: true }) as models.BertForTokenClassification;
    const ref = await h.fromPretrained(join(FIX, 'bert_tokcls'), { strict: true }) as models.BertForTokenClassification;
    assert.deepEqual(m.backbone.embedNorm!.weight!.data, ref.backbone.embedNorm!.weight!.data);
    assert.deepEqual(m.backbone.encoder.layers.get(1).norm2.bias!.data, ref.backbone.encoder.layers.get(1).norm2.bias!.data);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
