/**
 * Adapters over a model fromPretrained built are saved under Hugging Face module names, the file
 * HF peft writes for the PyTorch model (base_model.model.bert.encoder.layer.0.attention.self.query.lora_A.weight),
 * and load back; a file peft wrote (short target names, no key_names) loads too; GPT-2's Conv1D
 * targets set fan_in_fan_out; an HF adapter for another architecture is a CheckpointError.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as h from '../../src/index.ts';
import { peft } from '../../src/index.ts';
import { maxDiff } from '../tensors.ts';

const FIX = join(import.meta.dirname, '..', 'fixtures', 'hf');
const quiet = { onReport: () => {} };

function ids(): { x: h.Tensor; mask: h.Tensor } {
  return {
    x: new h.Tensor(Int32Array.from([2, 22, 27, 8, 25, 10, 12, 2, 14, 30, 6, 0, 0, 0]), [2, 7]),
    mask: new h.Tensor(Int32Array.from([1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0]), [2, 7]),
  };
}

function perturb(p: peft.PeftModel): void {
  for (const t of Object.values(p.stateDict())) for (let i = 0; i < t.size; i++) t.data[i] += Math.sin(3 * i + t.size) * 0.1;
}

async function seqcls(): Promise<h.models.BertForSequenceClassification> {
  return (await h.fromPretrained(join(FIX, 'bert_seqcls'), quiet)) as h.models.BertForSequenceClassification;
}

test('a LoRA adapter of a fromPretrained BERT is saved under HF names, as peft writes it, and loads back exactly', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'heed-peft-hf-'));
  try {
    const m = await seqcls();
    const p = peft.getPeftModel(m, { peftType: 'LORA', r: 2, loraAlpha: 4, targetModules: ['qProj', 'vProj', 'tokEmbed'], modulesToSave: ['head'], rankPattern: { tokEmbed: 1 } });
    perturb(p);
    p.eval();
    const { x, mask } = ids();
    const out = m.forward(x, { attentionMask: mask });
    await peft.savePeftAdapter(dir, p, { baseModelNameOrPath: 'bert_seqcls', taskType: 'SEQ_CLS' });
    const cfg = JSON.parse(readFileSync(join(dir, 'adapter_config.json'), 'utf8'));
    assert.equal(cfg.key_names, 'hf');
    assert.deepEqual(cfg.auto_mapping, { base_model_class: 'BertForSequenceClassification', parent_library: 'transformers' });
    assert.ok(cfg.target_modules.includes('bert.encoder.layer.1.attention.self.value'), JSON.stringify(cfg.target_modules));
    assert.ok(cfg.target_modules.includes('bert.embeddings.word_embeddings'));
    assert.deepEqual(cfg.modules_to_save.sort(), ['bert.pooler.dense', 'classifier'], 'heed\'s head is HF\'s pooler + classifier');
    assert.deepEqual(cfg.rank_pattern, { 'bert.embeddings.word_embeddings': 1 });
    assert.equal(cfg.fan_in_fan_out, false);
    const st = await h.readSafetensors(join(dir, 'adapter_model.safetensors'));
    const keys = Object.keys(st.tensors);
    for (const k of ['base_model.model.bert.encoder.layer.0.attention.self.query.lora_A.weight', 'base_model.model.bert.encoder.layer.0.attention.self.query.lora_B.weight',
      'base_model.model.bert.embeddings.word_embeddings.lora_embedding_A', 'base_model.model.classifier.weight', 'base_model.model.bert.pooler.dense.bias']) {
      assert.ok(keys.includes(k), `${k} in ${keys.join(', ')}`);
    }
    assert.ok(!keys.some((k) => /backbone|qProj|loraA/.test(k)), 'no heed names');
    const again = await seqcls();
    await peft.loadPeftAdapter(again, dir);
    again.eval();
    assert.equal(maxDiff(again.forward(x, { attentionMask: mask }), out), 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a file as peft writes it (short target names, no key_names, auto_mapping null) loads onto the fromPretrained model', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'heed-peft-hf-'));
  try {
    const m = await seqcls();
    const p = peft.getPeftModel(m, { peftType: 'LORA', r: 2, loraAlpha: 4, targetModules: ['qProj', 'vProj'], modulesToSave: ['head'] });
    perturb(p);
    p.eval();
    const { x, mask } = ids();
    const out = m.forward(x, { attentionMask: mask });
    await peft.savePeftAdapter(dir, p);
    const cfg = JSON.parse(readFileSync(join(dir, 'adapter_config.json'), 'utf8'));
    const peftCfg = { ...cfg, target_modules: ['query', 'value'], modules_to_save: ['classifier', 'pooler', 'score'], auto_mapping: null };
    for (const k of ['key_names', 'base_model_sha256', 'heed_version']) delete peftCfg[k];
    writeFileSync(join(dir, 'adapter_config.json'), JSON.stringify(peftCfg));
    const again = await seqcls();
    const loaded = await peft.loadPeftAdapter(again, dir);
    assert.equal(loaded.loraModules().length, 4, 'query and value of 2 layers');
    again.eval();
    assert.equal(maxDiff(again.forward(x, { attentionMask: mask }), out), 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('GPT-2: LoRA on c_attn is saved under transformer.h.N.attn.c_attn with fan_in_fan_out', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'heed-peft-hf-'));
  try {
    const m = await h.fromPretrained(join(FIX, 'gpt2_lm'), quiet);
    const p = peft.getPeftModel(m, { peftType: 'LORA', r: 2, loraAlpha: 4, targetModules: ['inProj'] });
    perturb(p);
    await peft.savePeftAdapter(dir, p);
    const cfg = JSON.parse(readFileSync(join(dir, 'adapter_config.json'), 'utf8'));
    assert.equal(cfg.fan_in_fan_out, true);
    assert.ok(cfg.target_modules.every((t: string) => /^transformer\.h\.\d+\.attn\.c_attn$/.test(t)), JSON.stringify(cfg.target_modules));
    const st = await h.readSafetensors(join(dir, 'adapter_model.safetensors'));
    assert.ok('base_model.model.transformer.h.0.attn.c_attn.lora_A.weight' in st.tensors);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bad input: an HF-named adapter made for another architecture is a CheckpointError naming the file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'heed-peft-hf-'));
  try {
    const gpt = await h.fromPretrained(join(FIX, 'gpt2_lm'), quiet);
    await peft.savePeftAdapter(dir, peft.getPeftModel(gpt, { peftType: 'LORA', r: 2, targetModules: ['inProj'] }));
    await assert.rejects(peft.loadPeftAdapter(await seqcls(), dir), (e: Error) => {
      assert.ok(e instanceof h.CheckpointError, String(e));
      assert.match(e.message, /adapter_config\.json/);
      assert.match(e.message, /GPT2LMHeadModel/);
      return true;
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
