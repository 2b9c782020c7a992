/**
 * Digits: a Vision Transformer on the UCI optical digits (8×8 grey levels 0..16, ten classes).
 *
 * Data (src/data/digits.ts): stratified fixed split 1,438 / 179 / 180 images, pixels scaled to
 * [0, 1]. The images are tiny, so the ViT cuts them into 2×2 patches (16 tokens + CLS).
 * Augmentation (`augmentShift`): each training image is shifted by up to that many pixels in x
 * and y, zero-filled — the cheapest way to make 1.4k images go further. Target: ≥ 97% accuracy.
 *
 * Predictor input: 64 grey levels 0..16 in row-major order, as an array (flat or 8 rows of 8) or
 * a string of 64 comma/space-separated numbers (what `heed predict` passes).
 *
 * Letters: B images, 8×8 pixels.
 */
import { ViT } from '../models/vit.js';
import { shiftImages } from '../data/image-augment.js';
import { loadDigits, DIGITS_PIXELS, type DigitsSet } from '../data/digits.js';
import { Tensor } from '../tensor/tensor.js';
import { loadCheckpoint } from '../io/checkpoint.js';
import { ValueError } from '../errors.js';
import type { ConfigSchema } from '../models/config.js';
import { distillSettings, type DistillSettings } from './distill.js';
import type { ClassifierCompressionSetup } from './prune-classifier.js';
import {
  evaluateClassifierSplit, loadClassifierPredictor, trainClassifier, type ClassifierData, type ClassifierMember, type ClassifierModel,
  type ClassifierPredictor,
} from './classify.js';
import {
  TRAIN_SCHEMA, TRAIN_DEFAULTS, buildCheckpointModel, resolveTaskConfig, type ModelDirs, type TrainConfig, type TaskSpec, type TaskDefinition, type TaskModel, type RunOptions,
  type EvalResult,
} from './common.js';

export interface DigitsConfig extends TrainConfig {
  dModel: number;
  numHeads: number;
  numLayers: number;
  dimFeedforward: number;
  patchSize: number;
  batchSize: number;
  /** Random shift of training images by up to this many pixels (0 = off). */
  augmentShift: number;
}

export const DIGITS_SCHEMA: ConfigSchema<DigitsConfig> = {
  ...TRAIN_SCHEMA,
  dModel: 'number', numHeads: 'number', numLayers: 'number', dimFeedforward: 'number', patchSize: 'number', batchSize: 'number', augmentShift: 'number',
};

export const DIGITS_DEFAULTS: Readonly<DigitsConfig> = Object.freeze({
  ...TRAIN_DEFAULTS,
  dModel: 64, // 1.4k images: small model
  numHeads: 4,
  numLayers: 3,
  dimFeedforward: 128,
  patchSize: 2, // 16 tokens of 2×2 pixels
  batchSize: 64,
  augmentShift: 1,
  lr: 2e-3,
  warmupSteps: 100,
  weightDecay: 0.05,
  maxSteps: 2500, // ≈ 110 epochs of 22 batches; a few minutes on 2 cores
  evalEvery: 250,
});

const SPEC: TaskSpec<DigitsConfig> = {
  name: 'digits', summary: 'UCI 8×8 digits with a Vision Transformer; metric accuracy', schema: DIGITS_SCHEMA, defaults: DIGITS_DEFAULTS,
  metric: 'accuracy', metricMode: 'max', distills: true,
};

const NAMES = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];

function dataOf(set: DigitsSet): ClassifierData {
  return {
    labels: set.labels,
    inputs: (idx) => {
      const x = new Float32Array(idx.length * DIGITS_PIXELS); // (B, 64)
      idx.forEach((i, b) => x.set(set.images.subarray(i * DIGITS_PIXELS, (i + 1) * DIGITS_PIXELS), b * DIGITS_PIXELS));
      return { x: new Tensor(x, [idx.length, 1, 8, 8]), tokens: idx.length };
    },
  };
}

/** Each image shifted by up to s pixels, zero-filled (the one implementation: data/image-augment.ts). */
export { shiftImages };

function modelConfig(c: DigitsConfig): Record<string, unknown> {
  return { numClasses: 10, imageSize: 8, patchSize: c.patchSize, inChannels: 1, dModel: c.dModel, numHeads: c.numHeads, numLayers: c.numLayers, dimFeedforward: c.dimFeedforward, dropout: c.dropout };
}

async function train(user: Record<string, unknown>, run: RunOptions) {
  const c = resolveTaskConfig(SPEC, user);
  const data = loadDigits();
  const { manualSeed } = await import('../tensor/rng.js');
  manualSeed(c.seed);
  const model = ViT.fromConfig(modelConfig(c));
  (run.print ?? console.log)(`digits: ${data.train.labels.length} training images; ViT ${model.numParameters().toLocaleString('en-US')} parameters (d=${c.dModel}, ${c.numLayers} layers, ${c.patchSize}×${c.patchSize} patches)`);
  return trainClassifier({
    spec: SPEC as unknown as TaskSpec<TrainConfig>, config: c, model: model as unknown as ClassifierModel,
    train: dataOf(data.train), valid: dataOf(data.valid), names: NAMES,
    checkpoint: () => ({ task: 'digits', config: { ...c, model: model.toConfig() } as Record<string, unknown> }),
    augment: c.augmentShift > 0 ? (b, rng) => ({ ...b, x: shiftImages(b.x, c.augmentShift, rng) }) : undefined,
    embeddingModules: () => [model.patchEmbed],
    teacher: await digitsTeacher(c),
  }, run);
}

