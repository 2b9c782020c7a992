/**
 * Several Linear projections of the same input as one (the training path of attention's q|k|v):
 *
 *   linearStacked(x, [W1, W2, …], [b1, b2, …]) = cat([x·W1ᵀ + b1, x·W2ᵀ + b2, …], -1)
 *
 * x (…, in), Wi (Oi, in), bi (Oi) (all null or none null) → (…, ΣOi). The weights stay separate
 * parameters (their names and checkpoints are unchanged); each call copies them into one (ΣOi, in)
 * stack, so the forward is one GEMM and the backward one linearBackward call (dx in one product
 * with K = ΣOi, the stacked dW in the other) and one bias sum. The composition, one linear per
 * projection, runs a GEMM and a linearBackward per projection, and the tape then adds the dx's
 * (one elementwise pass over x's shape per extra projection). The parameters' gradients are views
 * into the stacked dW and db: rows of one buffer, no copy.
 */
import { Tensor } from '../tensor/tensor.js';
import { k } from '../backend/registry.js';
import { record, needsGrad } from '../autograd/node.js';
import { promoteFloat, type DType, type Storage } from '../tensor/dtype.js';
import { ValueError } from '../errors.js';
import { emptyFloatTensor, f32 } from './util.js';
import { checkLinear, linearInputGrads } from './matmul.js';
import { ACT_NONE } from '../backend/js/gemm.js';

export function linearStacked(x: Tensor, weights: readonly Tensor[], biases: readonly (Tensor | null)[]): Tensor {
  const op = 'linearStacked';
  if (weights.length === 0 || biases.length !== weights.length) {
    throw new ValueError(`${op}: received ${weights.length} weights and ${biases.length} biases, expected one bias (or null) per weight and at least one weight.`);
  }
  const withBias = biases[0] !== null;
  if (biases.some((b) => (b !== null) !== withBias)) throw new ValueError(`${op}: some projections have a bias and some do not. Fix: run them with linear() one by one.`);
  const dims = weights.map((w, i) => checkLinear(x, w, biases[i], op));
  const inF = dims[0].inF, rows = dims[0].rows;
  const dtype = weights.reduce((d, w) => promoteFloat(d, w.dtype), x.dtype);
  if (weights.some((w) => w.dtype !== dtype) || biases.some((b) => b !== null && b.dtype !== dtype)) {
    throw new ValueError(`${op}: the weights and biases must share one dtype (${dtype}); received ${weights.map((w) => w.dtype).join(', ')}.`);
  }
  const outs = dims.map((d) => d.outF), outF = outs.reduce((a, b) => a + b, 0);
  // the stack: (ΣO, in) weights and (ΣO) biases, read in place when the parameters already sit one
  // after another in one storage (nn.MultiheadAttention places them so), else copied from them
  const W = new Tensor(adjacent(weights) ?? stack(weights, outF * inF, dtype), [outF, inF]);
  const b = withBias ? new Tensor(adjacent(biases as Tensor[]) ?? stack(biases as Tensor[], outF, dtype), [outF]) : null;
  const outShape = [...x.shape];
  outShape[outShape.length - 1] = outF;
  const y = emptyFloatTensor(dtype, outShape);
  k.sgemm({ a: f32(x), b: f32(W), c: f32(y), batch: 1, m: rows, n: outF, k: inF, transA: false, transB: true, alpha: 1, beta: 0, strideA: 0, strideB: 0, strideC: 0, bias: b ? f32(b) : null, activation: ACT_NONE });
  const params = [...weights, ...(withBias ? (biases as Tensor[]) : [])];
  if (!needsGrad(x, ...params)) return y;
  return record(y, 'linearStacked', [x, ...params], (g) => {
    const needB = withBias && biases.some((t) => t!.requiresGrad);
    const [gx, gW, gb] = linearInputGrads(g, x, W, x.requiresGrad, weights.some((w) => w.requiresGrad), needB);
    // each parameter's gradient: its rows of the stacked dW / db, as views
    const gws: (Tensor | null)[] = [], gbs: (Tensor | null)[] = [];
    let r = 0;
    for (let i = 0; i < weights.length; i++) {
      const O = outs[i];
      gws.push(gW && weights[i].requiresGrad ? new Tensor(gW.data.subarray(r * inF, (r + O) * inF), [O, inF]) : null);
      if (withBias) gbs.push(gb && biases[i]!.requiresGrad ? new Tensor(gb.data.subarray(r, r + O), [O]) : null);
      r += O;
    }
    return [gx, ...gws, ...gbs];
  }, true); // deferrable: allocations, kernels and views only
}

/** The storages of `ts` as one Float32Array when they lie back to back, in order, in one buffer; else null. */
function adjacent(ts: readonly Tensor[]): Float32Array | null {
  const first = ts[0].data;
  if (!(first instanceof Float32Array)) return null;
  let end = first.byteOffset + first.byteLength;
  for (let i = 1; i < ts.length; i++) {
    const d = ts[i].data;
    if (!(d instanceof Float32Array) || d.buffer !== first.buffer || d.byteOffset !== end) return null;
    end += d.byteLength;
  }
  return new Float32Array(first.buffer, first.byteOffset, (end - first.byteOffset) / 4);
}

/** A copy of the storages of `ts`, one after another (n elements in all). */
function stack(ts: readonly Tensor[], n: number, dtype: DType): Storage {
  const out = emptyFloatTensor(dtype, [n]).data;
  let o = 0;
  for (const t of ts) {
    out.set(t.data as Float32Array, o);
    o += t.size;
  }
  return out;
}
