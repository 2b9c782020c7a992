/**
 * The one mask module. Every form of attention mask heed accepts is validated here once
 * and turned into what runs it:
 *   - the fused kernel's parameters (causal + causalOffset, keyLengths, a float mask with
 *     B/H strides, alibiSlopes): kernelMask();
 *   - the tiles a sparse pattern (sliding window, block layout) needs, so that the keys
 *     outside the pattern are never computed: maskTiles() and tileOf();
 *   - one additive tensor, for the composed reference and for attention weights: additiveMask().
 * ops.scaledDotProductAttention, nn.MultiheadAttention and every nn/attention variant
 * convert masks here and nowhere else. The module sits in ops/ (not nn/attention/) because
 * the functional op needs it and ops cannot import from nn; nn/attention re-exports it.
 *
 * Mask forms, all combined with AND (a key is allowed only when every form allows it):
 *   attnMask        bool: true = MAY attend; float: added to the scores (−∞ forbids).
 *                   Broadcasts to the scores (…, H, L, S).
 *   keyPaddingMask  (B, S) bool, true = padding key to IGNORE. PyTorch's meaning, the one
 *                   exception to heed's "true = may attend", because ported code passes it.
 *   keyLengths      (B) int32: keys j ≥ keyLengths[b] are masked.
 *   isCausal        key j is allowed only when j ≤ p_i.
 *   slidingWindow   w: key j is allowed only when p_i − w < j (and, unless causal, j < p_i + w).
 *   blockLayout     { blockSize bs, layout }: key j is allowed only when layout[⌊i/bs⌋][⌊j/bs⌋].
 *   alibiSlopes     (H): adds slope_h · (j − p_i) to the scores (Press et al. 2022).
 *
 * Where query i sits when L ≠ S (the one rule): p_i = i + offset, with
 *   causalAlignment 'top-left'      offset = 0       the default, as PyTorch's SDPA;
 *   causalAlignment 'bottom-right'  offset = S − L   as FlashAttention, and KV-cache decoding,
 *                                                    where the L new queries follow S − L cached keys.
 * nn.MultiheadAttention uses 'bottom-right' when it is given an 'append' KVCache. For L = S
 * both mean j ≤ i. ALiBi's offset adds one constant to each score row, which softmax
 * ignores, so the kernel's fixed slope·(j − i − (S − L)) serves either alignment.
 *
 * A query row with no allowed key returns zeros (PyTorch returns NaN).
 *
 * Letters: B batch (the lead dims of q flattened), H query heads, L queries, S keys;
 * a tile covers `rows` queries from row0 and n gathered keys.
 */
import { Tensor } from '../tensor/tensor.js';
import { alloc, type DType } from '../tensor/dtype.js';
import { broadcastsTo, broadcastStrides } from '../tensor/shape.js';
import { DTypeError, ShapeError, ValueError, fmtShape } from '../errors.js';
import { softmax } from './softmax.js';
import { add } from './elementwise.js';
import { narrow } from './shape.js';
import { indexSelect } from './indexing.js';

export type CausalAlignment = 'top-left' | 'bottom-right';

/** A block-sparse pattern: which query tile may attend to which key tile. */
export interface BlockLayout {
  /** Tile edge, in queries and in keys. */
  blockSize: number;
  /** layout[qb][kb] = true when query tile qb may attend to key tile kb; ⌈L/bs⌉ × ⌈S/bs⌉. */
  layout: boolean[][];
}

/** Every mask form one attention call may receive (see the file header). */
export interface AttentionMaskOptions {
  /** Bool (true = may attend) or additive float mask, broadcastable to (…, H, L, S). */
  attnMask?: Tensor | null;
  /** (B, S) bool, true = padding key to IGNORE (PyTorch's convention). */
  keyPaddingMask?: Tensor | null;
  /** (B) int32: number of valid keys per batch row; keys at or past it are masked. */
  keyLengths?: Tensor | null;
  /** Query i sees keys j ≤ p_i only. */
  isCausal?: boolean;
  /** Where query i sits when L ≠ S: 'top-left' (default, p_i = i) or 'bottom-right' (p_i = i + S − L). */
  causalAlignment?: CausalAlignment;
  /** Keys per query in a local band (including itself); computed tile by tile, never as a dense band. */
  slidingWindow?: number | null;
  /** Tile-sparse pattern; only the allowed tiles are computed. */
  blockLayout?: BlockLayout | null;
  /** ALiBi slopes per query head, (H). Constants: no gradient flows into them. */
  alibiSlopes?: Tensor | null;
}

