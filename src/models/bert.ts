/**
 * BERT (Devlin et al. 2019) and its heads, the architecture of Hugging Face's Bert*, Roberta* and
 * DistilBert* models: word + token-type + position embeddings, a LayerNorm, post-norm encoder
 * layers (nn.TransformerEncoderLayer with normFirst false), and a head on top. The backbone is
 * heed's TransformerTextEncoder with BERT's options; RoBERTa and DistilBERT are configs of it.
 *
 *   const mlm = new BertForMaskedLM({ vocabSize: 30522 });
 *   const logits = mlm.forward(ids, { attentionMask });          // (B, T, V)
 *   const clf = await heed.fromPretrained('runs/bert-sst2');      // a BertForSequenceClassification
 *
 * attentionMask follows heed's mask rule and HF's attention_mask: (B, T), 1 = a real token,
 * 0 = padding (never attended to). Without it, tokens equal to padId are padding.
 *
 * Parameter names: backbone.{tokEmbed,posEmbed,typeEmbed,embedNorm}, backbone.encoder.layers.N.*,
 * pooler, lmHead.{dense,layerNorm,decoder}, head.{dense,outProj} or head. src/io/hf/bert.ts maps
 * them onto the HF names of each flavor.
 *
 * Letters: B batch, T tokens, D dModel, V vocabSize, K numLabels.
 */
import { Tensor } from '../tensor/tensor.js';
import { ne, tanh, relu } from '../ops/elementwise.js';
import { narrow, reshape } from '../ops/shape.js';
import { Module } from '../nn/module.js';
import { Linear } from '../nn/linear.js';
import { Embedding } from '../nn/embedding.js';
import { LayerNorm } from '../nn/norm.js';
import { Dropout } from '../nn/dropout.js';
import { activate } from '../nn/feedforward.js';
import { normal } from '../nn/init.js';
import { TransformerTextEncoder, TEXT_ENCODER_SCHEMA, TEXT_ENCODER_SIZES, type TransformerTextEncoderConfig } from './text-encoder.js';
import { ConfiguredModel, defineModelConfig, type ModelInit } from './config.js';
import { ShapeError, fmtShape } from '../errors.js';

type Act = 'gelu' | 'gelu_tanh' | 'relu';
const ACTS = ['gelu', 'gelu_tanh', 'relu'] as const;

/** The backbone keys every Bert* model has. */
export interface BertBackboneConfig extends TransformerTextEncoderConfig {
  /** Segment (token-type) table rows; 0 = none (RoBERTa has 1, DistilBERT 0). */
  typeVocabSize: number;
  layerNormEps: number;
  activation: Act;
  /** 'absolute' (BERT, DistilBERT) or 'offset' (RoBERTa: positions start at padId + 1 and skip padding). */
  positions: 'absolute' | 'offset';
  /** The Hugging Face family savePretrained writes: its names and config keys. */
  modelType: 'bert' | 'roberta' | 'distilbert';
}

export const BERT_BACKBONE_DEFAULTS: Readonly<Omit<BertBackboneConfig, 'vocabSize'>> = Object.freeze({
  dModel: 256, // a small BERT (Turc et al. 2019's BERT-mini is 256 wide) that trains on 2 cores
  numHeads: 4, // head dim 64, as BERT-base
  numLayers: 4,
  dimFeedforward: 1024, // 4·dModel, as BERT
  dropout: 0.1, // BERT's hidden_dropout_prob
  maxLen: 512, // BERT's max_position_embeddings
  padId: 0, // [PAD] is id 0 in BERT's vocabulary
  typeVocabSize: 2, // sentence A / B
  layerNormEps: 1e-12, // BERT's layer_norm_eps
  activation: 'gelu', // exact GELU, BERT's hidden_act
  positions: 'absolute',
  modelType: 'bert',
});

const BACKBONE_SCHEMA = Object.freeze({
  ...TEXT_ENCODER_SCHEMA, typeVocabSize: 'number', layerNormEps: 'number', activation: ACTS, positions: ['absolute', 'offset'],
  modelType: ['bert', 'roberta', 'distilbert'],
} as const);

