/**
 * inferenceMode: a forward pass without gradients whose temporary buffers are reused by the next
 * call, so a warmed-up request allocates (nearly) no new tensor storage and the garbage collector
 * has nothing to chase (torch.inference_mode plus a per-call arena).
 *
 *   const logits = inferenceMode(() => model.forward(ids), model);   // (B, C), the caller's to keep
 *
 * How: fn runs under noGrad inside a storage scope (src/tensor/storage-pool.ts) that records every
 * storage allocated meanwhile. When fn returns, the recorded storages that nothing reachable from
 * the result or from `keep` refers to (src/tensor/live-storages.ts) go to the pool, and the next
 * call of the same shapes takes them from there instead of allocating. Recorded storages that are
 * reachable are forgotten, not pooled: a result handed back to the caller belongs to the caller
 * and is never recycled, however long it is kept (the scope's 'forget' rule). The walk of `keep`
 * (the model: a few hundred objects) is cached between calls and only revalidated: a call re-reads
 * the containers' fields and compares them by identity, and walks again when anything changed
 * (a parameter replaced, a layer quantized, a tensor cached in a field); live-storages.ts.
 *
 * What `keep` must name: everything fn stores a tensor into that outlives the call, beyond its
 * result: the model (a module that caches a tensor in a field), a KV cache carried between calls,
 * an AttentionRecorder. Inputs made before the call are not recorded, so they need no naming.
 * A tensor kept only in a closure, a WeakMap or a module-level variable is invisible to the walk;
 * HEED_POOL=check fills released buffers with NaN, which shows such a case at once.
 * HEED_POOL=0 turns the reuse off (the results are identical; only allocation differs).
 *
 * Nested calls (inside a training step's scope or another inferenceMode) run fn under noGrad only.
 */
import { ValueError } from '../errors.js';
import { openStorageScope } from '../tensor/storage-pool.js';
import { liveBuffers } from '../tensor/live-storages.js';
import { noGrad } from './mode.js';

/**
 * Args:
 *   fn: the synchronous forward pass (it may return a tensor, an array or an object of tensors).
 *   keep: roots whose tensors outlive the call besides the result (the model, caches, recorders).
 * Returns: fn's result.
 */
export function inferenceMode<T>(fn: () => T, ...keep: unknown[]): T {
  const scope = openStorageScope({ live: 'forget' });
  let out: T;
  try {
    out = noGrad(fn);
  } catch (e) {
    scope.abandon(); // what fn made may still be referenced by whatever caught the error
    throw e;
  }
  if (out instanceof Promise) {
    scope.abandon();
    throw new ValueError('inferenceMode: fn returned a Promise; the scope (and grad mode) must end when the forward pass does. Fix: call inferenceMode around the synchronous forward and await outside it.');
  }
  scope.close(liveBuffers(out, keep));
  return out;
}