/** attnMask read in place through broadcast strides: element (b, h, i, j) is data[bOff[b] + h·sh + i·si + j·sj]. */
interface StridedMask {
  data: ArrayLike<number>;
  bool: boolean;
  bOff: Int32Array;
  sh: number;
  si: number;
  sj: number;
  perBatch: boolean;
}

/**
 * One call's masks, validated: what every conversion below reads. It may describe a tile
 * of the call (rows row0 … row0 + rows − 1 against the gathered key positions `keys`).
 */
export interface ResolvedMask {
  readonly op: string;
  /** Scores of the whole call: (…, H, L, S), or (L, S) for 2-D q. */
  readonly scoreShape: readonly number[];
  readonly B: number;
  readonly H: number;
  readonly L: number;
  readonly S: number;
  /** p_i = i + offset. */
  readonly offset: number;
  readonly causal: boolean;
  readonly window: number | null;
  readonly layout: BlockLayout | null;
  /** keyLengths AND the suffix-shaped keyPaddingMask, (B); null when neither limits anything. */
  readonly keyLengths: Int32Array | null;
  /** A keyPaddingMask with holes (not valid-then-padding), (B, S), 1 = ignore. */
  readonly padding: ArrayLike<number> | null;
  readonly attn: StridedMask | null;
  /** A float attnMask that requires grad: only the composed path can differentiate into it. */
  readonly gradMask: Tensor | null;
  readonly alibi: Float32Array | null;
  readonly row0: number;
  readonly rows: number;
  /** Key positions covered, ascending; 0 … S − 1 for the whole call. */
  readonly keys: Int32Array;
}

/** The mask fields of the kernel's AttentionParams (native/kernels.h). */
export interface KernelMask {
  causal: boolean;
  /** Key j is disallowed when causal && j > i + causalOffset. */
  causalOffset: number;
  keyLengths: Int32Array | null;
  /** Additive, indexed b·maskStrideB + h·maskStrideH + i·n + j. */
  mask: Float32Array | null;
  maskStrideB: number;
  maskStrideH: number;
  alibiSlopes: Float32Array | null;
}

/** A query tile and the keys it needs. */
export interface AttentionTile {
  q0: number;
  ql: number;
  /** Key positions, ascending. */
  keys: Int32Array;
}

/**
 * Validates the masks of one call whose scores have shape (…, H, L, S) (or (L, S)).
 * `op` names the caller in errors, `inputs` describes its inputs there.
 */
