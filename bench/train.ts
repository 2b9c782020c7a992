/**
 * Training step of a small seq2seq Transformer (the G2P demo's model): heed vs PyTorch and
 * tfjs-wasm on the same architecture, batch and optimizer.
 *
 *   npm run bench -- --only train
 *   node --import tsx bench/train.ts [--quick]        this module alone, prints its rows
 *   node --import tsx bench/train.ts --memory         only the memory-per-step rows
 *
 * One step = forward (teacher forcing) + cross-entropy (label smoothing 0.1, pad ignored)
 * + backward + AdamW (lr 1e-3, weight decay 0.01). No gradient clipping, for every impl.
 * Model: the G2P defaults (src/tasks/g2p.ts): dModel 256, 4 heads, 2+2 layers, FF 1024,
 * ReLU, pre-norm with final encoder/decoder norms, dropout 0.1, sinusoidal positions,
 * embeddings × √d (initialized N(0, d^-½) as the G2P task does), output projection tied to the
 * target embedding; vocabularies 30 / 45.
 * Batch: 64 words, source lengths 4–12 (padded to 12), target 4–10 (+BOS/EOS, padded to 11).
 * The batch is generated here once and handed to every implementation, so all see the
 * same ids and the same padding.
 *
 * Rows: workload `train step seq2seq d256 2+2L B64`, ms = median ms/step; the note gives
 * tokens/s (non-pad target tokens). heed runs on native at 1 and 2 threads, and on the js
 * backend (a few steps, for reference). The `... memory per step` rows (d 256, 1 thread) give what a
 * step allocates after warm-up, with the tensor pool and with HEED_POOL=0: new tensor storage
 * (MB/step), GC time per step, and process.memoryUsage() (measureStepMemory).
 */
import { fileURLToPath } from 'node:url';
import { median, type BenchOptions, type BenchRow } from './peers/common.ts';
import { readArgs } from './args.ts';

export const TRAIN_CFG = {
  srcVocab: 30, tgtVocab: 45, dModel: 256, heads: 4, encLayers: 2, decLayers: 2, ff: 1024, dropout: 0.1,
  batch: 64, srcLen: 12, tgtLen: 10, pad: 0, bos: 1, eos: 2, lr: 1e-3, weightDecay: 0.01, labelSmoothing: 0.1,
} as const;
/** One seq2seq size of the table: the G2P default (d 256) or the demo's width (d 128, FF 512). */
export type TrainCfg = Omit<typeof TRAIN_CFG, 'dModel' | 'ff'> & { dModel: number; ff: number };
export const TRAIN_CFG_D128: TrainCfg = { ...TRAIN_CFG, dModel: 128, ff: 512 };
/** The seq2seq sizes every implementation runs, largest first. */
export const TRAIN_CONFIGS: readonly TrainCfg[] = [TRAIN_CFG, TRAIN_CFG_D128];
export const trainWorkload = (c: TrainCfg) => `train step seq2seq d${c.dModel} ${c.encLayers}+${c.decLayers}L B${c.batch}`;
export const TRAIN_WORKLOAD = trainWorkload(TRAIN_CFG);

export interface TrainBatch {
  B: number; S: number; T: number;
  /** (B, S) source ids, pad 0. */ src: Int32Array;
  /** (B, T) decoder input: BOS + target, pad 0. */ tgtIn: Int32Array;
  /** (B, T) decoder output: target + EOS, pad 0. */ tgtOut: Int32Array;
  /** Non-pad target tokens (the loss's token count). */ tokens: number;
}

