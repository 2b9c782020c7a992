/**
 * Runs one workload in a loop for a V8 CPU profile of the per-op JavaScript (issue 16: what a
 * step or a request spends outside the kernels). Pair it with bench/cpuprofile-summary.ts:
 *
 *   HEED_NUM_THREADS=1 node --import tsx bench/profile-js.ts --workload step --iters 20 --prof /tmp/step.cpuprofile
 *   node --import tsx bench/cpuprofile-summary.ts /tmp/step.cpuprofile --per 20
 *
 * Workloads:
 *   step  the bench/train.ts G2P training step (d 256, B 64), in its storage scope, as the Trainer runs it;
 *   step128    the same at d 128 (FF 512);
 *   spam-step  the bench/train-classifier.ts spam classifier step (d 64, B 32, 255 words);
 *   spam  one spam request (EncoderClassifier d64, 2 layers, 150 tokens) under inferenceMode, as bench/infer-single.ts;
 *   g2p   the g2p encoder on one 8-letter word (Seq2SeqTransformer d256) under inferenceMode.
 * The profile (the V8 sampling profiler that `node --cpu-prof` runs, here started through node:inspector)
 * covers the timed iterations only, not the model's construction or the warm-up.
 */
import { Session } from 'node:inspector/promises';
import { writeFileSync } from 'node:fs';
import { heedStep, makeTrainBatch, TRAIN_CFG_D128 } from './train.ts';
import { heedClassifierStep, makeClassifierBatch } from './train-classifier.ts';
import * as heed from '../src/index.js';
import { models } from '../src/index.js';
import { inferenceMode } from '../src/autograd/inference.js';
import { setNumThreads, backendInfo, setBackend } from '../src/backend/registry.js';
import { readArgs } from './args.ts';

const flags = readArgs(import.meta.url, {
  workload: { kind: 'string', default: 'step', choices: ['step', 'step128', 'spam-step', 'spam', 'g2p'], help: 'what to loop' },
  iters: { kind: 'int', min: 1, help: 'iterations (default 20 for a step, 3000 for a request)' },
  prof: { kind: 'string', default: '', help: 'write a V8 CPU profile of the loop here (and <file>.json beside it)' },
});
const workload = flags.workload;
const iters = flags.iters ?? (workload.includes('step') ? 20 : 3000);
if (backendInfo().nativeAvailable) setBackend('native');
setNumThreads(1);

let run: () => unknown;
if (workload === 'step') {
  run = (await heedStep(makeTrainBatch())).step;
} else if (workload === 'step128') {
  run = (await heedStep(makeTrainBatch(), TRAIN_CFG_D128)).step;
} else if (workload === 'spam-step') {
  run = (await heedClassifierStep(makeClassifierBatch())).step;
} else if (workload === 'spam') {
  heed.manualSeed(0);
  const mail = heed.tensor(Array.from({ length: 150 }, (_, i) => 5 + ((i * 37) % 15990)), [1, 150], { dtype: 'int32' });
  const m = new models.EncoderClassifier({ vocabSize: 16000, numClasses: 2, dModel: 64, numHeads: 4, numLayers: 2, dimFeedforward: 256, maxLen: 256, pooling: 'mean' }).eval();
  run = () => inferenceMode(() => m.forward(mail), m);
} else if (workload === 'g2p') {
  heed.manualSeed(0);
  const word = heed.tensor([3, 4, 5, 6, 7, 8, 9, 10], [1, 8], { dtype: 'int32' });
  const m = new models.Seq2SeqTransformer({ srcVocabSize: 30, tgtVocabSize: 44 }).eval();
  run = () => inferenceMode(() => m.encode(word).memory, m);
} else {
  throw new Error(`--workload ${workload}: expected step, step128, spam-step, spam or g2p`);
}
for (let i = 0; i < Math.min(5, iters); i++) run();
const profPath = flags.prof;
const session = new Session();
if (profPath) {
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 100 }); // µs
  await session.post('Profiler.start');
}
const c0 = process.cpuUsage();
for (let i = 0; i < iters; i++) run();
const c = process.cpuUsage(c0);
if (profPath) {
  const { profile } = await session.post('Profiler.stop');
  writeFileSync(profPath, JSON.stringify(profile));
  // For bench/cpuprofile-summary.ts, which scales the profile's sample counts to this CPU time.
  writeFileSync(`${profPath}.json`, JSON.stringify({ workload, iters, cpuMsPerIter: (c.user + c.system) / 1000 / iters }));
  session.disconnect();
}
console.log(`${workload}: ${iters} iterations, ${((c.user + c.system) / 1000 / iters).toFixed(3)} ms CPU each`);