export function resolveMask(op: string, o: AttentionMaskOptions, scoreShape: readonly number[], inputs?: string | (() => string)): ResolvedMask {
  const nd = scoreShape.length;
  const L = scoreShape[nd - 2], S = scoreShape[nd - 1];
  const H = nd >= 3 ? scoreShape[nd - 3] : 1;
  // B = the product of the lead dims (one loop: a slice and a reduce allocate on every attention call)
  let B = 1;
  for (let d = 0; d < nd - 3; d++) B *= scoreShape[d];
  const align = o.causalAlignment ?? 'top-left';
  if (align !== 'top-left' && align !== 'bottom-right') throw new ValueError(`${op}: causalAlignment='${String(align)}', expected 'top-left' or 'bottom-right'.`);

  let attn: StridedMask | null = null, gradMask: Tensor | null = null;
  if (o.attnMask) {
    const m = o.attnMask;
    if (m.dtype !== 'bool' && m.dtype !== 'float32' && m.dtype !== 'float64') {
      throw new DTypeError(`${op}: attnMask must be bool (true = may attend) or float (added to the scores), received ${m.dtype}. Fix: build it with h.tensor(..., { dtype: 'bool' }).`);
    }
    if (!broadcastsTo(m.shape, scoreShape)) {
      const batched = nd > 2 ? ` or [${scoreShape.slice(0, -2).map((_, i, a) => (i === a.length - 1 ? 'H' : 'B')).join(', ')}, ${L}, ${S}]` : '';
      throw new ShapeError(`${op}: attnMask has shape ${fmtShape(m.shape)}, expected [${L}, ${S}]${batched} (anything that broadcasts to the scores ${fmtShape(scoreShape)}, i.e. (…, L, S)) ` +
        `for ${inputs === undefined ? `${L} queries and ${S} keys` : typeof inputs === 'string' ? inputs : inputs()}. Fix: build the mask as (L, S) = (queries, keys), including cached keys, or unsqueeze it to (B, 1, L, S).`);
    }
    if (m.requiresGrad && m.dtype !== 'bool') gradMask = m;
    else attn = stridedMask(m, scoreShape, scoreShape.slice(0, Math.max(nd - 3, 0)));
  }

  let keyLengths: Int32Array | null = null;
  if (o.keyLengths) {
    const t = o.keyLengths;
    if (t.dtype !== 'int32' || t.ndim !== 1 || t.shape[0] !== B) {
      throw new ShapeError(`${op}: keyLengths must be int32 of shape [${B}] (one length per batch row), received ${t.dtype} ${fmtShape(t.shape)}.`);
    }
    keyLengths = Int32Array.from(t.data as ArrayLike<number>);
  }

  let padding: ArrayLike<number> | null = null;
  if (o.keyPaddingMask) {
    const p = o.keyPaddingMask;
    if (p.dtype !== 'bool') {
      throw new DTypeError(`${op}: keyPaddingMask must be bool (true = padding, ignored; PyTorch's convention), received ${p.dtype}.`);
    }
    if (p.ndim !== 2 || p.shape[0] !== B || p.shape[1] !== S) {
      throw new ShapeError(`${op}: keyPaddingMask has shape ${fmtShape(p.shape)}, expected [${B}, ${S}] (B, S) for a batch of ${B} and ${S} keys. Fix: pad the mask to the full key length, including cached keys.`);
    }
    // Valid keys then padding (the usual case) becomes key lengths, which the kernel skips.
    const lens = suffixLengths(p.data as ArrayLike<number>, B, S);
    if (lens === null) padding = p.data as ArrayLike<number>;
    else keyLengths = keyLengths === null ? lens : keyLengths.map((n, b) => Math.min(n, lens[b]));
  }

  const window = o.slidingWindow ?? null;
  if (window !== null && !(Number.isInteger(window) && window > 0)) {
    throw new ValueError(`${op}: slidingWindow=${window}, expected a positive integer (keys per query, including itself).`);
  }
  const layout = o.blockLayout ?? null;
  if (layout !== null) checkLayout(op, layout, L, S);

  let alibi: Float32Array | null = null;
  if (o.alibiSlopes) {
    const t = o.alibiSlopes;
    if (t.ndim !== 1 || t.shape[0] !== H) throw new ShapeError(`${op}: alibiSlopes must have shape [${H}] (one slope per query head), received ${fmtShape(t.shape)}.`);
    alibi = Float32Array.from(t.data as ArrayLike<number>);
  }

  const keys = new Int32Array(S);
  for (let j = 0; j < S; j++) keys[j] = j;
  return {
    op, scoreShape: [...scoreShape], B, H, L, S, offset: align === 'bottom-right' ? S - L : 0, causal: o.isCausal ?? false,
    window, layout, keyLengths, padding, attn, gradMask, alibi, row0: 0, rows: L, keys,
  };
}

function checkLayout(op: string, b: BlockLayout, L: number, S: number): void {
  const bs = b.blockSize;
  if (!(Number.isInteger(bs) && bs > 0)) throw new ValueError(`${op}: blockSize=${bs}, expected a positive integer.`);
  const nQ = Math.ceil(L / bs), nK = Math.ceil(S / bs);
  if (!Array.isArray(b.layout) || b.layout.length !== nQ || b.layout.some((row) => !Array.isArray(row) || row.length !== nK)) {
    throw new ShapeError(`${op}: layout is ${b.layout?.length ?? 0}×${b.layout?.[0]?.length ?? 0}, expected ${nQ}×${nK} tiles for ${L} queries and ${S} keys with blockSize=${bs}. ` +
      'Fix: one row per query tile, one entry per key tile (localGlobalLayout builds one).');
  }
}

