/**
 * FusedCnn (src/models/fused-cnn.ts) against the module path it replaces: the same logits (≤ 1e-5)
 * for a CBAM CnnClassifier with trained-looking BatchNorm statistics, at batch 1 and 5 and on
 * several widths and image sizes; null (the module path) for each case it does not cover; no
 * stale folded weights after the weights change in place or a module is replaced; and training
 * (grad on) never takes it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as h from '../../src/index.ts';
import { optim } from '../../src/index.ts';
import { fusedCnnBlocker, runFusedCnn, setFusedCnnEnabled } from '../../src/models/fused-cnn.ts';
import { markWeightsChanged } from '../../src/nn/weights-version.ts';
import { BatchNorm2d } from '../../src/nn/batch-norm.ts';
import { CnnClassifier, ConvStage } from '../../src/models/cnn.ts';
import { maxDiff } from '../tensors.ts';

const classes = { model: CnnClassifier, stage: ConvStage };

/** A CBAM CNN whose BatchNorms and CBAM biases are not at their initial values. */
function cnn(o: { width?: number; imageSize?: number; stages?: number; attention?: 'cbam' | 'se' | 'none' } = {}): CnnClassifier {
  h.manualSeed(7);
  const m = new CnnClassifier({ numClasses: 10, width: o.width ?? 8, imageSize: o.imageSize ?? 28, stages: o.stages ?? 2, attention: o.attention ?? 'cbam', reduction: 4 });
  for (const p of m.parameters()) if (p.ndim === 1) p.data.set(h.randn([p.size]).data as Float32Array);
  for (const mod of m.modules()) {
    if (mod instanceof BatchNorm2d) {
      mod.runningMean!.data.set(h.randn([mod.numFeatures]).data as Float32Array);
      mod.runningVar!.data.set(Float32Array.from(h.rand([mod.numFeatures]).data, (v) => 0.5 + v));
    }
  }
  markWeightsChanged();
  return m.eval();
}

/** The logits on the module path and on the fused path (asserting it ran), under noGrad. */
function bothPaths(m: CnnClassifier, x: h.Tensor): { module: h.Tensor; fused: h.Tensor } {
  const was = setFusedCnnEnabled(false);
  try {
    const module = h.noGrad(() => m.forward(x));
    setFusedCnnEnabled(true);
    assert.equal(h.noGrad(() => fusedCnnBlocker(m, x, classes)), null);
    const fused = h.noGrad(() => runFusedCnn(m, x, classes));
    assert.ok(fused, 'the fused path ran');
    return { module, fused };
  } finally {
    setFusedCnnEnabled(was);
  }
}

test('the fused CNN forward equals the module path (≤ 1e-5) on batches 1 and 5, several widths and sides', () => {
  for (const [width, imageSize, stages] of [[8, 28, 2], [16, 12, 1], [4, 20, 2], [32, 28, 2]]) {
    const m = cnn({ width, imageSize, stages });
    for (const B of [1, 5]) {
      const x = h.rand([B, 1, imageSize, imageSize]);
      const { module, fused } = bothPaths(m, x);
      assert.ok(maxDiff(module, fused) <= 1e-5, `width ${width} side ${imageSize} B ${B}: ${maxDiff(module, fused)}`);
      assert.ok(module.data.some((v) => Math.abs(v) > 1e-3), 'non-trivial logits');
    }
  }
  // the default forward under inferenceMode takes the fused path and agrees too
  const m = cnn(), x = h.rand([3, 1, 28, 28]);
  const was = setFusedCnnEnabled(false);
  const ref = h.noGrad(() => m.forward(x));
  setFusedCnnEnabled(was);
  const got = h.inferenceMode(() => m.forward(x), m);
  assert.ok(maxDiff(ref, got) <= 1e-5);
});

