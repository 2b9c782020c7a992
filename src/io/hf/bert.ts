/**
 * BERT, RoBERTa and DistilBERT in the Hugging Face layout: the name maps between heed's
 * models.Bert* classes and HF's Bert* / Roberta* / DistilBert* classes, and config.json ↔ heed config.
 *
 * The three share heed's modules: a post-norm TransformerTextEncoder (word + position [+ token
 * type] embeddings, LayerNorm, post-norm encoder layers) and the same heads. Only names and a few
 * semantics differ:
 *   - BERT:       token types; positions 0…T−1; LayerNorm eps from config (1e-12).
 *   - RoBERTa:    positions start at padding_idx + 1 and skip padding (create_position_ids_from_input_ids
 *                 in modeling_roberta.py), one token type, eps 1e-5; its MLM head always uses exact GELU.
 *   - DistilBERT: no token types, eps 1e-12 fixed, q_lin/k_lin/…; its classifier uses ReLU, not tanh.
 *
 * heed names (B = backbone.encoder.layers.{i}):
 *   backbone.tokEmbed / posEmbed / typeEmbed / embedNorm      embeddings
 *   B.selfAttn.{qProj,kProj,vProj,outProj}, B.norm1, B.linear1, B.linear2, B.norm2
 *   pooler (Bert), lmHead.{dense,layerNorm,decoder} (ForMaskedLM), head.{dense,outProj}
 *   (ForSequenceClassification), head (ForTokenClassification)
 * Reference: transformers/models/{bert,roberta,distilbert}/modeling_*.py.
 */
import type { NameMap, NameRule } from './names.js';
import { HF_ACTIVATIONS, HEED_TO_HF_ACTIVATION, HfConfigReader, labelMaps, type HfConfig } from './config.js';

export type BertFlavor = 'bert' | 'roberta' | 'distilbert';
export type BertHead = 'base' | 'masked-lm' | 'sequence-classification' | 'token-classification';

/** HF class name of each flavor and head. */
export const BERT_ARCHITECTURES: Readonly<Record<BertFlavor, Readonly<Record<BertHead, string>>>> = Object.freeze({
  bert: { base: 'BertModel', 'masked-lm': 'BertForMaskedLM', 'sequence-classification': 'BertForSequenceClassification', 'token-classification': 'BertForTokenClassification' },
  roberta: { base: 'RobertaModel', 'masked-lm': 'RobertaForMaskedLM', 'sequence-classification': 'RobertaForSequenceClassification', 'token-classification': 'RobertaForTokenClassification' },
  distilbert: { base: 'DistilBertModel', 'masked-lm': 'DistilBertForMaskedLM', 'sequence-classification': 'DistilBertForSequenceClassification', 'token-classification': 'DistilBertForTokenClassification' },
});

/** The attribute HF's head models keep the backbone under (base_model_prefix). */
export const BERT_BASE_PREFIX: Readonly<Record<BertFlavor, string>> = Object.freeze({ bert: 'bert', roberta: 'roberta', distilbert: 'distilbert' });

