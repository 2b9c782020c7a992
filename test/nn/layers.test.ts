import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as h from '../../src/index.ts';
import { nn } from '../../src/index.ts';
import { assertDropoutStatistics } from '../ops/dropout-stats.ts';
import { nativeSkip } from '../requirements.ts';

const f64 = (shape: number[]): h.Tensor => h.randn(shape, { dtype: 'float64', requiresGrad: true });

test('gradcheck in float64: Linear, LayerNorm, RMSNorm, FeedForward (swiglu), Conv1d, Conv2d, LSTM', () => {
  h.manualSeed(0);
  const cases: [string, nn.Module, (x: h.Tensor) => h.Tensor, number[]][] = [];
  const lin = new nn.Linear(3, 2).to('float64'); cases.push(['Linear', lin, (x) => lin.forward(x), [2, 3]]);
  const ln = new nn.LayerNorm(4).to('float64'); cases.push(['LayerNorm', ln, (x) => ln.forward(x), [2, 4]]);
  const rms = new nn.RMSNorm(4).to('float64'); cases.push(['RMSNorm', rms, (x) => rms.forward(x), [2, 4]]);
  const ff = new nn.FeedForward(3, 4, { activation: 'swiglu' }).to('float64'); cases.push(['FeedForward', ff, (x) => ff.forward(x), [2, 3]]);
  const c1 = new nn.Conv1d(2, 2, 3, { padding: 1, stride: 2 }).to('float64'); cases.push(['Conv1d', c1, (x) => c1.forward(x), [1, 2, 5]]);
  const c2 = new nn.Conv2d(1, 2, 2, { padding: 1 }).to('float64'); cases.push(['Conv2d', c2, (x) => c2.forward(x), [1, 1, 3, 3]]);
  const lstm = new nn.LSTM(2, 3).to('float64'); cases.push(['LSTM', lstm, (x) => lstm.forward(x).output, [1, 3, 2]]);
  for (const [name, m, run, shape] of cases) {
    const x = f64(shape);
    const r = h.gradcheck((xx, ...ps) => { void ps; return run(xx); }, [x, ...m.parameters()]);
    assert.ok(r.ok, `${name}: ${JSON.stringify(r)}`);
  }
});

test('Embedding with paddingIdx gives the padding row no gradient', () => {
  const e = new nn.Embedding(4, 2, { paddingIdx: 0 });
  e.forward(h.tensor([[0, 1, 0]], undefined, { dtype: 'int32' })).sum().backward();
  assert.deepEqual(Array.from(e.weight.grad!.data.slice(0, 2)), [0, 0]);
  assert.deepEqual(Array.from(e.weight.grad!.data.slice(2, 4)), [1, 1]);
});

for (const backend of ['js', 'native'] as const) {
  test(`Dropout keeps a fraction 1 − p scaled by 1/(1 − p) in training and is the identity in eval mode (${backend})`,
    { skip: backend === 'native' ? nativeSkip : false }, () => {
      const prev = h.getBackend();
      h.setBackend(backend);
      try {
        h.manualSeed(1);
        const x = h.add(h.rand([100, 400]), 0.5); // (100, 400) in [0.5, 1.5): no zeros
        for (const p of [0.2, 0.5]) assertDropoutStatistics(x, new nn.Dropout(p).forward(x), p, `nn.Dropout(${p}) ${backend}`);
        const d = new nn.Dropout(0.5);
        d.eval();
        assert.equal(d.forward(x), x);
      } finally {
        h.setBackend(prev);
      }
    });
}

test('bad layer sizes are ConfigErrors; wrong inputs are ShapeErrors naming the expected shape', () => {
  assert.throws(() => new nn.Linear(0, 3), h.ConfigError);
  assert.throws(() => new nn.Linear(4, 3).forward(h.zeros([2, 5])), (e: Error) => e instanceof h.ShapeError && /inFeatures/.test(e.message));
  assert.throws(() => new nn.Conv2d(3, 4, 3).forward(h.zeros([1, 2, 8, 8])), (e: Error) => e instanceof h.ShapeError && /\(B, 3, H, W\)/.test(e.message));
  assert.throws(() => new nn.Conv1d(1, 1, 5).forward(h.zeros([1, 1, 3])), h.ShapeError);
  assert.throws(() => new nn.LSTM(3, 4).forward(h.zeros([1, 2, 5])), h.ShapeError);
  assert.throws(() => new nn.FeedForward(4, 8, { activation: 'tanh' as 'relu' }), h.ConfigError);
  assert.throws(() => new nn.RotaryEmbedding(5), h.ConfigError);
});

test('init follows PyTorch formulas: xavier bound, kaiming std, truncNormal bounds', () => {
  h.manualSeed(2);
  const w = h.zeros([200, 300]);
  nn.init.xavierUniform(w);
  const a = Math.sqrt(6 / 500);
  assert.ok(Array.from(w.data).every((v) => Math.abs(v) <= a));
  nn.init.kaimingNormal(w, { nonlinearity: 'relu' });
  const std = Math.sqrt(Array.from(w.data).reduce((s, v) => s + v * v, 0) / w.size);
  assert.ok(Math.abs(std - Math.sqrt(2 / 300)) < 0.005);
  nn.init.truncNormal(w, 0, 1, -0.5, 0.5);
  assert.ok(Array.from(w.data).every((v) => v >= -0.5 && v <= 0.5));
  assert.equal(nn.init.calculateGain('leaky_relu', Math.sqrt(5)), Math.sqrt(2 / 6));
});
