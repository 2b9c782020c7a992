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
 * References: FlashAttention-2 (Dao, 2023), section 3.1, for the backward formulas.
 */
import type { Params } from '../table.js';
import { dropoutUniform } from './dropout-hash.js';

/** Fills s[0..Lk) with the scores of query (b, h, i), −∞ where key j is disallowed; key j of kv head hk is row (b·Hkv + hk)·kvStride + j of k. */
function scoreRow(
  s: Float64Array, q: Float32Array, k: Float32Array, b: number, h: number, hk: number, i: number,
  H: number, Hkv: number, Lq: number, Lk: number, kvStride: number, D: number, scale: number,
  causal: boolean, causalOffset: number, keyLengths: Int32Array | null,
  mask: Float32Array | null, maskStrideB: number, maskStrideH: number, alibiSlopes: Float32Array | null,
): void {
  const qo = ((b * H + h) * Lq + i) * D;
  for (let j = 0; j < Lk; j++) {
    if ((causal && j > i + causalOffset) || (keyLengths !== null && j >= keyLengths[b])) {
      s[j] = -Infinity;
      continue;
    }
    const ko = ((b * Hkv + hk) * kvStride + j) * D;
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

export function attentionForward({ q, k, v, out, lse, B, H, Hkv, Lq, Lk, kvStride, D, Dv, scale, causal, causalOffset, keyLengths, mask, maskStrideB, maskStrideH, alibiSlopes, dropoutP, dropoutSeed }: Params<'attentionForward'>): void {
  const group = H / Hkv;
  const s = new Float64Array(Lk);
  const acc = new Float64Array(Dv);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      const hk = Math.floor(h / group);
      for (let i = 0; i < Lq; i++) {
        scoreRow(s, q, k, b, h, hk, i, H, Hkv, Lq, Lk, kvStride, D, scale, causal, causalOffset, keyLengths, mask, maskStrideB, maskStrideH, alibiSlopes);
        let max = -Infinity;
        for (let j = 0; j < Lk; j++) if (s[j] > max || s[j] !== s[j]) max = s[j];
        const oo = ((b * H + h) * Lq + i) * Dv;
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
          const p = Math.exp(s[j] - l) * dropoutFactor(dropoutP, dropoutSeed, b, h, i, j, H, Lq, Lk);
          if (p === 0) continue;
          const vo = ((b * Hkv + hk) * kvStride + j) * Dv;
          for (let c = 0; c < Dv; c++) acc[c] += p * v[vo + c];
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
export function attentionBackward({ q, k, v, out, dOut, lse, dq, dk, dv, B, H, Hkv, Lq, Lk, D, Dv, scale, causal, causalOffset, keyLengths, mask, maskStrideB, maskStrideH, alibiSlopes, dropoutP, dropoutSeed }: Params<'attentionBackward'>): void {
  const group = H / Hkv;
  const s = new Float64Array(Lk);
  const dqRow = new Float64Array(D);
  const dk64 = new Float64Array(dk.length);
  const dv64 = new Float64Array(dv.length);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      const hk = Math.floor(h / group);
      for (let i = 0; i < Lq; i++) {
        const row = (b * H + h) * Lq + i;
        const qo = row * D, oo = row * Dv;
        dqRow.fill(0);
        const l = lse[row];
        if (l !== -Infinity) {
          scoreRow(s, q, k, b, h, hk, i, H, Hkv, Lq, Lk, Lk, D, scale, causal, causalOffset, keyLengths, mask, maskStrideB, maskStrideH, alibiSlopes);
          let Di = 0;
          for (let c = 0; c < Dv; c++) Di += dOut[oo + c] * out[oo + c];
          for (let j = 0; j < Lk; j++) {
            if (s[j] === -Infinity) continue;
            const p = Math.exp(s[j] - l);
            const z = dropoutFactor(dropoutP, dropoutSeed, b, h, i, j, H, Lq, Lk);
            const vo = ((b * Hkv + hk) * Lk + j) * Dv, ko = ((b * Hkv + hk) * Lk + j) * D;
            let dp = 0;
            for (let c = 0; c < Dv; c++) {
              dp += dOut[oo + c] * v[vo + c];
              dv64[vo + c] += p * z * dOut[oo + c];
            }
            const ds = p * (z * dp - Di) * scale;
            for (let d = 0; d < D; d++) {
              dqRow[d] += ds * k[ko + d];
              dk64[ko + d] += ds * q[qo + d];
            }
          }
        }
        for (let d = 0; d < D; d++) dq[qo + d] = dqRow[d];
      }
    }
  }
  dk.set(dk64);
  dv.set(dv64);
}
