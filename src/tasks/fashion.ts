/**
 * Fashion-MNIST: a CNN with attention (src/models/cnn.ts) on 28×28 clothing images, ten classes;
 * or, with `architecture: 'vit'`, a Vision Transformer on 4×4 patches for the comparison.
 *
 * Data (src/data/fashion-mnist.ts): 55,000 train / 5,000 valid (stratified, fixed) / the official
 * 10,000 test, pixels scaled to [0, 1]. Augmentation: random shifts of up to `augmentShift`
 * pixels (RandomCrop with padding) and left–right flips with probability `augmentFlip`.
 * Target: ≥ 92% test accuracy in ≤ 10 minutes of training on 2 cores (`timeLimit: 600` with
 * `scheduleByTime` stretches the learning-rate schedule over the time budget).
 *
 * Predictor input: 784 grey levels 0..255 in row-major order, as an array (flat or 28 rows of 28)
 * or a string of comma/space-separated numbers.
 *
 * Letters: B images, 28×28 pixels.
 */
import { CnnClassifier, CNN_ATTENTION, type CnnAttention } from '../models/cnn.js';
import { ViT } from '../models/vit.js';
import { loadFashionMnist, fashionBatch, FASHION_CLASSES, FASHION_PIXELS, FASHION_SIDE, type ImageSet } from '../data/fashion-mnist.js';
import { shiftImages, flipImages } from '../data/image-augment.js';
import { Tensor } from '../tensor/tensor.js';
import { manualSeed } from '../tensor/rng.js';
import { loadCheckpoint } from '../io/checkpoint.js';
import { ValueError } from '../errors.js';
import type { ConfigSchema } from '../models/config.js';
import {
  evaluateClassifierSplit, loadClassifierPredictor, trainClassifier, type ClassifierData, type ClassifierMember, type ClassifierModel,
  type ClassifierPredictor,
} from './classify.js';
import {
  TRAIN_SCHEMA, TRAIN_DEFAULTS, buildCheckpointModel, resolveTaskConfig, type ModelDirs, type TrainConfig, type TaskSpec, type TaskDefinition, type RunOptions,
  type EvalResult,
} from './common.js';

export const FASHION_ARCHITECTURES = ['cnn', 'vit'] as const;

export interface FashionConfig extends TrainConfig {
  architecture: (typeof FASHION_ARCHITECTURES)[number];
  /** CNN: the attention module of each stage ('none' is the plain-CNN baseline). */
  attention: CnnAttention;
  /** CNN: channels of the first stage; ViT: dModel. */
  width: number;
  /** CNN: stages (each halves the image); ViT: encoder layers. */
  depth: number;
  /** ViT: patch side (it must divide 28). */
  patchSize: number;
  numHeads: number;
  batchSize: number;
  augmentShift: number;
  augmentFlip: number;
  /** Use only the first n training images (0 = all); for quick runs and tests. */
  trainLimit: number;
}

export const FASHION_SCHEMA: ConfigSchema<FashionConfig> = {
  ...TRAIN_SCHEMA,
  architecture: FASHION_ARCHITECTURES, attention: CNN_ATTENTION, width: 'number', depth: 'number', patchSize: 'number', numHeads: 'number',
  batchSize: 'number', augmentShift: 'number', augmentFlip: 'number', trainLimit: 'number',
};

export const FASHION_DEFAULTS: Readonly<FashionConfig> = Object.freeze({
  ...TRAIN_DEFAULTS,
  architecture: 'cnn',
  attention: 'cbam',
  width: 32,
  depth: 2,
  patchSize: 4, // ViT: 49 tokens of 4×4 pixels
  numHeads: 4,
  batchSize: 128,
  augmentShift: 2,
  augmentFlip: 0.5, // clothes are left–right symmetric; digits would not be
  trainLimit: 0,
  lr: 3e-3,
  warmupSteps: 100,
  weightDecay: 0.05,
  labelSmoothing: 0.1,
  dropout: 0.2,
  maxSteps: 4000, // ≈ 9 epochs of 430 batches
  evalEvery: 500,
});

const SPEC: TaskSpec<FashionConfig> = {
  name: 'fashion', summary: 'Fashion-MNIST with a CNN + attention (or a ViT); metric accuracy', schema: FASHION_SCHEMA, defaults: FASHION_DEFAULTS,
  metric: 'accuracy', metricMode: 'max',
};

function dataOf(set: ImageSet): ClassifierData {
  return { labels: set.labels, inputs: (idx) => ({ x: fashionBatch(set, idx), tokens: idx.length }) };
}

/** The model config for the task config: a CnnClassifier's or a ViT's. */
function modelConfig(c: FashionConfig): Record<string, unknown> {
  const numClasses = FASHION_CLASSES.length;
  if (c.architecture === 'vit') {
    return { numClasses, imageSize: FASHION_SIDE, patchSize: c.patchSize, inChannels: 1, dModel: c.width, numHeads: c.numHeads, numLayers: c.depth, dimFeedforward: 2 * c.width, dropout: c.dropout };
  }
  return { numClasses, imageSize: FASHION_SIDE, inChannels: 1, width: c.width, stages: c.depth, attention: c.attention, numHeads: c.numHeads, dropout: c.dropout };
}

function buildModel(architecture: string, config: Record<string, unknown>): CnnClassifier | ViT {
  return architecture === 'vit' ? ViT.fromConfig(config) : CnnClassifier.fromConfig(config);
}

