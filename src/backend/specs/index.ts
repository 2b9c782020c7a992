/**
 * The kernel spec barrel: every spec exported here is a kernel (see ../spec.ts for the
 * format). The registry checks at load that names are unique and that each spec has a
 * reference kernel in ../js of the same name; scripts/gen-native-specs.ts derives the
 * native structs and checks from this barrel.
 */
export { sgemm, quantizePerChannel, int8Gemm, int8PackWeights, int8GemmPacked, linearBackward, linearBackwardFused } from './gemm.js';
export { attentionForward, attentionBackward, attentionForwardStrided, attentionBackwardStrided } from './attention.js';
export { softmaxForward, softmaxBackward } from './softmax.js';
export { layerNormForward, layerNormBackward, layerNormBackwardDropout, rmsNormForward, rmsNormBackward } from './norm.js';
export { binarySame, binaryBroadcast, unary, unaryBackward } from './elementwise.js';
export { reduceAxis, argmaxAxis } from './reduce.js';
export { embeddingForward, embeddingBackward, embedPositionsForward, embedPositionsBackward } from './embedding.js';
export { permute, dropout } from './layout.js';
export { crossEntropyForward, crossEntropyBackward } from './loss.js';
export { adamwStep, sumSquares, scaleInPlace, adamwStepMulti, sumSquaresMulti, scaleInPlaceMulti } from './optim.js';
export { im2col, col2im, conv2dForward, conv2dBackward, conv2dTransposedForward } from './conv.js';
export { batchNormForward, batchNormBackward, maxPoolForward, maxPoolBackward, channelScaleForward, channelScaleBackward, cbamPoolForward } from './cnn.js';
export { linearFused, reluDropoutBackward, geluDropout, geluDropoutBackward, dropoutBackwardBias } from './linear-fused.js';
