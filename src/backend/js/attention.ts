/**
 * Reference fused scaled-dot-product attention, forward and backward: the oracle
 * for native/attention.cpp. Written for clarity (one query row at a time, float64
 * accumulation), not speed.
 *
 * Dimension letters: B batch, H query heads, Hkv key/value heads (H % Hkv = 0; query
 * head h reads kv head ⌊h / (H/Hkv)⌋, which covers MHA, GQA and MQA), Lq queries,
 * Lk keys, D query/key width, Dv value width.
 *   q (B, H, Lq, D)   k (B, Hkv, Lk, D)   v (B, Hkv, Lk, Dv)
 *   out (B, H, Lq, Dv)   lse (B, H, Lq)
 *
 * Scores:  s_ij = scale · q_i·k_j + mask[b·maskStrideB + h·maskStrideH + i·Lk + j]
 *                 + slope_h · (j − i − (Lk − Lq))                     (ALiBi)
 * Key j is disallowed for query i when causal and j > i + causalOffset, when
 * keyLengths and j ≥ keyLengths[b], or when the mask value is −∞.
 *   p_ij = exp(s_ij − lse_i),  lse_i = log Σ_{allowed j} exp(s_ij),  out_i = Σ_j p_ij v_j
 * A query with no allowed key gives out_i = 0 and lse_i = −∞ (PyTorch gives NaN).
 *
 * Dropout (dropoutP > 0): p_ij is kept iff dropoutUniform(seed, idx) ≥ dropoutP with
 * idx = ((b·H + h)·Lq + i)·Lk + j, and kept values are scaled by 1/(1 − dropoutP).
 * lse is always that of the undropped scores.
 *
 * The strided kernels (attentionForwardStrided, attentionBackwardStrided) are the general
 * form: element (b, h, i, d) of q, k, v, out is x[b·xStrideB + h·xStrideH + i·xStrideL + d],
 * and a gradient has its tensor's layout. The contiguous kernels call them with the strides
 * of (B, H, L, width) (and kvStride rows per kv head for k, v).
 *
 * References: FlashAttention-2 (Dao, 2023), section 3.1, for the backward formulas.
 */
import type { Params } from '../table.js';
import { dropoutUniform } from './dropout-hash.js';

/** Element offsets of a strided (·, ·, ·, width) view: (b, h, i) → b·sB + h·sH + i·sL. */
interface Layout { sB: number; sH: number; sL: number }

function at(x: Layout, b: number, h: number, i: number): number {
  return b * x.sB + h * x.sH + i * x.sL;
}

/** The layout of a contiguous (B, heads, rows, width) array. */
function contiguous(heads: number, rows: number, width: number): Layout {
  return { sB: heads * rows * width, sH: rows * width, sL: width };
}

/** Fills s[0..Lk) with the scores of query (b, h, i), −∞ where key j is disallowed. */
function scoreRow(
  s: Float64Array, q: Float32Array, qL: Layout, k: Float32Array, kL: Layout, b: number, h: number, hk: number, i: number,
  Lq: number, Lk: number, D: number, scale: number,
  causal: boolean, causalOffset: number, keyLengths: Int32Array | null,
  mask: Float32Array | null, maskStrideB: number, maskStrideH: number, alibiSlopes: Float32Array | null,
): void {
  const qo = at(qL, b, h, i);
  for (let j = 0; j < Lk; j++) {
    if ((causal && j > i + causalOffset) || (keyLengths !== null && j >= keyLengths[b])) {
      s[j] = -Infinity;
      continue;
    }
    const ko = at(kL, b, hk, j);
    let dot = 0;
    for (let d = 0; d < D; d++) dot += q[qo + d] * k[ko + d];
    let v = scale * dot;
    if (mask !== null) v += mask[b * maskStrideB + h * maskStrideH + i * Lk + j];
    if (alibiSlopes !== null) v += alibiSlopes[h] * (j - i - (Lk - Lq));
    s[j] = v;
  }
}

