/**
 * MaskedLM: a TransformerTextEncoder with a masked-language-model head (BERT's pretraining
 * objective, Devlin et al. 2019): predict the word at each masked position from both sides.
 *
 * The backbone's weights sit under `backbone.*`, the very names EncoderClassifier and
 * TokenTagger use, so a pretrained MaskedLM initialises them by a key copy (`--init-from`).
 * The head is BERT's: dense + GELU + LayerNorm, then a decoder tied to the token embedding
 * (one (V, D) matrix for input and output) with its own bias.
 *
 *   const mlm = new MaskedLM({ vocabSize: 5000 });
 *   const logits = mlm.forward(ids, null, positions);   // (M, V) at the M flat positions asked for
 *
 * Letters: B batch, T tokens, D dModel, V vocabSize, M masked positions.
 */
import type { Tensor } from '../tensor/tensor.js';
import { zeros } from '../tensor/creation.js';
import { reshape } from '../ops/shape.js';
import { indexSelect } from '../ops/indexing.js';
import { gelu } from '../ops/elementwise.js';
import { linear } from '../ops/matmul.js';
import { Parameter } from '../nn/parameter.js';
import { Linear } from '../nn/linear.js';
import { LayerNorm } from '../nn/norm.js';
import { Module } from '../nn/module.js';
import { normal } from '../nn/init.js';
import { TransformerTextEncoder, TEXT_ENCODER_SCHEMA, TEXT_ENCODER_SIZES, type TransformerTextEncoderConfig } from './text-encoder.js';
import { ConfiguredModel, defineModelConfig, type ModelInit } from './config.js';
import { ShapeError, fmtShape } from '../errors.js';

export type MaskedLMConfig = TransformerTextEncoderConfig;

export const MASKED_LM_DEFAULTS: Readonly<Omit<MaskedLMConfig, 'vocabSize'>> = Object.freeze({
  dModel: 64, // the spam classifier's width, so its backbone can start from this one
  numHeads: 4,
  numLayers: 2,
  dimFeedforward: 256, // 4·dModel
  dropout: 0.1, // BERT's
  maxLen: 128, // positions; the transfer study's spam classifier reads 127 words (BENCHMARKS.md)
  padId: 0, // the vocab module reserves id 0 for padding
});

export const MASKED_LM_CONFIG = defineModelConfig<MaskedLMConfig, 'vocabSize'>({
  model: 'MaskedLM',
  schema: { ...TEXT_ENCODER_SCHEMA },
  defaults: MASKED_LM_DEFAULTS,
  positiveInts: [...TEXT_ENCODER_SIZES],
});

/** BERT's prediction head: dense + GELU + LayerNorm, then the tied decoder. */
export class MaskedLMHead extends Module {
  dense: Linear;
  norm: LayerNorm;
  /** Tied to the backbone's token embedding (V, D); not a field, so it is listed once, there. */
  private _decoderWeight: Parameter;
  bias: Parameter;

  constructor(dModel: number, decoderWeight: Parameter) {
    super();
    this.dense = new Linear(dModel, dModel);
    this.norm = new LayerNorm(dModel, { eps: 1e-12 });
    this._decoderWeight = decoderWeight;
    this.bias = new Parameter(zeros([decoderWeight.shape[0]])); // (V)
  }

  /** h (M, D) → logits (M, V). */
  override forward(h: Tensor): Tensor {
    const x = this.norm.call(gelu(this.dense.call(h))); // (M, D)
    return linear(x, this._decoderWeight, this.bias); // (M, V)
  }
}

export class MaskedLM extends ConfiguredModel<MaskedLMConfig> {
  backbone: TransformerTextEncoder;
  lmHead: MaskedLMHead;

  /** Args: config: vocabSize is required; the rest default to MASKED_LM_DEFAULTS. */
  constructor(config: ModelInit<MaskedLMConfig, 'vocabSize'>) {
    super(MASKED_LM_CONFIG, config);
    this.backbone = new TransformerTextEncoder(this.config);
    // BERT's N(0, 0.02²) for the tied table: PyTorch's N(0, 1) would make the first logits
    // ~√D wide (a loss near 30, not ln V), and the tied decoder starts every word alike.
    const E = this.backbone.tokEmbed;
    normal(E.weight, 0, 0.02); // (V, D)
    if (E.paddingIdx !== undefined) E.weight.data.fill(0, E.paddingIdx * E.embeddingDim, (E.paddingIdx + 1) * E.embeddingDim);
    this.lmHead = new MaskedLMHead(this.config.dModel, this.backbone.tokEmbed.weight);
  }

  static fromConfig(saved: Record<string, unknown>): MaskedLM {
    return new MaskedLM(MASKED_LM_CONFIG.load(saved));
  }

  /**
   * Args:
   *   ids: (B, T) int32 with the masked positions already replaced.
   *   paddingMask: (B, T) bool, true = pad (default ids == padId).
   *   positions: (M) int32 flat indices b·T + t of the positions to predict; default all B·T.
   * Returns: logits (M, V). Only the asked-for rows reach the head, so the (B·T, V) matrix is never built.
   */
  override forward(ids: Tensor, paddingMask: Tensor | null = null, positions: Tensor | null = null): Tensor {
    const [B, T] = ids.shape, D = this.config.dModel;
    const h = reshape(this.backbone.call(ids, paddingMask), [B * T, D]); // (B·T, D)
    if (positions === null) return this.lmHead.call(h); // (B·T, V)
    if (positions.dtype !== 'int32' || positions.ndim !== 1) {
      throw new ShapeError(`MaskedLM: positions must be (M) int32 flat indices into the (B·T) = ${B * T} positions, received ${positions.dtype} ${fmtShape(positions.shape)}.`);
    }
    return this.lmHead.call(indexSelect(h, 0, positions)); // (M, V)
  }
}
