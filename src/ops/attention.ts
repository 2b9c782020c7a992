/**
 * Scaled dot-product attention, the functional core of every attention layer.
 *
 *   out = softmax(q·kᵀ · scale + mask) · v
 *
 * Shapes (letters used below):
 *   q (…, H, L, E)   k (…, Hkv, S, E)   v (…, Hkv, S, Ev)   →   out (…, H, L, Ev)
 *   B batch, H query heads, Hkv key/value heads (H when not GQA), L queries, S keys.
 *
 * Masks follow the one convention of ./attention-mask.ts, which converts them all: a bool
 * mask is true where a query MAY attend, a float mask is added, every mask given to one call
 * is combined with AND, and a query row with no allowed key returns zeros (PyTorch: NaN).
 * isCausal is top-left aligned by default, as PyTorch's (query i sees keys j ≤ i); pass
 * causalAlignment: 'bottom-right' for FlashAttention's rule (j ≤ i + S − L, KV caches).
 *
 * Two paths compute the same function:
 *   - composed from matmul/softmax/dropout: the reference, and what the js backend runs;
 *   - the fused flash-attention kernel (no L×S buffer), used when the native backend
 *     provides it and the inputs fit it (float32, 3-D or 4-D, no mask gradient).
 *     Dropout inside the fused kernel uses a counter-based hash, so its dropped
 *     positions differ from the composed path's generator draws (same distribution).
 * A sliding window or a block layout runs tile by tile on either path: each query tile
 * attends only to the keys its pattern allows, so the cost is O(allowed tiles), not O(L·S).
 *
 * kvLength: key and value may be a preallocated KV cache, (…, Hkv, capacity, E), whose first
 * kvLength positions are the keys (nn/attention/kv-cache.ts). The fused kernel reads them in place
 * (its key stride is the capacity), so decoding step t neither copies nor allocates the t cached
 * keys; every other path narrows to the first kvLength positions first. S below is kvLength.
 *
 * attentionMergedHeads is the same function on projections in their (B, L, ·) layout: the heads
 * sit side by side in the last dim, (B, L, H·E), possibly as column blocks of one fused q|k|v
 * tensor, and the output comes back heads merged, (B, L, H·Ev). The fused kernel reads and writes
 * them through strides, so a multi-head layer needs no head split or merge copy (two permutes
 * in, one out, and their backward).
 */
import { Tensor } from '../tensor/tensor.js';
import { k as kernels, isOverridden, type Params } from '../backend/registry.js';
import { record } from '../autograd/node.js';
import { ShapeError, ValueError, fmtShape } from '../errors.js';
import { defaultGenerator } from '../tensor/rng.js';
import { alloc } from '../tensor/dtype.js';
import { sameLead } from '../tensor/shape.js';
import { isGradEnabled } from '../autograd/mode.js';
import { requireFloat, floatTensor, emptyFloatTensor, f32 } from './util.js';
import { matmul } from './matmul.js';
import { dropout } from './dropout.js';
import { mul } from './elementwise.js';
import { transpose, narrow, cat, reshape } from './shape.js';
import { indexSelect } from './indexing.js';
import { arange } from '../tensor/creation.js';
import { resolveMask, kernelMask, maskTiles, tileOf, maskedSoftmax, type AttentionMaskOptions, type KernelMask, type ResolvedMask } from './attention-mask.js';

export interface AttentionOptions extends AttentionMaskOptions {
  /** Probability of dropping an attention weight (applied only when > 0). */
  dropoutP?: number;
  /** Score scale; default 1/√E. */
  scale?: number;
  /** Allow fewer key/value heads than query heads (grouped-query attention). */
  enableGqa?: boolean;
  /** Only the first kvLength positions of key/value dim −2 are keys (a preallocated cache); default all. */
  kvLength?: number;
}

interface Resolved {
  H: number; Hkv: number; L: number; S: number; E: number; Ev: number;
  scale: number; dropoutP: number;
}

const OP = 'scaledDotProductAttention';

function resolve(q: Tensor, key: Tensor, value: Tensor, o: AttentionOptions): Resolved {
  requireFloat(q, OP, 'query'); requireFloat(key, OP, 'key'); requireFloat(value, OP, 'value');
  return resolveShapes(q.shape, key.shape, value.shape, o);
}

