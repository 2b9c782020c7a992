/**
 * Shared by the PyTorch parity tests: loads a fixture made by tools/fixtures/make_*_fixtures.py,
 * runs a module on it and compares its output and every gradient.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as h from '../../src/index.ts';
import type { nn } from '../../src/index.ts';

export interface J { shape: number[]; dtype: 'float32' | 'int32' | 'bool'; data: number[] }
export interface Fixture { attnWeights?: J; weights: Record<string, J>; inputs: Record<string, J>; output: J; upstream: J; grads: Record<string, J>; config?: Record<string, unknown>; loss?: number;
  /** BatchNorm: the state dict after the training steps, and the eval-mode output on inputs.xEval. */
  after?: Record<string, J>; evalOutput?: J }

export const TOL = 1e-4;
export const load = (name: string): Fixture => JSON.parse(readFileSync(new URL(`../fixtures/nn/${name}.json`, import.meta.url), 'utf8')) as Fixture;
export const T = (j: J, requiresGrad = false): h.Tensor =>
  h.tensor(j.dtype === 'bool' ? j.data.map((v) => v !== 0) : j.data, j.shape, { dtype: j.dtype, requiresGrad: requiresGrad && j.dtype === 'float32' });

export function maxErr(a: h.Tensor, j: J, what: string): number {
  assert.deepEqual([...a.shape], j.shape, `${what}: shape`);
  let m = 0;
  for (let i = 0; i < a.size; i++) m = Math.max(m, Math.abs(a.data[i] - j.data[i]));
  return m;
}

/** Loads weights, runs forward, backprops the fixture's upstream gradient, checks output and all gradients. */
export function check(name: string, module: nn.Module, run: (inputs: Record<string, h.Tensor>) => h.Tensor): number {
  const fx = load(name);
  const sd: Record<string, h.Tensor> = {};
  for (const [k, v] of Object.entries(fx.weights)) sd[k] = T(v);
  module.loadStateDict(sd);
  const inputs: Record<string, h.Tensor> = {};
  for (const [k, v] of Object.entries(fx.inputs)) inputs[k] = T(v, true);
  const out = run(inputs);
  let worst = maxErr(out, fx.output, `${name} output`);
  out.backward(T(fx.upstream));
  const params = Object.fromEntries(module.namedParameters());
  const unchecked = Object.keys(params).filter((k) => !(k in fx.grads));
  assert.deepEqual(unchecked, [], `${name}: parameters without a PyTorch gradient in the fixture`);
  for (const [k, g] of Object.entries(fx.grads)) {
    const t = k.startsWith('input:') ? inputs[k.slice(6)] : params[k];
    assert.ok(t, `${name}: no parameter or input named ${k}`);
    assert.ok(t.grad, `${name}: ${k} got no gradient`);
    const e = maxErr(t.grad!, g, `${name} grad ${k}`);
    assert.ok(e < TOL, `${name}: gradient of ${k} differs by ${e}`);
    worst = Math.max(worst, e);
  }
  assert.ok(worst < TOL, `${name}: max error ${worst}`);
  return worst;
}

