/**
 * A loop of batch-1 forwards in inferenceMode, to run under `node --cpu-prof` (what bounds the fused
 * encoder path: tools/cpuprofile-categories.py splits the profile into kernels and JavaScript).
 *
 *   HEED_NUM_THREADS=1 node --cpu-prof --import tsx bench/infer-profile.ts <spam|vit|g2p> [fp32|int8] [fused|module] [calls]
 *
 * Models as bench/infer-single.ts (random weights at the task defaults).
 */
import * as heed from '../src/index.js';
import { models } from '../src/index.js';
import { inferenceMode } from '../src/autograd/inference.js';
import { quantizeDynamic } from '../src/compress/quantize-dynamic.js';
import { setFusedEncoderEnabled } from '../src/models/fused-encoder.js';
import type { Module } from '../src/nn/module.js';
import { argsError, readArgs } from './args.ts';

const words = readArgs(import.meta.url, {}, { positional: { name: 'model dtype path calls', help: 'spam|vit|g2p (default vit), fp32|int8 (fp32), fused|module (fused), calls (5000)', max: 4 } })._;
const [which = 'vit', dtype = 'fp32', path = 'fused', calls = '5000'] = words;
for (const [word, allowed] of [[which, ['spam', 'vit', 'g2p']], [dtype, ['fp32', 'int8']], [path, ['fused', 'module']]] as const) {
  if (!(allowed as readonly string[]).includes(word)) argsError(import.meta.url, `got ${JSON.stringify(word)}, expected one of ${allowed.join(', ')} (words: model dtype path calls). Fix: e.g. \`bench/infer-profile.ts spam fp32 fused 5000\`.`);
}
if (!(Number.isInteger(Number(calls)) && Number(calls) >= 1)) argsError(import.meta.url, `calls ${JSON.stringify(calls)}: expected an integer ≥ 1. Fix: e.g. 5000.`);
if (path === 'module') setFusedEncoderEnabled(false);
let m: Module, fwd: () => heed.Tensor;
if (which === 'vit') {
  const vit = new models.ViT({ numClasses: 10 }).eval(), image = heed.randn([1, 1, 8, 8]);
  [m, fwd] = [vit, () => vit.forward(image)];
} else if (which === 'spam') {
  const spam = new models.EncoderClassifier({ vocabSize: 16000, numClasses: 2, dModel: 64, numHeads: 4, numLayers: 2, dimFeedforward: 256, maxLen: 256, pooling: 'mean' }).eval();
  const mail = heed.tensor(Array.from({ length: 150 }, (_, i) => 5 + ((i * 37) % 15990)), [1, 150], { dtype: 'int32' });
  [m, fwd] = [spam, () => spam.forward(mail)];
} else {
  const g2p = new models.Seq2SeqTransformer({ srcVocabSize: 30, tgtVocabSize: 44 }).eval(), word = heed.tensor([3, 4, 5, 6, 7, 8, 9, 10], [1, 8], { dtype: 'int32' });
  [m, fwd] = [g2p, () => g2p.encode(word).memory];
}
if (dtype === 'int8') quantizeDynamic(m);
for (let i = 0; i < Number(calls); i++) inferenceMode(fwd, m);
