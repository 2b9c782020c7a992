/**
 * quantizeDynamic and nn.QuantizedLinear: a quantized small Transformer (GPT) stays within a
 * measured tolerance of its fp32 outputs on every backend; the filter picks layers by dotted
 * name; layers inside ModuleLists are replaced too; quantizing twice, a filter matching
 * nothing, and a backward through an int8 layer are clear errors.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as h from '../../src/index.ts';
import { nn, models } from '../../src/index.ts';

const initial = h.getBackend();
after(() => h.setBackend(initial));
const backends: h.BackendName[] = h.backendInfo().nativeAvailable ? ['native', 'js'] : ['js'];

/** max |a − b| / max |b|: the error relative to the output's range. */
function relMaxError(a: h.Tensor, b: h.Tensor): number {
  assert.deepEqual(a.shape, b.shape);
  let d = 0, m = 0;
  for (let i = 0; i < b.size; i++) {
    d = Math.max(d, Math.abs(a.data[i] - b.data[i]));
    m = Math.max(m, Math.abs(b.data[i]));
  }
  return d / m;
}

function smallGpt(): models.GPT {
  h.manualSeed(7);
  return new models.GPT({ vocabSize: 61, maxLen: 32, numLayers: 2, numHeads: 4, dModel: 64, tieOutput: false });
}

for (const backend of backends) {
  test(`${backend}: a quantized GPT's logits stay within 2% of fp32 and its next-token choices mostly agree`, () => {
    h.setBackend(backend);
    const model = smallGpt().eval();
    const idx = h.randint(0, 61, [2, 17], { dtype: 'int32' });
    const ref = h.noGrad(() => model.call(idx)); // (2, 17, 61)
    const linears = model.namedModules().filter(([, m]) => m instanceof nn.Linear).map(([n]) => n);
    const res = h.quantizeDynamic(model);
    assert.deepEqual(res.modules, linears, 'every Linear is quantized, in module order');
    assert.ok(res.modules.includes('h.0.attn.qProj') || res.modules.some((n) => /attn\.\w*[qQ]/.test(n)), `attention projections are covered: ${res.modules.join(', ')}`);
    assert.equal(model.namedModules().filter(([, m]) => m instanceof nn.Linear).length, 0, 'no Linear is left');
    // Held in memory: the int8 values twice (plain, as saved; packed, as the kernel reads them) ≈ half of fp32.
    assert.ok(res.int8Bytes < res.fp32Bytes * 0.6, `int8 ${res.int8Bytes} B vs fp32 ${res.fp32Bytes} B`);
    const out = h.noGrad(() => model.call(idx));
    const err = relMaxError(out, ref);
    // Measured: 1.3% on both backends (seed 7), and the argmax agrees at 34 of 34 positions.
    assert.ok(err < 0.02, `relative max error ${err}`);
    const top = (t: h.Tensor) => h.argmax(t, -1).data;
    const a = top(out), b = top(ref);
    let same = 0;
    for (let i = 0; i < a.length; i++) if (a[i] === b[i]) same++;
    assert.ok(same / a.length >= 0.9, `argmax agreement ${same}/${a.length}`);
  });
}

test('QuantizedLinear equals Linear up to int8 rounding on any leading dims, and its state dict holds the int8 weights and scales', () => {
  h.manualSeed(3);
  const lin = new nn.Linear(129, 65);
  const q = nn.QuantizedLinear.fromLinear(lin);
  const x = h.randn([2, 3, 129]);
  const err = relMaxError(q.call(x), h.noGrad(() => lin.call(x)));
  assert.ok(err > 0 && err < 0.02, `relative max error ${err}`);
  assert.deepEqual(q.call(x).shape, [2, 3, 65]);
  // The state dict is what a checkpoint stores: int8 values (O, I), fp32 scales (O) and bias (O).
  const sd = q.stateDict();
  assert.deepEqual(Object.keys(sd), ['weight', 'weightScale', 'bias']);
  assert.equal(sd.weight.dtype, 'int8');
  assert.deepEqual(sd.weight.shape, [65, 129]);
  assert.deepEqual(sd.weightScale.shape, [65]);
  // Loading another layer's state repacks it: the copy computes what the original computes, bit for bit.
  h.manualSeed(4);
  const other = nn.QuantizedLinear.fromLinear(new nn.Linear(129, 65));
  other.loadStateDict(sd);
  assert.deepEqual(Array.from(other.call(x).data), Array.from(q.call(x).data));
  const model = new nn.Sequential(new nn.Linear(4, 4), nn.QuantizedLinear.fromLinear(new nn.Linear(4, 2)));
  assert.ok(Object.hasOwn(model.stateDict(), '1.weightScale'));
  assert.throws(() => q.call(h.randn([2, 128])), (e: Error) => e instanceof h.ShapeError && /expected last dim 129/.test(e.message));
});

test('the modules filter takes a glob, a RegExp or a list, and replaces layers inside ModuleLists', () => {
  const m1 = smallGpt();
  const r1 = h.quantizeDynamic(m1, { modules: 'h.0.*' });
  assert.ok(r1.modules.length > 0 && r1.modules.every((n) => n.startsWith('h.0.')), r1.modules.join(', '));
  assert.ok(m1.namedModules().some(([n, m]) => n.startsWith('h.1.') && m instanceof nn.Linear), 'layer 1 stays fp32');
  const m2 = smallGpt();
  const r2 = h.quantizeDynamic(m2, { modules: [/^lmHead$/, 'h.1.*'] });
  assert.ok(r2.modules.includes('lmHead') && r2.modules.every((n) => n === 'lmHead' || n.startsWith('h.1.')), r2.modules.join(', '));
  const seq = new nn.Sequential(new nn.Linear(8, 16), new nn.Linear(16, 4));
  const x = h.randn([3, 8]);
  const ref = h.noGrad(() => seq.call(x));
  assert.deepEqual(h.quantizeDynamic(seq).modules, ['0', '1']);
  assert.ok(seq.get(0) instanceof nn.QuantizedLinear && seq.get(1) instanceof nn.QuantizedLinear);
  assert.ok(relMaxError(seq.call(x), ref) < 0.03);
});

test('bad input: quantizing twice, a filter that matches nothing, a lone Linear, and a backward are clear errors', () => {
  const model = smallGpt();
  h.quantizeDynamic(model, { modules: 'lmHead' });
  assert.throws(() => h.quantizeDynamic(model), (e: Error) => e instanceof h.ValueError && /already quantized.*'lmHead'/.test(e.message) && /Fix:/.test(e.message));
  assert.throws(() => h.quantizeDynamic(smallGpt(), { modules: 'decoder.*' }), (e: Error) => e instanceof h.ValueError && /match no Linear layer/.test(e.message) && /'h\.0\./.test(e.message));
  assert.throws(() => h.quantizeDynamic(new nn.Linear(4, 4)), (e: Error) => e instanceof h.ValueError && /QuantizedLinear\.fromLinear/.test(e.message));
  const q = nn.QuantizedLinear.fromLinear(new nn.Linear(4, 3));
  const x = h.randn([2, 4], { requiresGrad: true });
  const y = q.call(x); // forward works with grad mode on
  assert.throws(() => y.sum().backward(), (e: Error) => e instanceof h.AutogradError && /inference only/.test(e.message));
});
