/**
 * The input path of a Transformer in one op:
 *
 *   embedPositions(ids, weight, { scale, positions, offset, p }) = dropout_p(weight[ids] · scale + positions[offset + t])
 *
 * ids (B, T) int32, weight (V, D), positions (maxLen, D) a fixed table (no gradient) or null → (B, T, D).
 * It equals the composition `dropout(add(mul(embedding(ids, weight), scale), narrow(positions, 0, offset, T)), p)`
 * (the same generator draw, the same mask, the same float32 steps), but runs as one kernel that reads
 * each table row once and writes the output once, where the composition runs four kernels that each
 * read and write the whole (B, T, D) tensor. Its backward is one scatter-add:
 *   dWeight[ids[i]] += dropout_p(g[i]) · scale        (the forward's mask re-hashed from its seed)
 * against the composition's dropout, mul and embedding backward (three passes).
 */
import { Tensor } from '../tensor/tensor.js';
import { k } from '../backend/registry.js';
import { record } from '../autograd/node.js';
import { defaultGenerator, type Generator } from '../tensor/rng.js';
import { DTypeError, IndexError, ShapeError, ValueError, fmtShape } from '../errors.js';
import { emptyFloatTensor, floatTensor, f32, requireFloat } from './util.js';

export interface EmbedPositionsOptions {
  /** Multiplies the looked-up rows (√D in the Transformer). Default 1. */
  scale?: number;
  /** (maxLen, D) fixed positional table, rows offset … offset + T − 1 added; null (default) for none. */
  positions?: Tensor | null;
  /** First position (cached tokens before these). Default 0. */
  offset?: number;
  /** Dropout probability, in [0, 1); 0 (default) keeps everything. */
  p?: number;
  /** When false, dropout is the identity (eval mode). Default true. */
  training?: boolean;
  /** Seeds the dropout mask (one draw per call with p > 0, as dropout); default the global generator. */
  generator?: Generator;
  /** This row of the table gets no gradient (torch's padding_idx). */
  paddingIdx?: number;
}

export function embedPositions(ids: Tensor, weight: Tensor, options: EmbedPositionsOptions = {}): Tensor {
  const op = 'embedPositions';
  if (ids.dtype !== 'int32') throw new DTypeError(`${op}: ids must be an int32 tensor, received ${ids.dtype}. Fix: create it with { dtype: 'int32' }.`);
  if (ids.ndim !== 2) throw new ShapeError(`${op}: ids has shape ${fmtShape(ids.shape)}, expected (B, T).`);
  requireFloat(weight, op, 'weight');
  if (weight.ndim !== 2) throw new ShapeError(`${op}: weight must be 2-D (numEmbeddings, dim), received ${fmtShape(weight.shape)}.`);
  const [B, T] = ids.shape, [V, D] = weight.shape;
  const idx = ids.data as Int32Array;
  for (let i = 0; i < idx.length; i++) {
    if (idx[i] < 0 || idx[i] >= V) throw new IndexError(`${op}: ids holds ${idx[i]} at flat position ${i}, out of range for a table of ${V} rows; expected 0 ≤ id < ${V}. Fix: check the vocabulary size or the tokenizer's ids.`);
  }
  const positions = options.positions ?? null, offset = options.offset ?? 0;
  if (!Number.isInteger(offset) || offset < 0) throw new ValueError(`${op}: offset=${offset}, expected a non-negative integer.`);
  if (positions !== null) {
    if (positions.dtype !== weight.dtype || positions.ndim !== 2 || positions.shape[1] !== D) {
      throw new ShapeError(`${op}: positions is ${positions.dtype} ${fmtShape(positions.shape)}, expected ${weight.dtype} (maxLen, ${D}) like the table's rows.`);
    }
    if (offset + T > positions.shape[0]) {
      throw new ShapeError(`${op}: positions ${offset}…${offset + T - 1} are needed, but the table holds ${positions.shape[0]}. Fix: build the positional table with a larger maxLen or truncate the input.`);
    }
    if (positions.requiresGrad) throw new ValueError(`${op}: positions requires grad, but this op treats it as a fixed table. Fix: add a learned positional table with add() after embedding().`);
  }
  const pIn = options.p ?? 0;
  if (!(pIn >= 0 && pIn < 1)) throw new ValueError(`${op}: p=${pIn}, expected a dropout probability in [0, 1).`);
  const p = (options.training ?? true) ? pIn : 0;
  const scale = options.scale ?? 1;
  let pad = -1; // the kernel's "no padding row"
  if (options.paddingIdx !== undefined) {
    const q = options.paddingIdx;
    if (!Number.isInteger(q) || q < -V || q >= V) throw new IndexError(`${op}: paddingIdx=${q} is out of range for ${V} rows; expected an integer in [${-V}, ${V - 1}].`);
    pad = q < 0 ? q + V : q;
  }
  // One generator draw per call with p > 0, as dropout: the same mask as the composed ops
  const seed = p > 0 ? (options.generator ?? defaultGenerator).nextU32() : 0;
  const out = emptyFloatTensor(weight.dtype, [B, T, D]);
  if (B * T > 0) k.embedPositionsForward({ weight: f32(weight), indices: idx, positions: positions ? f32(positions) : null, out: f32(out), dim: D, seqLen: T, offset, scale, p, seed });
  return record(out, 'embedPositions', [weight], (g) => {
    const gw = floatTensor(g.dtype, weight.shape);
    if (B * T > 0) k.embedPositionsBackward({ dOut: f32(g), indices: idx, dWeight: f32(gw), dim: D, paddingIdx: pad, scale, p, seed });
    return [gw];
  }, true); // deferrable: an allocation and one kernel
}