/** resolve() on the (…, heads, L, width) shapes alone (each named as the tensor it is the shape of). */
function resolveShapes(q: readonly number[], key: readonly number[], value: readonly number[], o: AttentionOptions): Resolved {
  const op = OP;
  if (q.length < 2 || key.length !== q.length || value.length !== q.length) {
    throw new ShapeError(`${op}: query, key and value must have the same number of dims (≥ 2); received ${fmtShape(q)}, ${fmtShape(key)}, ${fmtShape(value)}. ` +
      'Fix: give all three the layout (B, H, L, E), e.g. reshape (B, L, H·E) to (B, L, H, E) and transpose dims 1 and 2.');
  }
  const nd = q.length;
  const L = q[nd - 2], E = q[nd - 1], capacity = key[nd - 2], Ev = value[nd - 1];
  const S = o.kvLength ?? capacity;
  if (!Number.isInteger(S) || S < 0 || S > capacity) throw new ValueError(`${op}: kvLength=${o.kvLength}, expected an integer in [0, ${capacity}] (the keys held at the front of key ${fmtShape(key)}).`);
  if (key[nd - 1] !== E) throw new ShapeError(`${op}: key has shape ${fmtShape(key)}, expected last dim ${E} like query ${fmtShape(q)}. Fix: query and key need the same head size; check the head split (B, H, L, E).`);
  if (value[nd - 2] !== capacity) throw new ShapeError(`${op}: value has shape ${fmtShape(value)}, expected dim -2 = ${capacity} like key ${fmtShape(key)}.`);
  const H = nd >= 3 ? q[nd - 3] : 1, Hkv = nd >= 3 ? key[nd - 3] : 1;
  if (!sameLead(key, value, nd - 2)) {
    throw new ShapeError(`${op}: key ${fmtShape(key)} and value ${fmtShape(value)} must agree on every dim but the last.`);
  }
  if (!sameLead(q, key, nd - 3)) {
    throw new ShapeError(`${op}: query ${fmtShape(q)} and key ${fmtShape(key)} must agree on batch dims.`);
  }
  if (H !== Hkv) {
    if (!o.enableGqa) throw new ShapeError(`${op}: query has ${H} heads but key/value have ${Hkv}. Fix: pass enableGqa: true for grouped-query attention.`);
    if (H % Hkv !== 0) throw new ShapeError(`${op}: query heads (${H}) must be a multiple of key/value heads (${Hkv}) for GQA.`);
  }
  const p = o.dropoutP ?? 0;
  if (!(p >= 0 && p < 1)) throw new ValueError(`${op}: dropoutP=${p}, expected a probability in [0, 1).`);
  const scale = o.scale ?? 1 / Math.sqrt(E);
  if (!Number.isFinite(scale)) throw new ValueError(`${op}: scale=${scale}, expected a finite number.`);
  return { H, Hkv, L, S, E, Ev, scale, dropoutP: p };
}

/** The masks of the call, validated against its scores (…, H, L, S). */
function resolveCallMask(q: Tensor, key: Tensor, r: Resolved, o: AttentionOptions): ResolvedMask {
  return resolveMask(OP, o, [...q.shape.slice(0, -1), r.S], () => `query of shape ${fmtShape(q.shape)} and key of shape ${fmtShape(key.shape)}`);
}

/** GQA: query head h reads kv head ⌊h / (H/Hkv)⌋. (…, Hkv, S, d) → (…, H, S, d). */
export function repeatKvHeads(t: Tensor, H: number): Tensor {
  const Hkv = t.ndim >= 3 ? t.shape[t.ndim - 3] : 1;
  if (Hkv === H) return t;
  const group = H / Hkv;
  const idx = arange(0, H);
  for (let h = 0; h < H; h++) idx.data[h] = Math.floor(h / group);
  return indexSelect(t, -3, idx); // (…, H, S, d)
}

/** softmax(q·kᵀ · scale + mask) by the composed ops. (…, H, L, S). */
function referenceWeights(q: Tensor, key: Tensor, r: Resolved, m: ResolvedMask): Tensor {
  const scores = mul(matmul(q, transpose(repeatKvHeads(key, r.H), -2, -1)), r.scale); // (…, H, L, S)
  return maskedSoftmax(scores, m); // (…, H, L, S)
}

