/**
 * The multi-tensor kernels (one call over a list of arrays: adamwStepMulti, sumSquaresMulti,
 * scaleInPlaceMulti) and the array-list argument kind they use: native gives, tensor by tensor,
 * the bits of the one-tensor kernels at 1, 2 and 3 threads (the work is split by total element
 * count, so chunks cross tensor boundaries), the references agree, bad lists get typed errors
 * naming the entry, and AdamW / clipping through them give the bits of a call per tensor.
 */
import { test } from 'node:test';
import { readFileSync } from 'node:fs';
import assert from 'node:assert/strict';
import { native, ref, rng, randn, assertClose } from './helpers.js';
import { sumSquaresResult, ADAMW_HYPER } from '../../src/backend/js/optim.js';
import { setNumThreads, backendInfo, k } from '../../src/backend/registry.js';
import { kernel, input, inputList, outputList } from '../../src/backend/spec.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { AdamW, paramGroups } from '../../src/train/optim/index.js';
import { clipGradNorm, gradNorm } from '../../src/train/optim/clip.js';

// Sizes around the pool's grain (32,768) and the sum-of-squares block (4096), empty ones included.
const SIZES = [0, 1, 17, 4095, 4097, 32767, 40000, 0, 5, 100_003, 65536, 3];

function lists(seed: number) {
  const r = rng(seed);
  const pos = (a: Float32Array) => a.map(Math.abs);
  return {
    p: SIZES.map((n) => randn(n, r)), g: SIZES.map((n) => randn(n, r, 0.1)),
    m: SIZES.map((n) => randn(n, r, 0.01)), v: SIZES.map((n) => pos(randn(n, r, 0.001))),
  };
}

/** Different hyper-parameters and step counts per tensor (param groups, a parameter that skipped steps). */
function hyperFor(count: number): Float64Array {
  const h = new Float64Array(count * ADAMW_HYPER);
  for (let i = 0; i < count; i++) h.set([1e-3 * (1 + (i % 3)), 0.9, i % 4 === 3 ? 0.99 : 0.999, 1e-8, i % 2 ? 0 : 0.01, 1 + (i % 5) * 7], i * ADAMW_HYPER);
  return h;
}

const copy = (xs: Float32Array[]) => xs.map((x) => x.slice());
const withThreads = (fn: () => void) => {
  const before = backendInfo().threads;
  try { fn(); } finally { setNumThreads(Math.max(1, before)); }
};

test('adamwStepMulti: native gives adamwStep\'s bits for every tensor at 1, 2 and 3 threads; the reference is adamwStep\'s', (t) => {
  const nk = native(t);
  if (!nk) return;
  const src = lists(21);
  const hyper = hyperFor(SIZES.length);
  const one = (kt: typeof ref | typeof nk) => {
    const p = copy(src.p), m = copy(src.m), v = copy(src.v);
    SIZES.forEach((_, i) => {
      const h = hyper.subarray(i * ADAMW_HYPER);
      kt.adamwStep!({ param: p[i], grad: src.g[i], m: m[i], v: v[i], lr: h[0], beta1: h[1], beta2: h[2], eps: h[3], weightDecay: h[4], step: h[5] });
    });
    return { p, m, v };
  };
  const perNative = one(nk), perRef = one(ref);
  // the reference multi-tensor step is the reference per-tensor step, bit for bit
  const r = { p: copy(src.p), m: copy(src.m), v: copy(src.v) };
  ref.adamwStepMulti({ params: r.p, grads: src.g, m: r.m, v: r.v, hyper });
  for (const key of ['p', 'm', 'v'] as const) SIZES.forEach((_, i) => assert.deepEqual(r[key][i], perRef[key][i], `reference ${key}[${i}]`));
  withThreads(() => {
    for (const threads of [1, 2, 3]) {
      setNumThreads(threads);
      const n = { p: copy(src.p), m: copy(src.m), v: copy(src.v) };
      nk.adamwStepMulti!({ params: n.p, grads: src.g, m: n.m, v: n.v, hyper });
      for (const key of ['p', 'm', 'v'] as const) {
        SIZES.forEach((_, i) => {
          assert.deepEqual(n[key][i], perNative[key][i], `native ${key}[${i}] (n ${SIZES[i]}), ${threads} threads`);
          assertClose(n[key][i], perRef[key][i], `native vs reference ${key}[${i}]`, 1e-6, 1e-5);
        });
      }
    }
  });
  // an empty list is a no-op
  nk.adamwStepMulti!({ params: [], grads: [], m: [], v: [], hyper: new Float64Array(0) });
});

