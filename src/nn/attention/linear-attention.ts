/**
 * LinearAttention (Katharopoulos et al. 2020, "Transformers are RNNs"): softmax(q·kᵀ) is
 * replaced by the kernel φ(q)·φ(k) with φ(x) = elu(x) + 1, so attention costs O(L·d·dv):
 *
 *   out_i = φ(q_i)ᵀ Σ_j φ(k_j) v_jᵀ  /  φ(q_i)ᵀ Σ_j φ(k_j)
 *
 * The causal variant sums over j ≤ i with prefix sums (cumsum below, with its gradient).
 * linearAttentionReference is the dense O(L²) definition the tests compare against.
 *
 * Letters: B batch, H heads, L length, d head dim, dv value dim, E embedDim.
 */
import { Tensor } from '../../tensor/tensor.js';
import { Module } from '../module.js';
import { Linear } from '../linear.js';
import { record } from '../../autograd/node.js';
import { add, mul, div, exp, relu, minimum } from '../../ops/elementwise.js';
import { sum } from '../../ops/reduce.js';
import { matmul } from '../../ops/matmul.js';
import { unsqueeze, reshape, transpose } from '../../ops/shape.js';
import { floatTensor } from '../../ops/util.js';
import { ConfigError, ShapeError, fmtShape } from '../../errors.js';

/** φ(x) = elu(x) + 1 = relu(x) + exp(min(x, 0)): positive, with finite gradients everywhere. */
export function eluFeatureMap(x: Tensor): Tensor {
  return add(relu(x), exp(minimum(x, 0))); // (same as x)
}

/** Inclusive prefix sum along dim; backward is the reversed prefix sum of the gradient. */
export function cumsum(x: Tensor, dim: number): Tensor {
  const d = dim < 0 ? dim + x.ndim : dim;
  const n = x.shape[d];
  const inner = x.shape.slice(d + 1).reduce((a, b) => a * b, 1), outer = x.size / (n * inner);
  const scan = (src: Tensor, reverse: boolean): Tensor => {
    const out = floatTensor(src.dtype, src.shape);
    for (let o = 0; o < outer; o++) for (let i = 0; i < inner; i++) {
      let acc = 0;
      for (let t0 = 0; t0 < n; t0++) {
        const t = reverse ? n - 1 - t0 : t0;
        const idx = (o * n + t) * inner + i;
        acc += src.data[idx];
        out.data[idx] = acc;
      }
    }
    return out;
  };
  // forward: out[t] = Σ_{s ≤ t} x[s]   ⇒   dx[s] = Σ_{t ≥ s} g[t]
  return record(scan(x, false), 'cumsum', [x], (g) => [scan(g, true)]);
}

/** q, k (B, H, L, d), v (B, H, L, dv) → (B, H, L, dv) in O(L). */
export function linearAttention(q: Tensor, k: Tensor, v: Tensor, causal = false, eps = 1e-6): Tensor {
  const fq = eluFeatureMap(q), fk = eluFeatureMap(k); // (B, H, L, d)
  if (!causal) {
    const kv = matmul(transpose(fk, 2, 3), v); // (B, H, d, dv)
    const z = sum(fk, 2, { keepDim: true }); // (B, H, 1, d)
    const den = add(sum(mul(fq, z), -1, { keepDim: true }), eps); // (B, H, L, 1)
    return div(matmul(fq, kv), den); // (B, H, L, dv)
  }
  const kv = cumsum(mul(unsqueeze(fk, -1), unsqueeze(v, -2)), 2); // (B, H, L, d, dv)
  const num = sum(mul(unsqueeze(fq, -1), kv), -2); // (B, H, L, dv)
  const z = cumsum(fk, 2); // (B, H, L, d)
  const den = add(sum(mul(fq, z), -1, { keepDim: true }), eps); // (B, H, L, 1)
  return div(num, den); // (B, H, L, dv)
}

/** The dense definition: A = φ(q)·φ(k)ᵀ (lower-triangular when causal), out = A·v / rowsum(A). */
export function linearAttentionReference(q: Tensor, k: Tensor, v: Tensor, causal = false, eps = 1e-6): Tensor {
  let a = matmul(eluFeatureMap(q), transpose(eluFeatureMap(k), 2, 3)); // (B, H, L, L)
  if (causal) {
    const L = q.shape[2];
    const tri = floatTensor(q.dtype, [L, L]);
    for (let i = 0; i < L; i++) for (let j = 0; j <= i; j++) tri.data[i * L + j] = 1;
    a = mul(a, tri); // (B, H, L, L)
  }
  return div(matmul(a, v), add(sum(a, -1, { keepDim: true }), eps)); // (B, H, L, dv)
}

export class LinearAttention extends Module {
  readonly numHeads: number;
  readonly causal: boolean;
  qProj: Linear;
  kProj: Linear;
  vProj: Linear;
  outProj: Linear;

  constructor(embedDim: number, numHeads: number, options: { causal?: boolean } = {}) {
    super();
    if (embedDim % numHeads !== 0) throw new ConfigError(`LinearAttention: embedDim=${embedDim} is not divisible by numHeads=${numHeads}.`);
    this.numHeads = numHeads;
    this.causal = options.causal ?? false;
    this.qProj = new Linear(embedDim, embedDim);
    this.kProj = new Linear(embedDim, embedDim);
    this.vProj = new Linear(embedDim, embedDim);
    this.outProj = new Linear(embedDim, embedDim);
  }

  /** x (B, L, E) → (B, L, E) (self-attention). */
  override forward(x: Tensor): Tensor {
    if (x.ndim !== 3) throw new ShapeError(`LinearAttention: input has shape ${fmtShape(x.shape)}, expected (B, L, E).`);
    const [B, L, E] = x.shape, H = this.numHeads, d = E / H;
    const split = (t: Tensor): Tensor => transpose(reshape(t, [B, L, H, d]), 1, 2); // (B, H, L, d)
    const y = linearAttention(split(this.qProj.call(x)), split(this.kProj.call(x)), split(this.vProj.call(x)), this.causal); // (B, H, L, d)
    return this.outProj.call(reshape(transpose(y, 1, 2), [B, L, E])); // (B, L, E)
  }
}
