/**
 * Scaled dot-product attention, the functional core of every attention layer.
 *
 *   out = softmax(q·kᵀ · scale + mask) · v
 *
 * Shapes (letters used below):
 *   q (…, H, L, E)   k (…, Hkv, S, E)   v (…, Hkv, S, Ev)   →   out (…, H, L, Ev)
 *   B batch, H query heads, Hkv key/value heads (H when not GQA), L queries, S keys.
 *
 * Masks — the one convention heed uses everywhere:
 *   - a bool mask is true where a query MAY attend to a key;
 *   - a float mask is added to the scores (use −Infinity to forbid);
 *   - every mask given to one call is combined with AND (isCausal, attnMask, keyLengths);
 *   - a query row with no allowed key returns zeros (PyTorch returns NaN there).
 * attnMask broadcasts to (…, H, L, S).
 *
 * isCausal follows PyTorch: query i may see keys j ≤ i (top-left aligned). With a KV
 * cache (L < S) pass causalAlignment: 'bottom-right' so query i sits at position S − L + i.
 *
 * Two paths compute the same function:
 *   - composed from matmul/softmax/dropout: the reference, and what the js backend runs;
 *   - the fused flash-attention kernel (no L×S buffer), used when the native backend
 *     provides it and the inputs fit it (float32, 3-D or 4-D, no mask gradient).
 *     Dropout inside the fused kernel uses a counter-based hash, so its dropped
 *     positions differ from the composed path's generator draws (same distribution).
 */
import { Tensor } from '../tensor/tensor.js';
import { k as kernels, isOverridden } from '../backend/registry.js';
import { record } from '../autograd/node.js';
import { broadcastsTo, sameShape } from '../tensor/shape.js';
import { DTypeError, ShapeError, ValueError, fmtShape } from '../errors.js';
import { defaultGenerator } from '../tensor/rng.js';
import { requireFloat, floatTensor, f32 } from './util.js';
import { matmul } from './matmul.js';
import { softmax } from './softmax.js';
import { dropout } from './dropout.js';
import { add, mul } from './elementwise.js';
import { transpose, reshape, expand } from './shape.js';
import { indexSelect, maskedFill } from './indexing.js';
import { logicalNot } from './elementwise.js';
import { arange } from '../tensor/creation.js';

export interface AttentionOptions {
  /** Bool (true = may attend) or additive float mask, broadcastable to (…, H, L, S). */
  attnMask?: Tensor | null;
  /** Causal masking; see causalAlignment. */
  isCausal?: boolean;
  /** 'top-left' (PyTorch's default: j ≤ i) or 'bottom-right' (j ≤ i + S − L, for KV caches). */
  causalAlignment?: 'top-left' | 'bottom-right';
  /** Probability of dropping an attention weight (applied only when > 0). */
  dropoutP?: number;
  /** Score scale; default 1/√E. */
  scale?: number;
  /** Allow fewer key/value heads than query heads (grouped-query attention). */
  enableGqa?: boolean;
  /** Per-batch number of valid keys (int32, shape (B)); keys at or past it are masked. */
  keyLengths?: Tensor | null;
  /** ALiBi slopes per query head (H): adds slope·(j − i − (S − L)) to the scores. */
  alibiSlopes?: Tensor | null;
}

interface Resolved {
  lead: number[]; H: number; Hkv: number; L: number; S: number; E: number; Ev: number;
  scale: number; causalOffset: number | null; dropoutP: number;
}

