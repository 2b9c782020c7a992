/**
 * heed.nn: modules, parameters, initializers, layers and the attention family.
 *
 *   import { nn } from 'heed';
 *   const proj = new nn.Linear(16, 32);
 *   const y = proj.call(x);          // (B, T, 32)
 */
export { Module, ModuleList, Sequential } from './module.js';
export type { ForwardHook, HookHandle, LoadStateDictOptions, LoadStateDictResult, NamePattern } from './module.js';
export { Parameter } from './parameter.js';
export * as init from './init.js';
export { Linear } from './linear.js';
export type { LinearOptions } from './linear.js';
export { QuantizedLinear } from './quantized-linear.js';
export { Embedding } from './embedding.js';
export type { EmbeddingOptions } from './embedding.js';
export { LayerNorm, RMSNorm } from './norm.js';
export type { LayerNormOptions, RMSNormOptions } from './norm.js';
export { Dropout } from './dropout.js';
export { FeedForward, activate, ACTIVATIONS } from './feedforward.js';
export type { Activation, FeedForwardOptions } from './feedforward.js';
export { SinusoidalPositionalEncoding, LearnedPositionalEmbedding, RotaryEmbedding, alibiSlopes } from './positional.js';
export { TransformerEncoderLayer, TransformerDecoderLayer, TransformerEncoder, TransformerDecoder } from './transformer.js';
export type { TransformerLayerOptions, EncoderCallOptions, DecoderCallOptions, DecoderLayerCache } from './transformer.js';
export * from './attention/index.js';
export { Conv1d, Conv2d } from './conv.js';
export type { ConvOptions, Conv2dOptions } from './conv.js';
export { LSTM } from './lstm.js';
export type { LSTMOptions, LSTMState } from './lstm.js';
export { RNNBase } from './rnn.js';
export type { RNNOptions } from './rnn.js';
export { GRU } from './gru.js';
export type { GRUOptions } from './gru.js';
export { BatchNorm1d, BatchNorm2d } from './batch-norm.js';
export type { BatchNormOptions } from './batch-norm.js';
export { MaxPool2d, AvgPool2d, AdaptiveMaxPool2d, AdaptiveAvgPool2d } from './pool.js';
export { SqueezeExcitation } from './squeeze-excitation.js';
export { CBAM, ChannelAttention, SpatialAttention } from './cbam.js';
export type { CBAMOptions } from './cbam.js';
export { CRF, crfNegativeLogLikelihood, CRF_FORBIDDEN_SCORE } from './crf.js';
export type { CRFOptions, CRFCallOptions, CRFConstraints, CRFScores } from './crf.js';
export { allowedTransitions, transitionPenalties, parseTag, viterbi, TRANSITION_SCHEMES } from './tag-transitions.js';
export type { AllowedTransitions, ParsedTag, TransitionScheme, ViterbiResult } from './tag-transitions.js';