/** The fixed batch every implementation trains on (deterministic LCG). */
export function makeTrainBatch(): TrainBatch {
  const c = TRAIN_CFG;
  let s = 12345;
  const rnd = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const rint = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
  const B = c.batch, S = c.srcLen, T = c.tgtLen + 1;
  const src = new Int32Array(B * S), tgtIn = new Int32Array(B * T), tgtOut = new Int32Array(B * T);
  let tokens = 0;
  for (let b = 0; b < B; b++) {
    const ls = rint(4, S);
    for (let j = 0; j < ls; j++) src[b * S + j] = rint(3, c.srcVocab - 1);
    const lt = rint(4, c.tgtLen);
    tgtIn[b * T] = c.bos;
    for (let j = 0; j < lt; j++) {
      const id = rint(3, c.tgtVocab - 1);
      tgtIn[b * T + 1 + j] = id;
      tgtOut[b * T + j] = id;
    }
    tgtOut[b * T + lt] = c.eos;
    tokens += lt + 1;
  }
  return { B, S, T, src, tgtIn, tgtOut, tokens };
}

export const tokensNote = (ms: number, tokens: number, extra = '') => `${((tokens * 1000) / ms).toFixed(0)} tok/s${extra ? `; ${extra}` : ''}`;

/** Median ms/step of `step` after `warm` warm-up steps; stops early after budgetMs. */
export async function timeSteps(step: () => unknown, o: { warm: number; reps: number; budgetMs: number }): Promise<{ ms: number; n: number }> {
  for (let i = 0; i < o.warm; i++) await step();
  const ts: number[] = [];
  const t0 = performance.now();
  for (let i = 0; i < o.reps; i++) {
    const s = performance.now();
    await step();
    ts.push(performance.now() - s);
    if (performance.now() - t0 > o.budgetMs && ts.length >= 3) break;
  }
  return { ms: median(ts), n: ts.length };
}

/** A built training step: `step` runs one, `loss` is the last step's loss. */
export interface TimedStep { step: () => unknown; loss: () => number; params: number }

/**
 * Median ms/step of one step per thread count, measured in interleaved rounds: each round runs
 * `perRound` steps on every thread count in turn (the pool resized before each), until every arm
 * has `reps` steps or `budgetMs` has passed (with ≥ 3 each). This VM's speed drifts by 10–20% over
 * tens of seconds, so timing the 1-thread steps and then the 2-thread steps one block after the
 * other puts that drift into the 2-thread ratio; interleaving exposes both arms to the same drift.
 * The first step after each resize is not timed (the pool's threads just started).
 */
export async function timeStepsByThreads<H extends TimedStep>(
  threads: readonly number[], build: () => Promise<H>, setThreads: (n: number) => void,
  o: { warm: number; reps: number; budgetMs: number; perRound?: number },
): Promise<{ threads: number; h: H; l0: number; ms: number; n: number }[]> {
  const arms = [];
  for (const t of threads) {
    setThreads(t);
    const h = await build();
    await h.step();
    const l0 = h.loss();
    for (let i = 0; i < o.warm; i++) await h.step();
    arms.push({ threads: t, h, l0, ts: [] as number[] });
  }
  const perRound = o.perRound ?? 3;
  const t0 = performance.now();
  while (arms.some((a) => a.ts.length < o.reps)) {
    for (const a of arms) {
      setThreads(a.threads);
      await a.h.step();
      for (let i = 0; i < perRound && a.ts.length < o.reps; i++) {
        const s = performance.now();
        await a.h.step();
        a.ts.push(performance.now() - s);
      }
    }
    if (performance.now() - t0 > o.budgetMs && arms.every((a) => a.ts.length >= 3)) break;
  }
  return arms.map((a) => ({ threads: a.threads, h: a.h, l0: a.l0, ms: median(a.ts), n: a.ts.length }));
}

/**
 * The heed training rows' step budget: 30 steps (8 quick) per thread count, 15 s (3 s) each, after
 * 150 warm-up steps (20 quick) per thread count. V8 optimizes the step's JavaScript (the ops' kernel
 * calls, the storage pool's allocation path) only after 100–160 steps: until then its serial JS is
 * ~2× its steady state (4.0 → 2.1 ms per d 256 step, BENCHMARKS.md "The training step's JavaScript,
 * ninth session"). A training run takes thousands of steps, so the table reports the steady state.
 */