/** A trained digits model with its training and validation data, for compression tools (prune-classifier.ts). */
export async function digitsCompressionSetup(dir: string): Promise<ClassifierCompressionSetup> {
  const { model, config } = await loadModel(dir);
  const data = loadDigits();
  const c = resolveTaskConfig(SPEC, Object.fromEntries(Object.entries(config).filter(([k]) => k !== 'model')));
  return {
    spec: SPEC as unknown as TaskSpec<TrainConfig>, config: c, model: model as unknown as ClassifierModel, names: NAMES,
    train: dataOf(data.train), valid: dataOf(data.valid),
    checkpoint: () => ({ task: 'digits', config: { ...c, model: model.toConfig() } as Record<string, unknown> }),
  };
}

/** The teacher of a distilled digits student (same task; images need no vocabulary check). */
async function digitsTeacher(c: DigitsConfig): Promise<{ model: ClassifierModel; settings: DistillSettings } | undefined> {
  const settings = distillSettings(c);
  if (settings === null) return undefined;
  return { model: (await loadModel(settings.teacherDir)).model as unknown as ClassifierModel, settings };
}

/** Parses and checks one input image; returns 64 values scaled to [0, 1]. */
export function parseImage(input: unknown): Float32Array {
  let values: unknown[];
  if (typeof input === 'string') {
    if (input.trim() === '') throw new ValueError('digits: received an empty input. Fix: pass 64 grey levels 0..16, comma- or space-separated.');
    values = input.trim().split(/[\s,]+/).map((s) => (s === '' ? NaN : Number(s)));
  } else if (Array.isArray(input)) {
    values = (input as unknown[]).flat();
  } else {
    throw new ValueError(`digits: input must be 64 grey levels (an array or a string of numbers), received ${typeof input}.`);
  }
  if (values.length !== DIGITS_PIXELS) throw new ValueError(`digits: input has ${values.length} values, expected 64 (an 8×8 image, row-major).`);
  const bad = values.findIndex((v) => typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 16);
  if (bad >= 0) throw new ValueError(`digits: value ${bad} is ${JSON.stringify(values[bad])}, expected a grey level in [0, 16].`);
  return Float32Array.from(values as number[], (v) => v / 16);
}

async function loadModel(dir: string): Promise<{ model: ViT; config: Record<string, unknown> }> {
  const ck = await loadCheckpoint(dir, 'digits');
  const model = buildCheckpointModel(ck, 'ViT', (c) => ViT.fromConfig(c));
  return { model, config: ck.config };
}

/** The model of a digits directory, with a blank 8×8 image as its input. */
async function loadTaskModel(dir: string): Promise<TaskModel> {
  const { model } = await loadModel(dir);
  return { model, sampleInputs: [new Tensor(new Float32Array(DIGITS_PIXELS), [1, 1, 8, 8])] };
}

/** Loads a digits model directory, or several as a checkpoint ensemble (class probabilities averaged). */
export async function loadDigitsPredictor(dir: ModelDirs): Promise<ClassifierPredictor<Float32Array>> {
  return loadClassifierPredictor('digits', dir, NAMES, loadModel, ({ model, config }): ClassifierMember<Float32Array> => {
    const patches = Number((config.model as Record<string, unknown>).patchSize ?? 2);
    const labels = ['<cls>', ...Array.from({ length: (8 / patches) ** 2 }, (_, i) => `p${Math.floor(i / (8 / patches))},${i % (8 / patches)}`)];
    return {
      model: model as unknown as ClassifierModel,
      encode: (inputs) => {
        const items = inputs.map(parseImage);
        const x = new Float32Array(items.length * DIGITS_PIXELS);
        items.forEach((im, b) => x.set(im, b * DIGITS_PIXELS));
        return { x: new Tensor(x, [items.length, 1, 8, 8]), items };
      },
      tokenLabels: () => labels,
    };
  });
}

/** Scores a model directory, or a checkpoint ensemble of several, on a split. */
function evaluate(dir: ModelDirs, o: { split: string; limit?: number }): Promise<EvalResult> {
  return evaluateClassifierSplit('digits', dir, o, NAMES, loadModel, () => loadDigits(), dataOf);
}

export const DIGITS_TASK: TaskDefinition = {
  spec: SPEC as unknown as TaskSpec<TrainConfig>,
  train,
  evaluate,
  loadPredictor: loadDigitsPredictor,
  loadModel: loadTaskModel,
};