/** The composed path: matmul → scale → mask → softmax → dropout → matmul. */
function referenceAttention(q: Tensor, key: Tensor, value: Tensor, r: Resolved, m: ResolvedMask): Tensor {
  let p = referenceWeights(q, key, r, m); // (…, H, L, S)
  if (r.dropoutP > 0) p = dropout(p, r.dropoutP);
  return matmul(p, repeatKvHeads(value, r.H)); // (…, H, L, Ev)
}

/** The composed reference, dense over all L×S scores (windows and layouts included): the oracle. */
export function scaledDotProductAttentionReference(q: Tensor, key: Tensor, value: Tensor, o: AttentionOptions = {}): Tensor {
  [key, value, o] = frontKeys(q, key, value, o);
  const r = resolve(q, key, value, o);
  return referenceAttention(q, key, value, r, resolveCallMask(q, key, r, o)); // (…, H, L, Ev)
}

/**
 * The attention weights softmax(q·kᵀ · scale + mask), (…, H, L, S), with the masks and
 * rules of scaledDotProductAttention (no dropout); composed, for needWeights and plots.
 */
export function attentionWeights(q: Tensor, key: Tensor, o: AttentionOptions = {}): Tensor {
  [key, , o] = frontKeys(q, key, key, o);
  const r = resolve(q, key, key, o);
  return referenceWeights(q, key, r, resolveCallMask(q, key, r, o)); // (…, H, L, S)
}

/** Key and value narrowed to their first kvLength positions (a copy), and the options without kvLength. */
function frontKeys(q: Tensor, key: Tensor, value: Tensor, o: AttentionOptions): [Tensor, Tensor, AttentionOptions] {
  if (o.kvLength === undefined) return [key, value, o];
  const { S } = resolve(q, key, value, o); // validates kvLength
  return [narrow(key, -2, 0, S), narrow(value, -2, 0, S), { ...o, kvLength: undefined }];
}

/** See the file header. */
export function scaledDotProductAttention(q: Tensor, key: Tensor, value: Tensor, o: AttentionOptions = {}): Tensor {
  const r = resolve(q, key, value, o);
  const m = resolveCallMask(q, key, r, o);
  const capacity = key.shape[key.ndim - 2];
  if (r.S < capacity) {
    // A cache with room to spare: read in place when the fused kernel takes this call whole (no
    // gradient through it: its backward has no key stride), else narrow to the keys and go on.
    const needsGrad = isGradEnabled() && (q.requiresGrad || key.requiresGrad || value.requiresGrad);
    if (!needsGrad && maskTiles(m) === null && fusable(q, key, value, m)) return fusedAttention(q, key, value, r, kernelMask(m), capacity);
    return scaledDotProductAttention(q, narrow(key, -2, 0, r.S), narrow(value, -2, 0, r.S), { ...o, kvLength: undefined });
  }
  const tiles = maskTiles(m);
  if (tiles === null || tiles.length === 0) return attend(q, key, value, r, m); // (…, H, L, Ev); no tiles: no queries
  const outs: Tensor[] = [];
  for (const t of tiles) {
    const qTile = narrow(q, -2, t.q0, t.ql); // (…, H, ql, E)
    if (t.keys.length === 0) {
      outs.push(floatTensor(q.dtype, [...q.shape.slice(0, -2), t.ql, r.Ev])); // (…, H, ql, Ev): no allowed key
      continue;
    }
    const kTile = gatherKeys(key, t.keys), vTile = gatherKeys(value, t.keys); // (…, Hkv, n, E), (…, Hkv, n, Ev)
    outs.push(attend(qTile, kTile, vTile, { ...r, L: t.ql, S: t.keys.length }, tileOf(m, t))); // (…, H, ql, Ev)
  }
  return cat(outs, -2); // (…, H, L, Ev)
}

