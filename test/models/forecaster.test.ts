// PatchTSTForecaster: shapes, ordered quantiles for any input, RevIN scale equivariance,
// gradients reaching every parameter, and its config errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PatchTSTForecaster, numPatches, parseQuantiles } from '../../src/models/forecaster.js';
import { pinballLoss } from '../../src/train/pinball-loss.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { manualSeed } from '../../src/tensor/rng.js';
import { backward } from '../../src/autograd/engine.js';
import { noGrad } from '../../src/autograd/mode.js';
import { CALENDAR_FIELDS, NUM_CALENDAR_FIELDS } from '../../src/data/calendar.js';
import { ConfigError, ShapeError } from '../../src/errors.js';

const SMALL = { contextLength: 28, horizon: 7, patchLength: 7, patchStride: 7, dModel: 16, numHeads: 2, numLayers: 1, dimFeedforward: 32, headDim: 8, quantiles: '0.05,0.25,0.5,0.75,0.95' };

function inputs(B: number, scale = 1, seed = 1) {
  let s = seed;
  const rand = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const sizes = Object.values(CALENDAR_FIELDS);
  const context = new Tensor(Float32Array.from({ length: B * 28 }, () => scale * (rand() * 10 - 5)), [B, 28]);
  const calendar = new Tensor(Int32Array.from({ length: B * 7 * NUM_CALENDAR_FIELDS }, (_, i) => Math.floor(rand() * sizes[i % NUM_CALENDAR_FIELDS])), [B, 7, NUM_CALENDAR_FIELDS]);
  return { context, calendar };
}

test('the forecaster maps (B, L) context and (B, H, F) calendar to (B, H, Q) quantiles, ascending along Q for any input', () => {
  manualSeed(3);
  const m = new PatchTSTForecaster(SMALL);
  m.eval();
  assert.equal(numPatches(m.config), 4);
  // Push the raw outputs far from zero so a wrong ordering would show.
  for (const p of m.out.parameters()) for (let i = 0; i < p.size; i++) p.data[i] *= 50;
  for (const scale of [1, 1e3]) {
    const { context, calendar } = inputs(32, scale);
    const y = noGrad(() => m.forward(context, calendar));
    assert.deepEqual(y.shape, [32, 7, 5]);
    const d = y.data;
    for (let i = 0; i < 32 * 7; i++) for (let k = 1; k < 5; k++) assert.ok(d[i * 5 + k] >= d[i * 5 + k - 1], `row ${i}: level ${k} below level ${k - 1}`);
  }
});

test('RevIN: scaling and shifting the context scales and shifts the forecast the same way', () => {
  manualSeed(4);
  const m = new PatchTSTForecaster(SMALL);
  m.eval();
  const { context, calendar } = inputs(4);
  const y = noGrad(() => m.forward(context, calendar)).data;
  const moved = new Tensor(Float32Array.from(context.data, (v) => 3 * v + 100), context.shape);
  const y2 = noGrad(() => m.forward(moved, calendar)).data;
  for (let i = 0; i < y.length; i++) assert.ok(Math.abs(y2[i] - (3 * y[i] + 100)) < 1e-2 * (1 + Math.abs(y2[i])), `${y2[i]} vs ${3 * y[i] + 100}`);
});

test('the pinball loss sends a gradient to every parameter, calendar tables included', () => {
  manualSeed(5);
  const m = new PatchTSTForecaster(SMALL);
  const { context, calendar } = inputs(8);
  const target = new Tensor(Float32Array.from({ length: 8 * 7 }, (_, i) => Math.sin(i)), [8, 7]);
  backward(pinballLoss(m.forward(context, calendar), target, m.levels));
  for (const [name, p] of m.namedParameters()) {
    assert.ok(p.grad !== null && p.grad.data.some((g) => g !== 0), `${name} got no gradient`);
  }
});

test('bad shapes and configs are clear errors', () => {
  const m = new PatchTSTForecaster(SMALL);
  const { context, calendar } = inputs(2);
  assert.throws(() => m.forward(new Tensor(new Float32Array(2 * 27), [2, 27]), calendar), (e: Error) => e instanceof ShapeError && /expected \(B, 28\)/.test(e.message));
  assert.throws(() => m.forward(context, new Tensor(new Float32Array(2 * 7 * 4), [2, 7, 4])), /int32/);
  assert.throws(() => new PatchTSTForecaster({ ...SMALL, contextLength: 30 }), ConfigError);
  assert.throws(() => parseQuantiles('0.1,0.9'), /include 0.5/);
  assert.throws(() => parseQuantiles('0.5,0.1'), /ascending/);
  assert.throws(() => new PatchTSTForecaster({ ...SMALL, bogus: 1 } as never), /unknown config key 'bogus'/);
});

test('fromConfig(toConfig()) rebuilds the same architecture', () => {
  const m = new PatchTSTForecaster(SMALL);
  const m2 = PatchTSTForecaster.fromConfig(m.toConfig() as unknown as Record<string, unknown>);
  m2.loadStateDict(m.stateDict(), { strict: true });
  assert.deepEqual(m2.toConfig(), m.toConfig());
});
