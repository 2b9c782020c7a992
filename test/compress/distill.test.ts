/**
 * Distillation loss: its value equals a hand-worked two-class example (KL at temperature T, times
 * T², mixed with cross entropy by α, padding rows skipped), its gradient passes gradcheck in
 * float64, and bad settings or a teacher with another vocabulary are clear errors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as h from '../../src/index.ts';
import { gradcheck } from '../../src/autograd/gradcheck.ts';
import { checkTeacherVocab, distillSettings } from '../../src/tasks/distill.ts';
import { resolveTaskConfig } from '../../src/tasks/common.ts';
import { SPAM_TASK } from '../../src/tasks/spam.ts';

test('the soft and hard terms equal a hand-worked two-class example, and padding rows count in neither', () => {
  // Student logits (1, 0), teacher logits (0, 1), label 0. At T = 2 the softened logits are (0.5, 0) and (0, 0.5):
  //   q = (σ(0.5), σ(−0.5)) for the student, p = (σ(−0.5), σ(0.5)) for the teacher, σ the logistic function,
  //   KL(p‖q) = p₀ log(p₀/q₀) + p₁ log(p₁/q₁) = (σ(0.5) − σ(−0.5)) · 0.5, since log(σ(−0.5)/σ(0.5)) = −0.5;
  //   soft = T² · KL = 4 · 0.5 · (σ(0.5) − σ(−0.5));   hard = −log σ(1) = log(1 + e^−1).
  const sig = (z: number) => 1 / (1 + Math.exp(-z));
  const soft = 4 * 0.5 * (sig(0.5) - sig(-0.5));
  const hard = Math.log(1 + Math.exp(-1));
  // A second row (target = ignoreIndex) with very different logits must not change the result.
  const student = h.tensor([[1, 0], [5, -5]]);
  const teacher = h.tensor([[0, 1], [-5, 5]]);
  const target = h.tensor([0, -100], { dtype: 'int32' });
  const close = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-6, `${a} vs ${b}`);
  close(h.softTargetKL(h.tensor([[1, 0]]), h.tensor([[0, 1]]), 2).item(), soft);
  close(h.distillationLoss(student, teacher, target, { temperature: 2, alpha: 1 }).item(), soft);
  close(h.distillationLoss(student, teacher, target, { temperature: 2, alpha: 0 }).item(), hard);
  close(h.distillationLoss(student, teacher, target, { temperature: 2, alpha: 0.25 }).item(), 0.25 * soft + 0.75 * hard);
  // T = 1, no T² scaling: KL = σ(1) − σ(−1) by the same algebra.
  close(h.softTargetKL(h.tensor([[1, 0]]), h.tensor([[0, 1]]), 1).item(), sig(1) - sig(-1));
  // Identical distributions: zero.
  close(h.softTargetKL(h.tensor([[0.3, -2, 1]]), h.tensor([[0.3, -2, 1]]), 3).item(), 0);
});

test('gradcheck: the distillation loss is differentiable in the student logits (float64), and the teacher gets no gradient', () => {
  h.manualSeed(2);
  const s = h.toFloat(h.randn([5, 7]), 'float64');
  s.requiresGrad = true;
  const t = h.toFloat(h.randn([5, 7]), 'float64');
  const y = h.tensor([0, 3, -100, 6, 2], { dtype: 'int32' });
  const r = gradcheck((x) => h.distillationLoss(x, t, y, { temperature: 3, alpha: 0.7, labelSmoothing: 0.1 }), [s]);
  assert.ok(r.ok, `max abs error ${r.maxAbsError}`);
  const t2 = h.randn([5, 7]);
  t2.requiresGrad = true;
  const s2 = h.randn([5, 7]);
  s2.requiresGrad = true;
  h.distillationLoss(s2, t2, y).backward();
  assert.equal(t2.grad, null);
  assert.ok(s2.grad !== null);
});

test('bad temperature, alpha or shapes are clear errors', () => {
  const s = h.randn([2, 3]);
  const y = h.tensor([0, 1], { dtype: 'int32' });
  assert.throws(() => h.distillationLoss(s, h.randn([2, 4]), y), (e: Error) => e instanceof h.ShapeError && /same classes/.test(e.message));
  assert.throws(() => h.distillationLoss(s, s, y, { temperature: 0 }), (e: Error) => e instanceof h.ValueError && /temperature=0/.test(e.message));
  assert.throws(() => h.distillationLoss(s, s, y, { alpha: 1.2 }), (e: Error) => e instanceof h.ValueError && /alpha=1.2/.test(e.message));
  const spec = SPAM_TASK.spec;
  assert.equal(distillSettings(resolveTaskConfig(spec, {})), null);
  assert.deepEqual(distillSettings(resolveTaskConfig(spec, { distillFrom: 'runs/t', distillAlpha: 0.3 })), { teacherDir: 'runs/t', alpha: 0.3, temperature: 2 });
  assert.throws(() => distillSettings(resolveTaskConfig(spec, { distillFrom: 'runs/t', distillAlpha: 2 })), (e: Error) => e instanceof h.ConfigError && /distillAlpha/.test(e.message));
  assert.throws(() => distillSettings(resolveTaskConfig(spec, { distillTemperature: -1 })), (e: Error) => e instanceof h.ConfigError && /distillTemperature/.test(e.message));
});

test('a task whose training does not distill refuses distillFrom instead of ignoring it', async () => {
  const { TASKS } = await import('../../src/tasks/index.ts');
  const other = Object.values(TASKS).find((t) => t.spec.distills !== true);
  if (other === undefined) return; // every registered task distills
  assert.throws(() => resolveTaskConfig(other.spec, { distillFrom: 'runs/t' }), (e: Error) => e instanceof h.ConfigError && /does not train by distillation/.test(e.message));
});

test('distilling from a teacher with another vocabulary is a CheckpointError naming the first difference', () => {
  checkTeacherVocab('t', 'phoneme vocabulary', ['a', 'b'], ['a', 'b']);
  assert.throws(() => checkTeacherVocab('runs/t', 'phoneme vocabulary', ['a', 'b', 'c'], ['a', 'x', 'c']),
    (e: Error) => e instanceof h.CheckpointError && /runs\/t.*phoneme vocabulary.*first at id 1 \('b' vs 'x'\)/.test(e.message));
  assert.throws(() => checkTeacherVocab('runs/t', 'word vocabulary', ['a'], ['a', 'b']), (e: Error) => e instanceof h.CheckpointError && /1 tokens.*2 tokens/.test(e.message));
});
