/**
 * inferenceMode (src/autograd/inference.ts): a no-grad forward whose temporaries go back to the
 * tensor pool. A warmed-up call allocates no new storage but its result's; results are bit-identical
 * with the pool off; a result handed to the caller is never recycled, however long it is kept and
 * whatever later calls do (the classic pooling bug); what a call stores on a kept root survives;
 * allocation outside a scope never drains the pool.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as h from '../../src/index.ts';
import { models, inferenceMode } from '../../src/index.ts';
import { quantizeDynamic } from '../../src/index.ts';
import { narrow } from '../../src/ops/shape.ts';
import { mul } from '../../src/ops/elementwise.ts';
import { setPoolMode, storageStats, clearStoragePool, pooledBytes } from '../../src/tensor/storage-pool.ts';
import { liveWalkStats } from '../../src/tensor/live-storages.ts';
import { setFusedEncoderEnabled } from '../../src/models/fused-encoder.ts';

function classifier(): models.EncoderClassifier {
  h.manualSeed(1);
  return new models.EncoderClassifier({ vocabSize: 50, numClasses: 3, dModel: 32, numHeads: 4, numLayers: 2, dimFeedforward: 64, maxLen: 32, pooling: 'mean' }).eval();
}

function ids(seed: number, T = 17): h.Tensor {
  const g = new h.Generator(seed);
  return new h.Tensor(Int32Array.from({ length: 2 * T }, () => 2 + Math.floor(g.uniform() * 45)), [2, T]);
}

function withMode<T>(mode: 'on' | 'off' | 'check', fn: () => T): T {
  const prev = setPoolMode(mode);
  clearStoragePool();
  try {
    return fn();
  } finally {
    setPoolMode(prev);
  }
}

test('a warmed-up inferenceMode forward allocates no new storage but its result; noGrad alone allocates the whole working set', () => {
  // On the module path (op by op, dozens of temporaries): the fused encoder allocates none, so it would not exercise the pool.
  const fused = setFusedEncoderEnabled(false);
  try {
    poolServesModulePath();
  } finally {
    setFusedEncoderEnabled(fused);
  }
  // With the fused encoder too, a warmed-up call allocates nothing new but its result.
  withMode('on', () => {
    const model = classifier(), x = ids(3);
    for (let i = 0; i < 3; i++) inferenceMode(() => model.forward(x), model);
    const before = storageStats().bytes;
    const y = inferenceMode(() => model.forward(x), model);
    assert.ok(storageStats().bytes - before <= y.data.byteLength, `new bytes ${storageStats().bytes - before}, result ${y.data.byteLength}`);
  });
});

function poolServesModulePath(): void {
  withMode('on', () => {
    const model = classifier(), x = ids(3);
    for (let i = 0; i < 3; i++) inferenceMode(() => model.forward(x), model);
    const before = storageStats();
    const y = inferenceMode(() => model.forward(x), model);
    const after = storageStats();
    assert.ok(after.reused - before.reused > 20, `storages served from the pool: ${after.reused - before.reused}`);
    assert.ok(after.bytes - before.bytes <= y.data.byteLength, `new bytes ${after.bytes - before.bytes}, result ${y.data.byteLength}`);
    const b0 = storageStats().bytes;
    h.noGrad(() => model.forward(x));
    assert.ok(storageStats().bytes - b0 > 50_000, `unpooled forward allocated ${storageStats().bytes - b0} bytes`);
  });
}

test('inferenceMode gives bit-identical results with the pool on, off and under noGrad, call after call (fp32 and int8)', () => {
  const runAll = (mode: 'on' | 'off', quantize: boolean): number[][] => withMode(mode, () => {
    const model = classifier();
    if (quantize) quantizeDynamic(model);
    return [3, 4, 5, 3, 6].map((s) => Array.from(inferenceMode(() => model.forward(ids(s, 10 + s)), model).data));
  });
  for (const q of [false, true]) {
    const on = runAll('on', q), off = runAll('off', q);
    assert.deepEqual(on, off);
    const model = classifier();
    if (q) quantizeDynamic(model);
    assert.deepEqual(on[0], Array.from(h.noGrad(() => model.forward(ids(3, 13))).data));
  }
});

test('a result kept by the caller is never recycled by later calls (values unchanged; the check mode poisons nothing it holds)', () => {
  for (const mode of ['on', 'check'] as const) {
    withMode(mode, () => {
      const model = classifier();
      const first = inferenceMode(() => model.forward(ids(3)), model);
      const firstCopy = Float32Array.from(first.data as Float32Array);
      // A result nested in an object, and a view into an intermediate buffer, are results too.
      const nested = inferenceMode(() => ({ logits: model.forward(ids(4)), hidden: narrow(model.backbone.forward(ids(4)), 1, 0, 2) }), model);
      const nestedCopy = [Float32Array.from(nested.logits.data as Float32Array), Float32Array.from(nested.hidden.data as Float32Array)];
      for (let i = 0; i < 6; i++) inferenceMode(() => model.forward(ids(10 + i)), model); // other inputs: a recycled buffer would change
      assert.deepEqual(first.data, firstCopy, `${mode}: the first result changed after later calls`);
      assert.deepEqual(nested.logits.data, nestedCopy[0]);
      assert.deepEqual(nested.hidden.data, nestedCopy[1]);
      // And a result never enters the pool afterwards either: its buffer is not among the free ones.
      const again = inferenceMode(() => model.forward(ids(3)), model);
      assert.notEqual(again.data.buffer, first.data.buffer);
    });
  }
});

test('what a call stores on a kept root survives; a tensor kept only in a closure is released (the documented rule, shown by the check mode)', () => {
  withMode('check', () => {
    const model = classifier();
    const x = h.randn([3, 5]);
    let outside!: h.Tensor;
    inferenceMode(() => {
      (model as unknown as { kept: h.Tensor }).kept = mul(x, 2); // on the model: live
      outside = mul(x, 3); // only in this closure: invisible to the walk
      return null;
    }, model);
    assert.ok(Array.from((model as unknown as { kept: h.Tensor }).kept.data).every(Number.isFinite));
    assert.ok(Array.from(outside.data).every(Number.isNaN), 'a tensor held outside the roots is released');
    assert.ok(model.namedParameters().every(([, p]) => Array.from(p.data).every(Number.isFinite)), 'parameters are never touched');
  });
});

test('a call that throws releases nothing; a Promise-returning fn is refused; nested calls run plainly', () => {
  withMode('check', () => {
    const model = classifier();
    let made!: h.Tensor;
    assert.throws(() => inferenceMode(() => {
      made = model.forward(ids(3));
      throw new Error('boom');
    }, model), /boom/);
    assert.ok(Array.from(made.data).every(Number.isFinite), 'what a failed call made may still be referenced');
    assert.equal(h.isGradEnabled(), true);
    assert.throws(() => inferenceMode(async () => 1), (e: unknown) => e instanceof h.ValueError && /Promise/.test((e as Error).message));
    const outer = inferenceMode(() => {
      const inner = inferenceMode(() => model.forward(ids(3)), model);
      return [inner, model.forward(ids(4))];
    }, model);
    assert.ok(outer.every((t) => Array.from(t.data).every(Number.isFinite)));
  });
});

test('allocation outside a scope never takes from the pool (it would leave the pool for good)', () => {
  withMode('on', () => {
    const model = classifier(), x = ids(3);
    inferenceMode(() => model.forward(x), model);
    inferenceMode(() => model.forward(x), model);
    const held = pooledBytes();
    assert.ok(held > 10_000, `pool holds ${held} bytes after two calls`);
    h.noGrad(() => model.forward(x));
    assert.equal(pooledBytes(), held);
  });
});

test('the cached walk of the model is reused between calls, and any change to the model invalidates it (nothing it holds is released)', () => {
  withMode('check', () => {
    const model = classifier(), x = ids(3);
    const expected = Array.from(h.noGrad(() => model.forward(x)).data);
    inferenceMode(() => model.forward(x), model);
    const s0 = { ...liveWalkStats };
    inferenceMode(() => model.forward(x), model);
    assert.equal(liveWalkStats.walks - s0.walks, 0, 'an unchanged model is not walked again');
    assert.equal(liveWalkStats.reused - s0.reused, 1);
    const live = (t: h.Tensor): boolean => Array.from(t.data).every(Number.isFinite);

    // A field added on a later call, once the walk is cached: found, so not poisoned.
    const m = model as unknown as { kept: h.Tensor; cache: h.Tensor[] };
    inferenceMode(() => { m.kept = mul(x.float(), 2); return null; }, model);
    assert.ok(live(m.kept), 'a tensor assigned to a new field during a later call stays live');
    // An entry pushed into an array the cached walk already saw.
    m.cache = [];
    inferenceMode(() => null, model);
    const s1 = { ...liveWalkStats };
    inferenceMode(() => { m.cache.push(mul(x.float(), 3)); return null; }, model);
    assert.equal(liveWalkStats.walks - s1.walks, 1, 'a changed array invalidates the cached walk');
    assert.ok(live(m.cache[0]));
    // A parameter replaced during a call by one made in it (its storage is recorded by the scope).
    const head = model.namedModules().find(([n]) => n === 'head')![1] as h.nn.Linear;
    inferenceMode(() => { head.weight = new h.nn.Parameter(mul(head.weight, 1)); return null; }, model);
    assert.ok(live(head.weight), 'a parameter replaced inside a call stays live');
    assert.deepEqual(Array.from(inferenceMode(() => model.forward(x), model).data), expected);
    // A layer swapped between calls (quantizeDynamic replaces every Linear): walked again, same results as noGrad.
    quantizeDynamic(model);
    const s2 = { ...liveWalkStats };
    const q = Array.from(inferenceMode(() => model.forward(x), model).data);
    assert.ok(liveWalkStats.walks - s2.walks >= 1);
    assert.deepEqual(q, Array.from(h.noGrad(() => model.forward(x)).data));
    assert.ok(model.namedParameters().every(([, p]) => live(p)), 'parameters are never touched');
  });
});
