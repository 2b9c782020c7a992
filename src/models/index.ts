/**
 * heed.models: one file per architecture, each a Module with an interface XConfig,
 * frozen defaults, toConfig() and fromConfig() so a checkpoint directory rebuilds it.
 */
export { Seq2SeqTransformer, SEQ2SEQ_DEFAULTS } from './seq2seq.js';
export type { Seq2SeqConfig, Seq2SeqForwardOptions, DecodeOptions, BeamSearchOptions, Hypothesis } from './seq2seq.js';
export { resolveConfig } from './config.js';
export { GPT, GPTBlock, GPT_DEFAULTS, sampleRow } from './gpt.js';
export type { GPTConfig, GenerateOptions } from './gpt.js';