test('sumSquaresMulti and scaleInPlaceMulti: native gives the bits of a call per tensor at 1, 2 and 3 threads', (t) => {
  const nk = native(t);
  if (!nk) return;
  const { g } = lists(22);
  const out = new Float32Array(2);
  let loop = 0;
  for (const x of g) { ref.sumSquares({ x, out }); loop += sumSquaresResult(out); }
  ref.sumSquaresMulti({ xs: g, out });
  assert.equal(sumSquaresResult(out), loop, 'reference');
  const alpha = 0.3183098861837907;
  const scaled = g.map((x) => x.map((v) => v * alpha));
  withThreads(() => {
    for (const threads of [1, 2, 3]) {
      setNumThreads(threads);
      const o = new Float32Array(2);
      nk.sumSquaresMulti!({ xs: g, out: o });
      assert.equal(sumSquaresResult(o), loop, `native sum, ${threads} threads`);
      const xs = copy(g);
      nk.scaleInPlaceMulti!({ xs, alpha });
      xs.forEach((x, i) => assert.deepEqual(x, scaled[i], `native scale [${i}], ${threads} threads`));
    }
  });
  const xr = copy(g);
  ref.scaleInPlaceMulti({ xs: xr, alpha });
  xr.forEach((x, i) => assert.deepEqual(x, scaled[i], `reference scale [${i}]`));
  nk.sumSquaresMulti!({ xs: [], out });
  assert.equal(sumSquaresResult(out), 0);
});

test('array-list arguments: bad lists are TypeErrors / RangeErrors naming the entry, what was received and expected', (t) => {
  const nk = native(t);
  if (!nk) return;
  const { p, g, m, v } = lists(23);
  const hyper = hyperFor(p.length);
  const call = (o: Record<string, unknown>) => () => nk.adamwStepMulti!({ params: p, grads: g, m, v, hyper, ...o } as never);
  assert.throws(call({ params: p[1] }), { name: 'TypeError', message: /argument 'params' must be an Array whose entries are each a Float32Array, received a Float32Array/ });
  assert.throws(call({ grads: g.slice(1) }), { name: 'RangeError', message: /argument 'grads' has 11 entries, expected as many as 'params' \(12\)/ });
  assert.throws(call({ m: [...m.slice(0, 3), new Float32Array(4), ...m.slice(4)] }), { name: 'RangeError', message: /argument 'm\[3\]' has length 4, expected the length of params\[3\] = 4095/ });
  assert.throws(call({ v: [...v.slice(0, 2), new Float64Array(17), ...v.slice(3)] }), { name: 'TypeError', message: /argument 'v\[2\]' must be a Float32Array, received a Float64Array/ });
  assert.throws(call({ grads: [...g.slice(0, 5), [1, 2, 3], ...g.slice(6)] }), { name: 'TypeError', message: /argument 'grads\[5\]' must be a Float32Array, received an Array/ });
  assert.throws(call({ hyper: new Float64Array(6) }), { name: 'RangeError', message: /argument 'hyper' has length 6, expected 6·size\(params\) = 72/ });
  assert.throws(call({ hyper: new Float32Array(72) }), { name: 'TypeError', message: /argument 'hyper' must be a Float64Array, received a Float32Array/ });
  assert.throws(() => nk.sumSquaresMulti!({ xs: [g[1], undefined] as never, out: new Float32Array(2) }), { name: 'TypeError', message: /argument 'xs\[1\]' must be a Float32Array, received undefined/ });
  assert.throws(() => nk.scaleInPlaceMulti!({ xs: g, alpha: NaN }), { name: 'RangeError', message: /'alpha' must be finite/ });
  // nothing was written by the calls that failed their checks
  assert.deepEqual(p, lists(23).p);
});

test('the spec compiler: list rules must name list args, size(list) reads the entry count', async () => {
  const { compileForTest } = await import('../../scripts/gen-native-specs.js');
  assert.throws(() => compileForTest(kernel('bad', { xs: inputList('f32', { sameLengths: 'n' }), n: input('f32') })), /'n' is not an array list/);
  assert.throws(() => compileForTest(kernel('bad', { xs: inputList('f32'), y: input('f32', { len: 'len(xs)' }) })), /'xs' is not an array/);
  const src = compileForTest(kernel('ok', { xs: outputList('f32'), ys: inputList('f32', { size: 'size(xs)', sameLengths: 'xs' }), h: input('f64', { len: '2 * size(xs)' }) }));
  assert.match(src, /spec::List<float> xs;/);
  assert.match(src, /spec::List<const float> ys;/);
  assert.match(src, /const double\* h;/);
  assert.match(src, /\{Op::Size, 0, 0\}/);
});

function model(seed: number, gradDtype: 'f32' | 'mixed' = 'f32'): [string, Tensor][] {
  const r = rng(seed);
  const named: [string, Tensor][] = SIZES.filter((n) => n > 0).map((n, i) => {
    const shape = i % 3 === 0 ? [n] : [1, n];
    const t = new Tensor(randn(n, r), shape, true);
    t.grad = new Tensor(gradDtype === 'mixed' && i === 2 ? Float64Array.from(randn(n, r, 0.1)) : randn(n, r, 0.1), shape);
    return [i % 3 === 0 ? `l${i}.bias` : `l${i}.weight`, t];
  });
  return named;
}

