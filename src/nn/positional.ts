/**
 * Positional information for attention models:
 *   - SinusoidalPositionalEncoding (Vaswani et al. 2017), a fixed table added to embeddings;
 *   - LearnedPositionalEmbedding (BERT, GPT-2), a trained table;
 *   - RotaryEmbedding (RoPE, Su et al. 2021), rotates q and k so scores depend on j − i;
 *   - alibiSlopes (Press et al. 2022), per-head slopes for ops.scaledDotProductAttention's alibiSlopes.
 *
 * Each takes a position offset so incremental decoding with a KV cache sees the true positions.
 * Letters: B batch, T positions, D model dim, H heads, hd head dim.
 */
import { Tensor, empty } from '../tensor/tensor.js';
import { add, mul } from '../ops/elementwise.js';
import { narrow, cat, reshape } from '../ops/shape.js';
import { alloc } from '../tensor/dtype.js';
import { embedding } from '../ops/indexing.js';
import { Module } from './module.js';
import { Parameter } from './parameter.js';
import { normal } from './init.js';
import { ConfigError, ShapeError, fmtShape } from '../errors.js';
import { toFloat } from '../ops/elementwise.js';

function checkLength(op: string, T: number, offset: number, maxLen: number): void {
  if (offset + T > maxLen) {
    throw new ShapeError(`${op}: positions ${offset}…${offset + T - 1} are needed (sequence of ${T}${offset ? ` at offset ${offset}` : ''}), but the table holds maxLen=${maxLen}. Fix: build the model with a larger maxLen or truncate the input to ${maxLen - offset} tokens.`);
  }
}

/** pe[t, 2i] = sin(t / 10000^(2i/D)), pe[t, 2i+1] = cos(…). Not a parameter (not saved). */
export class SinusoidalPositionalEncoding extends Module {
  readonly maxLen: number;
  readonly dModel: number;
  private _table: Tensor; // (maxLen, D)

  constructor(dModel: number, maxLen = 1024) {
    super();
    this.dModel = dModel;
    this.maxLen = maxLen;
    const t = empty([maxLen, dModel]); // (maxLen, D)
    for (let pos = 0; pos < maxLen; pos++) {
      for (let i = 0; i < dModel; i += 2) {
        const angle = pos / Math.pow(10000, i / dModel);
        t.data[pos * dModel + i] = Math.sin(angle);
        if (i + 1 < dModel) t.data[pos * dModel + i + 1] = Math.cos(angle);
      }
    }
    this._table = t;
  }

  /** x (B, T, D) → x + pe[offset : offset + T] (B, T, D). */
  override forward(x: Tensor, offset = 0): Tensor {
    const T = x.shape[1];
    return add(x, narrow(this.table(T, offset, x.dtype), 0, offset, T)); // (B, T, D)
  }

  /**
   * The whole (maxLen, D) table in the given float dtype, after checking that positions
   * offset … offset + T − 1 exist (the fused input path, ops/embed-positions.ts, reads rows from it).
   */
  table(T: number, offset: number, dtype: Tensor['dtype']): Tensor {
    checkLength('SinusoidalPositionalEncoding', T, offset, this.maxLen);
    return dtype === this._table.dtype ? this._table : toFloat(this._table, dtype as 'float64'); // (maxLen, D)
  }
}

/** A trained (maxLen, D) table, N(0, 0.02²) at init (GPT-2). */
export class LearnedPositionalEmbedding extends Module {
  readonly maxLen: number;
  weight: Parameter;

  constructor(maxLen: number, dModel: number, std = 0.02) {
    super();
    this.maxLen = maxLen;
    this.weight = new Parameter(normal(empty([maxLen, dModel]), 0, std)); // (maxLen, D)
  }

