/**
 * Trainer: the training loop shared by every task.
 *
 * One optimizer step = `gradAccum` micro-batches (each loss scaled by 1/gradAccum, gradients
 * summed), then clipping by global norm, optimizer.step(), scheduler.step(). Every `evalEvery`
 * steps (and at the end) the task's `evaluate` runs; the best value of `metric` so far is saved as
 * the model at the top of the run directory, and training stops after `patience` evaluations
 * without improvement. The resumable state (weights, optimizer, trainer_state.json) is saved to
 * `<out>/last` at each evaluation, every `saveEvery` steps, on SIGINT/SIGTERM and at the end.
 *
 * Run directory:
 *   <out>/config.json, model.safetensors, *.vocab.json   the best model (what predict/eval load)
 *   <out>/last/                                          the latest resumable checkpoint
 *   <out>/metrics.jsonl                                  one JSON object per logged step / eval / epoch
 *
 * Determinism: with the same seed, N steps in one run equal N/2 steps, save, resume, N/2 steps —
 * the global RNG (dropout), the batch iterator, the augmentation RNG, optimizer and schedule are
 * all restored (test/train/trainer.test.ts checks the loss curve).
 *
 * A non-finite loss or gradient norm stops the run with a NumericalError; nothing is saved
 * after it, so <out>/last keeps the last good state.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Tensor } from '../tensor/tensor.js';
import { Generator, getRngState, setRngState } from '../tensor/rng.js';
import type { BatchIterator, BatchIteratorState } from '../data/batching.js';
import type { Optimizer } from './optim/optimizer.js';
import type { OptimizerStateDict } from '../io/optimizer-state.js';
import type { LRScheduler } from './optim/schedule.js';
import { clipGradNorm, gradNorm } from './optim/clip.js';
import { mul } from '../ops/elementwise.js';
import { backward } from '../autograd/engine.js';
import { saveCheckpoint, loadOptimizerState, loadTrainerState, loadCheckpoint, recoverCheckpoint, type CheckpointContents } from '../io/checkpoint.js';
import { CheckpointError, NumericalError, ValueError } from '../errors.js';
import { Progress } from './progress.js';
import { AdversarialEmbedding, type AdversarialOptions } from './adversarial.js';
import { stepScope } from './step-memory.js';
import { clearStoragePool } from '../tensor/storage-pool.js';

/** The module interface the trainer needs (nn.Module satisfies it). */
export interface TrainableModel {
  namedParameters(): [string, Tensor][];
  stateDict(): Record<string, Tensor>;
  loadStateDict(sd: Record<string, Tensor>, options?: { strict?: boolean }): unknown;
  train(mode?: boolean): unknown;
  eval(): unknown;
}

export interface TrainerOptions {
  /** Run directory. */
  out: string;
  runId: string;
  /** Optimizer steps to run in total (across resumes). */
  maxSteps: number;
  /** Micro-batches per optimizer step. Default 1. */
  gradAccum?: number;
  /** Clip gradients to this global norm; 0 disables. Default 1. */
  clipNorm?: number;
  /** Evaluate (and save) every this many steps; 0: only at the end. */
  evalEvery?: number;
  /** Also save <out>/last every this many steps; 0: only at evaluations. */
  saveEvery?: number;
  /** Validation metric that picks the best checkpoint, and its direction. */
  metric?: string;
  metricMode?: 'min' | 'max';
  /** Evaluations without improvement before stopping; 0 disables early stopping. */
  patience?: number;
  /** Write a step line to metrics.jsonl (and the plain-text progress) every this many steps. */
  logEvery?: number;
  /** Seed for the augmentation generator. */
  seed?: number;
  /** Progress output: 'auto' (bar on a TTY, plain lines otherwise), 'plain', or 'none'. */
  progress?: 'auto' | 'plain' | 'none';
  /** Adversarial training on embedding outputs (FGSM when steps = 1, PGD otherwise). */
  adversarial?: AdversarialOptions | null;
  /** Stop after this many seconds (the demo's time budget); 0: no limit. */
  timeLimit?: number;
  /**
   * With timeLimit: after warmup, run the schedule's decay over the remaining time instead of the
   * remaining steps, so the learning rate is annealed when the budget ends whatever the machine's
   * speed. Not step-deterministic (resume reproduces the curve only without it).
   */
  scheduleByTime?: boolean;
}

