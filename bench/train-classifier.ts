/**
 * Training step of the spam classifier (the spam task's default model): heed vs PyTorch on the
 * same architecture, batch and optimizer. The seq2seq steps are bench/train.ts.
 *
 *   npm run bench -- --only train
 *   node --import tsx bench/train-classifier.ts [--quick]        this module alone, prints its rows
 *
 * Model (src/tasks/spam.ts SPAM_DEFAULTS): EncoderClassifier, vocabulary 16,000, dModel 64, 4
 * heads, 2 pre-norm layers (GELU, FF 256, final LayerNorm), learned positions, dropout 0.1, mean
 * pooling over the non-padding words, linear head to 2 classes.
 * Step: forward + cross-entropy + backward + AdamW (lr 1e-3, weight decay 0.01), in a storage scope
 * as the Trainer runs every step (src/train/step-memory.ts: the step's buffers go back to the
 * tensor pool; without it the step's ~100 MB of new storage per step is the garbage collector's,
 * about a third of the step's CPU time).
 * Batch: 32 mails of 64–255 word ids (padded to 255), drawn once here (a fixed LCG) and handed to
 * both implementations. Real mails after the task's headTail truncation are mostly 255 long;
 * the spread of lengths makes the padding mask do real work.
 *
 * Rows: workload `train step spam classifier d64 2L B32`, ms = median ms/step; the note gives
 * words/s (non-padding). heed runs on native at 1 and 2 threads.
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchOptions, BenchRow } from './peers/common.ts';
import { findTorchPython } from './peers/torch.ts';
import { STEP_TIMING, interleavedNote, timeStepsByThreads } from './train.ts';
import { readArgs } from './args.ts';

export const CLASSIFIER_CFG = {
  vocab: 16000, dModel: 64, heads: 4, layers: 2, ff: 256, maxLen: 256, dropout: 0.1, classes: 2,
  batch: 32, minLen: 64, maxWords: 255, pad: 0, lr: 1e-3, weightDecay: 0.01,
} as const;
export const CLASSIFIER_WORKLOAD = `train step spam classifier d${CLASSIFIER_CFG.dModel} ${CLASSIFIER_CFG.layers}L B${CLASSIFIER_CFG.batch}`;

export interface ClassifierBatch {
  B: number; T: number;
  /** (B, T) word ids, pad 0. */ ids: Int32Array;
  /** (B) class ids. */ labels: Int32Array;
  /** Non-padding words. */ words: number;
}

/** The fixed batch both implementations train on (deterministic LCG). */
export function makeClassifierBatch(): ClassifierBatch {
  const c = CLASSIFIER_CFG;
  let s = 4242;
  const rnd = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const B = c.batch, T = c.maxWords;
  const ids = new Int32Array(B * T), labels = new Int32Array(B);
  let words = 0;
  for (let b = 0; b < B; b++) {
    const n = c.minLen + Math.floor(rnd() * (T - c.minLen + 1));
    for (let j = 0; j < n; j++) ids[b * T + j] = 4 + Math.floor(rnd() * (c.vocab - 4));
    labels[b] = b % 2;
    words += n;
  }
  return { B, T, ids, labels, words };
}

const wordsNote = (ms: number, words: number, extra: string) => `${((words * 1000) / ms).toFixed(0)} words/s; ${extra}`;

/** heed: the spam model and one training step. */
export async function heedClassifierStep(batch: ClassifierBatch) {
  const { Tensor } = await import('../src/tensor/tensor.ts');
  const { manualSeed } = await import('../src/tensor/rng.ts');
  const { EncoderClassifier } = await import('../src/models/encoder-classifier.ts');
  const { crossEntropy } = await import('../src/ops/index.ts'); // the barrel: loss.backward() is a method the ops install
  const { AdamW } = await import('../src/train/optim/index.ts');
  const { stepScope } = await import('../src/train/step-memory.ts');
  const c = CLASSIFIER_CFG;
  manualSeed(0);
  const model = new EncoderClassifier({
    vocabSize: c.vocab, numClasses: c.classes, dModel: c.dModel, numHeads: c.heads, numLayers: c.layers, dimFeedforward: c.ff,
    maxLen: c.maxLen, dropout: c.dropout, pooling: 'mean',
  });
  model.train();
  const opt = new AdamW(model, { lr: c.lr, weightDecay: c.weightDecay });
  const ids = new Tensor(batch.ids, [batch.B, batch.T]);
  const labels = new Tensor(batch.labels, [batch.B]);
  let last = NaN;
  /** Forward and loss (bench/js-share.ts times the step's parts one by one). */
  const lossOf = () => crossEntropy(model.call(ids), labels); // logits (B, 2)
  const step = () => {
    const scope = stepScope(model, opt); // as the Trainer runs a step (HEED_POOL=0: no reuse)
    opt.zeroGrad();
    const loss = lossOf();
    loss.backward();
    opt.step();
    last = loss.data[0];
    scope.close();
  };
  return { step, loss: () => last, params: model.numParameters(), model, opt, lossOf };
}