function stridedMask(m: Tensor, scoreShape: readonly number[], lead: readonly number[]): StridedMask {
  const nd = scoreShape.length;
  const st = broadcastStrides(m.shape, scoreShape);
  const B = lead.reduce((a, b) => a * b, 1);
  const bOff = new Int32Array(B);
  for (let b = 0; b < B; b++) {
    let rest = b, off = 0;
    for (let d = lead.length - 1; d >= 0; d--) {
      off += (rest % lead[d]) * st[d];
      rest = Math.floor(rest / lead[d]);
    }
    bOff[b] = off;
  }
  return {
    data: m.data as ArrayLike<number>, bool: m.dtype === 'bool', bOff,
    sh: nd >= 3 ? st[nd - 3] : 0, si: st[nd - 2], sj: st[nd - 1], perBatch: st.slice(0, lead.length).some((s) => s !== 0),
  };
}

/** (B) lengths when every row of a (B, S) padding mask is valid keys then padding; else null. */
function suffixLengths(pad: ArrayLike<number>, B: number, S: number): Int32Array | null {
  // Storage as a tensor's (a training step's pool serves it): B lengths, read by the kernels.
  const lens = alloc('int32', B) as Int32Array;
  for (let b = 0; b < B; b++) {
    let n = 0;
    while (n < S && !pad[b * S + n]) n++;
    for (let j = n; j < S; j++) if (!pad[b * S + j]) return null;
    lens[b] = n;
  }
  return lens;
}

/**
 * The forms the kernel has no parameter for (attnMask, padding holes, window, layout) at
 * query i, key j: 0 or a float when allowed, −∞ when not.
 */
function patternEntry(m: ResolvedMask, b: number, h: number, i: number, j: number): number {
  const p = i + m.offset;
  if (m.window !== null && (j <= p - m.window || (!m.causal && j >= p + m.window))) return -Infinity;
  if (m.layout !== null && !m.layout.layout[Math.floor(i / m.layout.blockSize)][Math.floor(j / m.layout.blockSize)]) return -Infinity;
  if (m.padding !== null && m.padding[b * m.S + j]) return -Infinity;
  if (m.attn === null) return 0;
  const a = m.attn, x = a.data[a.bOff[b] + h * a.sh + i * a.si + j * a.sj];
  return a.bool ? (x ? 0 : -Infinity) : x;
}

/** The definition, every form at once: the value added to score (b, h, i, j). */
function maskEntry(m: ResolvedMask, b: number, h: number, i: number, j: number): number {
  if (m.causal && j > i + m.offset) return -Infinity;
  if (m.keyLengths !== null && j >= m.keyLengths[b]) return -Infinity;
  const v = patternEntry(m, b, h, i, j);
  return m.alibi !== null && v !== -Infinity ? v + m.alibi[h] * (j - i - m.offset) : v;
}

/** Writes entry(b, h, i, j) for the tile's rows and keys into a (Bm, Hm, rows, n) array. */
function fillTile(m: ResolvedMask, data: Float32Array | Float64Array, Bm: number, Hm: number, entry: (b: number, h: number, i: number, j: number) => number): boolean {
  const n = m.keys.length;
  let any = false;
  for (let b = 0; b < Bm; b++) {
    for (let h = 0; h < Hm; h++) {
      const base = (b * Hm + h) * m.rows * n;
      for (let r = 0; r < m.rows; r++) {
        for (let c = 0; c < n; c++) {
          const v = entry(b, h, m.row0 + r, m.keys[c]);
          data[base + r * n + c] = v;
          if (v !== 0) any = true;
        }
      }
    }
  }
  return any;
}

/**
 * The additive mask of the tile (0 allowed, −∞ not, plus float masks and ALiBi), shaped to
 * broadcast to its scores: (Bm, Hm, rows, n) with the lead dims restored, or (rows, n) for
 * 2-D scores. Null when no form is given. A gradMask is not included (see maskScores).
 */
export function additiveMask(m: ResolvedMask, dtype: DType): Tensor | null {
  if (!m.causal && !m.keyLengths && !m.padding && !m.attn && m.window === null && !m.layout && !m.alibi) return null;
  const Bm = m.attn?.perBatch || m.padding || m.keyLengths ? m.B : 1;
  const Hm = (m.attn && m.attn.sh !== 0) || m.alibi ? m.H : 1;
  const data = alloc(dtype, Bm * Hm * m.rows * m.keys.length) as Float32Array | Float64Array;
  fillTile(m, data, Bm, Hm, (b, h, i, j) => maskEntry(m, b, h, i, j));
  const nd = m.scoreShape.length;
  if (nd === 2) return new Tensor(data, [m.rows, m.keys.length]);
  const lead = m.scoreShape.slice(0, nd - 3).map((d) => (Bm === 1 ? 1 : d));
  return new Tensor(data, [...lead, Hm, m.rows, m.keys.length]); // (…B | 1, H | 1, rows, n)
}