test('AdamW through adamwStepMulti: the bits of one adamwStep per parameter, with groups, skipped parameters and a float64 gradient', () => {
  for (const mixed of ['f32', 'mixed'] as const) {
    const a = model(31, mixed), b = model(31, mixed);
    const groups = (named: [string, Tensor][]) => paramGroups(named, 0.05).map((g, i) => ({ ...g, lr: i ? 2e-3 : 1e-3 }));
    const opt = new AdamW(groups(a), { lr: 1e-3, beta2: 0.99 });
    // the same steps by hand: one adamwStep per float32 parameter (the path before the multi-tensor kernel)
    const optB = new AdamW(groups(b), { lr: 1e-3, beta2: 0.99 });
    const state = new Map<Tensor, { step: number; m: Float32Array; v: Float32Array }>();
    for (let step = 0; step < 4; step++) {
      // parameter 1 has no gradient on step 2: its step count falls behind the others'
      const skip = (named: [string, Tensor][]) => { if (step === 2) named[1][1].grad = null; };
      const regrad = (named: [string, Tensor][], seed: number) => {
        const r = rng(seed);
        for (const [, t] of named) t.grad = new Tensor(t.grad?.data instanceof Float64Array ? Float64Array.from(randn(t.size, r, 0.1)) : randn(t.size, r, 0.1), [...t.shape]);
      };
      regrad(a, 100 + step); regrad(b, 100 + step); skip(a); skip(b);
      opt.step();
      for (const g of optB.paramGroups) {
        for (const [, t] of g.params) {
          if (!t.grad) continue;
          let st = state.get(t);
          if (!st) state.set(t, (st = { step: 0, m: new Float32Array(t.size), v: new Float32Array(t.size) }));
          st.step++;
          const h = g.hyper;
          if (t.grad.data instanceof Float32Array) {
            k.adamwStep({ param: t.data as Float32Array, grad: t.grad.data, m: st.m, v: st.v, lr: h.lr, beta1: h.beta1, beta2: h.beta2, eps: h.eps, weightDecay: h.weightDecay, step: st.step });
          }
        }
      }
      a.forEach(([n, t], i) => {
        if (b[i][1].grad?.data instanceof Float64Array) return; // the float64 parameter runs the loop in both: not compared by hand
        assert.deepEqual(t.data, b[i][1].data, `${mixed}: step ${step + 1}, ${n}`);
      });
    }
    const sd = opt.stateDict();
    assert.equal(sd.steps[a[1][0]], 3);
    assert.equal(sd.steps[a[0][0]], 4);
  }
});

test('clipGradNorm / gradNorm through the multi-tensor kernels: the bits of a call per tensor', () => {
  const named = model(41);
  const params = named.map(([, t]) => t);
  const grads0 = params.map((p) => (p.grad!.data as Float32Array).slice());
  const out = new Float32Array(2);
  let sq = 0;
  for (const g of grads0) { k.sumSquares({ x: g, out }); sq += sumSquaresResult(out); }
  assert.equal(gradNorm(params), Math.sqrt(sq));
  const total = clipGradNorm(params, 0.5);
  assert.equal(total, Math.sqrt(sq));
  const coef = 0.5 / (total + 1e-6);
  params.forEach((p, i) => assert.deepEqual(p.grad!.data, grads0[i].map((v) => v * coef), `param ${i}`));
  // a float64 gradient among them: the per-tensor path, same norm to float64 rounding
  const mixed = model(41, 'mixed').map(([, t]) => t);
  const n64 = gradNorm(mixed);
  assert.ok(Number.isFinite(n64) && n64 > 0);
});

test('adamwStepMulti against torch.optim.AdamW (the committed fixture): reference and native, both options sets in one call', (t) => {
  const nk = native(t);
  if (!nk) return;
  const fx = JSON.parse(readFileSync(new URL('../fixtures/train/optim.json', import.meta.url), 'utf8'));
  const cases = ['adamw', 'adamw_default'].map((name) => ({ name, ...fx.optim[name] as { options: { lr: number; weightDecay?: number }; trajectory: { w: number[]; b: number[] }[] } }));
  for (const kt of [ref, nk]) {
    // w and b of both cases in one list: 4 tensors, two sets of hyper-parameters
    const params = cases.flatMap(() => [Float32Array.from(fx.w0), Float32Array.from(fx.b0)]);
    const m = params.map((p) => new Float32Array(p.length)), v = params.map((p) => new Float32Array(p.length));
    const hyper = new Float64Array(params.length * ADAMW_HYPER);
    cases[0].trajectory.forEach((_, step) => {
      const grads = cases.flatMap(() => [Float32Array.from(fx.grads[step].w), Float32Array.from(fx.grads[step].b)]);
      cases.forEach((c, ci) => {
        for (const j of [0, 1]) hyper.set([c.options.lr, 0.9, 0.999, 1e-8, c.options.weightDecay ?? 0.01, step + 1], (2 * ci + j) * ADAMW_HYPER);
      });
      kt.adamwStepMulti!({ params, grads, m, v, hyper });
      cases.forEach((c, ci) => {
        const w = c.trajectory[step];
        assertClose(params[2 * ci], w.w, `${kt === ref ? 'reference' : 'native'} ${c.name} step ${step + 1} w`, 1e-6, 0);
        assertClose(params[2 * ci + 1], w.b, `${kt === ref ? 'reference' : 'native'} ${c.name} step ${step + 1} b`, 1e-6, 0);
      });
    });
  }
});
