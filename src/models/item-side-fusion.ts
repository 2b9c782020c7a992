/**
 * ItemSideFusion: enriches every item's ID embedding with its side information, fused by attention.
 *
 * Three modality tokens per item:
 *   id     the item's ID embedding (what SASRec learns from interactions alone);
 *   title  the title's words (year included, as a token) through a small text encoder
 *          (TransformerTextEncoder, the backbone of EncoderClassifier / MultimodalFusion), mean-pooled;
 *          with titleLayers 0 it is a bag of words (word + position embeddings, LayerNorm, mean),
 *          which costs almost nothing though it runs over every title at every training step;
 *   genre  the mean of the item's genre embeddings (a set: order-free, any size, empty allowed).
 * The ID token queries the three tokens with one cross-attention (MultiheadAttention, query = id,
 * keys/values = [id, title, genre]), so each item learns how much to borrow from its title and
 * genres; the result is added to the ID embedding (a residual, so with the side tokens ignored the
 * model is plain SASRec). The title and genre tokens are scaled to the ID embeddings' scale
 * (std D^-1/2) before fusion, so no modality dominates at initialization. Items with few interactions have weakly trained ID embeddings; the title and
 * genre tokens are shared across items, which is where the gain on cold items should come from.
 *
 * The side inputs are buffers of the module (saved in model.safetensors), so a checkpoint scores
 * items without the data files: titleIds (N + 1, Tt) int32 word ids (0 = padding) and genres
 * (N + 1, G) float32, each row a genre indicator divided by the item's genre count (so the matmul
 * with the genre table is the mean of its genre embeddings; a row of zeros for no genre).
 *
 * Letters: N items (row 0 = padding), Tt title words, G genres, D dModel.
 */
import { Tensor, empty } from '../tensor/tensor.js';
import { add, eq, mul } from '../ops/elementwise.js';
import { matmul } from '../ops/matmul.js';
import { reshape, stack, unsqueeze } from '../ops/shape.js';
import { zeros } from '../tensor/creation.js';
import { Module } from '../nn/module.js';
import { Parameter } from '../nn/parameter.js';
import { MultiheadAttention } from '../nn/attention/multihead.js';
import { normal } from '../nn/init.js';
import { TransformerTextEncoder, maskedMean } from './text-encoder.js';
import type { Generator } from '../tensor/rng.js';
import { ShapeError, ValueError, fmtShape } from '../errors.js';

export interface ItemSideConfig {
  /** Items 1..numItems (row 0 = padding). */
  numItems: number;
  dModel: number;
  numHeads: number;
  dropout: number;
  /** Title words (ids 0..3 are the vocabulary's specials). */
  titleVocabSize: number;
  /** Title words kept per item. */
  titleMaxLen: number;
  /** Transformer layers of the title encoder; 0 = a bag of words. */
  titleLayers: number;
  numGenres: number;
}

export class ItemSideFusion extends Module {
  readonly config: Readonly<ItemSideConfig>;
  title: TransformerTextEncoder;
  genreEmbed: Parameter;
  fusion: MultiheadAttention;
  titleIds: Tensor;
  genres: Tensor;

  constructor(c: ItemSideConfig) {
    super();
    this.config = Object.freeze({ ...c });
    const D = c.dModel;
    this.title = new TransformerTextEncoder({
      vocabSize: c.titleVocabSize, dModel: D, numHeads: c.numHeads, numLayers: c.titleLayers, dimFeedforward: 2 * D, dropout: c.dropout,
      maxLen: c.titleMaxLen, padId: 0,
    });
    this.genreEmbed = new Parameter(normal(empty([c.numGenres, D]), 0, D ** -0.5)); // (G, D)
    this.fusion = new MultiheadAttention(D, c.numHeads, { dropout: c.dropout });
    this.titleIds = this.registerBuffer('titleIds', zeros([c.numItems + 1, c.titleMaxLen], { dtype: 'int32' })); // (N + 1, Tt)
    this.genres = this.registerBuffer('genres', zeros([c.numItems + 1, c.numGenres])); // (N + 1, G)
  }

