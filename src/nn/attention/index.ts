/** The attention family. The mask convention is stated once, in ./README.md; the one mask module is ops/attention-mask.ts. */
export { MultiheadAttention } from './multihead.js';
export type { MultiheadAttentionOptions, MultiheadAttentionCallOptions, AttentionOutput } from './multihead.js';
export { KVCache } from './kv-cache.js';
export { AttentionRecorder, isRecording, reportAttention } from './recorder.js';
export type { RecordedAttention, AttentionMap } from './recorder.js';
export { resolveMask, maskedSoftmax, additiveMask, allowedMask } from '../../ops/attention-mask.js';
export type { AttentionMaskOptions, CausalAlignment, BlockLayout, ResolvedMask } from '../../ops/attention-mask.js';
export { AdditiveAttention } from './additive.js';
export type { SimpleAttentionCallOptions, SimpleAttentionOutput } from './additive.js';
export { LuongAttention } from './luong.js';
export type { LuongScore } from './luong.js';
export { SlidingWindowAttention, slidingWindowMask } from './sliding-window.js';
export type { SlidingWindowOptions } from './sliding-window.js';
export { BlockSparseAttention, blockSparseAttention, layoutToMask, localGlobalLayout } from './block-sparse.js';
export type { BlockSparseOptions } from './block-sparse.js';
export { LinearAttention, linearAttention, linearAttentionReference, eluFeatureMap, cumsum } from './linear-attention.js';