/** HF's _init_weights: N(0, 0.02) for linear and embedding weights, zero biases, the padding row zero. */
function initBertWeights(root: Module): void {
  for (const [, m] of root.namedModules()) {
    if (m instanceof Linear) {
      normal(m.weight, 0, 0.02);
      m.bias?.data.fill(0);
    } else if (m instanceof Embedding) {
      normal(m.weight, 0, 0.02);
      if (m.paddingIdx !== undefined) m.weight.data.fill(0, m.paddingIdx * m.embeddingDim, (m.paddingIdx + 1) * m.embeddingDim);
    }
  }
  const pos = (root as { backbone?: TransformerTextEncoder }).backbone?.posEmbed;
  if (pos) normal(pos.weight, 0, 0.02);
}

function makeBackbone(c: BertBackboneConfig): TransformerTextEncoder {
  return new TransformerTextEncoder(c, {
    normFirst: false, layerNormEps: c.layerNormEps, activation: c.activation, typeVocabSize: c.typeVocabSize, embeddingNorm: true, positions: c.positions,
  });
}

export interface BertCallOptions {
  /** (B, T): 1 = token, 0 = padding (HF's attention_mask). Default: ids == padId is padding. */
  attentionMask?: Tensor | null;
  /** (B, T) int32 segment ids (default zeros). */
  tokenTypeIds?: Tensor | null;
  /** (B, T) int32 positions (default 0…T−1, or RoBERTa's offset positions). */
  positionIds?: Tensor | null;
}

function encode(backbone: TransformerTextEncoder, ids: Tensor, o: BertCallOptions): Tensor {
  const m = o.attentionMask ?? null;
  if (m !== null && (m.ndim !== 2 || m.shape[0] !== ids.shape[0] || m.shape[1] !== ids.shape[1])) {
    throw new ShapeError(`Bert: attentionMask has shape ${fmtShape(m.shape)}, expected ${fmtShape(ids.shape)} like the ids (B, T), 1 = token, 0 = padding.`);
  }
  const pad = m === null ? null : ne(m, 1); // (B, T) true = padding
  return backbone.call(ids, pad, null, { tokenTypeIds: o.tokenTypeIds, positionIds: o.positionIds }); // (B, T, D)
}

/** The first token's vector: h (B, T, D) → (B, D). */
function firstToken(h: Tensor): Tensor {
  return reshape(narrow(h, 1, 0, 1), [h.shape[0], h.shape[2]]); // (B, D)
}

// ---------------------------------------------------------------------------------------------
// Bert: the backbone alone (HF's BertModel), with BERT's pooler

export interface BertConfig extends BertBackboneConfig {
  /** A dense + tanh over the first token (HF's add_pooling_layer). */
  pooler: boolean;
}

export const BERT_CONFIG = defineModelConfig<BertConfig, 'vocabSize'>({
  model: 'Bert',
  schema: { ...BACKBONE_SCHEMA, pooler: 'boolean' },
  defaults: { ...BERT_BACKBONE_DEFAULTS, pooler: true },
  positiveInts: TEXT_ENCODER_SIZES,
});

export class Bert extends ConfiguredModel<BertConfig> {
  backbone: TransformerTextEncoder;
  pooler: Linear | null;

  constructor(config: ModelInit<BertConfig, 'vocabSize'>) {
    super(BERT_CONFIG, config);
    this.backbone = makeBackbone(this.config);
    this.pooler = this.config.pooler ? new Linear(this.config.dModel, this.config.dModel) : null;
    initBertWeights(this);
  }

  static fromConfig(saved: Record<string, unknown>): Bert {
    return new Bert(BERT_CONFIG.load(saved));
  }

  /** ids (B, T) int32 → last hidden states (B, T, D). */
  override forward(ids: Tensor, o: BertCallOptions = {}): Tensor {
    return encode(this.backbone, ids, o); // (B, T, D)
  }