  /** Sets the side inputs (see the header for their layout); shapes must match the config. */
  setItemFeatures(titleIds: Tensor, genres: Tensor): void {
    const N1 = this.config.numItems + 1;
    if (titleIds.dtype !== 'int32' || titleIds.ndim !== 2 || titleIds.shape[0] !== N1 || titleIds.shape[1] !== this.config.titleMaxLen) {
      throw new ShapeError(`ItemSideFusion.setItemFeatures: titleIds is ${titleIds.dtype} ${fmtShape(titleIds.shape)}, expected int32 (${N1}, ${this.config.titleMaxLen}).`);
    }
    if (genres.ndim !== 2 || genres.shape[0] !== N1 || genres.shape[1] !== this.config.numGenres) {
      throw new ShapeError(`ItemSideFusion.setItemFeatures: genres has shape ${fmtShape(genres.shape)}, expected (${N1}, ${this.config.numGenres}).`);
    }
    for (const v of titleIds.data) {
      if (v < 0 || v >= this.config.titleVocabSize) throw new ValueError(`ItemSideFusion.setItemFeatures: title word id ${v} is outside [0, ${this.config.titleVocabSize}).`);
    }
    this.titleIds.data.set(titleIds.data);
    this.genres.data.set(genres.data);
  }

  /** idTable (N + 1, D) → the fused item table (N + 1, D). */
  override forward(idTable: Tensor): Tensor {
    const [N1, D] = idTable.shape;
    const pad = eq(this.titleIds, 0); // (N + 1, Tt)
    const title = mul(maskedMean(this.title.call(this.titleIds, pad), pad), D ** -0.5); // (N + 1, D), LayerNorm'ed then scaled
    const genre = matmul(this.genres, this.genreEmbed); // (N + 1, D)
    const tokens = stack([idTable, title, genre], 1); // (N + 1, 3, D)
    const { output } = this.fusion.call(unsqueeze(idTable, 1), tokens, tokens); // (N + 1, 1, D)
    return add(idTable, reshape(output, [N1, D])); // (N + 1, D)
  }
}

export interface ItemIdMaskOptions {
  /** N + 1: the rows of the item table (row 0 = padding). */
  rows: number;
  /** (N + 1) train interactions per item (entry 0 = padding); needed when contentOnlyBelow > 0. */
  counts?: ArrayLike<number>;
  /** Items with fewer train interactions than this lose their ID embedding at evaluation; 0 = none. */
  contentOnlyBelow: number;
  /** Apply contentOnlyBelow while training too (by default only at evaluation, as DropoutNet). */
  contentOnlyInTraining: boolean;
  /** Probability of dropping each item's ID embedding, in training only. */
  idDropout: number;
  training: boolean;
  /** The draws of idDropout (the global generator in SASRec, so a resumed run draws the same). */
  generator: Generator;
}

/**
 * Which items keep their ID embedding: (N + 1, 1) float32, 1 = keep, 0 = content only; null when
 * every item keeps it (nothing to multiply). Row 0 (padding) is always kept.
 *   training:   each item is dropped with probability idDropout (and, with contentOnlyInTraining,
 *               every item under contentOnlyBelow is dropped);
 *   evaluation: exactly the items under contentOnlyBelow are dropped; no randomness.
 * Dropped rows are NOT rescaled (unlike activation dropout): a dropped item's row must be a usable
 * content-only representation on its own, the one a cold item gets at evaluation.
 *
 * Why only at evaluation by default: an item that is content-only in every training step is
 * always a rare one, so "content only" itself becomes a learned rarity signal and the model ranks
 * such items last (measured: BENCHMARKS.md, cold items). With ID dropout, content-only rows in
 * training belong to items of every popularity, so a cold item's row is scored on its content.
 */
export function itemIdMask(o: ItemIdMaskOptions): Tensor | null {
  const gating = o.contentOnlyBelow > 0 && (!o.training || o.contentOnlyInTraining);
  const dropping = o.training && o.idDropout > 0;
  if (!gating && !dropping) return null;
  if (gating && o.counts === undefined) throw new ValueError(`itemIdMask: contentOnlyBelow=${o.contentOnlyBelow} needs the items' train counts, but none were given.`);
  const N1 = o.rows;
  if (o.counts !== undefined && o.counts.length !== N1) throw new ShapeError(`itemIdMask: ${o.counts.length} item counts for an item table of ${N1} rows; expected one count per row (entry 0 = padding).`);
  const keep = new Float32Array(N1).fill(1); // (N + 1,)
  for (let i = 1; i < N1; i++) {
    if (gating && o.counts![i] < o.contentOnlyBelow) keep[i] = 0;
    else if (dropping && o.generator.uniform() < o.idDropout) keep[i] = 0;
  }
  return new Tensor(keep, [N1, 1]);
}
