/**
 * Parameter-efficient fine-tuning: a LoRA model computes its base exactly at init (B = 0); merged
 * weights compute what the unmerged wrappers compute; gradients reach only the adapter (gradcheck
 * on a LoraLinear, and no gradient or optimizer state for a frozen weight); adapters round-trip
 * through peft's file layout; bottleneck adapters start as the identity; prefix tuning equals
 * attention over [prefix; keys] written out by hand; and the bad inputs of issue 12 (a target glob
 * that matches nothing, an adapter made for another base) are typed errors that name the problem.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as h from '../../src/index.ts';
import { models, nn, peft } from '../../src/index.ts';
import { backward } from '../../src/autograd/engine.ts';
import { cat, reshape, transpose } from '../../src/ops/shape.ts';
import { maxDiff } from '../tensors.ts';

function smallClassifier(seed = 3, dModel = 16): models.EncoderClassifier {
  h.manualSeed(seed);
  return new models.EncoderClassifier({ vocabSize: 40, numClasses: 3, dModel, numHeads: 2, numLayers: 2, dimFeedforward: 32, maxLen: 12, dropout: 0, pooling: 'mean' });
}

function ids(): h.Tensor {
  return new h.Tensor(Int32Array.from([5, 6, 7, 8, 9, 0, 11, 12, 13, 14, 15, 16]), [2, 6]); // (B, T), one padded position
}

function perturbAdapter(p: peft.PeftModel, seed: number): void {
  const g = new h.Generator(seed);
  for (const t of Object.values(p.stateDict())) for (let i = 0; i < t.size; i++) t.data[i] = (g.uniform() - 0.5) * 0.4;
}

const LORA: peft.PeftConfig = { peftType: 'LORA', r: 4, loraAlpha: 8, loraDropout: 0, targetModules: ['qProj', 'vProj', '*.linear1'], modulesToSave: ['head'] };

test('a LoRA model computes exactly its base model at init (B = 0)', () => {
  const base = smallClassifier();
  base.eval();
  const before = base.forward(ids());
  const p = peft.getPeftModel(base, LORA);
  p.eval();
  assert.equal(p.loraModules().length, 6, 'qProj, vProj and linear1 of 2 layers');
  assert.equal(maxDiff(base.forward(ids()), before), 0);
});

test('merged LoRA weights compute what the unmerged wrappers compute, and mergeAndUnload leaves plain Linear layers', () => {
  const m = smallClassifier();
  const p = peft.getPeftModel(m, LORA);
  perturbAdapter(p, 11);
  p.eval();
  const unmerged = m.forward(ids());
  assert.ok(maxDiff(unmerged, smallClassifier().eval().forward(ids())) > 1e-3, 'the perturbed adapter changes the output');
  for (const [, l] of p.loraModules()) l.merge();
  assert.ok(maxDiff(m.forward(ids()), unmerged) < 1e-5);
  for (const [, l] of p.loraModules()) l.unmerge();
  assert.ok(maxDiff(m.forward(ids()), unmerged) < 1e-5);
  const plain = p.mergeAndUnload() as models.EncoderClassifier;
  assert.equal(plain.namedModules().filter(([, x]) => x instanceof peft.LoraLinear).length, 0);
  assert.ok(plain.backbone.encoder.layers.get(0).selfAttn.qProj instanceof nn.Linear);
  assert.ok(maxDiff(plain.forward(ids()), unmerged) < 1e-5);
  assert.deepEqual(Object.keys(plain.stateDict()), Object.keys(smallClassifier().stateDict()), 'the base keys, no adapter keys');
});

test('gradcheck: a LoraLinear has correct gradients for x, A and B, and none for its frozen weight and bias', () => {
  h.manualSeed(5);
  const lin = new nn.Linear(5, 4).to('float64');
  const lora = new peft.LoraLinear(lin, { r: 2, alpha: 4, dropout: 0 });
  const g = new h.Generator(9);
  for (let i = 0; i < lora.loraB.weight.size; i++) lora.loraB.weight.data[i] = g.uniform() - 0.5; // B ≠ 0, so A's gradient is not zero
  const x = h.randn([3, 5], { dtype: 'float64', requiresGrad: true });
  const r = h.gradcheck((xi) => lora.forward(xi), [x, lora.loraA.weight, lora.loraB.weight]);
  assert.ok(r.ok, `gradcheck failed: ${JSON.stringify(r.worst)}`);
  lora.zeroGrad();
  backward(h.sum(lora.forward(x)));
  assert.equal(lora.weight.grad, null, 'the frozen weight gets no gradient');
  assert.equal(lora.bias!.grad, null, 'the frozen bias gets no gradient');
  assert.notEqual(lora.loraA.weight.grad, null);
});

test('only adapter parameters get gradients and optimizer state', () => {
  const m = smallClassifier();
  const p = peft.getPeftModel(m, LORA);
  m.train();
  const opt = new h.optim.AdamW(h.optim.paramGroups(m, 0.01), { lr: 1e-3 });
  const loss = h.crossEntropy(m.call(ids()), new h.Tensor(Int32Array.from([0, 2]), [2]));
  backward(loss);
  opt.step();
  const withGrad = m.namedParameters().filter(([, t]) => t.grad !== null).map(([n]) => n);
  assert.ok(withGrad.length > 0);
  for (const n of withGrad) assert.ok(p.ownsParameter(n), `${n} got a gradient but is not an adapter parameter`);
  const optimized = opt.paramGroups.flatMap((grp) => grp.params.map(([n]) => n));
  assert.deepEqual(optimized.sort(), Object.keys(p.stateDict()).sort(), 'the optimizer holds exactly the adapter parameters');
  const share = p.trainableShare();
  assert.equal(share.trainable, Object.values(p.stateDict()).reduce((s, t) => s + t.size, 0));
  assert.ok(share.share < 0.5 && share.share > 0);
});

test('a LoRA adapter round-trips through peft\'s layout: adapter_config.json + adapter_model.safetensors with peft\'s key names', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'heed-peft-'));
  try {
    const m = smallClassifier();
    const p = peft.getPeftModel(m, LORA);
    perturbAdapter(p, 21);
    p.eval();
    const out = m.forward(ids());
    await peft.savePeftAdapter(dir, p, { baseModelNameOrPath: 'runs/base' });
    const cfg = JSON.parse(readFileSync(join(dir, 'adapter_config.json'), 'utf8'));
    assert.equal(cfg.peft_type, 'LORA');
    assert.equal(cfg.r, 4);
    assert.equal(cfg.lora_alpha, 8);
    assert.deepEqual(cfg.target_modules, ['qProj', 'vProj', '*.linear1']);
    assert.equal(cfg.base_model_name_or_path, 'runs/base');
    assert.equal(cfg.key_names, 'heed');
    const st = await h.readSafetensors(join(dir, 'adapter_model.safetensors'));
    const a = st.tensors['base_model.model.backbone.encoder.layers.0.selfAttn.qProj.lora_A.weight'];
    const b = st.tensors['base_model.model.backbone.encoder.layers.0.selfAttn.qProj.lora_B.weight'];
    assert.deepEqual(a.shape, [4, 16], 'lora_A is (r, in)');
    assert.deepEqual(b.shape, [16, 4], 'lora_B is (out, r)');
    assert.ok(st.tensors['base_model.model.head.weight'], 'modules_to_save are saved under their base names');
    assert.equal(Object.keys(st.tensors).filter((k) => !k.includes('lora_') && !k.startsWith('base_model.model.head.')).length, 0, 'no base weight in the adapter file');
    const fresh = smallClassifier();
    const q = await peft.loadPeftAdapter(fresh, dir);
    q.eval();
    assert.ok(maxDiff(fresh.forward(ids()), out) < 1e-6);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a bottleneck adapter starts as the identity, trains only itself, round-trips, and refuses mergeAndUnload', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'heed-peft-'));
  try {
    const m = smallClassifier();
    m.eval();
    const before = m.forward(ids());
    const p = peft.getPeftModel(m, { peftType: 'BOTTLENECK', adapterSize: 4, targetModules: ['*.selfAttn.outProj', '*.linear2'] });
    p.eval();
    assert.equal(maxDiff(m.forward(ids()), before), 0);
    assert.ok(Object.keys(p.stateDict()).includes('backbone.encoder.layers.1.linear2.adapter.down.weight'));
    assert.ok(m.stateDict()['backbone.encoder.layers.1.linear2.weight'], 'the base keys do not change');
    perturbAdapter(p, 5);
    const out = m.forward(ids());
    assert.ok(maxDiff(out, before) > 1e-3);
    await peft.savePeftAdapter(dir, p);
    const fresh = smallClassifier();
    const q = await peft.loadPeftAdapter(fresh, dir);
    q.eval();
    assert.ok(maxDiff(fresh.forward(ids()), out) < 1e-6);
    assert.throws(() => q.mergeAndUnload(), h.ValueError);
    q.unload();
    assert.equal(maxDiff(fresh.forward(ids()), before), 0, 'unload gives the base back');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('prefix tuning equals attention over [prefix keys; keys] and [prefix values; values] written out by hand', () => {
  h.manualSeed(8);
  const attn = new nn.MultiheadAttention(8, 2, { dropout: 0 });
  attn.eval();
  const pa = new peft.PrefixAttention(attn, 3);
  pa.eval();
  const x = h.randn([2, 5, 8]);
  const pad = new h.Tensor(Uint8Array.from([0, 0, 0, 0, 1, 0, 0, 0, 0, 0]), [2, 5], false);
  const padBool = h.eq(new h.Tensor(Int32Array.from(pad.data as Uint8Array), [2, 5]), 1); // (B, T) bool
  const got = pa.forward(x, x, x, { keyPaddingMask: padBool }).output; // (B, T, E)
  const heads = (t: h.Tensor, n: number) => transpose(reshape(t, [2, n, 2, 4]), 1, 2); // (B, H, n, hd)
  const pre = (t: h.Tensor) => h.expand(transpose(reshape(t, [1, 3, 2, 4]), 1, 2), [2, 2, 3, 4]); // (B, H, P, hd)
  const q = heads(attn.qProj.forward(x), 5);
  const k = cat([pre(pa.prefixKey), heads(attn.kProj.forward(x), 5)], 2); // (B, H, P + T, hd)
  const v = cat([pre(pa.prefixValue), heads(attn.vProj.forward(x), 5)], 2);
  const keep = cat([h.zeros([2, 3], { dtype: 'bool' }), padBool], 1); // (B, P + T)
  const y = h.scaledDotProductAttention(q, k, v, { keyPaddingMask: keep });
  const want = attn.outProj.forward(reshape(transpose(y, 1, 2), [2, 5, 8]));
  assert.ok(maxDiff(got, want) < 1e-5);
});

test('a prefix-tuning adapter round-trips through peft\'s prompt_embeddings layout', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'heed-peft-'));
  try {
    const m = smallClassifier();
    const p = peft.getPeftModel(m, { peftType: 'PREFIX_TUNING', numVirtualTokens: 3, targetModules: ['selfAttn'], modulesToSave: ['head'] });
    p.eval();
    const out = m.forward(ids());
    await peft.savePeftAdapter(dir, p);
    const st = await h.readSafetensors(join(dir, 'adapter_model.safetensors'));
    assert.deepEqual(st.tensors.prompt_embeddings.shape, [3, 2 * 2 * 16], '(P, numLayers · 2 · D)');
    const layer1Key = p.stateDict()['backbone.encoder.layers.1.selfAttn.prefixKey'];
    const pe = h.toFloat32(st.tensors.prompt_embeddings);
    assert.equal(pe[2 * 16 + 5], layer1Key.data[5], 'layer 1 keys sit in columns [2·D, 3·D) of row 0');
    const fresh = smallClassifier();
    const q = await peft.loadPeftAdapter(fresh, dir);
    q.eval();
    assert.ok(maxDiff(fresh.forward(ids()), out) < 1e-6);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bad input: a LoRA target glob that matches nothing is a ConfigError naming the glob and the Linear modules there are', () => {
  const m = smallClassifier();
  assert.throws(() => peft.getPeftModel(m, { ...LORA, targetModules: ['q_proj'] }), (e: Error) => {
    assert.ok(e instanceof h.ConfigError);
    assert.match(e.message, /'q_proj' matches no Linear or Embedding module/);
    assert.match(e.message, /backbone\.encoder\.layers\.0\.selfAttn\.qProj/);
    return true;
  });
  assert.throws(() => peft.getPeftModel(smallClassifier(), { ...LORA, targetModules: ['*.selfAttn'] }), /it names .*MultiheadAttention.*which LORA cannot adapt/);
  assert.equal(m.numParameters({ trainableOnly: true }), m.numParameters(), 'a refused config leaves the model untouched');
});

test('bad input: an adapter made for another base model is a CheckpointError, for other weights and for other shapes', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'heed-peft-'));
  try {
    const p = peft.getPeftModel(smallClassifier(3), LORA);
    await peft.savePeftAdapter(dir, p, { baseModelNameOrPath: 'runs/base-a' });
    await assert.rejects(peft.loadPeftAdapter(smallClassifier(4), dir), (e: Error) => {
      assert.ok(e instanceof h.CheckpointError);
      assert.match(e.message, /made for EncoderClassifier 'runs\/base-a', whose weights differ/);
      return true;
    });
    await assert.rejects(peft.loadPeftAdapter(smallClassifier(3, 32), dir), (e: Error) => {
      assert.ok(e instanceof h.CheckpointError);
      assert.match(e.message, /shape/);
      return true;
    });
    h.manualSeed(1);
    await assert.rejects(peft.loadPeftAdapter(new models.GPT({ vocabSize: 40, maxLen: 12, numLayers: 1, numHeads: 2, dModel: 16 }), dir), /made for EncoderClassifier .* but the base model is a GPT/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the README\'s LoRA example runs and prints the trainable share it states', async () => {
  const readme = readFileSync(join(import.meta.dirname, '..', '..', 'README.md'), 'utf8');
  const block = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]).find((b) => b.includes('getPeftModel'));
  assert.ok(block, 'README has a LoRA example');
  const dir = mkdtempSync(join(tmpdir(), 'heed-readme-lora-'));
  const src = new URL('../../src/index.ts', import.meta.url).href;
  const code = block.replace(`from 'heed'`, `from ${JSON.stringify(src)}`).replaceAll(`'runs/readme-lora'`, JSON.stringify(join(dir, 'lora'))) + '\nexport { merged, model };\n';
  const printed: unknown[] = [];
  const log = console.log;
  console.log = (...a: unknown[]) => { printed.push(a[0]); };
  try {
    writeFileSync(join(dir, 'example.mts'), code);
    const mod = await import(new URL(`file://${join(dir, 'example.mts')}`).href);
    const stated = Number(/console\.log\(lora\.trainableShare\(\)\.share\);\s*\/\/ ([\d.]+)/.exec(block)![1]);
    assert.equal(Number((printed[0] as number).toFixed(4)), stated);
    assert.equal(mod.merged, mod.model);
    assert.ok(readFileSync(join(dir, 'lora', 'adapter_config.json'), 'utf8').includes('"peft_type": "LORA"'));
  } finally {
    console.log = log;
    rmSync(dir, { recursive: true, force: true });
  }
});
