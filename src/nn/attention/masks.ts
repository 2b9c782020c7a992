/**
 * Mask helpers shared by the attention modules. They turn the masks a caller may
 * pass (attnMask in heed's convention, keyPaddingMask in PyTorch's, causal) into
 * one additive float mask of shape (B | 1, H | 1, L, S): 0 where a query may
 * attend, −∞ where it may not. See ./README.md for the conventions.
 *
 * Letters: B batch, H heads, L queries, S keys.
 */
import { Tensor } from '../../tensor/tensor.js';
import { alloc, type DType } from '../../tensor/dtype.js';
import { DTypeError, ShapeError, fmtShape } from '../../errors.js';
import { softmax } from '../../ops/softmax.js';
import { add, mul } from '../../ops/elementwise.js';

export interface MaskInputs {
  /** heed convention: bool true = may attend, or float added; (L, S), (B, L, S) or (B | 1, H | 1, L, S). */
  attnMask?: Tensor | null;
  /** PyTorch convention: (B, S) bool, true = padding key to IGNORE. */
  keyPaddingMask?: Tensor | null;
  /** Causal with bottom-right alignment: query i sits at position S − L + i. */
  causal?: boolean;
}

/**
 * Combines the masks (AND) into one additive mask, or null when there is none.
 * `op` names the caller in errors.
 */
export function combineMasks(op: string, m: MaskInputs, B: number, H: number, L: number, S: number, dtype: DType): Tensor | null {
  if (!m.attnMask && !m.keyPaddingMask && !m.causal) return null;
  let Bm = 1, Hm = 1;
  let am: { data: ArrayLike<number>; bool: boolean; sb: number; sh: number; si: number } | null = null;
  if (m.attnMask) {
    const a = m.attnMask;
    if (a.dtype !== 'bool' && a.dtype !== 'float32' && a.dtype !== 'float64') {
      throw new DTypeError(`${op}: attnMask must be bool (true = may attend) or float (added to the scores), received ${a.dtype}. Fix: build it with h.tensor(..., { dtype: 'bool' }).`);
    }
    let shape4: number[];
    if (a.ndim === 2) shape4 = [1, 1, ...a.shape];
    else if (a.ndim === 3) shape4 = [a.shape[0], 1, a.shape[1], a.shape[2]];
    else if (a.ndim === 4) shape4 = [...a.shape];
    else shape4 = [];
    const ok = shape4.length === 4 && (shape4[0] === 1 || shape4[0] === B) && (shape4[1] === 1 || shape4[1] === H) && (shape4[2] === L || shape4[2] === 1) && shape4[3] === S;
    if (!ok) {
      throw new ShapeError(`${op}: attnMask has shape ${fmtShape(a.shape)}, expected [${L}, ${S}] (L, S), [${B}, ${L}, ${S}] (B, L, S) or [${B} or 1, ${H} or 1, ${L} or 1, ${S}] (B, H, L, S) for ${L} queries and ${S} keys. Fix: build the mask for the full key length (including cached keys).`);
    }
    [Bm, Hm] = shape4;
    const Lm = shape4[2];
    am = { data: a.data as ArrayLike<number>, bool: a.dtype === 'bool', sb: shape4[0] === 1 ? 0 : shape4[1] * Lm * S, sh: shape4[1] === 1 ? 0 : Lm * S, si: Lm === 1 ? 0 : S };
  }
  let pad: ArrayLike<number> | null = null;
  if (m.keyPaddingMask) {
    const p = m.keyPaddingMask;
    if (p.dtype !== 'bool') {
      throw new DTypeError(`${op}: keyPaddingMask must be bool (true = padding, ignored; PyTorch's convention), received ${p.dtype}.`);
    }
    if (p.ndim !== 2 || p.shape[0] !== B || p.shape[1] !== S) {
      throw new ShapeError(`${op}: keyPaddingMask has shape ${fmtShape(p.shape)}, expected [${B}, ${S}] (B, S) for a batch of ${B} and ${S} keys.`);
    }
    pad = p.data as ArrayLike<number>;
    Bm = B;
  }
  const data = alloc(dtype, Bm * Hm * L * S);
  const off = S - L;
  for (let b = 0; b < Bm; b++) {
    for (let h = 0; h < Hm; h++) {
      const base = (b * Hm + h) * L * S;
      for (let i = 0; i < L; i++) {
        for (let j = 0; j < S; j++) {
          let v = 0;
          if (am) {
            const x = am.data[b * am.sb + h * am.sh + i * am.si + j];
            v = am.bool ? (x ? 0 : -Infinity) : x;
          }
          if (pad && pad[b * S + j]) v = -Infinity;
          if (m.causal && j > i + off) v = -Infinity;
          data[base + i * S + j] = v;
        }
      }
    }
  }
  return new Tensor(data, [Bm, Hm, L, S]);
}

/**
 * Splits an additive mask into (safe mask, row keep): rows with no finite entry get a
 * zero mask row and keep 0, so softmax stays finite and the caller zeroes those rows
 * (heed's fully-masked-row rule) without NaN gradients.
 */
export function safeRows(mask: Tensor): { mask: Tensor; keep: Tensor | null } {
  const S = mask.shape[mask.ndim - 1];
  const rows = mask.size / S;
  let out: Tensor | null = null, keep: Tensor | null = null;
  for (let r = 0; r < rows; r++) {
    let any = false;
    for (let j = 0; j < S && !any; j++) if (mask.data[r * S + j] !== -Infinity) any = true;
    if (any) continue;
    if (!out) {
      out = new Tensor(mask.data.slice(), mask.shape);
      keep = new Tensor(alloc(mask.dtype, rows).fill(1), [...mask.shape.slice(0, -1), 1]);
    }
    out.data.fill(0, r * S, (r + 1) * S);
    keep!.data[r] = 0;
  }
  return { mask: out ?? mask, keep };
}

/**
 * Softmax over the last dim with an additive mask (−∞ = masked); fully masked rows
 * give zeros (heed's rule) with finite gradients. scores (…, L, S) → (…, L, S).
 */
export function maskedSoftmax(scores: Tensor, mask: Tensor | null): Tensor {
  if (mask === null) return softmax(scores, -1); // (…, L, S)
  const safe = safeRows(mask);
  const w = softmax(add(scores, safe.mask), -1); // (…, L, S)
  return safe.keep ? mul(w, safe.keep) : w; // (…, L, S)
}

/** (B, S) bool padding mask (true = pad, PyTorch) → (B, 1, S) additive float, or null. */
export function paddingToAdditive(op: string, pad: Tensor | null | undefined, B: number, S: number, dtype: DType): Tensor | null {
  if (!pad) return null;
  if (pad.dtype !== 'bool' || pad.ndim !== 2 || pad.shape[0] !== B || pad.shape[1] !== S) {
    throw new ShapeError(`${op}: keyPaddingMask is ${pad.dtype} ${fmtShape(pad.shape)}, expected bool [${B}, ${S}] (true = padding).`);
  }
  const d = alloc(dtype, B * S);
  for (let i = 0; i < B * S; i++) d[i] = pad.data[i] ? -Infinity : 0;
  return new Tensor(d, [B, 1, S]);
}