/** Rows `keys` (ascending) of dim −2: a narrow when they are one run. (…, S, d) → (…, n, d). */
function gatherKeys(t: Tensor, keys: Int32Array): Tensor {
  const n = keys.length;
  if (keys[n - 1] - keys[0] === n - 1) return narrow(t, -2, keys[0], n); // (…, n, d)
  return indexSelect(t, -2, new Tensor(keys, [n])); // (…, n, d)
}

/** One dense call (a whole call, or one tile of a sparse one) on the fused kernel when it fits, else composed. */
function attend(q: Tensor, key: Tensor, value: Tensor, r: Resolved, m: ResolvedMask): Tensor {
  return fusable(q, key, value, m) ? fusedAttention(q, key, value, r, kernelMask(m)) : referenceAttention(q, key, value, r, m);
}

/** Whether the fused kernel computes this call: native, float32, 3-D or 4-D, no mask gradient. */
function fusable(q: Tensor, key: Tensor, value: Tensor, m: ResolvedMask): boolean {
  return isOverridden('attentionForward') && q.dtype === 'float32' && key.dtype === 'float32' && value.dtype === 'float32'
    && (q.ndim === 3 || q.ndim === 4) && m.gradMask === null;
}

/** The fused kernel; key/value rows are `kvStride` apart per (b, kv head) (a cache's capacity), r.S of them read. */
function fusedAttention(q: Tensor, key: Tensor, value: Tensor, r: Resolved, km: KernelMask, kvStride = r.S): Tensor {
  const { H, Hkv, L, S, E, Ev } = r;
  const B = q.ndim === 4 ? q.shape[0] : 1;
  const { causal, causalOffset: offset, keyLengths, mask, maskStrideB: msB, maskStrideH: msH, alibiSlopes: slopes } = km;
  const seed = r.dropoutP > 0 ? defaultGenerator.nextU32() : 0;
  const out = floatTensor('float32', [...q.shape.slice(0, -1), Ev]);
  const lse = alloc('float32', B * H * L) as Float32Array; // as attentionMergedHeads'
  kernels.attentionForward({ q: f32(q), k: f32(key), v: f32(value), out: f32(out), lse, B, H, Hkv, Lq: L, Lk: S, kvStride, D: E, Dv: Ev, scale: r.scale, causal, causalOffset: offset, keyLengths, mask, maskStrideB: msB, maskStrideH: msH, alibiSlopes: slopes, dropoutP: r.dropoutP, dropoutSeed: seed });
  if (kvStride !== S) return out; // inference only (the caller checked no gradient is needed)
  return record(out, 'scaledDotProductAttention', [q, key, value], (g) => {
    const dq = floatTensor('float32', q.shape), dk = floatTensor('float32', key.shape), dv = floatTensor('float32', value.shape);
    kernels.attentionBackward({ q: f32(q), k: f32(key), v: f32(value), out: f32(out), dOut: f32(g), lse, dq: f32(dq), dk: f32(dk), dv: f32(dv), B, H, Hkv, Lq: L, Lk: S, D: E, Dv: Ev, scale: r.scale, causal, causalOffset: offset, keyLengths, mask, maskStrideB: msB, maskStrideH: msH, alibiSlopes: slopes, dropoutP: r.dropoutP, dropoutSeed: seed });
    return [dq, dk, dv];
  }, true); // deferrable: allocations and one kernel
}


/**
 * `heads` attention heads of `width` columns each, side by side from column `offset` of the last
 * dim of a (B, L, C) tensor: a q/k/v projection's output (offset 0), or one block of a fused
 * q|k|v projection (B, L, 3·H·d).
 */
export interface HeadColumns {
  readonly tensor: Tensor;
  readonly offset: number;
  readonly heads: number;
  readonly width: number;
}

/** An attention operand: heads merged, HeadColumns of (B, L, C), or split, a (B, heads, L, width) tensor. */
export type Heads = HeadColumns | Tensor;

/** The (B, heads, L, width) tensor of an operand (a copy for HeadColumns: narrow, then transpose). */
export function splitHeads(x: Heads): Tensor {
  if (x instanceof Tensor) return x;
  const [B, L, C] = x.tensor.shape;
  const cols = x.offset === 0 && x.heads * x.width === C ? x.tensor : narrow(x.tensor, -1, x.offset, x.heads * x.width); // (B, L, heads·width)
  return transpose(reshape(cols, [B, L, x.heads, x.width]), 1, 2); // (B, heads, L, width)
}

