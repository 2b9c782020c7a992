/**
 * WordTagger: a sequence tagger over words for NER from scratch, with optional character-level
 * word features and an optional CRF output layer (Lample et al. 2016's recipe, with a Transformer
 * encoder in place of the BiLSTM).
 *
 * A word's input vector is the sum of
 *   - its word embedding (lowercased word; rare words are <unk>),
 *   - with charFeatures: the mean of its hashed character n-gram embeddings (n = 3..5 over
 *     '<word>', fastText's subword features, Bojanowski et al. 2017): rare and unseen names still
 *     get a vector from their spelling,
 *   - with charCnn: a character CNN of the word (Ma & Hovy 2016; Lample et al.'s character
 *     features): hashed character embeddings, a width-3 convolution, max-pooled over the word,
 *   - its shape embedding (lowercase, Capitalized, ALLCAPS, has a digit, other, @user, #tag, URL),
 * then learned positions, a pre-norm Transformer encoder and a linear head give per-word tag
 * scores. With `backbone: true` the word table, positions and encoder are a TransformerTextEncoder
 * under `backbone.*` (the same computation, the names a pretrained MaskedLM's weights carry), so a
 * `heed pretrain mlm` model initialises them by a key copy (`heed train tag --init-from`); the
 * character and shape features stay the tagger's own, added to the word embeddings. With crf, a linear-chain CRF (nn/crf.ts, constrained to the scheme) scores paths and
 * decodes by Viterbi; without it, the loss is per-word cross-entropy.
 *
 *   const m = new WordTagger({ vocabSize: 5000, numTags: 13, labels, scheme: 'BIO' });
 *   const emissions = m.forward(batch);           // (B, T, K)
 *
 * Letters: B sentences, T words, U distinct n-grams in a batch, C characters per word, E char embedding, D dModel, K tags.
 */
import { Tensor } from '../tensor/tensor.js';
import { add } from '../ops/elementwise.js';
import { matmul } from '../ops/matmul.js';
import { reshape, transpose } from '../ops/shape.js';
import { maskedFill } from '../ops/indexing.js';
import { max } from '../ops/reduce.js';
import { Conv1d } from '../nn/conv.js';
import { Module } from '../nn/module.js';
import { Embedding } from '../nn/embedding.js';
import { LayerNorm } from '../nn/norm.js';
import { Dropout } from '../nn/dropout.js';
import { Linear } from '../nn/linear.js';
import { LearnedPositionalEmbedding } from '../nn/positional.js';
import { TransformerEncoder, TransformerEncoderLayer } from '../nn/transformer.js';
import { TransformerTextEncoder } from './text-encoder.js';
import { runEncoder } from './fused-encoder.js';
import { CRF } from '../nn/crf.js';
import type { TransitionScheme } from '../nn/tag-transitions.js';
import { fnv1a32 } from '../data/split.js';
import { allocUninit } from '../tensor/dtype.js';
import { isGradEnabled } from '../autograd/mode.js';

export interface WordTaggerConfig {
  vocabSize: number;
  numTags: number;
  /** Tag names in column order (for the CRF's scheme constraints). */
  labels: readonly string[];
  scheme: TransitionScheme;
  dModel: number;
  numHeads: number;
  numLayers: number;
  dimFeedforward: number;
  dropout: number;
  maxLen: number;
  /** Hashed character n-gram features; 0 buckets = off. */
  charBuckets: number;
  crf: boolean;
  /** A character CNN of each word (CHAR_CNN_BUCKETS hashed characters); absent = off. */
  charCnn?: boolean;
  /** Word table, positions and encoder as a TransformerTextEncoder under `backbone.*`; absent = the tagger's own names. */
  backbone?: boolean;
}

/** Hashed character ids of the character CNN (1..CHAR_CNN_BUCKETS; 0 = padding). */
export const CHAR_CNN_BUCKETS = 1021;
/** Characters of a word the CNN reads (longer words keep their first ones). */
export const CHAR_CNN_MAX = 24;
/** Width of the character embedding. */
const CHAR_DIM = 32;

/** Character ids of a word for the CNN: code point mod CHAR_CNN_BUCKETS, + 1. */
export function charCnnIds(word: string): number[] {
  return [...word].slice(0, CHAR_CNN_MAX).map((ch) => 1 + (ch.codePointAt(0)! % CHAR_CNN_BUCKETS));
}

/** The word-shape classes of `wordShape`. */
export const NUM_SHAPES = 8;

