// Optimizers, schedules and clipping against torch.optim (fixture: tools/fixtures/make_train_fixtures.py).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Tensor } from '../../src/tensor/tensor.js';
import { SGD, Adam, AdamW, LRScheduler, clipGradNorm, paramGroups, isNoDecay } from '../../src/train/optim/index.js';
import type { ScheduleOptions } from '../../src/train/optim/index.js';
import { ValueError, CheckpointError } from '../../src/errors.js';

const fx = JSON.parse(readFileSync(new URL('../fixtures/train/optim.json', import.meta.url), 'utf8'));

function params(): [string, Tensor][] {
  const w = new Tensor(Float32Array.from(fx.w0), fx.wShape, true);
  const b = new Tensor(Float32Array.from(fx.b0), [fx.b0.length], true);
  return [['w', w], ['b', b]];
}

function close(actual: ArrayLike<number>, expected: number[], tol: number, what: string): void {
  assert.equal(actual.length, expected.length, what);
  for (let i = 0; i < expected.length; i++) {
    assert.ok(Math.abs(actual[i] - expected[i]) <= tol, `${what}[${i}]: ${actual[i]} vs torch ${expected[i]}`);
  }
}

const makers: Record<string, (p: [string, Tensor][], o: Record<string, number | boolean>) => SGD | Adam | AdamW> = {
  sgd: (p, o) => new SGD(p, o as never),
  adam: (p, o) => new Adam(p, o as never),
  adamw: (p, o) => new AdamW(p, o as never),
};

for (const [name, c] of Object.entries(fx.optim) as [string, { options: Record<string, number | boolean>; trajectory: { w: number[]; b: number[] }[] }][]) {
  test(`${name} matches torch.optim within 1e-6 over ${c.trajectory.length} steps`, () => {
    const p = params();
    const opt = makers[name.split('_')[0]](p, c.options);
    c.trajectory.forEach((want, t) => {
      opt.zeroGrad();
      p[0][1].grad = new Tensor(Float32Array.from(fx.grads[t].w), fx.wShape);
      p[1][1].grad = new Tensor(Float32Array.from(fx.grads[t].b), [fx.b0.length]);
      opt.step();
      close(p[0][1].data, want.w, 1e-6, `${name} step ${t + 1} w`);
      close(p[1][1].data, want.b, 1e-6, `${name} step ${t + 1} b`);
    });
  });
}

test('AdamW state dict round-trips: a restored optimizer continues the same trajectory', () => {
  const c = fx.optim.adamw;
  const run = (p: [string, Tensor][], opt: AdamW, t: number) => {
    p[0][1].grad = new Tensor(Float32Array.from(fx.grads[t].w), fx.wShape);
    p[1][1].grad = new Tensor(Float32Array.from(fx.grads[t].b), [fx.b0.length]);
    opt.step();
  };
  const p1 = params();
  const o1 = new AdamW(p1, c.options);
  for (let t = 0; t < 2; t++) run(p1, o1, t);
  const sd = o1.stateDict();
  const p2 = params();
  p2[0][1].data.set(p1[0][1].data);
  p2[1][1].data.set(p1[1][1].data);
  const o2 = new AdamW(p2, c.options);
  o2.loadStateDict(sd);
  for (let t = 2; t < 5; t++) run(p2, o2, t);
  close(p2[0][1].data, c.trajectory[4].w, 1e-6, 'resumed w');
  assert.throws(() => new AdamW([['x', new Tensor(new Float32Array(3), [3], true)]], c.options).loadStateDict(sd), CheckpointError);
});

for (const [name, s] of Object.entries(fx.schedules) as [string, { options: ScheduleOptions; baseLr: number; lrs: number[] }][]) {
  test(`${name} schedule matches torch's lr at every step`, () => {
    const opt = new SGD(params(), { lr: s.baseLr });
    const sched = new LRScheduler(opt, s.options);
    const lrs = [opt.lr];
    for (let i = 1; i < s.lrs.length; i++) {
      opt.step();
      sched.step();
      lrs.push(opt.lr);
    }
    close(lrs, s.lrs, 1e-12, `${name} lr`);
  });
}

test('clipGradNorm returns the pre-clip norm and scales gradients as clip_grad_norm_', () => {
  const p = params();
  p[0][1].grad = new Tensor(Float32Array.from(fx.grads[0].w), fx.wShape);
  p[1][1].grad = new Tensor(Float32Array.from(fx.grads[0].b), [fx.b0.length]);
  const norm = clipGradNorm(p.map(([, t]) => t), fx.clip.maxNorm);
  assert.ok(Math.abs(norm - fx.clip.norm) < 1e-5);
  close(p[0][1].grad!.data, fx.clip.w, 1e-6, 'clipped w');
  close(p[1][1].grad!.data, fx.clip.b, 1e-6, 'clipped b');
});

test('default parameter groups exempt biases, norms and embeddings from weight decay', () => {
  const t2 = () => new Tensor(new Float32Array(4), [2, 2], true);
  const named: [string, Tensor][] = [['enc.layers.0.linear1.weight', t2()], ['enc.layers.0.linear1.bias', new Tensor(new Float32Array(2), [2], true)],
    ['enc.layers.0.norm1.weight', t2()], ['srcEmbed.weight', t2()], ['generator.weight', t2()]];
  assert.deepEqual(named.map(([n, t]) => isNoDecay(n, t)), [false, true, true, true, false]);
  const groups = paramGroups(named, 0.05);
  assert.deepEqual(groups.map((g) => [g.params.map(([n]) => n), g.weightDecay]), [
    [['enc.layers.0.linear1.weight', 'generator.weight'], 0.05],
    [['enc.layers.0.linear1.bias', 'enc.layers.0.norm1.weight', 'srcEmbed.weight'], 0],
  ]);
  const opt = new AdamW(groups, { lr: 1e-3 });
  assert.deepEqual(opt.paramGroups.map((g) => g.hyper.weightDecay), [0.05, 0]);
});

test('bad optimizer options are rejected with the option name', () => {
  assert.throws(() => new AdamW(params(), { lr: -1 }), /lr=-1/);
  assert.throws(() => new SGD(params(), { lr: 0.1, nesterov: true }), ValueError);
  assert.throws(() => new AdamW([], { lr: 1e-3 }), /no parameters/);
  assert.throws(() => new LRScheduler(new SGD(params(), { lr: 1 }), { kind: 'cosine' }), /totalSteps/);
});