async function runHeed(batch: ClassifierBatch, opts: BenchOptions): Promise<BenchRow[]> {
  const reg = await import('../src/backend/registry.ts');
  if (!reg.backendInfo().nativeAvailable) return [{ workload: CLASSIFIER_WORKLOAD, impl: 'heed', threads: 0, ms: NaN, note: 'skipped: native addon not built' }];
  const prev = reg.getBackend();
  const rows: BenchRow[] = [];
  reg.setBackend('native');
  try {
    const threads = opts.threads ?? [1, 2];
    const arms = await timeStepsByThreads(threads, () => heedClassifierStep(batch), reg.setNumThreads, STEP_TIMING(opts, threads.length));
    for (const { threads: t, h, l0, ms, n } of arms) {
      rows.push({ workload: CLASSIFIER_WORKLOAD, impl: 'heed', threads: t, ms, note: wordsNote(ms, batch.words, `median of ${n}${interleavedNote(threads)}; loss ${l0.toFixed(2)}→${h.loss().toFixed(2)}; ${h.params} params`) });
    }
  } finally {
    reg.setBackend(prev);
  }
  return rows;
}

const script = join(dirname(fileURLToPath(import.meta.url)), 'peers', 'train_classifier_torch.py');

async function runTorch(batch: ClassifierBatch, opts: BenchOptions): Promise<BenchRow[]> {
  const py = findTorchPython();
  if (py === undefined) return [{ workload: CLASSIFIER_WORKLOAD, impl: 'pytorch', threads: 0, ms: NaN, note: 'skipped: no python3 with torch' }];
  const rows: BenchRow[] = [];
  for (const threads of opts.threads ?? [1, 2]) {
    const cfg = { ...CLASSIFIER_CFG, threads, B: batch.B, T: batch.T, ids: [...batch.ids], labels: [...batch.labels], warm: 3, reps: opts.quick ? 8 : 30, budgetMs: opts.quick ? 3000 : 15000 };
    const env = { ...process.env, OMP_NUM_THREADS: String(threads), OPENBLAS_NUM_THREADS: String(threads), MKL_NUM_THREADS: String(threads) };
    const r = spawnSync(py, [script, JSON.stringify(cfg)], { env, encoding: 'utf8', timeout: 600_000, maxBuffer: 1 << 24 });
    if (r.status !== 0) {
      rows.push({ workload: CLASSIFIER_WORKLOAD, impl: 'pytorch', threads, ms: NaN, note: `failed: ${(r.stderr || r.error?.message || '').trim().split('\n').pop()}` });
      continue;
    }
    const o = JSON.parse(r.stdout.trim().split('\n').pop()!) as { version: string; ms: number; n: number; loss0: number; loss1: number; params: number };
    rows.push({ workload: CLASSIFIER_WORKLOAD, impl: `pytorch ${o.version}`, threads, ms: o.ms, note: wordsNote(o.ms, batch.words, `median of ${o.n}; loss ${o.loss0.toFixed(2)}→${o.loss1.toFixed(2)}; ${o.params} params`) });
  }
  return rows;
}

export async function run(opts: BenchOptions = {}): Promise<BenchRow[]> {
  const batch = makeClassifierBatch();
  return [...(await runHeed(batch, opts)), ...(await runTorch(batch, opts))];
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.env.HEED_QUIET ??= '1';
  const rows = await run(readArgs(import.meta.url, { quick: { kind: 'bool', help: 'shorter timing budgets' } }));
  console.log('| impl | threads | ms/step | note |\n|---|---:|---:|---|');
  for (const r of rows) console.log(`| ${r.impl} | ${r.threads} | ${r.ms.toFixed(1)} | ${r.note ?? ''} |`);
}