/** (B, H, L, Ev) → (B, L, H·Ev). */
function mergeHeads(y: Tensor): Tensor {
  const [B, H, L, Ev] = y.shape;
  return reshape(transpose(y, 1, 2), [B, L, H * Ev]); // (B, L, H·Ev)
}

/** What the strided kernel needs of an operand: its array from (b, h, i) = (0, 0, 0) on, and its strides. */
interface StridedView {
  tensor: Tensor; data: Float32Array; B: number; heads: number; rows: number; width: number;
  sB: number; sH: number; sL: number; cols: [number, number] | null; // cols: the column range of a HeadColumns
}

function viewOf(x: Heads, what: string): StridedView {
  const op = 'attentionMergedHeads';
  if (x instanceof Tensor) {
    if (x.ndim !== 4) throw new ShapeError(`${op}: ${what} has shape ${fmtShape(x.shape)}, expected (B, heads, L, width) or HeadColumns of a (B, L, C) tensor.`);
    // Indexed reads: destructuring a frozen array (every tensor's shape) takes V8's iterator path.
    const sh = x.shape, B = sh[0], heads = sh[1], rows = sh[2], width = sh[3];
    return { tensor: x, data: f32(x), B, heads, rows, width, sB: heads * rows * width, sH: rows * width, sL: width, cols: null };
  }
  const { tensor: t, offset, heads, width } = x;
  if (t.ndim !== 3) throw new ShapeError(`${op}: ${what}.tensor has shape ${fmtShape(t.shape)}, expected (B, L, C) with the heads side by side in C.`);
  const B = t.shape[0], rows = t.shape[1], C = t.shape[2];
  if (!isCount(offset) || !isCount(heads) || !isCount(width) || heads === 0 || offset + heads * width > C) {
    throw new ShapeError(`${op}: ${what} asks for ${heads} heads of width ${width} from column ${offset}, but its tensor ${fmtShape(t.shape)} has ${C} columns. Fix: offset + heads·width must be ≤ ${C}.`);
  }
  return { tensor: t, data: offset === 0 ? f32(t) : f32(t).subarray(offset), B, heads, rows, width, sB: rows * C, sH: width, sL: C, cols: [offset, offset + heads * width] };
}

/**
 * scaledDotProductAttention on heads that need no split: q holds H query heads of L rows, k and v
 * Hkv heads of S rows (Hkv = H unless enableGqa), each either HeadColumns of a (B, rows, C) tensor
 * or a (B, heads, rows, width) tensor (e.g. a KV cache, with kvLength). Options, masks and results
 * are those of scaledDotProductAttention.
 *
 * Returns: (B, L, H·Ev), the heads merged (head h in columns h·Ev … (h+1)·Ev).
 *
 * The fused kernel takes it in place when it takes the call (native, float32, no window/block
 * layout, no mask gradient); a gradient then lands in one buffer per distinct input tensor, each
 * operand's columns written by the kernel (a fused q|k|v tensor gets one gradient, no narrow
 * backward). Otherwise the heads are split, scaledDotProductAttention runs, and the output is merged.
 */
