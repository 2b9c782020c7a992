/**
 * SASRec: self-attentive sequential recommendation (Kang & McAuley, ICDM 2018; reference code
 * kang205/SASRec model.py and pmixer/SASRec.pytorch model.py).
 *
 * A user's history of items, oldest first, goes through causal self-attention; the hidden state
 * at position t scores every item as the next one by a dot product with the SAME item embeddings
 * that encode the input (shared embeddings), so a score is h_t · e_i.
 *
 *   x_t = e_{s_t} · √D + p_t          item embedding, scaled as in SASRec, plus a learned position
 *   h   = LayerNorm(Blocks(x))        pre-norm Transformer blocks, causal (t sees ≤ t), ReLU FFN
 *   score(t, i) = h_t · e_i
 *
 * Layout: sequences are RIGHT-padded with item 0 and, being causal, a real position never attends
 * to padding (it lies after it), so no padding mask is needed. Positions count back from the end
 * like SASRec's left-padded windows: the newest item always has position maxLen − 1, so a position
 * embedding means "k steps before the prediction". Histories longer than maxLen keep the newest.
 *
 * Objectives (see `loss`): 'bce', SASRec's, one sampled negative per position with binary
 * cross-entropy on the positive and negative logits; 'softmax', cross-entropy over all items.
 *
 * With `fusion: 'attention'`, the item table e is ItemSideFusion's output (ID embedding enriched
 * with the title and genres by cross-attention) instead of the bare ID embedding. The same fused
 * table scores the candidates, so a candidate's title and genres count on the output side too.
 *
 * Cold items (few training interactions) have ID embeddings that stay near their random init and
 * swamp the content signal. Two remedies, both only with fusion (itemIdMask in item-side-fusion.ts):
 *   idDropout p          while training, each item's ID embedding is zeroed with probability p
 *                        per step, so the model learns to rank items from titles and genres alone
 *                        (item-ID dropout, as DropoutNet: Volkovs et al., NeurIPS 2017);
 *   contentOnlyBelow k   at evaluation, items with fewer than k TRAIN interactions use no ID
 *                        embedding: their row is the content representation (DropoutNet's
 *                        inference for cold items; with contentOnlyInTraining, in training too).
 *                        The counts are a buffer (itemCounts), set from the train parts only.
 *
 * Letters: B sequences, T positions (≤ maxLen), D dModel, N items (tables have N + 1 rows, row 0 = padding).
 */
import { Tensor, empty } from '../tensor/tensor.js';
import { add, mul } from '../ops/elementwise.js';
import { sum } from '../ops/reduce.js';
import { matmul } from '../ops/matmul.js';
import { indexSelect, embedding } from '../ops/indexing.js';
import { reshape, transpose } from '../ops/shape.js';
import { binaryCrossEntropyWithLogits, crossEntropy } from '../ops/loss.js';
import { Parameter } from '../nn/parameter.js';
import { Embedding } from '../nn/embedding.js';
import { Dropout } from '../nn/dropout.js';
import { LayerNorm } from '../nn/norm.js';
import { normal } from '../nn/init.js';
import { TransformerEncoder, TransformerEncoderLayer } from '../nn/transformer.js';
import { ConfiguredModel, defineModelConfig, type ModelInit } from './config.js';
import { ItemSideFusion, itemIdMask } from './item-side-fusion.js';
import { defaultGenerator } from '../tensor/rng.js';
import { zeros } from '../tensor/creation.js';
import { ConfigError, ShapeError, ValueError } from '../errors.js';

export interface SASRecConfig {
  /** Items are 1..numItems; 0 is padding. */
  numItems: number;
  /** Longest history read (positions). */
  maxLen: number;
  dModel: number;
  numHeads: number;
  numLayers: number;
  dimFeedforward: number;
  dropout: number;
  /** 'none': ID embeddings only; 'attention': ItemSideFusion over title and genres. */
  fusion: 'none' | 'attention';
  /** The ItemSideFusion sizes (unused with fusion 'none'). */
  titleVocabSize: number;
  titleMaxLen: number;
  titleLayers: number;
  numGenres: number;
  /** Probability of zeroing an item's ID embedding per training step (fusion only; 0 = never). */
  idDropout: number;
  /** At evaluation, items with fewer train interactions than this use no ID embedding (fusion only; 0 = none). */
  contentOnlyBelow: number;
  /** Apply contentOnlyBelow while training too (measured worse for cold items; see itemIdMask). */
  contentOnlyInTraining: boolean;
}

