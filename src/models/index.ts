/**
 * heed.models: one file per architecture, each a Module with an interface XConfig,
 * frozen defaults, toConfig() and fromConfig() so a checkpoint directory rebuilds it.
 */
export { Seq2SeqTransformer, SEQ2SEQ_DEFAULTS } from './seq2seq.js';
export type { Seq2SeqConfig, Seq2SeqForwardOptions, DecodeOptions, BeamSearchOptions, Hypothesis } from './seq2seq.js';
export { resolveConfig } from './config.js';
export { GPT, GPTBlock, GPT_DEFAULTS, sampleRow } from './gpt.js';
export type { GPTConfig, GenerateOptions } from './gpt.js';
export { TextEncoder, maskedMean } from './text-encoder.js';
export type { TextEncoderConfig } from './text-encoder.js';
export { EncoderClassifier, ENCODER_CLASSIFIER_DEFAULTS } from './encoder-classifier.js';
export type { EncoderClassifierConfig } from './encoder-classifier.js';
export { TokenTagger, TOKEN_TAGGER_DEFAULTS } from './token-tagger.js';
export type { TokenTaggerConfig } from './token-tagger.js';
export { ViT, PatchEmbedding, VIT_DEFAULTS } from './vit.js';
export type { ViTConfig } from './vit.js';
export { LstmAttentionSeq2Seq, LSTM_SEQ2SEQ_DEFAULTS } from './lstm-seq2seq.js';
export type { LstmSeq2SeqConfig } from './lstm-seq2seq.js';
export { MultimodalFusion, MULTIMODAL_DEFAULTS } from './multimodal.js';
export type { MultimodalConfig } from './multimodal.js';