export const STEP_TIMING = (opts: { quick?: boolean }, arms: number) =>
  ({ warm: opts.quick ? 20 : 150, reps: opts.quick ? 8 : 30, budgetMs: (opts.quick ? 3000 : 15000) * arms });
export const interleavedNote = (threads: readonly number[]) => threads.length > 1 ? `, interleaved with ${threads.length - 1} other thread count${threads.length > 2 ? 's' : ''}` : '';

/** heed: builds the model, returns one training step and the losses' trend for a sanity check. */
export async function heedStep(batch: TrainBatch, c: TrainCfg = TRAIN_CFG) {
  const { Tensor } = await import('../src/tensor/tensor.ts');
  const { manualSeed } = await import('../src/tensor/rng.ts');
  const { Seq2SeqTransformer } = await import('../src/models/seq2seq.ts');
  const { crossEntropy, reshape } = await import('../src/ops/index.ts'); // the barrel: loss.backward() is a method the ops install
  const { AdamW } = await import('../src/train/optim/index.ts');
  const { normal } = await import('../src/nn/init.ts');
  const { stepScope } = await import('../src/train/step-memory.ts');
  manualSeed(0);
  const model = new Seq2SeqTransformer({
    srcVocabSize: c.srcVocab, tgtVocabSize: c.tgtVocab, dModel: c.dModel, numHeads: c.heads, numEncoderLayers: c.encLayers,
    numDecoderLayers: c.decLayers, dimFeedforward: c.ff, dropout: c.dropout, activation: 'relu', normFirst: true, maxLen: 48,
  });
  for (const emb of [model.srcEmbed, model.tgtEmbed]) { // the G2P task's init: N(0, d^-½), pad row 0
    normal(emb.weight, 0, 1 / Math.sqrt(c.dModel));
    emb.weight.data.fill(0, c.pad * c.dModel, (c.pad + 1) * c.dModel);
  }
  model.train();
  const opt = new AdamW(model, { lr: c.lr, weightDecay: c.weightDecay });
  const src = new Tensor(batch.src, [batch.B, batch.S]);
  const tgtIn = new Tensor(batch.tgtIn, [batch.B, batch.T]);
  const tgtOut = new Tensor(batch.tgtOut, [batch.B * batch.T]);
  let last = NaN;
  /** Forward and loss (bench/js-share.ts times the step's parts one by one). */
  const lossOf = () => {
    const logits = model.call(src, tgtIn); // (B, T, V)
    return crossEntropy(reshape(logits, [-1, c.tgtVocab]), tgtOut, { ignoreIndex: c.pad, labelSmoothing: c.labelSmoothing });
  };
  const step = () => {
    // As the Trainer runs a step: its buffers go back to the tensor pool after opt.step() (HEED_POOL=0: no reuse).
    const scope = stepScope(model, opt);
    opt.zeroGrad();
    const loss = lossOf();
    loss.backward();
    opt.step();
    last = loss.data[0];
    scope.close();
  };
  return { step, loss: () => last, params: model.numParameters(), model, opt, lossOf };
}

export interface StepMemory {
  /** Mean wall ms of the measured steps. */
  ms: number;
  /** Newly allocated tensor storage per step (MB), and storage served from the pool. */
  newMB: number;
  reusedMB: number;
  /** GC pause time per step (perf_hooks 'gc' entries), and collections per step. */
  gcMs: number;
  gcs: number;
  /** process.memoryUsage() after the steps, MB. */
  heapUsedMB: number;
  externalMB: number;
  arrayBuffersMB: number;
  rssMB: number;
  /** JS heap growth per step (heapUsed after minus before, over the steps; GC makes it noisy). */
  heapDeltaMB: number;
}

/**
 * What a training step allocates after warm-up (issue 16: "a step allocates nearly nothing after
 * warm-up"): tensor storage per step from the storage counters, GC time per step from
 * PerformanceObserver('gc'), and process.memoryUsage(). Runs `warm` steps first, then `steps`.
 */