export const SASREC_DEFAULTS: Readonly<Omit<SASRecConfig, 'numItems'>> = Object.freeze({
  maxLen: 50, // SASRec's default for sparse data; MovieTweetings histories have median 10
  dModel: 64, // SASRec uses 50; a multiple of 16 suits the GEMM kernels
  numHeads: 1, // SASRec's default; one head was best in its ablation
  numLayers: 2, // SASRec's num_blocks
  dimFeedforward: 64, // SASRec's point-wise FFN keeps the width D
  dropout: 0.5, // SASRec's rate for sparse data sets (0.2 only for the dense ML-1M)
  fusion: 'none',
  titleVocabSize: 4, // the specials only, until a title vocabulary is given
  titleMaxLen: 12, // titles are short: a few words and the year
  titleLayers: 0, // a bag of words: the title encoder runs over every item at every step
  numGenres: 1,
  idDropout: 0, // plain fusion; tools/tune-recommend-cold.sh measures what it does for cold items
  contentOnlyBelow: 0,
  contentOnlyInTraining: false,
});

export const SASREC_CONFIG = defineModelConfig<SASRecConfig, 'numItems'>({
  model: 'SASRec',
  schema: {
    numItems: 'number', maxLen: 'number', dModel: 'number', numHeads: 'number', numLayers: 'number', dimFeedforward: 'number', dropout: 'number',
    fusion: ['none', 'attention'], titleVocabSize: 'number', titleMaxLen: 'number', titleLayers: 'number', numGenres: 'number',
    idDropout: 'number', contentOnlyBelow: 'number', contentOnlyInTraining: 'boolean',
  },
  defaults: SASREC_DEFAULTS,
  positiveInts: ['numItems', 'maxLen', 'dModel', 'numHeads', 'numLayers', 'dimFeedforward', 'titleVocabSize', 'titleMaxLen', 'numGenres'],
  check: (c) => {
    if (c.dModel % c.numHeads !== 0) throw new ConfigError(`SASRec: dModel=${c.dModel} is not divisible by numHeads=${c.numHeads}.`);
    if (!Number.isInteger(c.titleLayers) || c.titleLayers < 0) throw new ConfigError(`SASRec: titleLayers=${c.titleLayers}, expected an integer ≥ 0 (0 = bag of words).`);
    if (!(c.dropout >= 0 && c.dropout < 1)) throw new ConfigError(`SASRec: dropout=${c.dropout}, expected a value in [0, 1).`);
    if (!(c.idDropout >= 0 && c.idDropout < 1)) throw new ConfigError(`SASRec: idDropout=${c.idDropout}, expected a probability in [0, 1).`);
    if (!Number.isInteger(c.contentOnlyBelow) || c.contentOnlyBelow < 0) throw new ConfigError(`SASRec: contentOnlyBelow=${c.contentOnlyBelow}, expected an integer ≥ 0 (0 = every item keeps its ID embedding).`);
    if (c.fusion === 'none' && (c.idDropout > 0 || c.contentOnlyBelow > 0)) {
      throw new ConfigError(`SASRec: idDropout=${c.idDropout} and contentOnlyBelow=${c.contentOnlyBelow} need item side information, but fusion is 'none' (an item without its ID embedding would have no representation). Fix: set fusion 'attention', or leave both at 0.`);
    }
  },
});

/** A training batch: right-padded inputs and, per position, the next item and a sampled negative (0 at padding). */
export interface SASRecBatch {
  /** (B, T) int32 input items, right-padded with 0. */
  ids: Tensor;
  /** (B,) true lengths. */
  lengths: Int32Array;
  /** (B, T) int32 next items (0 at padding). */
  pos: Tensor;
  /** (B, T) int32 sampled negatives (0 at padding); unused by 'softmax'. */
  neg: Tensor;
}