export function attentionMergedHeads(q: Heads, key: Heads, value: Heads, o: AttentionOptions = {}): Tensor {
  const op = 'attentionMergedHeads';
  const qv = viewOf(q, 'query'), kv = viewOf(key, 'key'), vv = viewOf(value, 'value');
  const B = qv.B, H = qv.heads, Hkv = kv.heads, L = qv.rows, E = qv.width, Ev = vv.width, capacity = kv.rows;
  if (kv.B !== B || vv.B !== B) throw new ShapeError(`${op}: query, key and value have batch sizes ${qv.B}, ${kv.B}, ${vv.B}; expected one batch size.`);
  if (kv.width !== E) throw new ShapeError(`${op}: key heads have width ${kv.width}, expected ${E} like the query heads. Fix: query and key need the same head size.`);
  if (vv.heads !== Hkv || vv.rows !== capacity) throw new ShapeError(`${op}: value has ${vv.heads} heads of ${vv.rows} rows, expected ${Hkv} of ${capacity} like key.`);
  requireFloat(qv.tensor, op, 'query'); requireFloat(kv.tensor, op, 'key'); requireFloat(vv.tensor, op, 'value');
  const r = resolveShapes(splitShape(qv), splitShape(kv), splitShape(vv), o);
  const m = resolveMask(OP, o, [B, H, L, r.S], () => `query of ${H} heads × ${L} rows and key of ${Hkv} heads × ${r.S} rows`);
  const needs = isGradEnabled() && (qv.tensor.requiresGrad || kv.tensor.requiresGrad || vv.tensor.requiresGrad);
  // The distinct input tensors (q's, then k's and v's when they are others) and whether each one's
  // operands cover all of it; coverable false when two operands overlap in one tensor.
  const inputs = [qv.tensor];
  if (kv.tensor !== qv.tensor) inputs.push(kv.tensor);
  if (vv.tensor !== qv.tensor && vv.tensor !== kv.tensor) inputs.push(vv.tensor);
  const full: boolean[] = [];
  let coverable = true;
  for (let i = 0; i < inputs.length && coverable; i++) {
    const c = coverage(inputs[i], qv, kv, vv);
    if (c < 0) coverable = false;
    else full.push(c === 1);
  }
  const fused = isOverridden('attentionForwardStrided') && qv.tensor.dtype === 'float32' && kv.tensor.dtype === 'float32' && vv.tensor.dtype === 'float32'
    && m.gradMask === null && maskTiles(m) === null && (r.S === capacity || !needs) && (coverable || !needs);
  if (!fused) return mergeHeads(scaledDotProductAttention(splitHeads(q), splitHeads(key), splitHeads(value), o)); // (B, L, H·Ev)
  const km = kernelMask(m);
  const seed = r.dropoutP > 0 ? defaultGenerator.nextU32() : 0;
  const out = emptyFloatTensor('float32', [B, L, H * Ev]); // every row written, zeros where no key is allowed
  // The rows' log-sum-exp, kept for the backward: tensor storage (a training step's pool serves it,
  // instead of a new ArrayBuffer outside V8's heap per call).
  const lse = alloc('float32', B * H * L) as Float32Array;
  // Every parameter object is one literal: a spread of this many fields plus more (the old
  // `{ ...args, q, … }`) builds its object through V8's slow path, tens of µs per call.
  const g0: StridedGeometry = {
    B, H, Hkv, L, S: r.S, E, Ev, scale: r.scale, km, dropoutP: r.dropoutP, seed, qv, kv, vv, oB: L * H * Ev, oH: Ev, oL: H * Ev,
  };
  kernels.attentionForwardStrided(forwardParams(g0, f32(out), lse));
  if (!needs || !coverable) return out;
  return record(out, 'attentionMergedHeads', inputs, (g) => {
    // One gradient per distinct tensor, shaped like it; the kernel writes each operand's elements.
    const grads = inputs.map((t, i) => (full[i] ? emptyFloatTensor('float32', t.shape) : floatTensor('float32', t.shape)));
    kernels.attentionBackwardStrided(backwardParams(g0, f32(out), f32(g), lse, gradOf(grads, inputs, qv), gradOf(grads, inputs, kv), gradOf(grads, inputs, vv)));
    return grads;
  }, true); // deferrable: allocations and one kernel
}

/** What both strided kernels of one attentionMergedHeads call share: sizes, mask, dropout, operand views, out's strides. */
interface StridedGeometry {
  B: number; H: number; Hkv: number; L: number; S: number; E: number; Ev: number; scale: number; km: KernelMask;
  dropoutP: number; seed: number; qv: StridedView; kv: StridedView; vv: StridedView; oB: number; oH: number; oL: number;
}

