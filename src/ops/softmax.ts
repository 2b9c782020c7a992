/**
 * softmax and logSoftmax along one dim.
 *
 *   softmax(x)_i    = exp(x_i − max) / Σ_j exp(x_j − max)
 *   logSoftmax(x)_i = x_i − logsumexp(x)
 *
 * A slice whose entries are all −∞ gives zeros (softmax) or −∞ (logSoftmax), not NaN.
 *
 *   softmax(tensor([[1, 2, 3]]), -1)   // [[0.090, 0.245, 0.665]]
 */
import { Tensor } from '../tensor/tensor.js';
import { k } from '../backend/registry.js';
import { record } from '../autograd/node.js';
import { normDim } from '../tensor/shape.js';
import { requireFloat, splitAt, floatTensor, f32 } from './util.js';

function softmaxImpl(x: Tensor, dim: number, log: boolean): Tensor {
  const name = log ? 'logSoftmax' : 'softmax';
  requireFloat(x, name, 'input');
  const d = normDim(dim, x.ndim, name);
  const [outer, size, inner] = splitAt(x.shape, d);
  const y = floatTensor(x.dtype, x.shape);
  k.softmaxForward({ x: f32(x), y: f32(y), outer, size, inner, log });
  return record(y, name, [x], (g) => {
    // softmax: dx = y ∘ (dy − Σ dy∘y);  logSoftmax: dx = dy − softmax(x) Σ dy
    const dx = floatTensor(g.dtype, x.shape);
    k.softmaxBackward({ y: f32(y), dy: f32(g), dx: f32(dx), outer, size, inner, log });
    return [dx];
  });
}

export function softmax(x: Tensor, dim = -1): Tensor {
  return softmaxImpl(x, dim, false);
}

export function logSoftmax(x: Tensor, dim = -1): Tensor {
  return softmaxImpl(x, dim, true);
}