  /**
   * x (B, T, D) → x + weight[offset : offset + T] (B, T, D); with positionIds (B, T) int32,
   * x + weight[positionIds] (RoBERTa's positions skip padding and start at padding_idx + 1).
   */
  override forward(x: Tensor, offset = 0, positionIds: Tensor | null = null): Tensor {
    if (positionIds !== null) {
      if (positionIds.ndim !== 2 || positionIds.shape[0] !== x.shape[0] || positionIds.shape[1] !== x.shape[1]) {
        throw new ShapeError(`LearnedPositionalEmbedding: positionIds has shape ${fmtShape(positionIds.shape)}, expected [${x.shape[0]}, ${x.shape[1]}] like the input's (B, T).`);
      }
      return add(x, embedding(positionIds, this.weight)); // (B, T, D)
    }
    const T = x.shape[1];
    checkLength('LearnedPositionalEmbedding', T, offset, this.maxLen);
    return add(x, narrow(this.weight, 0, offset, T)); // (B, T, D)
  }
}

/**
 * RoPE: rotates pairs (x[i], x[i + hd/2]) by angle t·θᵢ, θᵢ = base^(−2i/hd) (the
 * "rotate half" layout of GPT-NeoX and LLaMA in Hugging Face). q·k then depends only on j − i.
 */
export class RotaryEmbedding extends Module {
  readonly headDim: number;
  readonly base: number;

  constructor(headDim: number, base = 10000) {
    super();
    if (headDim % 2 !== 0) throw new ConfigError(`RotaryEmbedding: headDim=${headDim}, expected an even number (RoPE rotates pairs).`);
    this.headDim = headDim;
    this.base = base;
  }

  /** cos and sin tables for positions offset … offset + T − 1: each (T, hd). */
  tables(T: number, offset: number, dtype: 'float32' | 'float64'): [Tensor, Tensor] {
    const hd = this.headDim, half = hd / 2;
    const c = new Tensor(alloc(dtype, T * hd), [T, hd]), s = new Tensor(alloc(dtype, T * hd), [T, hd]); // (T, hd)
    for (let t = 0; t < T; t++) {
      for (let i = 0; i < half; i++) {
        const a = (t + offset) * Math.pow(this.base, (-2 * i) / hd);
        c.data[t * hd + i] = c.data[t * hd + i + half] = Math.cos(a);
        s.data[t * hd + i] = s.data[t * hd + i + half] = Math.sin(a);
      }
    }
    return [c, s];
  }

  /** x (B, H, T, hd) → x·cos + rotateHalf(x)·sin (B, H, T, hd); offset = cached positions. */
  override forward(x: Tensor, offset = 0): Tensor {
    const hd = this.headDim, T = x.shape[x.ndim - 2];
    if (x.shape[x.ndim - 1] !== hd) throw new ShapeError(`RotaryEmbedding: input has shape ${fmtShape(x.shape)}, expected last dim headDim=${hd}.`);
    const [c, s] = this.tables(T, offset, x.dtype === 'float64' ? 'float64' : 'float32'); // (T, hd)
    const x1 = narrow(x, -1, 0, hd / 2), x2 = narrow(x, -1, hd / 2, hd / 2); // (B, H, T, hd/2)
    const rot = cat([mul(x2, -1), x1], -1); // (B, H, T, hd)
    return add(mul(x, c), mul(rot, s)); // (B, H, T, hd)
  }
}

/**
 * ALiBi slopes for H heads: the geometric sequence 2^(−8/n), 2^(−16/n), … for the
 * closest power of two n ≤ H, then every other slope of the 2n sequence (the paper's code).
 */
export function alibiSlopes(H: number): Tensor {
  const pow2 = (n: number): number[] => {
    const start = Math.pow(2, -Math.pow(2, -(Math.log2(n) - 3)));
    return Array.from({ length: n }, (_, i) => start * Math.pow(start, i));
  };
  let slopes: number[];
  if (Number.isInteger(Math.log2(H))) slopes = pow2(H);
  else {
    const n = Math.pow(2, Math.floor(Math.log2(H)));
    slopes = [...pow2(n), ...pow2(2 * n).filter((_, i) => i % 2 === 0).slice(0, H - n)];
  }
  return reshape(new Tensor(Float32Array.from(slopes), [H]), [H]); // (H)
}
