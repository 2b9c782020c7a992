/**
 * sumToShape: sums a broadcast gradient back to the shape of the input that was broadcast.
 * Every op that broadcasts (elementwise, matmul, indexing, expand) calls it in its backward,
 * so it sits in its own file below them all. It records no gradient: backward passes run it
 * with grad mode off.
 *
 *   g (2, 3, 4) → shape (3, 1): sum over the leading dim, then over dim 1 keeping it → (3, 1)
 */
import type { Tensor } from '../tensor/tensor.js';
import { k } from '../backend/registry.js';
import { sameShape } from '../tensor/shape.js';
import { ReduceOp } from '../backend/js/reduce.js';
import { f32, floatTensor, splitAt } from './util.js';

/** Sums a broadcast gradient back to `shape`. */
export function sumToShape(g: Tensor, shape: readonly number[]): Tensor {
  if (sameShape(g.shape, shape)) return g;
  let cur = g;
  const lead = g.ndim - shape.length;
  // collapse leading dims into one and reduce it
  if (lead > 0) {
    const outerSize = g.shape.slice(0, lead).reduce((a, b) => a * b, 1);
    const rest = g.shape.slice(lead);
    const out = floatTensor(g.dtype, rest);
    k.reduceAxis({ op: ReduceOp.sum, x: f32(cur), out: f32(out), outer: 1, size: outerSize, inner: out.size });
    cur = out;
  }
  for (let d = 0; d < shape.length; d++) {
    if (shape[d] === 1 && cur.shape[d] !== 1) {
      const [outer, size, inner] = splitAt(cur.shape, d);
      const s = [...cur.shape];
      s[d] = 1;
      const out = floatTensor(g.dtype, s);
      k.reduceAxis({ op: ReduceOp.sum, x: f32(cur), out: f32(out), outer, size, inner });
      cur = out;
    }
  }
  return cur;
}