export interface TrainerTask<B> {
  model: TrainableModel;
  optimizer: Optimizer<Record<string, number | boolean>>;
  scheduler?: LRScheduler;
  batches: BatchIterator;
  /** Builds a batch from example indices. */
  makeBatch(indices: Int32Array): B;
  /** Optional augmentation: returns a changed batch; must draw randomness only from `rng`. */
  augment?: (batch: B, rng: Generator) => B;
  /** The training loss of a batch and the number of target tokens it covers (for tokens/s). */
  loss(batch: B): { loss: Tensor; tokens: number };
  /** Validation metrics (runs in eval mode, under noGrad). */
  evaluate?: () => Record<string, number> | Promise<Record<string, number>>;
  /**
   * Whether `evaluate` runs its batches in storage scopes (classify.ts: training-sized batches that
   * reuse the step's free buffers). The pool is then kept for it; otherwise it is cleared before
   * evaluating, so that its idle buffers do not sit beside the evaluation's own.
   */
  evaluateReusesPool?: boolean;
  /** Config and extra files written into every checkpoint. */
  checkpoint(): Omit<CheckpointContents, 'weights' | 'optimizer' | 'trainerState' | 'runId'>;
  /**
   * Called before each optimizer step with the number of steps done (gradual unfreezing changes
   * requiresGrad here). Must depend on the step only, so that a resumed run matches.
   */
  beforeStep?: (step: number) => void;
  /** Embedding modules for adversarial training. */
  embeddingModules?: () => import('./adversarial.js').HookableModule[];
  /** Called after every optimizer step with the new step count (gradual pruning re-applies its masks here). */
  afterStep?: (step: number) => void;
}

export interface TrainResult {
  /** Loss of each optimizer step run in this call. */
  losses: number[];
  step: number;
  epoch: number;
  best: number | null;
  bestStep: number | null;
  stoppedBy: 'maxSteps' | 'earlyStopping' | 'interrupt' | 'timeLimit';
  lastEval: Record<string, number> | null;
  seconds: number;
  tokensPerSecond: number;
}

interface TrainerState {
  step: number;
  epoch: number;
  rngState: number[];
  augmentRngState: number[];
  batchState: BatchIteratorState;
  scheduler: { stepCount: number; baseLrs: number[] } | null;
  best: number | null;
  bestStep: number | null;
  badEvals: number;
  runId: string;
}

export class Trainer<B> {
  readonly options: Required<Omit<TrainerOptions, 'adversarial'>> & { adversarial: AdversarialOptions | null };
  step = 0;
  best: number | null = null;
  bestStep: number | null = null;
  private badEvals = 0;
  private readonly augmentRng: Generator;
  private interrupted = false;

  constructor(readonly task: TrainerTask<B>, options: TrainerOptions) {
    this.options = {
      gradAccum: 1, clipNorm: 1, evalEvery: 0, saveEvery: 0, metric: 'loss', metricMode: 'min', patience: 0,
      logEvery: 10, seed: 0, progress: 'auto', adversarial: null, timeLimit: 0, scheduleByTime: false, ...options,
    };
    const o = this.options;
    if (!Number.isInteger(o.maxSteps) || o.maxSteps < 1) throw new ValueError(`Trainer: maxSteps=${o.maxSteps}, expected a positive integer.`);
    if (!Number.isInteger(o.gradAccum) || o.gradAccum < 1) throw new ValueError(`Trainer: gradAccum=${o.gradAccum}, expected a positive integer.`);
    this.augmentRng = new Generator(o.seed + 7919);
  }

  private get lastDir(): string {
    return join(this.options.out, 'last');
  }

  private get metricsPath(): string {
    return join(this.options.out, 'metrics.jsonl');
  }

  private log(record: Record<string, unknown>): void {
    appendFileSync(this.metricsPath, JSON.stringify({ ...record, time: new Date().toISOString() }) + '\n');
  }