/** The dropout factor of element (b, h, i, j): 0 or 1/(1 − p); 1 when p = 0. */
function dropoutFactor(p: number, seed: number, b: number, h: number, i: number, j: number, H: number, Lq: number, Lk: number): number {
  if (p <= 0) return 1;
  const idx = ((b * H + h) * Lq + i) * Lk + j;
  return dropoutUniform(seed, idx) >= p ? 1 / (1 - p) : 0;
}

/** Contiguous q (B, H, Lq, D), out (B, H, Lq, Dv); k, v rows kvStride apart per kv head. */
export function attentionForward(p: Params<'attentionForward'>): void {
  const { H, Hkv, Lq, kvStride, D, Dv } = p;
  const q = contiguous(H, Lq, D), k = contiguous(Hkv, kvStride, D), v = contiguous(Hkv, kvStride, Dv), out = contiguous(H, Lq, Dv);
  attentionForwardStrided({ ...p, ...strideArgs(q, k, v, out) });
}

/** The twelve stride args of the strided kernels from four layouts. */
function strideArgs(q: Layout, k: Layout, v: Layout, out: Layout) {
  return {
    qStrideB: q.sB, qStrideH: q.sH, qStrideL: q.sL, kStrideB: k.sB, kStrideH: k.sH, kStrideL: k.sL,
    vStrideB: v.sB, vStrideH: v.sH, vStrideL: v.sL, outStrideB: out.sB, outStrideH: out.sH, outStrideL: out.sL,
  };
}

function layouts(p: Params<'attentionForwardStrided'>): { qL: Layout; kL: Layout; vL: Layout; oL: Layout } {
  return {
    qL: { sB: p.qStrideB, sH: p.qStrideH, sL: p.qStrideL }, kL: { sB: p.kStrideB, sH: p.kStrideH, sL: p.kStrideL },
    vL: { sB: p.vStrideB, sH: p.vStrideH, sL: p.vStrideL }, oL: { sB: p.outStrideB, sH: p.outStrideH, sL: p.outStrideL },
  };
}

export function attentionForwardStrided(p: Params<'attentionForwardStrided'>): void {
  const { q, k, v, out, lse, B, H, Hkv, Lq, Lk, D, Dv, scale, causal, causalOffset, keyLengths, mask, maskStrideB, maskStrideH, alibiSlopes, dropoutP, dropoutSeed } = p;
  const { qL, kL, vL, oL } = layouts(p);
  const group = H / Hkv;
  const s = new Float64Array(Lk);
  const acc = new Float64Array(Dv);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      const hk = Math.floor(h / group);
      for (let i = 0; i < Lq; i++) {
        scoreRow(s, q, qL, k, kL, b, h, hk, i, Lq, Lk, D, scale, causal, causalOffset, keyLengths, mask, maskStrideB, maskStrideH, alibiSlopes);
        let max = -Infinity;
        for (let j = 0; j < Lk; j++) if (s[j] > max || s[j] !== s[j]) max = s[j];
        const oo = at(oL, b, h, i);
        const row = (b * H + h) * Lq + i;
        if (max === -Infinity) {
          out.fill(0, oo, oo + Dv);
          lse[row] = -Infinity;
          continue;
        }
        let sum = 0;
        for (let j = 0; j < Lk; j++) sum += Math.exp(s[j] - max);
        const l = max + Math.log(sum);
        lse[row] = l;
        acc.fill(0);
        for (let j = 0; j < Lk; j++) {
          if (s[j] === -Infinity) continue;
          const pj = Math.exp(s[j] - l) * dropoutFactor(dropoutP, dropoutSeed, b, h, i, j, H, Lq, Lk);
          if (pj === 0) continue;
          const vo = at(vL, b, hk, j);
          for (let c = 0; c < Dv; c++) acc[c] += pj * v[vo + c];
        }
        for (let c = 0; c < Dv; c++) out[oo + c] = acc[c];
      }
    }
  }
}

