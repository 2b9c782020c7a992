/**
 * LoRA on an embedding table (peft's lora_embedding_A / lora_embedding_B): a fresh LoraEmbedding
 * computes its base table exactly (A = 0); gradcheck for A and B and no gradient for the frozen
 * table; merge equals the unmerged wrapper; rankPattern gives the table its own rank; and the
 * adapter round-trips through peft's layout under peft's key names.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as h from '../../src/index.ts';
import { models, nn, peft } from '../../src/index.ts';
import { backward } from '../../src/autograd/engine.ts';
import { LoraEmbedding } from '../../src/train/peft/lora-embedding.ts';
import { maxDiff } from '../tensors.ts';

function ids(): h.Tensor {
  return new h.Tensor(Int32Array.from([5, 6, 7, 8, 9, 0, 11, 12, 13, 14, 15, 16]), [2, 6]); // (B, T), one padded position
}

function classifier(seed = 3): models.EncoderClassifier {
  h.manualSeed(seed);
  return new models.EncoderClassifier({ vocabSize: 40, numClasses: 3, dModel: 16, numHeads: 2, numLayers: 2, dimFeedforward: 32, maxLen: 12, dropout: 0, pooling: 'mean' });
}

const CONFIG: peft.PeftConfig = {
  peftType: 'LORA', r: 4, loraAlpha: 8, loraDropout: 0, targetModules: ['qProj', 'vProj', 'tokEmbed'], modulesToSave: ['head'],
  rankPattern: { tokEmbed: 1 }, alphaPattern: { tokEmbed: 1 },
};

test('a fresh LoraEmbedding computes its base table exactly; the padding id gets no update of A', () => {
  h.manualSeed(1);
  const e = new nn.Embedding(20, 6, { paddingIdx: 0 });
  const before = e.forward(ids());
  const l = new LoraEmbedding(e, { r: 2, alpha: 2 });
  assert.equal(maxDiff(l.forward(ids()), before), 0);
  l.loraEmbeddingA.data.fill(0.5);
  const after = l.forward(ids());
  assert.ok(maxDiff(after, before) > 0.1, 'a non-zero A changes the rows');
  backward(h.sum(after));
  const gA = l.loraEmbeddingA.grad!; // (r, V)
  for (let k = 0; k < 2; k++) {
    assert.equal(gA.data[k * 20 + 0], 0, 'the padding id\'s column of A gets no gradient (it stays 0, as the base row)');
    assert.notEqual(gA.data[k * 20 + 5], 0);
  }
});

test('gradcheck: a LoraEmbedding has correct gradients for A and B and none for its frozen table', () => {
  h.manualSeed(5);
  const e = new nn.Embedding(20, 6).to('float64');
  const l = new LoraEmbedding(e, { r: 2, alpha: 3 });
  const g = new h.Generator(9);
  for (let i = 0; i < l.loraEmbeddingA.size; i++) l.loraEmbeddingA.data[i] = g.uniform() - 0.5; // A ≠ 0, so B's gradient is not zero
  const r = h.gradcheck(() => l.forward(ids()), [l.loraEmbeddingA, l.loraEmbeddingB]); // perturbs the parameters in place
  assert.ok(r.ok, `gradcheck failed: ${JSON.stringify(r.worst)}`);
  l.zeroGrad();
  backward(h.sum(l.forward(ids())));
  assert.equal(l.weight.grad, null, 'the frozen table gets no gradient');
  assert.notEqual(l.loraEmbeddingA.grad, null);
});

test('rankPattern gives the word table its own rank; merge and mergeAndUnload keep the output', () => {
  const m = classifier();
  const p = peft.getPeftModel(m, CONFIG);
  const emb = m.backbone.tokEmbed as unknown as LoraEmbedding;
  assert.ok(emb instanceof LoraEmbedding);
  assert.deepEqual(emb.loraEmbeddingA.shape, [1, 40], 'rank 1 from rankPattern');
  assert.equal(emb.scaling, 1, 'alpha 1 from alphaPattern');
  assert.deepEqual((m.backbone.encoder.layers.get(0).selfAttn.qProj as unknown as peft.LoraLinear).loraA.weight.shape, [4, 16], 'the Linear layers keep r');
  for (const t of Object.values(p.stateDict())) for (let i = 0; i < t.size; i++) t.data[i] = Math.sin(i + t.size) * 0.3;
  p.eval();
  const out = m.forward(ids());
  assert.ok(maxDiff(out, classifier().eval().forward(ids())) > 1e-3);
  for (const [, l] of p.loraModules()) l.merge();
  assert.ok(maxDiff(m.forward(ids()), out) < 1e-5);
  for (const [, l] of p.loraModules()) l.unmerge();
  const plain = p.mergeAndUnload() as models.EncoderClassifier;
  assert.ok(plain.backbone.tokEmbed instanceof nn.Embedding);
  assert.ok(maxDiff(plain.forward(ids()), out) < 1e-5);
});

test('an embedding adapter saves under peft\'s keys (lora_embedding_A/B, rank_pattern) and loads back', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'heed-peft-emb-'));
  try {
    const m = classifier();
    const p = peft.getPeftModel(m, CONFIG);
    for (const t of Object.values(p.stateDict())) for (let i = 0; i < t.size; i++) t.data[i] = Math.cos(i) * 0.2;
    p.eval();
    const out = m.forward(ids());
    await peft.savePeftAdapter(dir, p);
    const cfg = JSON.parse(readFileSync(join(dir, 'adapter_config.json'), 'utf8'));
    assert.deepEqual(cfg.rank_pattern, { tokEmbed: 1 });
    assert.deepEqual(cfg.alpha_pattern, { tokEmbed: 1 });
    const st = await h.readSafetensors(join(dir, 'adapter_model.safetensors'));
    assert.deepEqual(st.tensors['base_model.model.backbone.tokEmbed.lora_embedding_A'].shape, [1, 40]);
    assert.deepEqual(st.tensors['base_model.model.backbone.tokEmbed.lora_embedding_B'].shape, [16, 1]);
    const again = classifier();
    await peft.loadPeftAdapter(again, dir);
    again.eval();
    assert.equal(maxDiff(again.forward(ids()), out), 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
