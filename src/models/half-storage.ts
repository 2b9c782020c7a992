/**
 * 16-bit weight storage for inference: a model's Linear and Embedding weights kept as IEEE half
 * (float16) or bfloat16 words, half the resident bytes of float32, widened to float32 where they
 * are used. heed computes in float32 only, so the upcast is explicit:
 *
 *   HalfLinear      widens its (O, I) weight for the one GEMM of each call, then drops it
 *                   (peak extra memory: one layer's weight in float32, never the model's);
 *   HalfEmbedding   widens only the rows the ids gather, (N…, D).
 *
 *   const bert = await fromPretrained(dir, { dtype: 'float16' });   // toHalfStorage after loading
 *   bert.forward(ids, { attentionMask });                           // logits within fp16 rounding of float32
 *
 * Biases and LayerNorm parameters stay float32 (they are a few KB). A weight shared by two
 * modules (tied embeddings: BERT's MLM decoder, GPT-2's lm_head) is stored once, as before. The
 * result is for inference: the 16-bit weights are not Parameters, get no gradient and are not in
 * stateDict(), so savePretrained refuses a 16-bit model (load it in float32 to train or save).
 *
 * Speed: the per-call widening is a table lookup per weight (65,536-entry table for float16, a
 * shift for bfloat16); a native GEMM that widens packed panels on the fly (F16C / AVX-512 BF16)
 * would remove the pass.
 *
 * Letters: N any index dims, I inFeatures, O outFeatures, V numEmbeddings, D embeddingDim.
 */
import { Tensor } from '../tensor/tensor.js';
import { linear } from '../ops/matmul.js';
import { Module, ModuleList } from '../nn/module.js';
import { Linear } from '../nn/linear.js';
import { Embedding } from '../nn/embedding.js';
import type { Parameter } from '../nn/parameter.js';
import { float16BitsToNumber, float32ToBFloat16, float32ToFloat16 } from '../io/float16.js';
import { DTypeError, IndexError, ShapeError, ValueError, fmtShape } from '../errors.js';

export type HalfDtype = 'float16' | 'bfloat16';
export const HALF_DTYPES: readonly HalfDtype[] = ['float16', 'bfloat16'];

/** float16 word → float32, for every word: built on first use (256 KB). */
let f16Table: Float32Array | null = null;
function float16Table(): Float32Array {
  if (f16Table === null) {
    f16Table = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) f16Table[h] = float16BitsToNumber(h);
  }
  return f16Table;
}

/** A weight stored as 16-bit words: its shape, its dtype, and a widening of all of it or of some rows. */
export class HalfWeight {
  readonly bits: Uint16Array;
  constructor(readonly dtype: HalfDtype, readonly shape: readonly number[], values: ArrayLike<number>) {
    if (!HALF_DTYPES.includes(dtype)) throw new DTypeError(`HalfWeight: dtype '${String(dtype)}', expected 'float16' or 'bfloat16'.`);
    if (dtype === 'float16') {
      for (let i = 0; i < values.length; i++) {
        if (Math.abs(values[i]) > 65504) throw new ValueError(`toHalfStorage: a weight holds ${values[i]} at flat index ${i}, beyond float16's range (±65504). Fix: use dtype 'bfloat16' (float32's range).`);
      }
    }
    this.bits = dtype === 'float16' ? float32ToFloat16(values) : float32ToBFloat16(values);
  }

  /** Widens `count` words from `start` into out[at…]. */
  widenInto(out: Float32Array, at: number, start: number, count: number): void {
    const b = this.bits;
    if (this.dtype === 'float16') {
      const t = float16Table();
      for (let i = 0; i < count; i++) out[at + i] = t[b[start + i]];
    } else {
      const u = new Uint32Array(out.buffer, out.byteOffset, out.length);
      for (let i = 0; i < count; i++) u[at + i] = b[start + i] << 16;
    }
  }

  /** The whole weight in float32 (a fresh array). */
  toFloat32(): Float32Array {
    const out = new Float32Array(this.bits.length);
    this.widenInto(out, 0, 0, this.bits.length);
    return out;
  }
}

/** A Linear whose weight is stored in 16 bits and widened for each call; the bias stays float32. */
export class HalfLinear extends Module {
  readonly inFeatures: number;
  readonly outFeatures: number;
  readonly weightHalf: HalfWeight;
  bias: Parameter | null;