/** scores + every mask, differentiable into a gradMask. scores (…, H, rows, n) → same. */
export function maskScores(scores: Tensor, m: ResolvedMask): Tensor {
  const dense = additiveMask(m, scores.dtype);
  let s = dense ? add(scores, dense) : scores; // (…, H, rows, n)
  if (m.gradMask) s = add(s, m.gradMask); // (…, H, rows, n)
  return s;
}

/**
 * Softmax over the keys with every mask applied; a row with no allowed key is zeros (the
 * softmax op's rule for all-−∞ rows), with finite gradients. `masks` is a resolved mask, or
 * mask options resolved against the scores. scores (…, H, L, S) → same.
 *
 *   maskedSoftmax(scores, { isCausal: true, keyPaddingMask })   // (B, H, L, S)
 */
export function maskedSoftmax(scores: Tensor, masks: ResolvedMask | AttentionMaskOptions): Tensor {
  const m = 'keys' in masks ? masks : resolveMask('maskedSoftmax', masks, scores.shape);
  return softmax(maskScores(scores, m), -1); // (…, H, L, S)
}

/** Maximal runs of consecutive positions in ascending keys: [index of the run's first key, its position]. */
function keyRuns(keys: Int32Array): [number, number][] {
  const runs: [number, number][] = [];
  for (let c = 0; c < keys.length; c++) if (c === 0 || keys[c] !== keys[c - 1] + 1) runs.push([c, keys[c]]);
  return runs;
}

/**
 * Per batch row, the number of the ascending `keys` below its key length: the kernel's key lengths on
 * the gathered keys. The whole call's keys (0 … S − 1, every length ≤ S, as resolveMask makes them)
 * give back the lengths themselves, without a copy (neither array is written after resolveMask).
 */
function keyCounts(lengths: Int32Array, keys: Int32Array): Int32Array {
  const n = keys.length;
  let whole = n > 0 && keys[0] === 0 && keys[n - 1] === n - 1; // ascending and distinct: 0 … n − 1
  for (let b = 0; whole && b < lengths.length; b++) whole = lengths[b] >= 0 && lengths[b] <= n;
  return whole ? lengths : lengths.map((len) => countBelow(keys, len));
}

/** Number of ascending keys below `limit`. */
function countBelow(keys: Int32Array, limit: number): number {
  let lo = 0, hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (keys[mid] < limit) lo = mid + 1; else hi = mid;
  }
  return lo;
}

/**
 * The fused kernel's mask parameters for the (tile of the) call, float32. The kernel's own
 * parameters carry what they can express on the tile's gathered keys; the rest is written
 * into the float mask, which is (Bm, Hm, rows, n): never larger than the tile.
 */
export function kernelMask(m: ResolvedMask): KernelMask {
  if (m.gradMask) throw new ValueError(`${m.op}: a float attnMask that requires grad runs on the composed path only; kernelMask cannot carry it.`);
  const keys = m.keys, n = keys.length;
  // The keys as runs of consecutive positions: one run (or none) in every call but a sparse tile's,
  // told without building the list of runs. (lastIndex, lastPos): the last run's first key, its position.
  const oneRun = n === 0 || keys[n - 1] - keys[0] === n - 1;
  const runs = oneRun ? null : keyRuns(keys);
  const runCount = runs === null ? (n === 0 ? 0 : 1) : runs.length;
  const lastIndex = runs === null ? 0 : runs[runs.length - 1][0], lastPos = runs === null ? (n === 0 ? 0 : keys[0]) : runs[runs.length - 1][1];
  // Causal on gathered keys is the kernel's diagonal when the keys are one run, or when every
  // earlier run lies before the first query's position (visible to all rows of the tile).
  let causal = false, causalOffset = 0, causalInMask = false;
  if (m.causal) {
    const p0 = m.row0 + m.offset;
    if (runCount <= 1 || p0 >= lastPos - 1) {
      causal = true;
      causalOffset = p0 - lastPos + lastIndex;
    } else causalInMask = true;
  }
  const keyLengths = m.keyLengths ? keyCounts(m.keyLengths, keys) : null;
  // The kernel's ALiBi reads positions from indices: exact up to a row constant for one run only.
  const alibiInMask = m.alibi !== null && runCount > 1;
  const alibiSlopes = m.alibi !== null && !alibiInMask ? m.alibi : null;
  let mask: Float32Array | null = null, maskStrideB = 0, maskStrideH = 0;
  if (m.attn || m.padding || m.window !== null || m.layout || causalInMask || alibiInMask) {
    const Bm = m.attn?.perBatch || m.padding ? m.B : 1;
    const Hm = (m.attn && m.attn.sh !== 0) || alibiInMask ? m.H : 1;
    const data = new Float32Array(Bm * Hm * m.rows * n);
    const any = fillTile(m, data, Bm, Hm, (b, h, i, j) => {
      if (causalInMask && j > i + m.offset) return -Infinity;
      const v = patternEntry(m, b, h, i, j);
      return alibiInMask && v !== -Infinity ? v + m.alibi![h] * (j - i - m.offset) : v;
    });
    if (any) {
      mask = data;
      maskStrideB = Bm === 1 ? 0 : Hm * m.rows * n;
      maskStrideH = Hm === 1 ? 0 : m.rows * n;
    }
  }
  return { causal, causalOffset, keyLengths, mask, maskStrideB, maskStrideH, alibiSlopes };
}

