/**
 * The fused forward and backward of LoRA's two wrappers (lora.ts, lora-embedding.ts).
 *
 * Written with the composed ops, a LoRA layer keeps several activations per call that its base
 * layer does not: the dropout output, the (N…, O) update, the sum; LoRA on the word table also
 * copies Aᵀ (V, r) every step and gathers from the copy. Activations are what a LoRA run holds
 * instead of the optimizer state it saves, so these two ops keep only what the backward needs:
 *
 *   loraLinear:     y = x·Wᵀ + b + scaling · (drop(x)·Aᵀ)·Bᵀ     one output buffer; keeps h = drop(x)·Aᵀ (N, r)
 *   loraEmbedAdd:   y ← y + scaling · Aᵀ[ids]·Bᵀ, in place       keeps a = Aᵀ[ids] (N, r)
 *
 * The update is accumulated into the base output by the GEMM itself (beta = 1). Dropout is
 * counter-hashed from one seed (ops/dropout.ts), so the backward re-applies the same mask from the
 * seed instead of keeping the dropped input. A frozen W or b (requiresGrad false) gets no gradient
 * buffer: only the gradients of inputs that require grad are computed.
 *
 * Letters: N rows (all leading dims), I inFeatures, O outFeatures (or D embeddingDim), r rank, V numEmbeddings.
 */
import { Tensor } from '../../tensor/tensor.js';
import { record } from '../../autograd/node.js';
import { defaultGenerator } from '../../tensor/rng.js';
import { k } from '../../backend/registry.js';
import { ACT_NONE } from '../../backend/js/gemm.js';
import { promoteFloat } from '../../tensor/dtype.js';
import { emptyFloatTensor, floatTensor, f32 } from '../../ops/util.js';
import { sumToShape } from '../../ops/sum-to-shape.js';

/** C = alpha·op(A)·op(B) + beta·C on 2-D row-major buffers. */
function gemm(a: Float32Array, b: Float32Array, c: Float32Array, m: number, n: number, kk: number, transA: boolean, transB: boolean, alpha: number, beta: number): void {
  k.sgemm({ a, b, c, batch: 1, m, n, k: kk, transA, transB, alpha, beta, strideA: 0, strideB: 0, strideC: 0, bias: null, activation: ACT_NONE });
}

export interface LoraLinearOptions {
  /** alpha / r. */
  scaling: number;
  /** Dropout probability on the adapter's input; applied only when training. */
  dropoutP: number;
  training: boolean;
}

/**
 * x (N…, I), weight (O, I), bias (O) or null, a (r, I), b (O, r) → (N…, O):
 * x·Wᵀ + bias + scaling · dropout(x)·Aᵀ·Bᵀ, as LoraLinear computes it unmerged.
 */
