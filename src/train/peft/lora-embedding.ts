/**
 * LoraEmbedding: an Embedding with a trainable low-rank update beside its frozen table (LoRA on
 * embeddings, as HF peft's tuners/lora/layer.py `Embedding`):
 *
 *   y = W[ids] + scaling · Aᵀ[ids] · Bᵀ        A (r, V), B (D, r), scaling = alpha / r
 *
 * peft's names and init: `lora_embedding_A` (r, V) starts at zero and `lora_embedding_B` (D, r)
 * at N(0, 1), so a fresh LoraEmbedding computes exactly its base Embedding; there is no dropout
 * on ids. Here the two are the parameters `loraEmbeddingA` and `loraEmbeddingB`.
 *
 * Why it matters: in a small text model most parameters are the word table (90% of the spam
 * model's). LoRA on the Linear layers alone leaves every word vector where pretraining put it,
 * so a word the pretraining did not learn well cannot become informative. A rank-1 update gives
 * each word one trainable number along one shared direction (V + D parameters): enough for a
 * bag-of-words signal such as "this word is spammy", at a small share of the parameters.
 *
 * The wrapper keeps the base's own `weight` Parameter (frozen), so `tokEmbed.weight` keeps its
 * name. merge() folds the update into the table (W += scaling·AᵀBᵀ); unmerge() takes it out.
 *
 * Letters: N any index dims, V numEmbeddings, D embeddingDim, r rank.
 */
import { Tensor, empty } from '../../tensor/tensor.js';
import { zeros } from '../../tensor/creation.js';
import { mul } from '../../ops/elementwise.js';
import { matmul } from '../../ops/matmul.js';
import { transpose } from '../../ops/shape.js';
import { embedding } from '../../ops/indexing.js';
import { noGrad } from '../../autograd/mode.js';
import { Module } from '../../nn/module.js';
import { Embedding } from '../../nn/embedding.js';
import { Parameter } from '../../nn/parameter.js';
import { normal } from '../../nn/init.js';
import { ConfigError, ValueError } from '../../errors.js';
import { addInPlace } from './lora.js';
import { loraEmbedAdd } from './lora-ops.js';

export class LoraEmbedding extends Module {
  readonly numEmbeddings: number;
  readonly embeddingDim: number;
  readonly paddingIdx: number | undefined;
  readonly r: number;
  readonly alpha: number;
  readonly scaling: number;
  /** The base table (V, D): the same Parameter, frozen. */
  weight: Parameter;
  /** (r, V), zero at start (peft's lora_embedding_A). */
  loraEmbeddingA: Parameter;
  /** (D, r), N(0, 1) at start (peft's lora_embedding_B). */
  loraEmbeddingB: Parameter;
  private _merged = false;

  /**
   * Args:
   *   base: the Embedding to adapt; its table is frozen and shared, never copied.
   *   options: r (rank) and alpha (scaling = alpha / r). Dropout does not apply to ids.
   */
  constructor(base: Embedding, options: { r: number; alpha: number }) {
    super();
    const { r, alpha } = options;
    if (!Number.isInteger(r) || r <= 0) throw new ConfigError(`LoraEmbedding: r=${r}, expected a positive integer rank.`);
    if (r > Math.min(base.numEmbeddings, base.embeddingDim)) {
      throw new ConfigError(`LoraEmbedding: r=${r} is larger than min(numEmbeddings, embeddingDim) = ${Math.min(base.numEmbeddings, base.embeddingDim)}; such an update is not low-rank. Fix: lower r (rankPattern sets a rank per module).`);
    }
    if (!(alpha > 0) || !Number.isFinite(alpha)) throw new ConfigError(`LoraEmbedding: alpha=${alpha}, expected a positive number (scaling = alpha / r).`);
    this.numEmbeddings = base.numEmbeddings;
    this.embeddingDim = base.embeddingDim;
    this.paddingIdx = base.paddingIdx;
    this.r = r;
    this.alpha = alpha;
    this.scaling = alpha / r;
    this.weight = base.weight;
    this.weight.requiresGrad = false;
    this.loraEmbeddingA = new Parameter(zeros([r, base.numEmbeddings], { dtype: base.weight.dtype })); // (r, V)
    this.loraEmbeddingB = new Parameter(normal(empty([base.embeddingDim, r], base.weight.dtype), 0, 1)); // (D, r)
  }

  get merged(): boolean {
    return this._merged;
  }

  /** ids (N…) int32 → (N…, D). */
  override forward(ids: Tensor): Tensor {
    const pad = this.paddingIdx !== undefined ? { paddingIdx: this.paddingIdx } : {};
    const y = embedding(ids, this.weight, pad); // (N…, D)
    if (this._merged) return y;
    // Fused (lora-ops.ts): gathers Aᵀ[ids] (N…, r) straight from A (r, V), with no (V, r) copy,
    // and adds scaling·Aᵀ[ids]·Bᵀ into y's own buffer; the padding id's column gets no gradient.
    return loraEmbedAdd(y, ids, this.loraEmbeddingA, this.loraEmbeddingB, this.scaling, pad.paddingIdx); // (N…, D)
  }

  /** scaling · Aᵀ·Bᵀ, the (V, D) update of the table. */
  deltaWeight(): Tensor {
    return noGrad(() => mul(matmul(transpose(this.loraEmbeddingA, 0, 1), transpose(this.loraEmbeddingB, 0, 1)), this.scaling)); // (V, r)·(r, D)
  }

  merge(): void {
    if (this._merged) throw new ValueError('LoraEmbedding.merge: the update is already merged. Fix: call unmerge() first.');
    addInPlace(this.weight, this.deltaWeight(), 1);
    this._merged = true;
  }

  unmerge(): void {
    if (!this._merged) throw new ValueError('LoraEmbedding.unmerge: the update is not merged.');
    addInPlace(this.weight, this.deltaWeight(), -1);
    this._merged = false;
  }

  /** A plain Embedding holding this layer's table (merge first to keep the update). */
  toEmbedding(): Embedding {
    const e = new Embedding(this.numEmbeddings, this.embeddingDim, this.paddingIdx !== undefined ? { paddingIdx: this.paddingIdx } : {});
    e.weight = this.weight;
    e.training = this.training;
    return e;
  }
}