  /** HF's pooler_output: tanh(pooler(h[:, 0])), h (B, T, D) → (B, D). */
  pool(hidden: Tensor): Tensor {
    if (this.pooler === null) throw new ShapeError('Bert.pool: this model has no pooler (config pooler: false). Fix: build it with pooler: true.');
    return tanh(this.pooler.call(firstToken(hidden))); // (B, D)
  }
}

// ---------------------------------------------------------------------------------------------
// BertForMaskedLM

export interface BertForMaskedLMConfig extends BertBackboneConfig {
  /** The decoder shares the word embedding's weight (HF's tie_word_embeddings). */
  tieWordEmbeddings: boolean;
  /** Activation of the head's transform (RoBERTa's is always exact GELU). */
  lmHeadActivation: Act;
}

export const BERT_FOR_MASKED_LM_CONFIG = defineModelConfig<BertForMaskedLMConfig, 'vocabSize'>({
  model: 'BertForMaskedLM',
  schema: { ...BACKBONE_SCHEMA, tieWordEmbeddings: 'boolean', lmHeadActivation: ACTS },
  defaults: { ...BERT_BACKBONE_DEFAULTS, tieWordEmbeddings: true, lmHeadActivation: 'gelu' },
  positiveInts: TEXT_ENCODER_SIZES,
});

/** dense → activation → LayerNorm → decoder (V), HF's BertLMPredictionHead / RobertaLMHead / DistilBERT's vocab_*. */
export class MaskedLMHead extends Module {
  dense: Linear;
  layerNorm: LayerNorm;
  decoder: Linear;

  constructor(dModel: number, vocabSize: number, eps: number, readonly activation: Act) {
    super();
    this.dense = new Linear(dModel, dModel);
    this.layerNorm = new LayerNorm(dModel, { eps });
    this.decoder = new Linear(dModel, vocabSize);
  }

  /** h (B, T, D) → logits (B, T, V). */
  override forward(h: Tensor): Tensor {
    return this.decoder.call(this.layerNorm.call(activate(this.dense.call(h), this.activation))); // (B, T, V)
  }
}

export class BertForMaskedLM extends ConfiguredModel<BertForMaskedLMConfig> {
  backbone: TransformerTextEncoder;
  lmHead: MaskedLMHead;

  constructor(config: ModelInit<BertForMaskedLMConfig, 'vocabSize'>) {
    super(BERT_FOR_MASKED_LM_CONFIG, config);
    const c = this.config;
    this.backbone = makeBackbone(c);
    this.lmHead = new MaskedLMHead(c.dModel, c.vocabSize, c.layerNormEps, c.lmHeadActivation);
    initBertWeights(this);
    this.lmHead.decoder.bias?.data.fill(0);
    if (c.tieWordEmbeddings) this.lmHead.decoder.weight = this.backbone.tokEmbed.weight;
  }

  static fromConfig(saved: Record<string, unknown>): BertForMaskedLM {
    return new BertForMaskedLM(BERT_FOR_MASKED_LM_CONFIG.load(saved));
  }

  /** ids (B, T) int32 → logits over the vocabulary (B, T, V). */
  override forward(ids: Tensor, o: BertCallOptions = {}): Tensor {
    return this.lmHead.call(encode(this.backbone, ids, o)); // (B, T, V)
  }
}

// ---------------------------------------------------------------------------------------------
// BertForSequenceClassification

export interface BertForSequenceClassificationConfig extends BertBackboneConfig {
  numLabels: number;
  /** 'tanh' (BERT's pooler, RoBERTa's head) or 'relu' (DistilBERT's pre_classifier). */
  classifierActivation: 'tanh' | 'relu';
}

