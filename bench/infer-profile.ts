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

const [which = 'vit', dtype = 'fp32', path = 'fused', calls = '5000'] = process.argv.slice(2);
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