function forwardParams(g: StridedGeometry, out: Float32Array, lse: Float32Array): Params<'attentionForwardStrided'> {
  const { km, qv, kv, vv } = g;
  return {
    q: qv.data, k: kv.data, v: vv.data, out, lse,
    B: g.B, H: g.H, Hkv: g.Hkv, Lq: g.L, Lk: g.S, D: g.E, Dv: g.Ev, scale: g.scale, causal: km.causal, causalOffset: km.causalOffset, keyLengths: km.keyLengths,
    mask: km.mask, maskStrideB: km.maskStrideB, maskStrideH: km.maskStrideH, alibiSlopes: km.alibiSlopes, dropoutP: g.dropoutP, dropoutSeed: g.seed,
    qStrideB: qv.sB, qStrideH: qv.sH, qStrideL: qv.sL, kStrideB: kv.sB, kStrideH: kv.sH, kStrideL: kv.sL,
    vStrideB: vv.sB, vStrideH: vv.sH, vStrideL: vv.sL, outStrideB: g.oB, outStrideH: g.oH, outStrideL: g.oL,
  };
}

function backwardParams(g: StridedGeometry, out: Float32Array, dOut: Float32Array, lse: Float32Array, dq: Float32Array, dk: Float32Array, dv: Float32Array): Params<'attentionBackwardStrided'> {
  const { km, qv, kv, vv } = g;
  return {
    q: qv.data, k: kv.data, v: vv.data, out, dOut, lse, dq, dk, dv,
    B: g.B, H: g.H, Hkv: g.Hkv, Lq: g.L, Lk: g.S, D: g.E, Dv: g.Ev, scale: g.scale, causal: km.causal, causalOffset: km.causalOffset, keyLengths: km.keyLengths,
    mask: km.mask, maskStrideB: km.maskStrideB, maskStrideH: km.maskStrideH, alibiSlopes: km.alibiSlopes, dropoutP: g.dropoutP, dropoutSeed: g.seed,
    qStrideB: qv.sB, qStrideH: qv.sH, qStrideL: qv.sL, kStrideB: kv.sB, kStrideH: kv.sH, kStrideL: kv.sL,
    vStrideB: vv.sB, vStrideH: vv.sH, vStrideL: vv.sL, outStrideB: g.oB, outStrideH: g.oH, outStrideL: g.oL,
  };
}

/** An operand's gradient: its tensor's gradient buffer from the operand's first column on. */
function gradOf(grads: Tensor[], inputs: Tensor[], x: StridedView): Float32Array {
  const g = f32(grads[inputs.indexOf(x.tensor)]);
  return x.cols === null || x.cols[0] === 0 ? g : g.subarray(x.cols[0]);
}

const isCount = (n: number): boolean => Number.isInteger(n) && n >= 0;

/** The logical (B, heads, rows, width) shape of a view. */
function splitShape(x: StridedView): number[] {
  return [x.B, x.heads, x.rows, x.width];
}

/**
 * For the gradient buffers of the fused path: whether the operands among q, k, v that read tensor t
 * cover all of it (1: its gradient needs no zero fill) or part of it (0), or -1 when two of them
 * overlap in it (the kernel would overwrite one gradient with the other: the split path sums them
 * instead). Three operands at most, so a few comparisons, no Map and no sort (once per attention call).
 */
function coverage(t: Tensor, a: StridedView, b: StridedView, c: StridedView): number {
  const inA = a.tensor === t, inB = b.tensor === t, inC = c.tensor === t;
  const n = (inA ? 1 : 0) + (inB ? 1 : 0) + (inC ? 1 : 0);
  if (n === 1) {
    const v = inA ? a : inB ? b : c;
    return v.cols === null || v.cols[1] - v.cols[0] === t.shape[t.ndim - 1] ? 1 : 0;
  }
  if ((inA && a.cols === null) || (inB && b.cols === null) || (inC && c.cols === null)) return -1; // one head-major tensor used twice
  // Two or three column ranges in one tensor: disjoint when no two intersect; full when they sum to its width.
  const disjoint = (x: StridedView, y: StridedView): boolean => x.cols![1] <= y.cols![0] || y.cols![1] <= x.cols![0];
  if ((inA && inB && !disjoint(a, b)) || (inA && inC && !disjoint(a, c)) || (inB && inC && !disjoint(b, c))) return -1;
  const covered = (inA ? a.cols![1] - a.cols![0] : 0) + (inB ? b.cols![1] - b.cols![0] : 0) + (inC ? c.cols![1] - c.cols![0] : 0);
  return covered === t.shape[t.ndim - 1] ? 1 : 0;
}