/**
 * Backward of attentionForward. dq, dk, dv are overwritten; dk and dv sum over the
 * query heads that share a kv head. With z_ij the dropout factor:
 *   p_ij  = exp(s_ij − lse_i)                 (recomputed; forward: out_i = Σ_j p_ij z_ij v_j)
 *   dv_j  = Σ_i p_ij z_ij dOut_i
 *   dp_ij = z_ij · dOut_i·v_j,   D_i = dOut_i·out_i
 *   ds_ij = p_ij (dp_ij − D_i)
 *   dq_i  = scale Σ_j ds_ij k_j,   dk_j = scale Σ_i ds_ij q_i
 */
export function attentionBackward(p: Params<'attentionBackward'>): void {
  const { H, Hkv, Lq, Lk, D, Dv } = p;
  attentionBackwardStrided({ ...p, ...strideArgs(contiguous(H, Lq, D), contiguous(Hkv, Lk, D), contiguous(Hkv, Lk, Dv), contiguous(H, Lq, Dv)) });
}

/** The strided backward: dq, dk, dv have q, k, v's layouts and dOut has out's; only their elements are written. */
export function attentionBackwardStrided(p: Params<'attentionBackwardStrided'>): void {
  const { q, k, v, out, dOut, lse, dq, dk, dv, B, H, Hkv, Lq, Lk, D, Dv, scale, causal, causalOffset, keyLengths, mask, maskStrideB, maskStrideH, alibiSlopes, dropoutP, dropoutSeed } = p;
  const { qL, kL, vL, oL } = layouts(p);
  const group = H / Hkv;
  const s = new Float64Array(Lk);
  const dqRow = new Float64Array(D);
  // dk, dv accumulate in float64, indexed ((b·Hkv + hk)·Lk + j)·width, then scatter to their layouts
  const dk64 = new Float64Array(B * Hkv * Lk * D);
  const dv64 = new Float64Array(B * Hkv * Lk * Dv);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      const hk = Math.floor(h / group);
      for (let i = 0; i < Lq; i++) {
        const row = (b * H + h) * Lq + i;
        const qo = at(qL, b, h, i), oo = at(oL, b, h, i);
        dqRow.fill(0);
        const l = lse[row];
        if (l !== -Infinity) {
          scoreRow(s, q, qL, k, kL, b, h, hk, i, Lq, Lk, D, scale, causal, causalOffset, keyLengths, mask, maskStrideB, maskStrideH, alibiSlopes);
          let Di = 0;
          for (let c = 0; c < Dv; c++) Di += dOut[oo + c] * out[oo + c];
          for (let j = 0; j < Lk; j++) {
            if (s[j] === -Infinity) continue;
            const pj = Math.exp(s[j] - l);
            const z = dropoutFactor(dropoutP, dropoutSeed, b, h, i, j, H, Lq, Lk);
            const vo = at(vL, b, hk, j), ko = at(kL, b, hk, j);
            const kvRow = (b * Hkv + hk) * Lk + j;
            let dp = 0;
            for (let c = 0; c < Dv; c++) {
              dp += dOut[oo + c] * v[vo + c];
              dv64[kvRow * Dv + c] += pj * z * dOut[oo + c];
            }
            const ds = pj * (z * dp - Di) * scale;
            for (let d = 0; d < D; d++) {
              dqRow[d] += ds * k[ko + d];
              dk64[kvRow * D + d] += ds * q[qo + d];
            }
          }
        }
        for (let d = 0; d < D; d++) dq[qo + d] = dqRow[d];
      }
    }
  }
  for (let b = 0; b < B; b++) {
    for (let hk = 0; hk < Hkv; hk++) {
      for (let j = 0; j < Lk; j++) {
        const kvRow = (b * Hkv + hk) * Lk + j;
        const ko = at(kL, b, hk, j), vo = at(vL, b, hk, j);
        for (let d = 0; d < D; d++) dk[ko + d] = dk64[kvRow * D + d];
        for (let c = 0; c < Dv; c++) dv[vo + c] = dv64[kvRow * Dv + c];
      }
    }
  }
}