function resolve(q: Tensor, key: Tensor, value: Tensor, o: AttentionOptions): Resolved {
  const op = 'scaledDotProductAttention';
  requireFloat(q, op, 'query'); requireFloat(key, op, 'key'); requireFloat(value, op, 'value');
  if (q.ndim < 2 || key.ndim !== q.ndim || value.ndim !== q.ndim) {
    throw new ShapeError(`${op}: query, key and value must have the same number of dims (≥ 2); received ${fmtShape(q.shape)}, ${fmtShape(key.shape)}, ${fmtShape(value.shape)}. ` +
      'Fix: give all three the layout (B, H, L, E), e.g. reshape (B, L, H·E) to (B, L, H, E) and transpose dims 1 and 2.');
  }
  const nd = q.ndim;
  const L = q.shape[nd - 2], E = q.shape[nd - 1], S = key.shape[nd - 2], Ev = value.shape[nd - 1];
  if (key.shape[nd - 1] !== E) throw new ShapeError(`${op}: key has shape ${fmtShape(key.shape)}, expected last dim ${E} like query ${fmtShape(q.shape)}. Fix: query and key need the same head size; check the head split (B, H, L, E).`);
  if (value.shape[nd - 2] !== S) throw new ShapeError(`${op}: value has shape ${fmtShape(value.shape)}, expected dim -2 = ${S} like key ${fmtShape(key.shape)}.`);
  const H = nd >= 3 ? q.shape[nd - 3] : 1, Hkv = nd >= 3 ? key.shape[nd - 3] : 1;
  if (!sameShape(key.shape.slice(0, -2), value.shape.slice(0, -2))) {
    throw new ShapeError(`${op}: key ${fmtShape(key.shape)} and value ${fmtShape(value.shape)} must agree on every dim but the last.`);
  }
  if (!sameShape(q.shape.slice(0, -3), key.shape.slice(0, -3))) {
    throw new ShapeError(`${op}: query ${fmtShape(q.shape)} and key ${fmtShape(key.shape)} must agree on batch dims.`);
  }
  if (H !== Hkv) {
    if (!o.enableGqa) throw new ShapeError(`${op}: query has ${H} heads but key/value have ${Hkv}. Fix: pass enableGqa: true for grouped-query attention.`);
    if (H % Hkv !== 0) throw new ShapeError(`${op}: query heads (${H}) must be a multiple of key/value heads (${Hkv}) for GQA.`);
  }
  const p = o.dropoutP ?? 0;
  if (!(p >= 0 && p < 1)) throw new ValueError(`${op}: dropoutP=${p}, expected a probability in [0, 1).`);
  const scale = o.scale ?? 1 / Math.sqrt(E);
  if (!Number.isFinite(scale)) throw new ValueError(`${op}: scale=${scale}, expected a finite number.`);
  const align = o.causalAlignment ?? 'top-left';
  if (align !== 'top-left' && align !== 'bottom-right') throw new ValueError(`${op}: causalAlignment='${String(align)}', expected 'top-left' or 'bottom-right'.`);
  const causalOffset = o.isCausal ? (align === 'bottom-right' ? S - L : 0) : null;
  if (o.attnMask) {
    const m = o.attnMask;
    if (m.dtype !== 'bool' && m.dtype !== 'float32' && m.dtype !== 'float64') {
      throw new DTypeError(`${op}: attnMask must be bool (true = may attend) or float (added to scores), received ${m.dtype}.`);
    }
    const scoreShape = [...q.shape.slice(0, -1), S];
    if (!broadcastsTo(m.shape, scoreShape)) {
      const lead = scoreShape.slice(0, -2).length > 0 ? ` or [${scoreShape.slice(0, -2).map((_, i, a) => (i === a.length - 1 ? 'H' : 'B')).join(', ')}, ${L}, ${S}]` : '';
      throw new ShapeError(`${op}: attnMask has shape ${fmtShape(m.shape)}, expected [${L}, ${S}]${lead} (anything that broadcasts to ${fmtShape(scoreShape)}, i.e. (…, L, S)) ` +
        `for query of shape ${fmtShape(q.shape)} and key of shape ${fmtShape(key.shape)}. Fix: build the mask as (L, S) = (queries, keys), or unsqueeze it to (B, 1, L, S).`);
    }
  }
  const lead = q.shape.slice(0, Math.max(nd - 3, 0));
  return { lead, H, Hkv, L, S, E, Ev, scale, causalOffset, dropoutP: p };
}

function batchOf(lead: number[]): number {
  return lead.reduce((a, b) => a * b, 1);
}

/** The additive mask (0 / −∞ / float) combining attnMask, causal, keyLengths and ALiBi, shape broadcastable to scores. */
function combinedMask(q: Tensor, r: Resolved, o: AttentionOptions): Tensor | null {
  const { L, S, H } = r;
  let m: Tensor | null = null;
  if (o.attnMask) m = o.attnMask.dtype === 'bool' ? maskedFill(floatTensor(q.dtype, o.attnMask.shape), logicalNot(o.attnMask), -Infinity) : o.attnMask;
  if (r.causalOffset !== null) {
    const c = floatTensor(q.dtype, [L, S]);
    for (let i = 0; i < L; i++) for (let j = i + r.causalOffset + 1; j < S; j++) if (j >= 0) c.data[i * S + j] = -Infinity;
    m = m ? add(m, c) : c;
  }
  if (o.keyLengths) {
    const lens = checkKeyLengths(o.keyLengths, r);
    const B = lens.length; // = product of the lead dims
    const c = floatTensor(q.dtype, [...r.lead, ...(q.ndim >= 3 ? [1] : []), 1, S]);
    for (let b = 0; b < B; b++) for (let j = lens[b]; j < S; j++) c.data[b * S + j] = -Infinity;
    m = m ? add(m, c) : c;
  }
  if (o.alibiSlopes) {
    const slopes = checkSlopes(o.alibiSlopes, H);
    const c = floatTensor(q.dtype, [H, L, S]);
    for (let h = 0; h < H; h++) for (let i = 0; i < L; i++) for (let j = 0; j < S; j++) c.data[(h * L + i) * S + j] = slopes[h] * (j - i - (S - L));
    m = m ? add(m, c) : c;
  }
  return m;
}

