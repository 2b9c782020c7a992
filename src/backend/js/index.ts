/**
 * The reference kernel barrel. Every function exported here is the reference of the
 * kernel spec of the same name (../specs), and takes that spec's parameter object
 * (`Params<'name'>`); the registry checks at load that the two barrels match. Constants
 * are exported from their own files, not from here, so that this namespace holds kernels only.
 */
export { sgemm, linearBackward, linearBackwardFused } from './gemm.js';
export { binarySame, binaryBroadcast, unary, unaryBackward } from './elementwise.js';
export { reduceAxis, argmaxAxis } from './reduce.js';
export { softmaxForward, softmaxBackward } from './softmax.js';
export { layerNormForward, layerNormBackward, layerNormBackwardDropout, rmsNormForward, rmsNormBackward } from './norm.js';
export { embeddingForward, embeddingBackward, embedPositionsForward, embedPositionsBackward } from './embedding.js';
export { permute } from './layout.js';
export { dropout } from './dropout.js';
export { attentionForward, attentionBackward, attentionForwardStrided, attentionBackwardStrided } from './attention.js';
export { crossEntropyForward, crossEntropyBackward } from './crossentropy.js';
export { adamwStep, sumSquares, scaleInPlace, adamwStepMulti, sumSquaresMulti, scaleInPlaceMulti } from './optim.js';
export { quantizePerChannel, int8Gemm, int8PackWeights, int8GemmPacked } from './int8.js';
export { im2col, col2im, conv2dForward, conv2dBackward, conv2dTransposedForward } from './conv.js';
export { batchNormForward, batchNormBackward, maxPoolForward, maxPoolBackward, channelScaleForward, channelScaleBackward, cbamPoolForward } from './cnn.js';
export { linearFused, reluDropoutBackward, geluDropout, geluDropoutBackward, dropoutBackwardBias } from './linear-fused.js';
