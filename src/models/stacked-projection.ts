/**
 * Projections as the fused inference paths (FusedEncoder, FusedDecoder) run them: a Linear's fp32
 * weight read in place, a QuantizedLinear's int8 weights as the layer packed them, or several
 * projections on the same input stacked into one GEMM (q|k|v).
 */
import type { Linear } from '../nn/linear.js';
import { QuantizedLinear } from '../nn/quantized-linear.js';
import { PACK_COLUMNS, packedLength, packQuantizedWeights } from '../backend/js/int8.js';
import { isSnapshotCurrent, snapshotWeights, type WeightsSnapshot } from '../nn/weights-version.js';

export type Projection = Linear | QuantizedLinear;

/**
 * A projection as the step uses it: bias (O) or null, and either the fp32 weight (O, I) or the
 * int8 weights packed for int8GemmPacked with their per-channel scales (O) and column sums (O).
 */
export type Gemm = { b: Float32Array | null; out: number; in: number } & (
  | { w: Float32Array; int8: null }
  | { w: null; int8: { packed: Int8Array; scales: Float32Array; colSums: Int32Array; xScale: number } });

export function gemmOf(l: Projection): Gemm {
  const b = l.bias ? (l.bias.data as Float32Array) : null;
  if (l instanceof QuantizedLinear) return { w: null, int8: l.packedWeights, b, out: l.outFeatures, in: l.inFeatures };
  return { w: l.weight.data as Float32Array, int8: null, b, out: l.outFeatures, in: l.inFeatures };
}

/**
 * Projections of one kind on the same input stacked into one (Σ O, I) GEMM; missing biases
 * become zeros. int8: the per-channel scales and column sums are concatenated, and so are the
 * packs when every O is a whole number of 32-column panels (each panel is independent in the
 * layout); otherwise the stacked int8 rows are packed again.
 */
export function packRows(ls: Projection[]): Gemm {
  const I = ls[0].inFeatures, O = ls.reduce((s, l) => s + l.outFeatures, 0);
  const b = ls.some((l) => l.bias) ? new Float32Array(O) : null;
  const int8 = ls[0] instanceof QuantizedLinear;
  const w = int8 ? null : new Float32Array(O * I);
  const scales = new Float32Array(int8 ? O : 0), colSums = new Int32Array(int8 ? O : 0);
  const packed = new Int8Array(int8 ? packedLength(O, I) : 0);
  const wholePanels = ls.every((l) => l.outFeatures % PACK_COLUMNS === 0);
  const rows = int8 && !wholePanels ? new Int8Array(O * I) : null; // (O, I) stacked int8 values
  let o = 0;
  for (const l of ls) {
    if (b && l.bias) b.set(l.bias.data as Float32Array, o);
    if (l instanceof QuantizedLinear) {
      scales.set(l.weightScale.data as Float32Array, o);
      if (rows) rows.set(l.weight.data as Int8Array, o * I);
      else {
        const own = l.packedWeights;
        packed.set(own.packed, packedLength(o, I));
        colSums.set(own.colSums, o);
      }
    } else w!.set(l.weight.data as Float32Array, o * I);
    o += l.outFeatures;
  }
  if (rows) packQuantizedWeights(rows, packed, colSums, O, I);
  // One input, so one static input scale (the callers' blockers check the three agree), or 0 (dynamic).
  const xScale = ls[0] instanceof QuantizedLinear ? ls[0].xScale : 0;
  return int8 ? { w: null, int8: { packed, scales, colSums, xScale }, b, out: O, in: I } : { w: w!, int8: null, b, out: O, in: I };
}

/** packRows results kept per first projection, with what they were made from (see stackedRows). */
const stacks = new WeakMap<Projection, { made: WeightsSnapshot; gemm: Gemm }>();

/** Every object a stack was made from: the modules, their weight/bias/scale tensors and storages. */
function sourcesOf(ls: readonly Projection[]): unknown[] {
  const out: unknown[] = [];
  for (const l of ls) {
    out.push(l, l.weight, l.weight.data, l.bias, l.bias?.data);
    if (l instanceof QuantizedLinear) out.push(l.weightScale, l.inputScale);
  }
  return out;
}

/**
 * packRows(ls), made once and reused while it is current: the same modules, weight tensors and
 * storages (identities), and no in-place weight change since (weightsVersion: optimizer steps,
 * loadStateDict, pruning, LoRA merges). The fused decoding step is built per decode call, and at
 * batch 1 a call is one word: re-stacking q|k|v there copied 2 × 0.8 MB of fp32 weights per word
 * (d 256, 2 layers). The result is shared: read it, never write it.
 */
export function stackedRows(ls: Projection[]): Gemm {
  const hit = stacks.get(ls[0]);
  const now = sourcesOf(ls);
  if (hit !== undefined && isSnapshotCurrent(hit.made, now)) return hit.gemm;
  const gemm = packRows(ls);
  stacks.set(ls[0], { made: snapshotWeights(now), gemm });
  return gemm;
}