function backboneRules(flavor: BertFlavor, p: string): NameRule[] {
  const L = 'backbone.encoder.layers.{i}';
  if (flavor === 'distilbert') {
    const H = `${p}transformer.layer.{i}`;
    return [
      { heed: 'backbone.tokEmbed', hf: `${p}embeddings.word_embeddings` },
      { heed: 'backbone.posEmbed', hf: `${p}embeddings.position_embeddings` },
      { heed: 'backbone.embedNorm', hf: `${p}embeddings.LayerNorm` },
      { heed: `${L}.selfAttn.qProj`, hf: `${H}.attention.q_lin` },
      { heed: `${L}.selfAttn.kProj`, hf: `${H}.attention.k_lin` },
      { heed: `${L}.selfAttn.vProj`, hf: `${H}.attention.v_lin` },
      { heed: `${L}.selfAttn.outProj`, hf: `${H}.attention.out_lin` },
      { heed: `${L}.norm1`, hf: `${H}.sa_layer_norm` },
      { heed: `${L}.linear1`, hf: `${H}.ffn.lin1` },
      { heed: `${L}.linear2`, hf: `${H}.ffn.lin2` },
      { heed: `${L}.norm2`, hf: `${H}.output_layer_norm` },
    ];
  }
  const H = `${p}encoder.layer.{i}`;
  return [
    { heed: 'backbone.tokEmbed', hf: `${p}embeddings.word_embeddings` },
    { heed: 'backbone.posEmbed', hf: `${p}embeddings.position_embeddings` },
    { heed: 'backbone.typeEmbed', hf: `${p}embeddings.token_type_embeddings` },
    { heed: 'backbone.embedNorm', hf: `${p}embeddings.LayerNorm` },
    { heed: `${L}.selfAttn.qProj`, hf: `${H}.attention.self.query` },
    { heed: `${L}.selfAttn.kProj`, hf: `${H}.attention.self.key` },
    { heed: `${L}.selfAttn.vProj`, hf: `${H}.attention.self.value` },
    { heed: `${L}.selfAttn.outProj`, hf: `${H}.attention.output.dense` },
    { heed: `${L}.norm1`, hf: `${H}.attention.output.LayerNorm` },
    { heed: `${L}.linear1`, hf: `${H}.intermediate.dense` },
    { heed: `${L}.linear2`, hf: `${H}.output.dense` },
    { heed: `${L}.norm2`, hf: `${H}.output.LayerNorm` },
  ];
}

function headRules(flavor: BertFlavor, head: BertHead, p: string): NameRule[] {
  if (head === 'base') return flavor === 'distilbert' ? [] : [{ heed: 'pooler', hf: `${p}pooler.dense` }];
  if (head === 'token-classification') return [{ heed: 'head', hf: 'classifier' }];
  if (head === 'sequence-classification') {
    if (flavor === 'bert') return [{ heed: 'head.dense', hf: 'bert.pooler.dense' }, { heed: 'head.outProj', hf: 'classifier' }];
    if (flavor === 'roberta') return [{ heed: 'head.dense', hf: 'classifier.dense' }, { heed: 'head.outProj', hf: 'classifier.out_proj' }];
    return [{ heed: 'head.dense', hf: 'pre_classifier' }, { heed: 'head.outProj', hf: 'classifier' }];
  }
  if (flavor === 'bert') {
    return [
      { heed: 'lmHead.dense', hf: 'cls.predictions.transform.dense' },
      { heed: 'lmHead.layerNorm', hf: 'cls.predictions.transform.LayerNorm' },
      { heed: 'lmHead.decoder.weight', hf: 'cls.predictions.decoder.weight' },
      { heed: 'lmHead.decoder.bias', hf: 'cls.predictions.bias' },
    ];
  }
  if (flavor === 'roberta') {
    return [
      { heed: 'lmHead.dense', hf: 'lm_head.dense' },
      { heed: 'lmHead.layerNorm', hf: 'lm_head.layer_norm' },
      { heed: 'lmHead.decoder.weight', hf: 'lm_head.decoder.weight' },
      { heed: 'lmHead.decoder.bias', hf: 'lm_head.bias' },
    ];
  }
  return [
    { heed: 'lmHead.dense', hf: 'vocab_transform' },
    { heed: 'lmHead.layerNorm', hf: 'vocab_layer_norm' },
    { heed: 'lmHead.decoder', hf: 'vocab_projector' },
  ];
}

/** The name map of one flavor and head (the base model's keys carry no prefix, as HF saves them). */
export function bertNameMap(flavor: BertFlavor, head: BertHead): NameMap {
  const p = head === 'base' ? '' : `${BERT_BASE_PREFIX[flavor]}.`;
  const aliases: Record<string, string> = {};
  if (head === 'masked-lm' && flavor === 'bert') aliases['cls.predictions.decoder.bias'] = 'cls.predictions.bias';
  if (head === 'masked-lm' && flavor === 'roberta') aliases['lm_head.decoder.bias'] = 'lm_head.bias';
  return Object.freeze({
    architecture: BERT_ARCHITECTURES[flavor][head],
    rules: Object.freeze([...backboneRules(flavor, p), ...headRules(flavor, head, p)]),
    aliases: Object.freeze(aliases),
    // position_ids / token_type_ids: buffers older checkpoints saved; NSP head: pretraining only.
    ignore: Object.freeze([/(^|\.)embeddings\.position_ids$/, /(^|\.)embeddings\.token_type_ids$/, /^cls\.seq_relationship\./]),
  });
}

