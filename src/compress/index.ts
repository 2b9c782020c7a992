/** Model compression: dynamic int8 quantization (issue 15; pruning, distillation and export are still to come). */
export { quantizeDynamic } from './quantize-dynamic.js';
export type { QuantizeDynamicOptions, QuantizeDynamicResult } from './quantize-dynamic.js';