export const BERT_FOR_SEQUENCE_CLASSIFICATION_CONFIG = defineModelConfig<BertForSequenceClassificationConfig, 'vocabSize' | 'numLabels'>({
  model: 'BertForSequenceClassification',
  schema: { ...BACKBONE_SCHEMA, numLabels: 'number', classifierActivation: ['tanh', 'relu'] },
  defaults: { ...BERT_BACKBONE_DEFAULTS, classifierActivation: 'tanh' },
  positiveInts: [...TEXT_ENCODER_SIZES, 'numLabels'],
});

/** dense → tanh | relu → dropout → outProj on the first token (BERT's pooler + classifier). */
export class ClassificationHead extends Module {
  dense: Linear;
  drop: Dropout;
  outProj: Linear;

  constructor(dModel: number, numLabels: number, dropout: number, readonly activation: 'tanh' | 'relu') {
    super();
    this.dense = new Linear(dModel, dModel);
    this.drop = new Dropout(dropout);
    this.outProj = new Linear(dModel, numLabels);
  }

  /** x (B, D) → logits (B, K). */
  override forward(x: Tensor): Tensor {
    const h = this.dense.call(x); // (B, D)
    return this.outProj.call(this.drop.call(this.activation === 'tanh' ? tanh(h) : relu(h))); // (B, K)
  }
}

export class BertForSequenceClassification extends ConfiguredModel<BertForSequenceClassificationConfig> {
  backbone: TransformerTextEncoder;
  drop: Dropout;
  head: ClassificationHead;

  constructor(config: ModelInit<BertForSequenceClassificationConfig, 'vocabSize' | 'numLabels'>) {
    super(BERT_FOR_SEQUENCE_CLASSIFICATION_CONFIG, config);
    const c = this.config;
    this.backbone = makeBackbone(c);
    this.drop = new Dropout(c.dropout);
    this.head = new ClassificationHead(c.dModel, c.numLabels, c.dropout, c.classifierActivation);
    initBertWeights(this);
  }

  static fromConfig(saved: Record<string, unknown>): BertForSequenceClassification {
    return new BertForSequenceClassification(BERT_FOR_SEQUENCE_CLASSIFICATION_CONFIG.load(saved));
  }

  /** ids (B, T) int32 → logits (B, K), from the first ([CLS] / <s>) token. */
  override forward(ids: Tensor, o: BertCallOptions = {}): Tensor {
    return this.head.call(this.drop.call(firstToken(encode(this.backbone, ids, o)))); // (B, K)
  }
}

// ---------------------------------------------------------------------------------------------
// BertForTokenClassification

export interface BertForTokenClassificationConfig extends BertBackboneConfig {
  numLabels: number;
}

export const BERT_FOR_TOKEN_CLASSIFICATION_CONFIG = defineModelConfig<BertForTokenClassificationConfig, 'vocabSize' | 'numLabels'>({
  model: 'BertForTokenClassification',
  schema: { ...BACKBONE_SCHEMA, numLabels: 'number' },
  defaults: BERT_BACKBONE_DEFAULTS,
  positiveInts: [...TEXT_ENCODER_SIZES, 'numLabels'],
});

export class BertForTokenClassification extends ConfiguredModel<BertForTokenClassificationConfig> {
  backbone: TransformerTextEncoder;
  drop: Dropout;
  head: Linear;

  constructor(config: ModelInit<BertForTokenClassificationConfig, 'vocabSize' | 'numLabels'>) {
    super(BERT_FOR_TOKEN_CLASSIFICATION_CONFIG, config);
    const c = this.config;
    this.backbone = makeBackbone(c);
    this.drop = new Dropout(c.dropout);
    this.head = new Linear(c.dModel, c.numLabels);
    initBertWeights(this);
  }

  static fromConfig(saved: Record<string, unknown>): BertForTokenClassification {
    return new BertForTokenClassification(BERT_FOR_TOKEN_CLASSIFICATION_CONFIG.load(saved));
  }

  /** ids (B, T) int32 → logits per token (B, T, K). */
  override forward(ids: Tensor, o: BertCallOptions = {}): Tensor {
    return this.head.call(this.drop.call(encode(this.backbone, ids, o))); // (B, T, K)
  }
}