export function loraLinear(x: Tensor, weight: Tensor, bias: Tensor | null, a: Tensor, b: Tensor, o: LoraLinearOptions): Tensor {
  const [O, I] = weight.shape;
  const r = a.shape[0];
  const N = x.size / I;
  const dtype = promoteFloat(x.dtype, weight.dtype);
  const y = emptyFloatTensor(dtype, [...x.shape.slice(0, -1), O]); // (N…, O)
  k.sgemm({ a: f32(x), b: f32(weight), c: f32(y), batch: 1, m: N, n: O, k: I, transA: false, transB: true, alpha: 1, beta: 0, strideA: 0, strideB: 0, strideC: 0, bias: bias ? f32(bias) : null, activation: ACT_NONE });
  const p = o.training ? o.dropoutP : 0;
  // One generator draw per training call, as the Dropout module makes: the same random stream.
  const seed = p > 0 ? defaultGenerator.nextU32() : 0;
  /** dropout(x) (N, I): a temporary, made again in the backward. */
  const dropped = (): Float32Array => {
    if (p === 0) return f32(x);
    const d = emptyFloatTensor(x.dtype, x.shape);
    k.dropout({ x: f32(x), out: f32(d), p, seed });
    return f32(d);
  };
  const h = emptyFloatTensor(dtype, [N, r]); // drop(x)·Aᵀ (N, r)
  gemm(dropped(), f32(a), f32(h), N, r, I, false, true, 1, 0);
  gemm(f32(h), f32(b), f32(y), N, O, r, false, true, o.scaling, 1); // y += scaling · h·Bᵀ
  const inputs = bias ? [x, weight, a, b, bias] : [x, weight, a, b];
  return record(y, 'loraLinear', inputs, (g) => {
    const grads: (Tensor | null)[] = inputs.map(() => null);
    const G = f32(g);
    // gh = scaling · g·B (N, r): the gradient at h
    const gh = emptyFloatTensor(g.dtype, [N, r]);
    gemm(G, f32(b), f32(gh), N, r, O, false, false, o.scaling, 0);
    if (x.requiresGrad) {
      const gx = emptyFloatTensor(g.dtype, x.shape); // g·W + dropout'(gh·A)
      gemm(G, f32(weight), f32(gx), N, I, O, false, false, 1, 0);
      if (p === 0) {
        gemm(f32(gh), f32(a), f32(gx), N, I, r, false, false, 1, 1);
      } else {
        const t = emptyFloatTensor(g.dtype, x.shape);
        gemm(f32(gh), f32(a), f32(t), N, I, r, false, false, 1, 0);
        k.dropout({ x: f32(t), out: f32(t), p, seed }); // in place (elementwise): the forward's mask and scale
        const gxd = f32(gx), td = f32(t);
        for (let i = 0; i < gxd.length; i++) gxd[i] += td[i];
      }
      grads[0] = gx;
    }
    if (weight.requiresGrad) {
      const gw = emptyFloatTensor(g.dtype, weight.shape); // gᵀ·x (O, I)
      gemm(G, f32(x), f32(gw), O, I, N, true, false, 1, 0);
      grads[1] = gw;
    }
    if (a.requiresGrad) {
      const ga = emptyFloatTensor(g.dtype, a.shape); // ghᵀ·drop(x) (r, I)
      gemm(f32(gh), dropped(), f32(ga), r, I, N, true, false, 1, 0);
      grads[2] = ga;
    }
    if (b.requiresGrad) {
      const gb = emptyFloatTensor(g.dtype, b.shape); // scaling · gᵀ·h (O, r)
      gemm(G, f32(h), f32(gb), O, r, N, true, false, o.scaling, 0);
      grads[3] = gb;
    }
    if (bias && bias.requiresGrad) grads[4] = sumToShape(g, bias.shape);
    return grads;
  });
}

/**
 * y (N…, D) the gathered base rows, ids (N…) int32, a (r, V), b (D, r) → y + scaling · Aᵀ[ids]·Bᵀ,
 * written into y's storage (the result shares it; y is not read again by its own backward).
 * The padding id's column of A gets no gradient, as the base table's padding row gets none.
 */
export function loraEmbedAdd(y: Tensor, ids: Tensor, a: Tensor, b: Tensor, scaling: number, paddingIdx: number | undefined): Tensor {
  const [r, V] = a.shape;
  const D = b.shape[0];
  const idx = ids.data as Int32Array; // checked in range by the base embedding
  const N = idx.length;
  const A = f32(a);
  const ar = floatTensor(a.dtype, [N, r]); // Aᵀ[ids] (N, r)
  const av = f32(ar);
  for (let t = 0; t < N; t++) for (let j = 0; j < r; j++) av[t * r + j] = A[j * V + idx[t]];
  gemm(av, f32(b), f32(y), N, D, r, false, true, scaling, 1); // y += scaling · a·Bᵀ
  const out = new Tensor(y.data, y.shape);
  const pad = paddingIdx === undefined ? -1 : paddingIdx < 0 ? paddingIdx + V : paddingIdx;
  return record(out, 'loraEmbedAdd', [y, a, b], (g) => {
    const G = f32(g);
    let ga: Tensor | null = null, gb: Tensor | null = null;
    if (a.requiresGrad) {
      const gh = emptyFloatTensor(g.dtype, [N, r]); // scaling · g·B (N, r)
      gemm(G, f32(b), f32(gh), N, r, D, false, false, scaling, 0);
      ga = floatTensor(g.dtype, a.shape); // scattered into the ids' columns (r, V)
      const gad = f32(ga), ghd = f32(gh);
      for (let t = 0; t < N; t++) {
        if (idx[t] === pad) continue;
        for (let j = 0; j < r; j++) gad[j * V + idx[t]] += ghd[t * r + j];
      }
    }
    if (b.requiresGrad) {
      gb = emptyFloatTensor(g.dtype, b.shape); // scaling · gᵀ·a (D, r)
      gemm(G, av, f32(gb), D, r, N, true, false, scaling, 0);
    }
    return [y.requiresGrad ? g : null, ga, gb];
  });
}