  /** Restores weights, optimizer, schedule, RNGs and data position from <out>/last. */
  async resume(): Promise<void> {
    const dir = this.lastDir;
    await recoverCheckpoint(dir); // a save killed mid-swap leaves a complete copy beside last/
    if (!existsSync(dir)) throw new CheckpointError(`--resume: '${dir}' does not exist, so there is nothing to resume. Fix: train without --resume.`);
    const ckpt = await loadCheckpoint(dir);
    try {
      this.task.model.loadStateDict(ckpt.weights, { strict: true });
    } catch (err) {
      throw new CheckpointError(`${join(dir, 'model.safetensors')}: ${(err as Error).message}`);
    }
    const opt: OptimizerStateDict = await loadOptimizerState(dir);
    this.task.optimizer.loadStateDict(opt, join(dir, 'optimizer.safetensors'));
    const st = (await loadTrainerState(dir)) as unknown as TrainerState;
    if (st.runId !== this.options.runId) {
      throw new CheckpointError(`${join(dir, 'trainer_state.json')}: belongs to run ${st.runId}, expected ${this.options.runId}.`);
    }
    this.step = st.step;
    this.best = st.best;
    this.bestStep = st.bestStep;
    this.badEvals = st.badEvals;
    setRngState(st.rngState);
    this.augmentRng.setState(st.augmentRngState);
    this.task.batches.loadState(st.batchState);
    if (this.task.scheduler && st.scheduler) this.task.scheduler.loadStateDict(st.scheduler);
    // Drop metric lines written after this checkpoint (the run died before saving them).
    if (existsSync(this.metricsPath)) {
      const lines = readFileSync(this.metricsPath, 'utf8').split('\n').filter((l) => l !== '');
      const keep = lines.filter((l) => {
        try {
          return (JSON.parse(l).step ?? 0) <= this.step;
        } catch {
          return false;
        }
      });
      writeFileSync(this.metricsPath, keep.map((l) => l + '\n').join(''));
    }
  }

  private trainerState(): TrainerState {
    return {
      step: this.step,
      epoch: this.task.batches.epoch,
      rngState: getRngState(),
      augmentRngState: this.augmentRng.getState(),
      batchState: this.task.batches.state(),
      scheduler: this.task.scheduler ? this.task.scheduler.stateDict() : null,
      best: this.best,
      bestStep: this.bestStep,
      badEvals: this.badEvals,
      runId: this.options.runId,
    };
  }

  /** Saves the resumable checkpoint to <out>/last. */
  async saveLast(): Promise<void> {
    await saveCheckpoint(this.lastDir, {
      ...this.task.checkpoint(),
      runId: this.options.runId,
      weights: this.task.model.stateDict(),
      // Views of the live moments (written before the next step changes them), not a second copy.
      optimizer: this.task.optimizer.stateDict({ copy: false }),
      trainerState: this.trainerState() as unknown as Record<string, unknown>,
    });
  }

  /** Saves the current weights as the run's model (the top of <out>, keeping last/ and metrics.jsonl). */
  async saveBest(): Promise<void> {
    const c = this.task.checkpoint();
    // Written into a sibling directory, then its files are renamed into <out> (config.json last).
    const { rename, readdir, rm } = await import('node:fs/promises');
    const stage = join(this.options.out, '.best-stage');
    await rm(stage, { recursive: true, force: true });
    await saveCheckpoint(stage, { ...c, runId: this.options.runId, weights: this.task.model.stateDict() });
    const names = (await readdir(stage)).sort((a, b) => (a === 'config.json' ? 1 : b === 'config.json' ? -1 : 0));
    for (const n of names) await rename(join(stage, n), join(this.options.out, n));
    await rm(stage, { recursive: true, force: true });
  }

  private improved(value: number): boolean {
    if (!Number.isFinite(value)) return false;
    if (this.best === null) return true;
    return this.options.metricMode === 'min' ? value < this.best : value > this.best;
  }