test('an int8 head (heed compress --quantize int8) keeps the fused path and equals the module path', () => {
  const m = cnn({ width: 8 });
  const { modules } = h.quantizeDynamic(m);
  assert.ok(m.head instanceof h.nn.QuantizedLinear, `quantized: ${modules.join(', ')}`);
  for (const B of [1, 4]) {
    const x = h.rand([B, 1, 28, 28]);
    const { module, fused } = bothPaths(m, x);
    assert.ok(maxDiff(module, fused) <= 1e-5, `B ${B}: ${maxDiff(module, fused)}`);
  }
});

test('the fused CNN forward declines what it does not cover: grad, training, other attention, hooks, bad input', () => {
  const m = cnn(), x = h.rand([2, 1, 28, 28]);
  assert.match(fusedCnnBlocker(m, x, classes)!, /gradients are enabled/);
  h.noGrad(() => {
    assert.equal(fusedCnnBlocker(m, x, classes), null);
    assert.match(fusedCnnBlocker(m, h.rand([2, 1, 27, 27]), classes)!, /input is not float32/);
    assert.match(fusedCnnBlocker(cnn({ attention: 'se' }), x, classes)!, /attention 'se' is not fused/);
    assert.match(fusedCnnBlocker(cnn({ attention: 'none' }), x, classes)!, /attention 'none' is not fused/);
    class Sub extends CnnClassifier {}
    assert.match(fusedCnnBlocker(new Sub({ numClasses: 10, width: 8 }).eval(), x, classes)!, /subclass/);
    m.train();
    assert.match(fusedCnnBlocker(m, x, classes)!, /training mode/);
    m.eval();
    const handle = m.stages.toArray()[0].conv1.registerForwardHook(() => undefined);
    assert.match(fusedCnnBlocker(m, x, classes)!, /hooks/);
    handle.remove();
    assert.equal(fusedCnnBlocker(m, x, classes), null);
  });
  // bad input still gets the module path's ShapeError
  assert.throws(() => h.noGrad(() => m.forward(h.rand([2, 1, 27, 27]))), h.ShapeError);
});

test('the folded weights follow in-place changes, optimizer steps and replaced modules', () => {
  const m = cnn(), x = h.rand([2, 1, 28, 28]);
  const check = (what: string) => {
    const { module, fused } = bothPaths(m, x);
    assert.ok(maxDiff(module, fused) <= 1e-5, `${what}: ${maxDiff(module, fused)}`);
  };
  check('initial');
  // an in-place write declared with markWeightsChanged
  const conv = m.stages.toArray()[1].conv2;
  conv.weight.data.set(h.randn([conv.weight.size]).data as Float32Array);
  markWeightsChanged();
  check('after an in-place conv weight write');
  // a training step (BatchNorm running statistics and every weight move), then eval()
  m.train();
  const opt = new optim.AdamW(m.parameters(), { lr: 1e-2 });
  const loss = h.crossEntropy(m.forward(h.rand([4, 1, 28, 28])), h.tensor([1, 2, 3, 4], [4], { dtype: 'int32' }));
  loss.backward();
  opt.step();
  m.eval();
  check('after an AdamW step');
  // a replaced BatchNorm
  const stage = m.stages.toArray()[0];
  const bn = new BatchNorm2d(stage.bn1.numFeatures, { relu: true });
  bn.runningVar!.data.fill(2);
  stage.bn1 = bn.eval();
  check('after replacing a BatchNorm');
});

test('training never takes the fused path: the module-path gradients are unchanged', () => {
  const m = cnn();
  m.train();
  const x = h.rand([3, 1, 28, 28]);
  const y = m.forward(x);
  assert.ok(y.requiresGrad, 'the training forward records the graph');
  h.crossEntropy(y, h.tensor([0, 1, 2], [3], { dtype: 'int32' })).backward();
  assert.ok(m.stages.toArray()[0].conv1.weight.grad, 'conv weights get gradients');
  // under grad in eval mode too
  m.eval();
  assert.ok(m.forward(x).requiresGrad);
});
