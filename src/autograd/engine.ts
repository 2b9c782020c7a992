/**
 * Reverse-mode differentiation: a topological sort of the graph from the output,
 * walked in reverse, each node's gradient handed to its GradFn (micrograd's
 * engine.py, with tensors). Gradients accumulate (+=) into leaves and into
 * non-leaves that called retainGrad(). Backward itself records nothing.
 */
import { Tensor } from '../tensor/tensor.js';
import { AutogradError, ShapeError, fmtShape } from '../errors.js';
import { alloc, allocUninit, isFloat } from '../tensor/dtype.js';
import { sameShape } from '../tensor/shape.js';
import { setGradEnabled } from './mode.js';
import { k, deferKernels, flushKernels } from '../backend/registry.js';
import { BinaryOp } from '../backend/js/elementwise.js';

function accumulate(into: Tensor | undefined, g: Tensor): Tensor {
  if (into === undefined) return g;
  // A new buffer: `into` may be the very tensor another node received as its gradient.
  const out = allocUninit(into.dtype, into.data.length);
  k.binarySame({ op: BinaryOp.add, a: into.data as Float32Array, b: g.data as Float32Array, out: out as Float32Array });
  return new Tensor(out, into.shape);
}

/** Backward passes run so far (each numbers the tensors it visits: Tensor._bwPass). */
let passes = 0;
/**
 * The depth-first search's two stacks, kept from pass to pass (a pass's sort starts and ends with
 * them empty, and no closure, hence no nested pass, runs during a sort): they do not grow anew each step.
 */
const dfsNodes: Tensor[] = [], dfsNext: number[] = [];
/**
 * The outermost pass's topological order and pending gradients, kept from pass to pass with their
 * capacity (a pass fills `count` entries and clears them at its end, so no graph outlives its pass):
 * grown anew each pass, the two arrays were ~5 KB of garbage a training step. A pass run inside a
 * closure (a nested backward) uses arrays of its own.
 */
const orderBuf: (Tensor | undefined)[] = [], gradsBuf: (Tensor | undefined)[] = [];
let inPass = false;

export function backward(root: Tensor, gradient?: Tensor): void {
  if (!root.requiresGrad) {
    throw new AutogradError(`backward: the tensor ${fmtShape(root.shape)} does not require grad. Fix: set requiresGrad on the leaves you want gradients for, before the forward pass.`);
  }
  let seed: Tensor;
  if (gradient === undefined) {
    if (root.size !== 1) {
      throw new AutogradError(`backward: the output has shape ${fmtShape(root.shape)}; gradients can be created implicitly only for one-element outputs. Fix: pass the upstream gradient, t.backward(gradTensor), or reduce first (t.sum().backward()).`);
    }
    const d = alloc(root.dtype, 1);
    d[0] = 1;
    seed = new Tensor(d, root.shape);
  } else {
    if (!sameShape(gradient.shape, root.shape)) {
      throw new ShapeError(`backward: gradient has shape ${fmtShape(gradient.shape)}, expected the output's shape ${fmtShape(root.shape)}.`);
    }
    if (!isFloat(gradient.dtype)) throw new AutogradError(`backward: gradient must be a float tensor, received ${gradient.dtype}.`);
    seed = gradient;
  }

  // Topological order: every node after all the nodes it feeds.
  // An iterative depth-first search: `nodes` is the path, `next[j]` the next input of nodes[j] to visit
  // (two parallel stacks rather than a [tensor, index] pair per node). A tensor visited in this pass
  // carries the pass's number, and its index in `order` (the slot of its gradient in `grads`).
  const pass = ++passes;
  const outermost = !inPass;
  const order: (Tensor | undefined)[] = outermost ? orderBuf : [];
  let count = 0;
  root._bwPass = pass;
  const nodes = dfsNodes, next = dfsNext;
  nodes.length = 0;
  next.length = 0;
  nodes.push(root);
  next.push(0);
  while (nodes.length > 0) {
    const top = nodes.length - 1;
    const t = nodes[top], fn = t.gradFn, i = next[top];
    if (fn !== null && i < fn.inputs.length) {
      next[top] = i + 1;
      const child = fn.inputs[i];
      if (child.requiresGrad && child._bwPass !== pass) {
        child._bwPass = pass;
        nodes.push(child);
        next.push(0);
      }
    } else {
      t._bwSlot = count;
      if (count < order.length) order[count] = t;
      else order.push(t);
      count++;
      nodes.pop();
      next.pop();
    }
  }

  /** The gradient received so far by order[i] (undefined: none yet, or already handed on). */
  const grads: (Tensor | undefined)[] = outermost ? gradsBuf : [];
  for (let i = grads.length; i < count; i++) grads.push(undefined); // every entry < count is undefined here
  grads[count - 1] = seed;
  const prev = setGradEnabled(false);
  inPass = true;
  // Kernel calls are queued (deferred) while closures that read no tensor values run, and the queue
  // runs before any other closure and at the end (src/backend/registry.ts deferKernels): the
  // engine's own accumulation and the deferrable closures' JS then run back to back, in cache.
  let failed = true;
  try {
    for (let n = count - 1; n >= 0; n--) {
      const t = order[n]!;
      order[n] = undefined;
      const g = grads[n];
      if (g === undefined) continue;
      grads[n] = undefined;
      if (t.gradFn === null) {
        t.grad = accumulate(t.grad ?? undefined, g);
        continue;
      }
      if (t.retainsGrad) t.grad = accumulate(t.grad ?? undefined, g);
      if (t.gradFn.deferrable === true) deferKernels(true);
      else flushKernels();
      const inGrads = t.gradFn.backward(g);
      const inputs = t.gradFn.inputs;
      for (let i = 0; i < inputs.length; i++) {
        const x = inputs[i], gx = inGrads[i];
        if (!x.requiresGrad) continue;
        if (gx === null || gx === undefined) {
          // A missing gradient is an error, never a silent zero (tinygrad's rule): training would
          // quietly stop updating whatever sits below this op.
          throw new AutogradError(`backward of ${t.gradFn.name}: input ${i} requires grad but the op returned no gradient for it. ` +
            'This op is not differentiable with respect to that input: detach it (x.detach()) or report the missing gradient as a bug.');
        }
        if (!sameShape(gx.shape, x.shape)) {
          throw new AutogradError(`backward of ${t.gradFn.name}: gradient for input ${i} has shape ${fmtShape(gx.shape)}, expected ${fmtShape(x.shape)}. This is a bug in heed; please report it.`);
        }
        // A backward run inside a closure (a new pass) may have renumbered x: then search for it.
        const slot = x._bwPass === pass ? x._bwSlot : order.indexOf(x); // entries from count on are undefined
        grads[slot] = accumulate(grads[slot], gx);
      }
    }
    failed = false;
  } finally {
    if (outermost) {
      inPass = false;
      // a pass that threw leaves entries behind: no graph is kept past its pass
      if (failed) for (let i = 0; i < count; i++) { order[i] = undefined; grads[i] = undefined; }
    }
    if (failed) {
      // the gradients computed so far are still written (as without deferral); the error thrown is the loop's
      try { flushKernels(); } catch { /* reported: the loop's error */ }
    } else {
      flushKernels();
    }
    setGradEnabled(prev);
  }
}