async function train(user: Record<string, unknown>, run: RunOptions) {
  const c = resolveTaskConfig(SPEC, user);
  const data = loadFashionMnist();
  const trainSet = c.trainLimit > 0 ? { images: data.train.images.subarray(0, c.trainLimit * FASHION_PIXELS), labels: data.train.labels.subarray(0, c.trainLimit) } : data.train;
  manualSeed(c.seed);
  const model = buildModel(c.architecture, modelConfig(c));
  const what = c.architecture === 'vit' ? `ViT (d=${c.width}, ${c.depth} layers, ${c.patchSize}×${c.patchSize} patches)` : `CNN (width ${c.width}, ${c.depth} stages, attention ${c.attention})`;
  (run.print ?? console.log)(`fashion: ${trainSet.labels.length} training images; ${what}, ${model.numParameters().toLocaleString('en-US')} parameters`);
  return trainClassifier({
    spec: SPEC as unknown as TaskSpec<TrainConfig>, config: c, model: model as unknown as ClassifierModel,
    train: dataOf(trainSet), valid: dataOf(data.valid), names: FASHION_CLASSES,
    checkpoint: () => ({ task: 'fashion', config: { ...c, model: model.toConfig() } as Record<string, unknown> }),
    augment: (b, rng) => {
      let x = b.x;
      if (c.augmentShift > 0) x = shiftImages(x, c.augmentShift, rng);
      if (c.augmentFlip > 0) x = flipImages(x, c.augmentFlip, rng);
      return { ...b, x };
    },
  }, run);
}

/** Parses and checks one input image; returns 784 values scaled to [0, 1]. */
export function parseFashionImage(input: unknown): Float32Array {
  let values: unknown[];
  if (typeof input === 'string') {
    if (input.trim() === '') throw new ValueError('fashion: received an empty input. Fix: pass 784 grey levels 0..255 (28×28, row-major), comma- or space-separated.');
    values = input.trim().split(/[\s,]+/).map(Number);
  } else if (Array.isArray(input)) {
    values = (input as unknown[]).flat();
  } else {
    throw new ValueError(`fashion: input must be 784 grey levels (an array or a string of numbers), received ${input === null ? 'null' : typeof input}.`);
  }
  if (values.length !== FASHION_PIXELS) throw new ValueError(`fashion: input has ${values.length} values, expected 784 (a 28×28 image, row-major).`);
  const bad = values.findIndex((v) => typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 255);
  if (bad >= 0) throw new ValueError(`fashion: value ${bad} is ${JSON.stringify(values[bad])}, expected a grey level in [0, 255].`);
  return Float32Array.from(values as number[], (v) => v / 255);
}

async function loadModel(dir: string): Promise<{ model: CnnClassifier | ViT; config: Record<string, unknown> }> {
  const ck = await loadCheckpoint(dir, 'fashion');
  const architecture = ck.config.architecture === 'vit' ? 'vit' : 'cnn';
  const model = buildCheckpointModel(ck, architecture === 'vit' ? 'ViT' : 'CnnClassifier', (m) => buildModel(architecture, m));
  return { model, config: ck.config };
}

/** Loads a fashion model directory, or several as a checkpoint ensemble (class probabilities averaged). */
export async function loadFashionPredictor(dir: ModelDirs): Promise<ClassifierPredictor<Float32Array>> {
  return loadImageClassifierPredictor('fashion', dir, loadModel);
}

/** A Predictor over 28×28 Fashion-MNIST classifiers (the fashion and continual tasks share it). */
export async function loadImageClassifierPredictor(task: string, dir: ModelDirs, load: (dir: string) => Promise<{ model: CnnClassifier | ViT; config: Record<string, unknown> }>,
): Promise<ClassifierPredictor<Float32Array>> {
  return loadClassifierPredictor(task, dir, FASHION_CLASSES, load, ({ model }): ClassifierMember<Float32Array> => ({
    model: model as unknown as ClassifierModel,
    encode: (inputs) => {
      const items = inputs.map(parseFashionImage);
      const x = new Float32Array(items.length * FASHION_PIXELS);
      items.forEach((im, b) => x.set(im, b * FASHION_PIXELS));
      return { x: new Tensor(x, [items.length, 1, FASHION_SIDE, FASHION_SIDE]), items };
    },
    tokenLabels: () => tokenLabels(model),
  }));
}

/** Attention-map labels: the ViT's class token and patches, or the hybrid CNN's positions. */
function tokenLabels(model: CnnClassifier | ViT): string[] {
  if (model instanceof ViT) {
    const side = model.config.imageSize / model.config.patchSize;
    return ['<cls>', ...Array.from({ length: side * side }, (_, i) => `p${Math.floor(i / side)},${i % side}`)];
  }
  const side = model.config.imageSize / 2 ** model.config.stages;
  return Array.from({ length: side * side }, (_, i) => `p${Math.floor(i / side)},${i % side}`);
}

/** Scores a model directory, or a checkpoint ensemble of several, on a split. */
function evaluate(dir: ModelDirs, o: { split: string; limit?: number }): Promise<EvalResult> {
  return evaluateClassifierSplit('fashion', dir, o, FASHION_CLASSES, loadModel, () => loadFashionMnist(), dataOf);
}

export const FASHION_TASK: TaskDefinition = {
  spec: SPEC as unknown as TaskSpec<TrainConfig>,
  train,
  evaluate,
  loadPredictor: loadFashionPredictor,
};