/** A word's shape class: 0 lower, 1 Capitalized, 2 ALLCAPS, 3 has a digit, 4 other, 5 @user, 6 #tag, 7 URL. */
export function wordShape(w: string): number {
  if (w.startsWith('@') && w.length > 1) return 5;
  if (w.startsWith('#') && w.length > 1) return 6;
  if (/^(https?:|www\.)/i.test(w)) return 7;
  if (/\d/.test(w)) return 3;
  if (/^\p{Lu}[\p{Ll}\p{M}'’.-]*$/u.test(w)) return 1;
  if (/^\p{Lu}{2,}$/u.test(w)) return 2;
  if (/^[\p{Ll}\p{M}'’.-]+$/u.test(w)) return 0;
  return 4;
}

/** Bucket ids (1..buckets; 0 is padding) of the character 3- to 5-grams of '<word>' (lowercased). */
export function charNgramIds(word: string, buckets: number): number[] {
  const chars = [...`<${word.toLowerCase()}>`];
  const ids = new Set<number>();
  for (let n = 3; n <= 5; n++) {
    for (let i = 0; i + n <= chars.length; i++) ids.add(1 + (fnv1a32(chars.slice(i, i + n).join('')) % buckets));
  }
  if (ids.size === 0) ids.add(1 + (fnv1a32(chars.join('')) % buckets));
  return [...ids];
}

/**
 * A WordBatch's n-gram mix as compressed rows: word i (row b·T + t) reads the columns
 * cols[offsets[i] .. offsets[i + 1]) of the batch's distinct n-grams, each with weight 1/count
 * (its n-grams' mean), and padding words none. A word has ~25 n-grams, a batch of 32 sentences
 * thousands: the dense (B·T, U) mix is nearly all zeros, and its product costs U/25 times the sum.
 */
export interface NgramRows {
  /** (B·T + 1) int32: where each word's columns start (the last entry is the total). */
  offsets: Int32Array;
  /** int32 column indices into the batch's `ngrams`. */
  cols: Int32Array;
}

/** The dense (B·T, U) mix of compressed n-gram rows (what training and the ONNX graph read). */
export function denseNgramMix(rows: NgramRows, U: number): Tensor {
  const N = rows.offsets.length - 1;
  const mix = new Float32Array(N * U); // (B·T, U)
  for (let i = 0; i < N; i++) {
    const from = rows.offsets[i], to = rows.offsets[i + 1];
    for (let j = from; j < to; j++) mix[i * U + rows.cols[j]] += 1 / (to - from);
  }
  return new Tensor(mix, [N, U]);
}

/**
 * mix · grams from compressed rows, without gradients: each word's mean n-gram vector (N, D), the
 * same values as matmul(denseNgramMix(rows, U), grams) (summed in another order: equal to ~1e-7).
 */
function ngramMean(rows: NgramRows, grams: Tensor): Tensor {
  const N = rows.offsets.length - 1, D = grams.shape[1];
  const g = grams.data as Float32Array; // (U, D)
  const y = allocUninit('float32', N * D) as Float32Array; // (N, D); pooled inside inferenceMode
  y.fill(0);
  for (let i = 0; i < N; i++) {
    const from = rows.offsets[i], to = rows.offsets[i + 1], w = 1 / (to - from), row = i * D;
    for (let j = from; j < to; j++) {
      const col = rows.cols[j] * D;
      for (let d = 0; d < D; d++) y[row + d] += w * g[col + d];
    }
  }
  return new Tensor(y, [N, D]);
}

/** A padded batch of sentences, as WordTagger reads it. */
export interface WordBatch {
  /** (B, T) int32 word ids; 0 = padding. */
  words: Tensor;
  /** (B, T) int32 shape classes. */
  shapes: Tensor;
  /** (U) int32: the distinct n-gram bucket ids of the batch, or null without char features. */
  ngrams: Tensor | null;
  /** (B·T, U) float32: row = a word, 1/count in the columns of its n-grams (0 for padding), or null. */
  ngramMix: Tensor | null;
  /**
   * The same mix without its zeros (inference batches carry this instead: ngramMix is then null),
   * or absent. Without gradients the forward reads it directly (see NgramRows).
   */
  ngramRows?: NgramRows | null;
  /** (B·T, C) int32 character ids of each word for the character CNN (0 = padding), or null. */
  chars?: Tensor | null;
  /** (B·T, 1, C) bool: true on the characters past each word's end (at least one stays false), or null. */
  charPad?: Tensor | null;
  /** (B, T) bool: true on padding. */
  pad: Tensor;
  /** Words per sentence. */
  lengths: number[];
}

export class WordTagger extends Module {
  readonly config: Readonly<WordTaggerConfig>;
  /** With config.backbone: word table, positions and encoder (pre-norm, padId 0); else null. */
  backbone: TransformerTextEncoder | null;
  /** Without config.backbone: wordEmbed, posEmbed and encoder are these three under the tagger's own names; else null. */
  wordEmbed: Embedding | null;
  shapeEmbed: Embedding;
  ngramEmbed: Embedding | null;
  charEmbed: Embedding | null;
  charConv: Conv1d | null;
  posEmbed: LearnedPositionalEmbedding | null;
  drop: Dropout;
  encoder: TransformerEncoder | null;
  head: Linear;
  crf: CRF | null;

  constructor(c: WordTaggerConfig) {
    super();
    this.config = Object.freeze({ ...c, labels: [...c.labels] });
    // Registered in this order so parameters keep the order they had before the backbone option.
    this.backbone = c.backbone ? new TransformerTextEncoder({
      vocabSize: c.vocabSize, dModel: c.dModel, numHeads: c.numHeads, numLayers: c.numLayers, dimFeedforward: c.dimFeedforward, dropout: c.dropout, maxLen: c.maxLen, padId: 0,
    }) : null;
    this.wordEmbed = c.backbone ? null : new Embedding(c.vocabSize, c.dModel, { paddingIdx: 0 });
    this.shapeEmbed = new Embedding(NUM_SHAPES, c.dModel);
    this.ngramEmbed = c.charBuckets > 0 ? new Embedding(c.charBuckets + 1, c.dModel, { paddingIdx: 0 }) : null;
    this.charEmbed = c.charCnn ? new Embedding(CHAR_CNN_BUCKETS + 1, CHAR_DIM, { paddingIdx: 0 }) : null;
    this.charConv = c.charCnn ? new Conv1d(CHAR_DIM, c.dModel, 3, { padding: 1 }) : null;
    this.posEmbed = c.backbone ? null : new LearnedPositionalEmbedding(c.maxLen, c.dModel);
    this.drop = new Dropout(c.dropout);
    this.encoder = c.backbone ? null : new TransformerEncoder(c.numLayers, () => new TransformerEncoderLayer(c.dModel, c.numHeads, {
      dimFeedforward: c.dimFeedforward, dropout: c.dropout, normFirst: true, activation: 'gelu',
    }), new LayerNorm(c.dModel));
    this.head = new Linear(c.dModel, c.numTags);
    this.crf = c.crf ? new CRF(c.numTags, { constraints: { labels: c.labels, scheme: c.scheme } }) : null;
  }

  /**
   * The word table, position table and encoder, and the name prefix of each, whichever layout
   * the tagger has (for exporters that walk the modules).
   */
  trunk(): { wordEmbed: [string, Embedding]; posEmbed: [string, LearnedPositionalEmbedding]; encoder: [string, TransformerEncoder] } {
    if (this.backbone) return { wordEmbed: ['backbone.tokEmbed', this.backbone.tokEmbed], posEmbed: ['backbone.posEmbed', this.backbone.posEmbed], encoder: ['backbone.encoder', this.backbone.encoder] };
    return { wordEmbed: ['wordEmbed', this.wordEmbed!], posEmbed: ['posEmbed', this.posEmbed!], encoder: ['encoder', this.encoder!] };
  }

  /** Per-word tag scores (B, T, K): the CRF's emissions, or the logits of the cross-entropy. */
  override forward(b: WordBatch): Tensor {
    // With a backbone, the features below join its token embedding inside it; without, the word's
    // vector is summed here (in the order it always was, so old checkpoints give the same numbers).
    let x = this.shapeEmbed.call(b.shapes); // (B, T, D)
    if (!this.backbone) x = add(this.wordEmbed!.call(b.words), x); // (B, T, D)
    if (this.ngramEmbed && b.ngrams && (b.ngramMix || b.ngramRows)) {
      // The mean of each word's n-gram vectors as one GEMM over the batch's distinct n-grams:
      // gathering (B, T, G, D) per word instead costs G times the memory and time. Without
      // gradients, compressed rows are summed directly (NgramRows says why).
      const grams = this.ngramEmbed.call(b.ngrams); // (U, D)
      const [B, T] = b.words.shape;
      const mixed = b.ngramRows && !isGradEnabled()
        ? ngramMean(b.ngramRows, grams)
        : matmul(b.ngramMix ?? denseNgramMix(b.ngramRows!, b.ngrams.shape[0]), grams); // (B·T, D)
      x = add(x, reshape(mixed, [B, T, this.config.dModel])); // (B, T, D)
    }
    if (this.charEmbed && this.charConv && b.chars && b.charPad) {
      const [B, T] = b.words.shape;
      const e = transpose(this.charEmbed.call(b.chars), 1, 2); // (B·T, E, C)
      const h = maskedFill(this.charConv.call(e), b.charPad, -1e9); // (B·T, D, C); positions past the word never win the max
      x = add(x, reshape(max(h, 2), [B, T, this.config.dModel])); // (B, T, D)
    }
    let h: Tensor;
    if (this.backbone) h = this.backbone.call(b.words, b.pad, null, { addEmbeds: x }); // (B, T, D)
    else {
      x = this.drop.call(this.posEmbed!.call(x)); // (B, T, D)
      h = runEncoder(this.encoder!, x, { keyPaddingMask: b.pad }); // (B, T, D); fused in inference (fused-encoder.ts)
    }
    return this.head.call(this.drop.call(h)); // (B, T, K)
  }
}

/** (B, T) bool mask, true on real words: the CRF's mask from the padding mask. */
export function realWordMask(lengths: readonly number[], T: number): Tensor {
  const m = new Uint8Array(lengths.length * T);
  lengths.forEach((L, b) => m.fill(1, b * T, b * T + L));
  return new Tensor(m, [lengths.length, T]);
}