export class SASRec extends ConfiguredModel<SASRecConfig> {
  itemEmbed: Parameter;
  posEmbed: Embedding;
  drop: Dropout;
  encoder: TransformerEncoder;
  side: ItemSideFusion | null;
  /** (N + 1,) float32 train interactions per item; registered only when contentOnlyBelow > 0. */
  itemCounts: Tensor | null = null;

  /** Args: config: numItems is required; the rest default to SASREC_DEFAULTS. */
  constructor(config: ModelInit<SASRecConfig, 'numItems'>) {
    super(SASREC_CONFIG, config);
    const c = this.config;
    // std D^-1/2: after the √D input scaling the inputs have unit variance, and scores h·e start O(1)
    this.itemEmbed = new Parameter(normal(empty([c.numItems + 1, c.dModel]), 0, c.dModel ** -0.5)); // (N + 1, D)
    this.posEmbed = new Embedding(c.maxLen, c.dModel);
    normal(this.posEmbed.weight, 0, c.dModel ** -0.5);
    this.drop = new Dropout(c.dropout);
    this.encoder = new TransformerEncoder(c.numLayers, () => new TransformerEncoderLayer(c.dModel, c.numHeads, {
      dimFeedforward: c.dimFeedforward, dropout: c.dropout, normFirst: true, activation: 'relu',
    }), new LayerNorm(c.dModel));
    this.side = c.fusion === 'attention' ? new ItemSideFusion({
      numItems: c.numItems, dModel: c.dModel, numHeads: c.numHeads, dropout: c.dropout, titleVocabSize: c.titleVocabSize,
      titleMaxLen: c.titleMaxLen, titleLayers: c.titleLayers, numGenres: c.numGenres,
    }) : null;
    if (c.contentOnlyBelow > 0) this.itemCounts = this.registerBuffer('itemCounts', zeros([c.numItems + 1])); // (N + 1,)
  }

  /** Sets each item's number of TRAIN interactions (entry 0 = padding), which contentOnlyBelow reads. */
  setItemCounts(counts: ArrayLike<number>): void {
    if (this.itemCounts === null) throw new ValueError(`SASRec.setItemCounts: this model has contentOnlyBelow=0 and keeps no item counts. Fix: build it with contentOnlyBelow > 0.`);
    if (counts.length !== this.config.numItems + 1) throw new ShapeError(`SASRec.setItemCounts: received ${counts.length} counts, expected numItems + 1 = ${this.config.numItems + 1} (entry 0 for padding).`);
    for (let i = 0; i < counts.length; i++) {
      if (!(counts[i] >= 0)) throw new ValueError(`SASRec.setItemCounts: count ${counts[i]} for item ${i}, expected a number ≥ 0.`);
      this.itemCounts.data[i] = counts[i];
    }
  }

  /** Rebuilds a model from a saved config (config.json's `model`). */
  static fromConfig(saved: Record<string, unknown>): SASRec {
    return new SASRec(SASREC_CONFIG.load(saved));
  }

  /** The item table e that both encodes inputs and scores candidates: (N + 1, D). */
  itemTable(): Tensor {
    if (!this.side) return this.itemEmbed; // (N + 1, D)
    const c = this.config;
    const keep = itemIdMask({
      rows: c.numItems + 1, counts: this.itemCounts?.data, contentOnlyBelow: c.contentOnlyBelow, contentOnlyInTraining: c.contentOnlyInTraining, idDropout: c.idDropout, training: this.training, generator: defaultGenerator,
    }); // (N + 1, 1) or null
    return this.side.call(keep ? mul(this.itemEmbed, keep) : this.itemEmbed); // (N + 1, D)
  }