  private async runEval(): Promise<Record<string, number> | null> {
    if (!this.task.evaluate) return null;
    if (!this.task.evaluateReusesPool) clearStoragePool(); // the training step's free buffers would sit beside the evaluation's own
    this.task.model.eval();
    const metrics = await this.task.evaluate();
    this.task.model.train();
    return metrics;
  }

  /** Runs until maxSteps, early stopping, the time limit or SIGINT. */
  async fit(): Promise<TrainResult> {
    const o = this.options;
    const t0 = Date.now();
    mkdirSync(o.out, { recursive: true });
    const progress = new Progress(o.maxSteps, o.progress, o.logEvery, o.timeLimit);
    // First Ctrl-C (or SIGTERM): finish the step, save <out>/last, return. Second: exit at once.
    const onSigint = () => {
      if (this.interrupted) process.exit(130);
      this.interrupted = true;
      process.stderr.write('\nheed: interrupted; saving a checkpoint after this step (Ctrl-C again to quit without saving)\n');
    };
    process.on('SIGINT', onSigint);
    process.on('SIGTERM', onSigint);
    const losses: number[] = [];
    let tokens = 0;
    let stoppedBy: TrainResult['stoppedBy'] = 'maxSteps';
    let lastEval: Record<string, number> | null = null;
    let lastEpoch = this.task.batches.epoch;
    let warmupEnd = 0;
    let epochLoss = 0;
    let epochSteps = 0;
    const adv = o.adversarial && this.task.embeddingModules ? new AdversarialEmbedding(this.task.embeddingModules(), o.adversarial) : null;
    const trainable = () => this.task.model.namedParameters().map(([, p]) => p).filter((p) => p.requiresGrad);
    let params = trainable();
    this.task.model.train();
    try {
      while (this.step < o.maxSteps) {
        // The step is synchronous: without a turn of the event loop, a real SIGINT/SIGTERM
        // would not reach onSigint until the next evaluation. setImmediate costs ~µs.
        await new Promise((resolve) => setImmediate(resolve));
        if (this.interrupted) {
          stoppedBy = 'interrupt';
          break;
        }
        if (o.timeLimit > 0 && (Date.now() - t0) / 1000 >= o.timeLimit) {
          stoppedBy = 'timeLimit';
          break;
        }
        if (this.task.beforeStep) {
          this.task.beforeStep(this.step);
          params = trainable();
        }
        // The step's buffers go back to the tensor pool after the optimizer step (step-memory.ts):
        // the next step reuses them. What the task (model, optimizer) keeps stays live.
        const scope = stepScope(this.task, adv);
        let stepLoss = 0;
        let norm: number;
        try {
          this.task.optimizer.zeroGrad();
          for (let micro = 0; micro < o.gradAccum; micro++) {
            let batch = this.task.makeBatch(this.task.batches.next());
            if (this.task.augment) batch = this.task.augment(batch, this.augmentRng);
            const lossOf = () => {
              const r = this.task.loss(batch);
              tokens += r.tokens;
              return r.loss;
            };
            const value = adv ? adv.step(lossOf, 1 / o.gradAccum, params) : backwardScaled(lossOf(), 1 / o.gradAccum);
            stepLoss += value / o.gradAccum;
          }
          norm = o.clipNorm > 0 ? clipGradNorm(params, o.clipNorm) : gradNorm(params);
          if (!Number.isFinite(stepLoss) || !Number.isFinite(norm)) {
            const what = !Number.isFinite(stepLoss) ? `loss became ${stepLoss}` : `gradient norm became ${norm}`;
            this.log({ type: 'error', step: this.step + 1, error: what });
            throw new NumericalError(
              `train: ${what} at step ${this.step + 1} (lr ${this.task.optimizer.lr.toExponential(2)}). The last good checkpoint is ${existsSync(this.lastDir) ? `'${this.lastDir}'` : 'not saved yet'}. ` +
                'Fix: lower the learning rate (--lr), keep gradient clipping on (--clip-norm 1), or lengthen warmup (--warmup-steps).',
            );
          }
          this.task.optimizer.step();
          this.task.scheduler?.step();
        } catch (err) {
          scope.abandon();
          throw err;
        }
        scope.close();
        this.step++;
        this.task.afterStep?.(this.step);
        if (o.scheduleByTime && o.timeLimit > 0 && this.task.scheduler) {
          const sch = this.task.scheduler;
          const warmup = sch.options.warmupSteps ?? 0;
          const total = sch.options.totalSteps ?? o.maxSteps;
          const elapsedNow = (Date.now() - t0) / 1000;
          if (this.step === warmup) warmupEnd = elapsedNow;
          if (this.step > warmup) {
            const frac = Math.min(1, (elapsedNow - warmupEnd) / Math.max(1e-9, o.timeLimit - warmupEnd));
            sch.setStep(warmup + frac * (total - warmup));
          }
        }
        losses.push(stepLoss);
        epochLoss += stepLoss;
        epochSteps++;
        const elapsed = (Date.now() - t0) / 1000;
        const tps = tokens / Math.max(elapsed, 1e-9);
        progress.update(this.step, { loss: stepLoss, tokensPerSecond: tps, lr: this.task.optimizer.lr });
        if (this.step % o.logEvery === 0 || this.step === o.maxSteps) {
          this.log({ type: 'step', step: this.step, epoch: this.task.batches.epoch, loss: stepLoss, lr: this.task.optimizer.lr, gradNorm: norm, tokensPerSecond: Math.round(tps) });
        }
        if (this.task.batches.epoch !== lastEpoch) {
          this.log({ type: 'epoch', step: this.step, epoch: lastEpoch, meanLoss: epochLoss / Math.max(epochSteps, 1) });
          lastEpoch = this.task.batches.epoch;
          epochLoss = 0;
          epochSteps = 0;
        }
        const evalNow = o.evalEvery > 0 && this.step % o.evalEvery === 0 && this.step < o.maxSteps;
        if (evalNow) {
          progress.pause();
          const stop = await this.evaluateAndSave();
          lastEval = stop.metrics;
          progress.resume();
          if (stop.stop) {
            stoppedBy = 'earlyStopping';
            break;
          }
        } else if (o.saveEvery > 0 && this.step % o.saveEvery === 0) {
          await this.saveLast();
        }
      }
      progress.done();
      if (stoppedBy === 'interrupt') {
        await this.saveLast();
      } else if (stoppedBy !== 'earlyStopping') {
        const r = await this.evaluateAndSave();
        lastEval = r.metrics ?? lastEval;
      }
    } finally {
      process.off('SIGINT', onSigint);
      process.off('SIGTERM', onSigint);
      adv?.remove();
    }
    const seconds = (Date.now() - t0) / 1000;
    return {
      losses, step: this.step, epoch: this.task.batches.epoch, best: this.best, bestStep: this.bestStep, stoppedBy, lastEval, seconds,
      tokensPerSecond: tokens / Math.max(seconds, 1e-9),
    };
  }

