/**
 * linearDropout (src/ops/linear-fused.ts) against the composed ops it replaces:
 * add(residual, dropout(act(linear(x, W, b)), p)) (act none, relu or gelu) with the same generator gives the same values
 * and the same gradients; central-difference gradcheck in float64; bad arguments are typed errors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as h from '../../src/index.ts';
import { linearDropout } from '../../src/ops/linear-fused.ts';
import type { Tensor } from '../../src/index.ts';
import { maxDiff } from '../tensors.ts';

const leaf = (shape: number[], seed: number, dtype: 'float32' | 'float64' = 'float32') => {
  const t = h.randn(shape, { dtype, generator: new h.Generator(seed) });
  t.requiresGrad = true;
  return t;
};

for (const [activation, p, withResidual] of [['relu', 0.3, false], ['none', 0.3, true], ['none', 0, true], ['relu', 0, false], ['none', 0.5, false], ['gelu', 0.3, false], ['gelu', 0, false]] as const) {
  test(`linearDropout equals the composed ops, values and gradients (${activation}, p ${p}${withResidual ? ', residual' : ''})`, () => {
    const x = leaf([4, 9, 24], 1), w = leaf([40, 24], 2), b = leaf([40], 3), res = leaf([4, 9, 40], 4);
    const upstream = h.randn([4, 9, 40], { generator: new h.Generator(5) });
    const run = (fused: boolean) => {
      for (const t of [x, w, b, res]) t.grad = null;
      const gen = new h.Generator(77);
      let y: Tensor;
      if (fused) {
        y = linearDropout(x, w, b, { activation, p, residual: withResidual ? res : null, generator: gen });
      } else {
        y = h.linear(x, w, b);
        if (activation === 'relu') y = h.relu(y);
        if (activation === 'gelu') y = h.gelu(y);
        y = h.dropout(y, p, { generator: gen });
        if (withResidual) y = h.add(res, y);
      }
      h.sum(h.mul(y, upstream)).backward();
      return { y, gx: x.grad!, gw: w.grad!, gb: b.grad!, gr: res.grad };
    };
    const f = run(true), c = run(false);
    assert.ok(maxDiff(f.y, c.y) < 1e-5, `output differs by ${maxDiff(f.y, c.y)}`);
    for (const k of ['gx', 'gw', 'gb'] as const) assert.ok(maxDiff(f[k], c[k]) < 1e-4, `${k} differs by ${maxDiff(f[k], c[k])}`);
    if (withResidual) assert.ok(maxDiff(f.gr!, c.gr!) === 0, 'the residual gradient is the upstream gradient');
    else assert.equal(f.gr, null);
    if (p > 0 && !withResidual) {
      const zeros = f.y.toFloat32Array().filter((v) => v === 0).length;
      assert.ok(zeros > 0, 'dropout dropped nothing');
    }
  });
}

test('linearDropout: gradcheck in float64 (relu + dropout; dropout + residual)', () => {
  const x = leaf([3, 5], 11, 'float64'), w = leaf([4, 5], 12, 'float64'), b = leaf([4], 13, 'float64'), res = leaf([3, 4], 14, 'float64');
  // away from ReLU's kink: shift the bias so no pre-activation is near 0
  for (let i = 0; i < b.size; i++) b.data[i] += b.data[i] >= 0 ? 0.5 : -0.5;
  const relu = h.gradcheck((a, c, d) => linearDropout(a, c, d, { activation: 'relu', p: 0.4, generator: new h.Generator(9) }), [x, w, b], { eps: 1e-6, atol: 1e-5, rtol: 1e-4 });
  assert.ok(relu.ok && relu.missingGrad.length === 0, `relu: max abs error ${relu.maxAbsError}`);
  const resid = h.gradcheck((a, c, d, e) => linearDropout(a, c, d, { p: 0.4, residual: e, generator: new h.Generator(9) }), [x, w, b, res], { eps: 1e-6, atol: 1e-5, rtol: 1e-4 });
  assert.ok(resid.ok && resid.missingGrad.length === 0, `residual: max abs error ${resid.maxAbsError}`);
  const gelu = h.gradcheck((a, c, d) => linearDropout(a, c, d, { activation: 'gelu', p: 0.4, generator: new h.Generator(9) }), [x, w, b], { eps: 1e-6, atol: 1e-5, rtol: 1e-4 });
  assert.ok(gelu.ok && gelu.missingGrad.length === 0, `gelu: max abs error ${gelu.maxAbsError}`);
});

test('linearDropout: eval mode (training false) is linear + residual and draws no seed', () => {
  const x = leaf([2, 6], 21), w = leaf([3, 6], 22), res = leaf([2, 3], 23);
  const gen = new h.Generator(5), before = gen.nextU32();
  const gen2 = new h.Generator(5);
  const y = linearDropout(x, w, null, { p: 0.9, training: false, residual: res, generator: gen2 });
  assert.equal(gen2.nextU32(), before, 'a seed was drawn in eval mode');
  assert.ok(maxDiff(y, h.add(res, h.linear(x, w))) < 1e-6);
});

test('linearDropout: bad arguments are typed errors that say the fix', () => {
  const x = leaf([2, 6], 31), w = leaf([3, 6], 32);
  assert.throws(() => linearDropout(x, w, null, { p: 1 }), (e: Error) => e instanceof h.ValueError && /p=1, expected/.test(e.message));
  assert.throws(() => linearDropout(x, w, null, { p: -0.1 }), h.ValueError);
  assert.throws(() => linearDropout(x, w, null, { activation: 'silu' as 'relu' }), (e: Error) => e instanceof h.ValueError && /expected 'none', 'relu' or 'gelu'/.test(e.message));
  assert.throws(() => linearDropout(x, w, null, { residual: h.zeros([2, 4]) }), (e: Error) => e instanceof h.ShapeError && /residual has shape \[2, 4\]/.test(e.message));
  assert.throws(() => linearDropout(x, w, null, { activation: 'relu', residual: h.zeros([2, 3]) }), (e: Error) => e instanceof h.ValueError && /Fix: add the residual/.test(e.message));
  assert.throws(() => linearDropout(x, w, null, { activation: 'gelu', residual: h.zeros([2, 3]) }), (e: Error) => e instanceof h.ValueError && /activation 'gelu' with a residual/.test(e.message));
  assert.throws(() => linearDropout(x, h.zeros([3, 5]), null), (e: Error) => e instanceof h.ShapeError && /linearDropout: input has shape/.test(e.message));
  assert.throws(() => linearDropout(x, w, h.zeros([4])), h.ShapeError);
});

test('linearDropout gelu off the tape (no input requires grad) runs gelu and the dropout in the epilogue: same values as the composed ops', () => {
  const x = h.randn([5, 7, 24], { generator: new h.Generator(41) }), w = h.randn([33, 24], { generator: new h.Generator(42) }), b = h.randn([33], { generator: new h.Generator(43) });
  for (const p of [0, 0.3]) {
    const fused = linearDropout(x, w, b, { activation: 'gelu', p, generator: new h.Generator(7) });
    const composed = h.dropout(h.gelu(h.linear(x, w, b)), p, { generator: new h.Generator(7) });
    assert.ok(maxDiff(fused, composed) < 1e-5, `p ${p}: differs by ${maxDiff(fused, composed)}`);
  }
});

test('linearDropout with a frozen bias (no bias gradient summed in the backward pass) gives the composed ops\' gradients', () => {
  for (const activation of ['relu', 'none'] as const) {
    const x = leaf([5, 24], 21), w = leaf([40, 24], 22), b = h.randn([40], { generator: new h.Generator(23) });
    const upstream = h.randn([5, 40], { generator: new h.Generator(24) });
    const run = (fused: boolean) => {
      x.grad = null; w.grad = null;
      const gen = new h.Generator(78);
      const y = fused ? linearDropout(x, w, b, { activation, p: 0.3, generator: gen })
        : h.dropout(activation === 'relu' ? h.relu(h.linear(x, w, b)) : h.linear(x, w, b), 0.3, { generator: gen });
      h.sum(h.mul(y, upstream)).backward();
      return { gx: x.grad!, gw: w.grad! };
    };
    const f = run(true), c = run(false);
    assert.ok(maxDiff(f.gx, c.gx) < 1e-4 && maxDiff(f.gw, c.gw) < 1e-4, `${activation}: gradients differ`);
    assert.equal(b.grad, null);
  }
});

// The FFN fold (src/ops/linear-fused.ts ReluFold): a linearDropout reading a ReLU linearDropout's output
// writes that Linear's dz in its own dx GEMM (linearBackwardFused's maskScale), and no reluDropoutBackward
// runs. The gradients must be the bits of the unfolded path (y.retainGrad() before the second Linear's
// forward turns the fold off), pass the gradcheck, and stay right when y has another consumer.
const kernelTable = (await import('../../src/backend/registry.ts')).k as unknown as Record<string, (p: Record<string, unknown>) => void>;
function withCalls<T>(fn: () => T): { out: T; calls: { name: string; p: Record<string, unknown> }[] } {
  const saved = { ...kernelTable };
  const calls: { name: string; p: Record<string, unknown> }[] = [];
  for (const name of Object.keys(saved)) kernelTable[name] = (p) => { calls.push({ name, p }); saved[name](p); };
  try { return { out: fn(), calls }; } finally { Object.assign(kernelTable, saved); }
}

test('FFN fold: the second Linear writes the ReLU Linear\'s dz; the bits of the unfolded path, no reluDropoutBackward', () => {
  const x = leaf([4, 9, 24], 31), w1 = leaf([64, 24], 32), b1 = leaf([64], 33), w2 = leaf([24, 64], 34), b2 = leaf([24], 35), res = leaf([4, 9, 24], 36);
  const upstream = h.randn([4, 9, 24], { generator: new h.Generator(37) });
  const run = (fold: boolean) => {
    for (const t of [x, w1, b1, w2, b2, res]) t.grad = null;
    const gen = new h.Generator(79);
    const hidden = linearDropout(x, w1, b1, { activation: 'relu', p: 0.3, generator: gen });
    if (!fold) hidden.retainGrad();
    const y = linearDropout(hidden, w2, b2, { p: 0.2, residual: res, generator: gen });
    const { calls } = withCalls(() => h.sum(h.mul(y, upstream)).backward());
    return { calls, grads: [x, w1, b1, w2, b2, res].map((t) => t.grad!.toFloat32Array()) };
  };
  const folded = run(true), plain = run(false);
  const names = (c: typeof folded.calls) => c.map((e) => e.name);
  assert.ok(!names(folded.calls).includes('reluDropoutBackward'), `folded calls: ${names(folded.calls).join(', ')}`);
  assert.ok(folded.calls.some((e) => e.name === 'linearBackwardFused' && (e.p.maskScale as number) > 0), 'no masked dx GEMM');
  assert.ok(names(plain.calls).includes('reluDropoutBackward'), `unfolded calls: ${names(plain.calls).join(', ')}`);
  for (let i = 0; i < folded.grads.length; i++) assert.deepEqual(folded.grads[i], plain.grads[i], `gradient ${i}: not the unfolded path's bits`);
});

test('FFN fold: gradcheck in float64, with one consumer of the hidden layer and with a second one', () => {
  const x = leaf([3, 5], 41, 'float64'), w1 = leaf([6, 5], 42, 'float64'), b1 = leaf([6], 43, 'float64');
  const w2 = leaf([5, 6], 44, 'float64'), b2 = leaf([5], 45, 'float64'), res = leaf([3, 5], 46, 'float64'), u = h.randn([3, 6], { dtype: 'float64', generator: new h.Generator(47) });
  for (let i = 0; i < b1.size; i++) b1.data[i] += b1.data[i] >= 0 ? 0.5 : -0.5; // away from ReLU's kink
  const ffn = (a: Tensor, c: Tensor, d: Tensor, e: Tensor, f: Tensor, r: Tensor, second: boolean) => {
    const gen = new h.Generator(9);
    const hidden = linearDropout(a, c, d, { activation: 'relu', p: 0.4, generator: gen });
    const y = linearDropout(hidden, e, f, { p: 0.3, residual: r, generator: gen });
    return second ? h.add(h.sum(y), h.sum(h.mul(hidden, u))) : y; // second: the hidden layer feeds two ops
  };
  for (const second of [false, true]) {
    const r = h.gradcheck((a, c, d, e, f, g) => ffn(a, c, d, e, f, g, second), [x, w1, b1, w2, b2, res], { eps: 1e-6, atol: 1e-5, rtol: 1e-4 });
    assert.ok(r.ok && r.missingGrad.length === 0, `second consumer ${second}: max abs error ${r.maxAbsError}`);
  }
});

test('FFN fold: a second consumer of the hidden layer and a retained gradient give the composed ops\' gradients', () => {
  const x = leaf([5, 24], 51), w1 = leaf([40, 24], 52), b1 = leaf([40], 53), w2 = leaf([24, 40], 54), b2 = leaf([24], 55);
  const u = h.randn([5, 40], { generator: new h.Generator(56) });
  const run = (fused: boolean, retain: boolean) => {
    for (const t of [x, w1, b1, w2, b2]) t.grad = null;
    const gen = new h.Generator(80);
    const hidden = fused ? linearDropout(x, w1, b1, { activation: 'relu', p: 0.3, generator: gen })
      : h.dropout(h.relu(h.linear(x, w1, b1)), 0.3, { generator: gen });
    if (retain) hidden.retainGrad();
    const y = fused ? linearDropout(hidden, w2, b2, { p: 0.2, generator: gen }) : h.dropout(h.linear(hidden, w2, b2), 0.2, { generator: gen });
    h.add(h.sum(y), h.sum(h.mul(hidden, u))).backward();
    return { grads: [x, w1, b1, w2, b2].map((t) => t.grad!), hg: retain ? hidden.grad : null };
  };
  for (const retain of [false, true]) {
    const f = run(true, retain), c = run(false, retain);
    for (let i = 0; i < f.grads.length; i++) assert.ok(maxDiff(f.grads[i], c.grads[i]) < 1e-4, `retain ${retain}, gradient ${i} differs by ${maxDiff(f.grads[i], c.grads[i])}`);
    if (retain) assert.ok(maxDiff(f.hg!, c.hg!) < 1e-5, `the hidden layer's retained gradient differs by ${maxDiff(f.hg!, c.hg!)}`);
  }
});