  /**
   * Args: ids (B, T) int32 right-padded items; lengths (B,); table: the item table (computed once
   * per step by the caller, so the fusion runs once for inputs and scores).
   * Returns: hidden states (B, T, D); rows past a sequence's length are padding.
   */
  override forward(ids: Tensor, lengths: Int32Array, table: Tensor = this.itemTable()): Tensor {
    const [B, T] = ids.shape;
    const c = this.config;
    if (T > c.maxLen) throw new ValueError(`SASRec: ${T} positions exceed maxLen=${c.maxLen}. Fix: keep the newest ${c.maxLen} items (padHistories does).`);
    const positions = new Int32Array(B * T); // (B, T)
    for (let b = 0; b < B; b++) for (let t = 0; t < lengths[b]; t++) positions[b * T + t] = c.maxLen - lengths[b] + t;
    const x = add(mul(embedding(ids, table), Math.sqrt(c.dModel)), this.posEmbed.call(new Tensor(positions, [B, T]))); // (B, T, D)
    return this.encoder.call(this.drop.call(x), { isCausal: true }); // (B, T, D)
  }

  /**
   * The training loss of a batch, averaged over the non-padding positions.
   *   'bce':     −log σ(h_t·e_pos) − log(1 − σ(h_t·e_neg))      (SASRec)
   *   'softmax': −log softmax_i(h_t·e_i)[pos]                 (all items; padding row excluded)
   */
  loss(batch: SASRecBatch, objective: 'bce' | 'softmax'): Tensor {
    const table = this.itemTable(); // (N + 1, D)
    const h = this.forward(batch.ids, batch.lengths, table); // (B, T, D)
    const [B, T] = batch.ids.shape;
    const D = this.config.dModel;
    if (objective === 'softmax') {
      const logits = matmul(reshape(h, [B * T, D]), transpose(table, 0, 1)); // (B·T, N + 1)
      const target = new Int32Array(B * T); // (B·T,) padding → ignoreIndex
      batch.pos.data.forEach((v, i) => (target[i] = v === 0 ? -100 : v));
      return crossEntropy(logits, new Tensor(target, [B * T]));
    }
    const posLogit = sum(mul(h, embedding(batch.pos, table)), -1); // (B, T)
    const negLogit = sum(mul(h, embedding(batch.neg, table)), -1); // (B, T)
    const mask = new Float32Array(B * T); // (B, T) 1 at real positions
    let count = 0;
    batch.pos.data.forEach((v, i) => {
      if (v !== 0) {
        mask[i] = 1;
        count++;
      }
    });
    const w = new Tensor(mask, [B, T]);
    const ones = new Tensor(new Float32Array(B * T).fill(1), [B, T]);
    const zeros = new Tensor(new Float32Array(B * T), [B, T]);
    const l = add(
      binaryCrossEntropyWithLogits(posLogit, ones, { weight: w, reduction: 'sum' }),
      binaryCrossEntropyWithLogits(negLogit, zeros, { weight: w, reduction: 'sum' }),
    ); // ()
    return mul(l, 1 / Math.max(count, 1));
  }

  /**
   * Scores every item as the next one after each history (the hidden state at its last item).
   * Args: ids (B, T) right-padded; lengths (B,), each ≥ 1.  Returns: (B, N + 1).
   */
  scoreNext(ids: Tensor, lengths: Int32Array, table: Tensor = this.itemTable()): Tensor {
    const [B, T] = ids.shape;
    const h = reshape(this.forward(ids, lengths, table), [B * T, this.config.dModel]); // (B·T, D)
    const last = Int32Array.from(lengths, (len, b) => {
      if (len < 1) throw new ValueError(`SASRec.scoreNext: history ${b} is empty; at least one item is needed to score the next.`);
      return b * T + len - 1;
    });
    return matmul(indexSelect(h, 0, new Tensor(last, [B])), transpose(table, 0, 1)); // (B, N + 1)
  }
}

/** Right-pads histories (oldest first) into (B, T) int32, keeping the newest maxLen items of each; T = the longest kept. */
export function padHistories(histories: readonly ArrayLike<number>[], maxLen: number): { ids: Tensor; lengths: Int32Array } {
  const lengths = Int32Array.from(histories, (h) => Math.min(h.length, maxLen));
  const T = Math.max(1, ...lengths);
  const data = new Int32Array(histories.length * T); // (B, T)
  histories.forEach((h, b) => {
    const start = h.length - lengths[b];
    for (let t = 0; t < lengths[b]; t++) data[b * T + t] = h[start + t];
  });
  return { ids: new Tensor(data, [histories.length, T]), lengths };
}