export async function measureStepMemory(step: () => unknown, o: { warm: number; steps: number }): Promise<StepMemory> {
  const { PerformanceObserver } = await import('node:perf_hooks');
  const { storageStats } = await import('../src/tensor/storage-pool.ts');
  for (let i = 0; i < o.warm; i++) await step();
  const gc: { start: number; ms: number }[] = [];
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gc.push({ start: e.startTime, ms: e.duration });
  });
  obs.observe({ entryTypes: ['gc'] });
  const m0 = process.memoryUsage(), s0 = storageStats();
  const t0 = performance.now();
  for (let i = 0; i < o.steps; i++) await step();
  const t1 = performance.now();
  const m1 = process.memoryUsage(), s1 = storageStats();
  await new Promise((r) => setTimeout(r, 20)); // the observer's entries arrive on a later turn
  obs.disconnect();
  const inWindow = gc.filter((g) => g.start >= t0 && g.start <= t1);
  const MB = 2 ** 20, n = o.steps;
  return {
    ms: (t1 - t0) / n,
    newMB: (s1.bytes - s0.bytes) / MB / n,
    reusedMB: (s1.reusedBytes - s0.reusedBytes) / MB / n,
    gcMs: inWindow.reduce((a, g) => a + g.ms, 0) / n,
    gcs: inWindow.length / n,
    heapUsedMB: m1.heapUsed / MB, externalMB: m1.external / MB, arrayBuffersMB: m1.arrayBuffers / MB, rssMB: m1.rss / MB,
    heapDeltaMB: (m1.heapUsed - m0.heapUsed) / MB / n,
  };
}

export const MEMORY_WORKLOAD = `${TRAIN_WORKLOAD} memory per step`;

/** One row per pool mode: the step's storage allocation and GC time, pooled and with HEED_POOL=0. */
async function memoryRows(batch: TrainBatch, opts: BenchOptions): Promise<BenchRow[]> {
  const { poolMode, setPoolMode } = await import('../src/tensor/storage-pool.ts');
  const rows: BenchRow[] = [];
  const prev = poolMode();
  try {
    for (const mode of prev === 'off' ? ['off'] as const : ['on', 'off'] as const) {
      setPoolMode(mode);
      const h = await heedStep(batch);
      const m = await measureStepMemory(h.step, { warm: 3, steps: opts.quick ? 4 : 10 });
      rows.push({
        workload: MEMORY_WORKLOAD, impl: mode === 'on' ? 'heed' : 'heed (HEED_POOL=0)', threads: 1, ms: m.ms,
        note: `new tensor storage ${m.newMB.toFixed(3)} MB/step (reused ${m.reusedMB.toFixed(1)} MB/step); GC ${m.gcMs.toFixed(2)} ms/step (${m.gcs.toFixed(1)} collections); ` +
          `heapUsed ${m.heapUsedMB.toFixed(0)} MB (${m.heapDeltaMB >= 0 ? '+' : ''}${m.heapDeltaMB.toFixed(2)} MB/step), external ${m.externalMB.toFixed(0)} MB, arrayBuffers ${m.arrayBuffersMB.toFixed(0)} MB, rss ${m.rssMB.toFixed(0)} MB; ms = mean step`,
      });
    }
  } finally {
    setPoolMode(prev);
  }
  return rows;
}

