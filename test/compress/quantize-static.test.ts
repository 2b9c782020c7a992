/**
 * quantizeStatic: calibrated activation scales (one per layer: max |x| on the sample / 127).
 * - each layer's scale is what its inputs reached during calibration (checked by a hook of our own);
 * - a statically quantized GPT stays close to fp32, and a QuantizedLinear with a scale computes the
 *   static formula (every row of x rounded with the layer's one scale), on every backend;
 * - the compression record says 'static' and a reloaded copy computes the same outputs;
 * - an int8 seq2seq model calibrated statically decodes on the fused step as on the module path;
 * - calibrating twice, an empty sample, a batch that is not an argument list and a layer the
 *   sample never runs are clear ValueErrors.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as h from '../../src/index.ts';
import { nn, models } from '../../src/index.ts';
import { ValueError } from '../../src/errors.ts';

const initial = h.getBackend();
after(() => h.setBackend(initial));
const backends: h.BackendName[] = h.backendInfo().nativeAvailable ? ['native', 'js'] : ['js'];

function smallGpt(): models.GPT {
  h.manualSeed(7);
  return new models.GPT({ vocabSize: 61, maxLen: 32, numLayers: 2, numHeads: 4, dModel: 64, tieOutput: false }).eval();
}
const sample = (seed: number) => { h.manualSeed(seed); return [h.randint(0, 61, [4, 12], { dtype: 'int32' })]; };

test('each layer\'s input scale is max |x| over the calibration sample / 127', () => {
  const model = smallGpt();
  const name = model.namedModules().find(([, m]) => m instanceof nn.Linear)![0];
  const layer = model.namedModules().find(([n]) => n === name)![1];
  let seen = 0;
  const hook = layer.registerForwardHook((_m, args) => { for (const v of (args[0] as h.Tensor).data) seen = Math.max(seen, Math.abs(v)); });
  const batches = [sample(1), sample(2)];
  h.noGrad(() => { for (const b of batches) model.call(...b); });
  hook.remove();
  const r = h.quantizeStatic(model, batches);
  assert.equal(r.batches, 2);
  assert.ok(Math.abs(r.inputScales[name] - seen / 127) <= 1e-6 * seen, `${r.inputScales[name]} vs ${seen / 127}`);
  const q = model.namedModules().find(([n]) => n === name)![1] as nn.QuantizedLinear;
  assert.equal(q.inputScale!.data[0], r.inputScales[name]);
});

for (const backend of backends) {
  test(`${backend}: a static int8 GPT stays within 3% of fp32; a static QuantizedLinear rounds every row with its one scale`, () => {
    h.setBackend(backend);
    const model = smallGpt();
    const x = sample(3)[0];
    const ref = h.noGrad(() => model.call(x));
    h.quantizeStatic(model, [sample(4), sample(5), sample(6)]);
    const out = h.noGrad(() => model.call(x));
    let d = 0, m = 0;
    for (let i = 0; i < ref.size; i++) { d = Math.max(d, Math.abs(out.data[i] - ref.data[i])); m = Math.max(m, Math.abs(ref.data[i])); }
    assert.ok(d / m < 0.03, `relative error ${d / m}`);
    // One layer against the formula: y = s·sw_o·Σ clamp(round(x/s))·q_oi + b.
    h.manualSeed(8);
    const lin = new nn.Linear(5, 3);
    const q = nn.QuantizedLinear.fromLinear(lin);
    const s = 0.01;
    q.setInputScale(s);
    const xs = h.tensor([[0.3, -0.2, 0.05, 2.0, -0.004], [0.01, 0.02, -0.03, 0.04, 0.0]]); // row 0 holds a value past 127·s (clamps)
    const y = h.noGrad(() => q.call(xs)).data;
    const w = q.weight.data, sw = q.weightScale.data, b = q.bias!.data;
    for (let r = 0; r < 2; r++) for (let o = 0; o < 3; o++) {
      let dot = 0;
      for (let i = 0; i < 5; i++) {
        const v = xs.data[r * 5 + i] / s;
        dot += Math.max(-127, Math.min(127, Math.sign(v) * Math.floor(Math.abs(v) + 0.5))) * w[o * 5 + i];
      }
      const expected = s * sw[o] * dot + b[o];
      assert.ok(Math.abs(y[r * 3 + o] - expected) < 1e-5, `row ${r} out ${o}: ${y[r * 3 + o]} vs ${expected}`);
    }
  });
}

test('the compression record says static, and a model rebuilt from it and the state dict computes the same outputs', () => {
  const model = smallGpt();
  h.quantizeStatic(model, [sample(4)]);
  const record = h.compressionOf(model);
  assert.equal(record.quantized?.scheme, 'static');
  const copy = smallGpt();
  h.applyCompression(copy, record);
  copy.loadStateDict(model.stateDict());
  const x = sample(9)[0];
  assert.deepEqual(Array.from(h.noGrad(() => copy.call(x)).data), Array.from(h.noGrad(() => model.call(x)).data));
});

test('a statically quantized seq2seq model decodes on the fused step as on the module path', () => {
  h.manualSeed(21);
  const m = new models.Seq2SeqTransformer({ srcVocabSize: 13, tgtVocabSize: 9, dModel: 32, numHeads: 4, dimFeedforward: 48, maxLen: 12, dropout: 0, tieOutput: false }).eval();
  for (let i = 0; i < m.outProj.weight.size; i++) m.outProj.weight.data[i] *= 4;
  const src = h.tensor([[3, 4, 5, 6], [7, 8, 0, 0], [9, 10, 11, 0]], undefined, { dtype: 'int32' });
  const tgt = h.tensor([[1, 3, 4, 5, 6], [1, 7, 8, 2, 0], [1, 5, 5, 6, 2]], undefined, { dtype: 'int32' });
  h.quantizeStatic(m, [[src, tgt]]);
  const o = { bos: 1, eos: 2, maxLen: 9 };
  const fused = m.greedyDecode(src, o), plain = m.greedyDecode(src, { ...o, fused: false });
  assert.deepEqual(fused.tokens, plain.tokens);
  fused.scores.forEach((s, b) => assert.ok(Math.abs(s - plain.scores[b]) < 1e-4));
});

test('calibrating twice, an empty sample, a batch that is not an argument list, and a layer never run are ValueErrors', () => {
  const model = smallGpt();
  assert.throws(() => h.quantizeStatic(model, []), (e: unknown) => e instanceof ValueError && /calibration sample is empty/.test((e as Error).message));
  assert.throws(() => h.quantizeStatic(model, [sample(1)[0]] as never), (e: unknown) => e instanceof ValueError && /argument list/.test((e as Error).message));
  h.quantizeStatic(model, [sample(1)]);
  assert.throws(() => h.quantizeStatic(model, [sample(2)]), (e: unknown) => e instanceof ValueError && /already statically quantized/.test((e as Error).message));
  // A layer outside the forward path (never called) has no scale.
  class WithSpare extends nn.Module {
    used = new nn.Linear(4, 4);
    spare = new nn.Linear(4, 4);
    override forward(x: h.Tensor): h.Tensor { return this.used.call(x); }
  }
  assert.throws(() => h.quantizeStatic(new WithSpare(), [[h.randn([2, 4])]]), (e: unknown) => e instanceof ValueError && /never ran 1 selected layer \('spare'\)/.test((e as Error).message));
  const partly = new WithSpare();
  assert.equal(h.quantizeStatic(partly, [[h.randn([2, 4])]], { modules: 'used' }).modules.length, 1);
});
