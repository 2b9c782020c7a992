/**
 * A training step's storage scope: the buffers a step allocates (activations, the tape's saved
 * tensors, gradients, the kernels' temporaries) go back to the tensor pool when the step ends, so
 * the next step reuses them instead of allocating (src/tensor/storage-pool.ts).
 *
 *   const scope = stepScope(model);     // before zeroGrad / forward
 *   ... loss.backward(); optimizer.step() ...
 *   scope.close();                      // after the optimizer step, before anything that keeps tensors
 *
 * What survives a step is found by walking the model: every Tensor a module (or an array or plain
 * object a module holds) refers to, and each one's .grad. Parameters, buffers (running statistics),
 * a kept attention map: all live. The autograd graph is not walked: its tensors are the step's own.
 * The walk is cached between steps and revalidated by identity (src/tensor/live-storages.ts).
 * A step that stores a tensor anywhere else (a module-level cache, a closure that outlives the step)
 * must not run inside a scope; HEED_POOL=check poisons released buffers with NaN to find such a case.
 */
import { openStorageScope } from '../tensor/storage-pool.js';
import { liveStorages, liveBuffers } from '../tensor/live-storages.js';

export { liveStorages };

/** Opens a storage scope for one training step over `roots` (the model; whatever else keeps tensors across steps). */
export function stepScope(...roots: unknown[]): { close(): number; abandon(): void } {
  const scope = openStorageScope();
  return { close: () => scope.close(liveBuffers(null, roots)), abandon: () => scope.abandon() };
}