/**
 * The query tiles of a sparse pattern and the keys each needs, or null when the call has
 * no sliding window and no block layout (it runs whole). Keys a tile cannot see (outside
 * the band, in a disallowed layout tile, after its last query under causal) are left out,
 * so their scores are never computed.
 */
export function maskTiles(m: ResolvedMask): AttentionTile[] | null {
  if (m.window === null && m.layout === null) return null;
  // A window tile of T queries reads T + w − 1 keys: T near w wastes at most half, and the
  // bounds keep the per-tile overhead small (w = 1) and the tile cache-sized (large w).
  const T = m.layout ? m.layout.blockSize : Math.min(128, Math.max(16, m.window!));
  const tiles: AttentionTile[] = [];
  for (let q0 = 0; q0 < m.L; q0 += T) {
    const ql = Math.min(T, m.L - q0);
    const pFirst = q0 + m.offset, pLast = q0 + ql - 1 + m.offset;
    let lo = 0, hi = m.S;
    if (m.causal) hi = Math.min(hi, pLast + 1);
    if (m.window !== null) {
      lo = Math.max(lo, pFirst - m.window + 1);
      if (!m.causal) hi = Math.min(hi, pLast + m.window);
    }
    const row = m.layout ? m.layout.layout[q0 / T] : null;
    const keys: number[] = [];
    for (let j = lo; j < hi; j++) if (row === null || row[Math.floor(j / T)]) keys.push(j);
    tiles.push({ q0, ql, keys: Int32Array.from(keys) });
  }
  return tiles;
}

/** The mask of one tile of a whole call: its rows, its keys, and its slice of a gradMask. */
export function tileOf(m: ResolvedMask, t: AttentionTile): ResolvedMask {
  if (m.row0 !== 0 || m.rows !== m.L || m.keys.length !== m.S) throw new ValueError(`${m.op}: tileOf takes the mask of a whole call, received a tile.`);
  let g = m.gradMask;
  if (g !== null) {
    if (g.ndim >= 2 && g.shape[g.ndim - 2] !== 1) g = narrow(g, -2, t.q0, t.ql); // (…, ql, S | 1)
    if (g.shape[g.ndim - 1] !== 1) g = indexSelect(g, -1, new Tensor(t.keys, [t.keys.length])); // (…, ql | 1, n)
  }
  return { ...m, row0: t.q0, rows: t.ql, keys: t.keys, gradMask: g };
}

/**
 * The (L, S) bool mask (true = may attend) that a set of mask options stands for, without
 * batch or head: the dense picture of a window or a layout (for tests and plots; attention
 * itself never builds it).
 */
export function allowedMask(o: AttentionMaskOptions, L: number, S: number, op = 'allowedMask'): Tensor {
  const m = resolveMask(op, o, [L, S]);
  const data = alloc('bool', L * S);
  for (let i = 0; i < L; i++) for (let j = 0; j < S; j++) data[i * S + j] = maskEntry(m, 0, 0, i, j) === -Infinity ? 0 : 1;
  return new Tensor(data, [L, S]);
}
