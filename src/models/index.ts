/**
 * heed.models: one file per architecture, each a ConfiguredModel with an interface XConfig,
 * frozen defaults and a declared config (config.ts: schema, validation, key renames), so
 * toConfig() and fromConfig() rebuild it from a checkpoint directory. Every model names its
 * sizes alike: dModel, numHeads, numLayers, dimFeedforward, maxLen.
 */
export { Seq2SeqTransformer, SEQ2SEQ_DEFAULTS, SEQ2SEQ_CONFIG } from './seq2seq.js';
export type { Seq2SeqConfig, Seq2SeqForwardOptions, DecodeOptions, BeamSearchOptions, Hypothesis } from './seq2seq.js';
export { resolveConfig, defineModelConfig, ConfiguredModel } from './config.js';
export type { ConfigSchema, ModelConfig, ModelConfigSpec, ModelInit } from './config.js';
export { GPT, GPTBlock, GPT_DEFAULTS, GPT_CONFIG, sampleRow } from './gpt.js';
export type { GPTConfig, GenerateOptions } from './gpt.js';
export { TransformerTextEncoder, maskedMean } from './text-encoder.js';
export type { TransformerTextEncoderConfig } from './text-encoder.js';
export { EncoderClassifier, ENCODER_CLASSIFIER_DEFAULTS, ENCODER_CLASSIFIER_CONFIG } from './encoder-classifier.js';
export type { EncoderClassifierConfig } from './encoder-classifier.js';
export { TokenTagger, TOKEN_TAGGER_DEFAULTS, TOKEN_TAGGER_CONFIG } from './token-tagger.js';
export type { TokenTaggerConfig } from './token-tagger.js';
export { ViT, PatchEmbedding, VIT_DEFAULTS, VIT_CONFIG } from './vit.js';
export type { ViTConfig } from './vit.js';
export { LstmAttentionSeq2Seq, LSTM_SEQ2SEQ_DEFAULTS, LSTM_SEQ2SEQ_CONFIG } from './lstm-seq2seq.js';
export type { LstmSeq2SeqConfig } from './lstm-seq2seq.js';
export { MultimodalFusion, MULTIMODAL_DEFAULTS, MULTIMODAL_CONFIG } from './multimodal.js';
export type { MultimodalConfig } from './multimodal.js';
export { MaskedLM, MASKED_LM_DEFAULTS, MASKED_LM_CONFIG } from './masked-lm.js';
export type { MaskedLMConfig } from './masked-lm.js';
export { SASRec, SASREC_DEFAULTS, SASREC_CONFIG, padHistories } from './sasrec.js';
export type { SASRecConfig, SASRecBatch } from './sasrec.js';
export { ItemSideFusion } from './item-side-fusion.js';
export type { ItemSideConfig } from './item-side-fusion.js';
export { BPRMF, BPRMF_CONFIG } from './bpr-mf.js';
export type { BPRMFConfig } from './bpr-mf.js';
export { CnnClassifier, ConvStage, CNN_DEFAULTS, CNN_CONFIG, CNN_ATTENTION } from './cnn.js';
export type { CnnClassifierConfig, CnnAttention } from './cnn.js';
export { Bert, BertForMaskedLM, BertForSequenceClassification, BertForTokenClassification, MaskedLMHead, ClassificationHead,
  BERT_BACKBONE_DEFAULTS, BERT_CONFIG, BERT_FOR_MASKED_LM_CONFIG, BERT_FOR_SEQUENCE_CLASSIFICATION_CONFIG, BERT_FOR_TOKEN_CLASSIFICATION_CONFIG } from './bert.js';
export type { BertBackboneConfig, BertConfig, BertForMaskedLMConfig, BertForSequenceClassificationConfig, BertForTokenClassificationConfig, BertCallOptions } from './bert.js';
export { fromPretrained, savePretrained, loadHfWeights, hfArchitectureOfModel } from './pretrained.js';
export type { PretrainedModel, PretrainedLoadReport, FromPretrainedOptions, SavePretrainedOptions } from './pretrained.js';
export { PatchTSTForecaster, FORECASTER_DEFAULTS, FORECASTER_CONFIG, parseQuantiles } from './forecaster.js';
export type { ForecasterConfig } from './forecaster.js';
