/**
 * The Hugging Face name maps (src/io/hf/): every rule maps a heed path to one HF path and back,
 * leaves carry over, Conv1D weights (only the weight) are marked transposed, and module paths
 * map as parameter names do (PEFT's target modules use them).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HF_ARCHITECTURES, heedToHf, hfToHeed, gpt2NameMap, bertNameMap } from '../../src/io/hf/index.ts';

test('every rule of every architecture maps heed → HF → heed and HF → heed → HF unchanged, with layer indices', () => {
  for (const arch of HF_ARCHITECTURES.values()) {
    const seenHf = new Set<string>();
    for (const rule of arch.nameMap.rules) {
      for (const leaf of ['.weight', '.bias', '']) {
        const heed = rule.heed.replace(/\{i\}/g, '11') + leaf;
        const hf = heedToHf(arch.nameMap, heed);
        assert.ok(hf, `${arch.name}: ${heed} has no HF name`);
        assert.equal(hfToHeed(arch.nameMap, hf.name)?.name, heed, `${arch.name}: ${heed} → ${hf.name} does not map back`);
      }
      const hfName = rule.hf.replace(/\{i\}/g, '3');
      assert.ok(!seenHf.has(hfName), `${arch.name}: two rules name ${hfName}`);
      seenHf.add(hfName);
    }
  }
});

test('GPT-2 Conv1D weights are transposed, their biases and LayerNorms are not', () => {
  const m = gpt2NameMap('causal-lm');
  assert.deepEqual(heedToHf(m, 'h.0.attn.inProj.weight'), { name: 'transformer.h.0.attn.c_attn.weight', transpose: true });
  assert.deepEqual(heedToHf(m, 'h.0.attn.inProj.bias'), { name: 'transformer.h.0.attn.c_attn.bias', transpose: false });
  assert.deepEqual(heedToHf(m, 'h.10.ln1.weight'), { name: 'transformer.h.10.ln_1.weight', transpose: false });
  assert.deepEqual(hfToHeed(m, 'transformer.h.2.mlp.c_proj.weight'), { name: 'h.2.mlp.fc2.weight', transpose: true });
  assert.deepEqual(hfToHeed(gpt2NameMap('base'), 'h.2.mlp.c_fc'), { name: 'h.2.mlp.fc1', transpose: false });
});

test('a prefix matches only at a dot: layer 1 does not match layer 10, and unknown names map to null', () => {
  const m = bertNameMap('bert', 'masked-lm');
  assert.equal(heedToHf(m, 'backbone.encoder.layers.10.linear1.weight')?.name, 'bert.encoder.layer.10.intermediate.dense.weight');
  assert.equal(heedToHf(m, 'backbone.tokEmbedding.weight'), null);
  assert.equal(hfToHeed(m, 'bert.embeddings.word_embeddingsX.weight'), null);
  assert.equal(hfToHeed(m, 'cls.predictions.bias')?.name, 'lmHead.decoder.bias');
  assert.equal(heedToHf(bertNameMap('roberta', 'sequence-classification'), 'head.outProj.weight')?.name, 'classifier.out_proj.weight');
  assert.equal(heedToHf(bertNameMap('distilbert', 'base'), 'backbone.encoder.layers.0.norm1.bias')?.name, 'transformer.layer.0.sa_layer_norm.bias');
});