async function runHeed(batch: TrainBatch, opts: BenchOptions, c: TrainCfg = TRAIN_CFG): Promise<BenchRow[]> {
  const reg = await import('../src/backend/registry.ts');
  const rows: BenchRow[] = [];
  const prev = reg.getBackend();
  const info = reg.backendInfo();
  const workload = trainWorkload(c);
  if (info.nativeAvailable) {
    reg.setBackend('native');
    const threads = opts.threads ?? [1, 2];
    const arms = await timeStepsByThreads(threads, () => heedStep(batch, c), reg.setNumThreads, STEP_TIMING(opts, threads.length));
    for (const { threads: t, h, l0, ms, n } of arms) {
      rows.push({ workload, impl: 'heed', threads: t, ms, note: tokensNote(ms, batch.tokens, `median of ${n}${interleavedNote(threads)}; loss ${l0.toFixed(2)}→${h.loss().toFixed(2)}; ${h.params} params`) });
    }
    if (c === TRAIN_CFG) {
      reg.setNumThreads(1);
      rows.push(...(await memoryRows(batch, opts)));
    }
  }
  if (c !== TRAIN_CFG) {
    reg.setBackend(prev);
    return rows;
  }
  // js backend, for reference (slow: a few steps of the G2P size only)
  reg.setBackend('js');
  try {
    const h = await heedStep(batch, c);
    const r = await timeSteps(h.step, { warm: 1, reps: 2, budgetMs: 1 });
    rows.push({ workload, impl: 'heed (js backend)', threads: 1, ms: r.ms, note: tokensNote(r.ms, batch.tokens, `median of ${r.n}`) });
  } finally {
    reg.setBackend(prev);
  }
  return rows;
}

/** Every seq2seq size on heed and its peers, then the spam classifier's step (bench/train-classifier.ts). */
export async function run(opts: BenchOptions = {}): Promise<BenchRow[]> {
  const batch = makeTrainBatch();
  const rows: BenchRow[] = [];
  const peers: [string, string][] = [['pytorch', './peers/train_torch.ts'], ['tfjs-wasm', './peers/train-tfjs.ts']];
  for (const c of TRAIN_CONFIGS) {
    rows.push(...(await runHeed(batch, opts, c)));
    for (const [name, file] of peers) {
      try {
        const mod = (await import(file)) as { run: (b: TrainBatch, o: BenchOptions, c: TrainCfg) => Promise<BenchRow[]> };
        rows.push(...(await mod.run(batch, opts, c)));
      } catch (e) {
        rows.push({ workload: trainWorkload(c), impl: name, threads: 0, ms: NaN, note: `failed: ${(e as Error).message}` });
      }
    }
  }
  const classifier = await import('./train-classifier.ts');
  rows.push(...(await classifier.run(opts)));
  return rows;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.env.HEED_QUIET ??= '1';
  const flags = readArgs(import.meta.url, {
    quick: { kind: 'bool', help: 'shorter timing budgets' },
    impl: { kind: 'string', choices: ['heed'], help: 'heed: only heed\'s rows (default: heed and the peers)' },
    memory: { kind: 'bool', help: 'only the memory-per-step rows (d 256, 1 thread, pooled and HEED_POOL=0)' },
  });
  const quick = flags.quick;
  const only = flags.impl;
  const batch = makeTrainBatch();
  const memoryOnly = flags.memory;
  if (memoryOnly) {
    const reg = await import('../src/backend/registry.ts');
    if (reg.backendInfo().nativeAvailable) reg.setBackend('native');
    reg.setNumThreads(1);
  }
  const rows = memoryOnly ? await memoryRows(batch, { quick }) : only === 'heed' ? await runHeed(batch, { quick }) : await run({ quick });
  console.log(`batch: B=${batch.B} S=${batch.S} T=${batch.T}, ${batch.tokens} target tokens`);
  // heed's speed-up over each peer at the same thread count (bench/index.ts prints the same column)
  const speedUp = (r: BenchRow) => { const h = rows.find((x) => x.impl === 'heed' && x.threads === r.threads && x.workload === r.workload); return h && !r.impl.startsWith('heed') ? `${(r.ms / h.ms).toFixed(2)}×` : ''; };
  console.log('| workload | impl | threads | ms/step | heed speed-up | note |\n|---|---|---:|---:|---:|---|');
  for (const r of rows) console.log(`| ${r.workload} | ${r.impl} | ${r.threads} | ${r.ms.toFixed(1)} | ${speedUp(r)} | ${r.note ?? ''} |`);
}