function checkKeyLengths(t: Tensor, r: Resolved): Int32Array {
  const B = batchOf(r.lead);
  if (t.dtype !== 'int32' || t.ndim !== 1 || t.shape[0] !== B) {
    throw new ShapeError(`scaledDotProductAttention: keyLengths must be int32 of shape [${B}], received ${t.dtype} ${fmtShape(t.shape)}.`);
  }
  return t.data as Int32Array;
}

function checkSlopes(t: Tensor, H: number): Float32Array {
  if (t.ndim !== 1 || t.shape[0] !== H) throw new ShapeError(`scaledDotProductAttention: alibiSlopes must have shape [${H}], received ${fmtShape(t.shape)}.`);
  return Float32Array.from(t.data as ArrayLike<number>);
}

/** The composed reference: matmul → scale → mask → softmax → dropout → matmul. */
export function scaledDotProductAttentionReference(q: Tensor, key: Tensor, value: Tensor, o: AttentionOptions = {}): Tensor {
  const r = resolve(q, key, value, o);
  let kk = key, vv = value;
  if (r.H !== r.Hkv) {
    // GQA: query head h reads kv head ⌊h / (H/Hkv)⌋
    const group = r.H / r.Hkv;
    const idx = arange(0, r.H);
    for (let h = 0; h < r.H; h++) idx.data[h] = Math.floor(h / group);
    kk = indexSelect(key, -3, idx);
    vv = indexSelect(value, -3, idx);
  }
  let scores = mul(matmul(q, transpose(kk, -2, -1)), r.scale); // (…, H, L, S)
  const m = combinedMask(q, r, o);
  if (m) scores = add(scores, m);
  let p = softmax(scores, -1);
  if (r.dropoutP > 0) p = dropout(p, r.dropoutP);
  return matmul(p, vv); // (…, H, L, Ev)
}

/** See the file header. */
export function scaledDotProductAttention(q: Tensor, key: Tensor, value: Tensor, o: AttentionOptions = {}): Tensor {
  const fused = isOverridden('attentionForward') && q.dtype === 'float32' && key.dtype === 'float32' && value.dtype === 'float32'
    && (q.ndim === 3 || q.ndim === 4) && !(o.attnMask && o.attnMask.requiresGrad) && !(o.alibiSlopes && o.alibiSlopes.requiresGrad);
  if (!fused) return scaledDotProductAttentionReference(q, key, value, o);
  return fusedAttention(q, key, value, o);
}

function fusedAttention(q: Tensor, key: Tensor, value: Tensor, o: AttentionOptions): Tensor {
  const r = resolve(q, key, value, o);
  const { H, Hkv, L, S, E, Ev } = r;
  const B = q.ndim === 4 ? q.shape[0] : 1;
  // attnMask → additive float (B', H', L, S) with B' ∈ {1, B}, H' ∈ {1, H}
  let mask: Float32Array | null = null, msB = 0, msH = 0;
  if (o.attnMask) {
    let m = o.attnMask;
    if (m.dtype === 'bool') m = maskedFill(floatTensor('float32', m.shape), logicalNot(m), -Infinity);
    while (m.ndim < 4) m = reshape(m, [1, ...m.shape]);
    const Bm = m.shape[0], Hm = m.shape[1];
    m = expand(m, [Bm, Hm, L, S]);
    mask = f32(m);
    msB = Bm === 1 ? 0 : Hm * L * S;
    msH = Hm === 1 ? 0 : L * S;
  }
  const keyLengths = o.keyLengths ? checkKeyLengths(o.keyLengths, { ...r, lead: [B] }) : null;
  const slopes = o.alibiSlopes ? checkSlopes(o.alibiSlopes, H) : null;
  const causal = r.causalOffset !== null;
  const offset = r.causalOffset ?? 0;
  const seed = r.dropoutP > 0 ? defaultGenerator.nextU32() : 0;
  const out = floatTensor('float32', [...q.shape.slice(0, -1), Ev]);
  const lse = new Float32Array(B * H * L);
  kernels.attentionForward({ q: f32(q), k: f32(key), v: f32(value), out: f32(out), lse, B, H, Hkv, Lq: L, Lk: S, D: E, Dv: Ev, scale: r.scale, causal, causalOffset: offset, keyLengths, mask, maskStrideB: msB, maskStrideH: msH, alibiSlopes: slopes, dropoutP: r.dropoutP, dropoutSeed: seed });
  return record(out, 'scaledDotProductAttention', [q, key, value], (g) => {
    const dq = floatTensor('float32', q.shape), dk = floatTensor('float32', key.shape), dv = floatTensor('float32', value.shape);
    kernels.attentionBackward({ q: f32(q), k: f32(key), v: f32(value), out: f32(out), dOut: f32(g), lse, dq: f32(dq), dk: f32(dk), dv: f32(dv), B, H, Hkv, Lq: L, Lk: S, D: E, Dv: Ev, scale: r.scale, causal, causalOffset: offset, keyLengths, mask, maskStrideB: msB, maskStrideH: msH, alibiSlopes: slopes, dropoutP: r.dropoutP, dropoutSeed: seed });
    return [dq, dk, dv];
  });
}