  constructor(base: Linear, weight: HalfWeight) {
    super();
    this.inFeatures = base.inFeatures;
    this.outFeatures = base.outFeatures;
    this.weightHalf = weight;
    this.bias = base.bias;
    if (this.bias) this.bias.requiresGrad = false;
    this.training = base.training;
  }

  /** x (N…, I) → (N…, O). */
  override forward(x: Tensor): Tensor {
    if (x.shape[x.ndim - 1] !== this.inFeatures) throw new ShapeError(`HalfLinear: input has shape ${fmtShape(x.shape)}, expected last dim ${this.inFeatures} (inFeatures).`);
    const w = new Tensor(this.weightHalf.toFloat32(), [this.outFeatures, this.inFeatures]); // (O, I), float32 for this call only
    return linear(x, w, this.bias); // (N…, O)
  }
}

/** An Embedding whose table is stored in 16 bits; a lookup widens only the gathered rows. */
export class HalfEmbedding extends Module {
  readonly numEmbeddings: number;
  readonly embeddingDim: number;
  readonly paddingIdx: number | undefined;
  readonly weightHalf: HalfWeight;

  constructor(base: Embedding, weight: HalfWeight) {
    super();
    this.numEmbeddings = base.numEmbeddings;
    this.embeddingDim = base.embeddingDim;
    this.paddingIdx = base.paddingIdx;
    this.weightHalf = weight;
    this.training = base.training;
  }

  /** ids (N…) int32 → (N…, D) float32. */
  override forward(ids: Tensor): Tensor {
    if (ids.dtype !== 'int32') throw new DTypeError(`HalfEmbedding: ids have dtype ${ids.dtype}, expected int32.`);
    const V = this.numEmbeddings, D = this.embeddingDim, idx = ids.data as Int32Array;
    const out = new Float32Array(idx.length * D);
    for (let n = 0; n < idx.length; n++) {
      const id = idx[n];
      if (!(id >= 0 && id < V)) throw new IndexError(`HalfEmbedding: id ${id} at flat index ${n} is out of range [0, ${V}). Fix: check the tokenizer against the model's vocabulary size.`);
      this.weightHalf.widenInto(out, n * D, id * D, D);
    }
    return new Tensor(out, [...ids.shape, D]); // (N…, D)
  }
}

/** Puts m at dotted path `name` of root (a field, or an index of a ModuleList). */
function setModule(root: Module, name: string, m: Module): void {
  const cut = name.lastIndexOf('.');
  const parent = root.namedModules().find(([n]) => n === (cut < 0 ? '' : name.slice(0, cut)))?.[1];
  const field = name.slice(cut + 1);
  if (parent instanceof ModuleList && /^\d+$/.test(field)) parent.set(Number(field), m);
  else (parent as unknown as Record<string, unknown>)[field] = m;
}

/**
 * Replaces every Linear and Embedding of `model` (in place) by its 16-bit-storage twin and
 * returns the model (in eval mode) with what was stored: the 16-bit bytes, and the float32 bytes
 * they replaced. A weight tied between two modules is converted once and shared.
 */
export function toHalfStorage<M extends Module>(model: M, dtype: HalfDtype): { model: M; halfBytes: number; float32Bytes: number } {
  if (!HALF_DTYPES.includes(dtype)) throw new DTypeError(`toHalfStorage: dtype '${String(dtype)}', expected 'float16' or 'bfloat16'.`);
  const shared = new Map<Parameter, HalfWeight>();
  const half = (p: Parameter): HalfWeight => {
    let w = shared.get(p);
    if (w === undefined) {
      w = new HalfWeight(dtype, p.shape, p.data as Float32Array);
      shared.set(p, w);
    }
    return w;
  };
  const targets = model.namedModules().filter(([n, m]) => n !== '' && (m instanceof Linear || m instanceof Embedding));
  // Every weight is narrowed (and checked) before the first module is replaced: a refused model stays as it was.
  const narrowed = targets.map(([name, m]) => [name, m, half((m as Linear | Embedding).weight)] as const);
  for (const [name, m, w] of narrowed) setModule(model, name, m instanceof Linear ? new HalfLinear(m, w) : new HalfEmbedding(m as Embedding, w));
  let halfBytes = 0;
  for (const w of shared.values()) halfBytes += w.bits.byteLength;
  model.eval();
  return { model, halfBytes, float32Bytes: 2 * halfBytes };
}

/** Whether a model holds 16-bit-storage modules (it is then for inference only). */
export function hasHalfStorage(model: Module): boolean {
  return model.namedModules().some(([, m]) => m instanceof HalfLinear || m instanceof HalfEmbedding);
}
