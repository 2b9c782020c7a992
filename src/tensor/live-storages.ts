/**
 * What outlives a storage scope (src/tensor/storage-pool.ts): every tensor storage reachable from
 * some roots (a model, an optimizer, a call's result, a KV cache) through object fields, arrays and
 * Map values. A training step's scope (src/train/step-memory.ts) and an inference call's scope
 * (src/autograd/inference.ts) pass this to close(), so nothing they can still reach goes to the pool.
 *
 * A Tensor contributes its storage and its .grad's; its gradFn (an autograd graph) is not followed.
 * Storage held only in a closure, a WeakMap or a module-level variable is invisible here: code that
 * keeps tensors there must not run inside a scope (HEED_POOL=check finds such a case by poisoning).
 */
import { Tensor } from './tensor.js';
import type { Storage } from './dtype.js';

/** Every storage reachable from `roots` through object fields and arrays, stopping at tensors. */
export function liveStorages(...roots: unknown[]): Storage[] {
  const out: Storage[] = [];
  const seen = new Set<object>();
  const stack: unknown[] = [...roots];
  while (stack.length > 0) {
    const v = stack.pop();
    if (v === null || typeof v !== 'object' || seen.has(v)) continue;
    seen.add(v);
    if (v instanceof Tensor) {
      out.push(v.data);
      if (v.grad !== null) out.push(v.grad.data);
      continue; // its gradFn (the step's graph) is not followed
    }
    if (ArrayBuffer.isView(v)) {
      out.push(v as Storage);
      continue;
    }
    if (v instanceof Map) {
      for (const x of v.values()) stack.push(x);
      continue;
    }
    if (Array.isArray(v)) {
      for (const x of v) if (x !== null && typeof x === 'object') stack.push(x);
      continue;
    }
    for (const x of Object.values(v)) if (x !== null && typeof x === 'object') stack.push(x);
  }
  return out;
}