/** heed config keys of a Bert* model, read from an HF config.json. */
export function bertConfigFromHf(r: HfConfigReader, flavor: BertFlavor, head: BertHead): Record<string, unknown> {
  let c: Record<string, unknown>;
  if (flavor === 'distilbert') {
    c = {
      vocabSize: r.int('vocab_size'), dModel: r.int('dim'), numHeads: r.int('n_heads'), numLayers: r.int('n_layers'),
      dimFeedforward: r.int('hidden_dim'), maxLen: r.int('max_position_embeddings'), padId: r.int('pad_token_id', 0),
      dropout: r.num('dropout', 0.1), activation: r.choice('activation', HF_ACTIVATIONS, 'gelu'),
      typeVocabSize: 0, layerNormEps: 1e-12, positions: 'absolute', modelType: flavor,
    };
  } else {
    r.requireValue('position_embedding_type', 'absolute', 'relative position embeddings are not implemented');
    r.requireValue('is_decoder', false, 'BERT as a decoder is not implemented');
    c = {
      vocabSize: r.int('vocab_size'), dModel: r.int('hidden_size'), numHeads: r.int('num_attention_heads'), numLayers: r.int('num_hidden_layers'),
      dimFeedforward: r.int('intermediate_size'), maxLen: r.int('max_position_embeddings'), padId: r.int('pad_token_id', flavor === 'roberta' ? 1 : 0),
      dropout: r.num('hidden_dropout_prob', 0.1), activation: r.choice('hidden_act', HF_ACTIVATIONS, 'gelu'),
      typeVocabSize: r.int('type_vocab_size', flavor === 'roberta' ? 1 : 2), layerNormEps: r.num('layer_norm_eps', 1e-12),
      positions: flavor === 'roberta' ? 'offset' : 'absolute', modelType: flavor,
    };
  }
  if (head === 'base') c.pooler = flavor !== 'distilbert';
  if (head === 'masked-lm') {
    c.tieWordEmbeddings = r.bool('tie_word_embeddings', true);
    c.lmHeadActivation = flavor === 'roberta' ? 'gelu' : c.activation; // RobertaLMHead calls gelu() whatever hidden_act says
  }
  if (head === 'sequence-classification') {
    c.numLabels = r.numLabels();
    c.classifierActivation = flavor === 'distilbert' ? 'relu' : 'tanh';
  }
  if (head === 'token-classification') c.numLabels = r.numLabels();
  return c;
}

/** The config.json savePretrained writes for a Bert* model: heed's keys in HF's names, over the loaded file's other keys. */
export function bertConfigToHf(c: Readonly<Record<string, unknown>>, head: BertHead, extras: HfConfig): HfConfig {
  const flavor = c.modelType as BertFlavor;
  const out: HfConfig = { ...extras, architectures: [BERT_ARCHITECTURES[flavor][head]], model_type: flavor };
  const act = HEED_TO_HF_ACTIVATION[c.activation as string];
  if (flavor === 'distilbert') {
    Object.assign(out, {
      vocab_size: c.vocabSize, dim: c.dModel, n_heads: c.numHeads, n_layers: c.numLayers, hidden_dim: c.dimFeedforward,
      max_position_embeddings: c.maxLen, pad_token_id: c.padId, dropout: c.dropout, activation: act,
    });
  } else {
    Object.assign(out, {
      vocab_size: c.vocabSize, hidden_size: c.dModel, num_attention_heads: c.numHeads, num_hidden_layers: c.numLayers,
      intermediate_size: c.dimFeedforward, max_position_embeddings: c.maxLen, pad_token_id: c.padId, hidden_dropout_prob: c.dropout,
      hidden_act: act, type_vocab_size: c.typeVocabSize, layer_norm_eps: c.layerNormEps, position_embedding_type: 'absolute',
    });
    if (!Object.hasOwn(out, 'attention_probs_dropout_prob')) out.attention_probs_dropout_prob = c.dropout;
  }
  if (head === 'masked-lm') out.tie_word_embeddings = c.tieWordEmbeddings;
  if (head === 'sequence-classification' || head === 'token-classification') Object.assign(out, labelMaps(c.numLabels as number, extras));
  return out;
}
