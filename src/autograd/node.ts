/**
 * The autograd node and the recording helper every differentiable op uses.
 *
 * Like micrograd: an op computes its output, then records a closure that maps
 * the output's gradient to its inputs' gradients (null where an input needs none).
 * Recording happens only when grad mode is on and some input requires grad.
 */
import type { Tensor, GradFn } from '../tensor/tensor.js';
import { isGradEnabled } from './mode.js';

export type { GradFn };

/** True when an op on these inputs must be recorded. */
export function needsGrad(...inputs: (Tensor | null | undefined)[]): boolean {
  return isGradEnabled() && anyRequiresGrad(inputs);
}

function anyRequiresGrad(inputs: readonly (Tensor | null | undefined)[]): boolean {
  for (let i = 0; i < inputs.length; i++) {
    const t = inputs[i];
    if (t != null && t.requiresGrad) return true;
  }
  return false;
}

/**
 * Records `out = op(inputs)` on the tape when any input requires grad.
 * Returns `out` for chaining. `deferrable`: the backward reads no tensor values in JavaScript, only
 * allocates and calls kernels (or ops that do only that), so the engine may queue its kernels
 * (GradFn.deferrable); pass true only for a closure checked to be so.
 */
export function record(out: Tensor, name: string, inputs: readonly Tensor[], backward: (grad: Tensor) => (Tensor | null)[], deferrable = false): Tensor {
  if (isGradEnabled() && anyRequiresGrad(inputs)) out._setGradFn({ name, inputs, backward, deferrable });
  return out;
}