  /** Evaluates, saves the best model when the metric improved, saves last/; says whether to stop. */
  private async evaluateAndSave(): Promise<{ stop: boolean; metrics: Record<string, number> | null }> {
    const metrics = await this.runEval();
    let stop = false;
    if (metrics !== null) {
      const value = metrics[this.options.metric];
      if (value === undefined) {
        throw new ValueError(`Trainer: metric '${this.options.metric}' is not among the validation metrics (${Object.keys(metrics).join(', ')}). Fix: set --metric to one of them.`);
      }
      const better = this.improved(value);
      if (better) {
        this.best = value;
        this.bestStep = this.step;
        this.badEvals = 0;
        await this.saveBest();
      } else {
        this.badEvals++;
        stop = this.options.patience > 0 && this.badEvals >= this.options.patience;
      }
      this.log({ type: 'eval', step: this.step, epoch: this.task.batches.epoch, ...metrics, best: this.best, improved: better });
    } else {
      this.best = null;
      await this.saveBest();
    }
    await this.saveLast();
    return { stop, metrics };
  }
}

/** Backpropagates loss · scale and returns the unscaled loss value. */
function backwardScaled(loss: Tensor, scale: number): number {
  const value = loss.item();
  if (!Number.isFinite(value)) return value;
  backward(scale === 1 ? loss : mul(loss, scale));
  return value;
}
