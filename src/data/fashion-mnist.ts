/**
 * Fashion-MNIST (Xiao, Rasul & Vollgraf 2017; Zalando, MIT licence): 70,000 28×28 grey images
 * of ten clothing classes, 60,000 for training and 10,000 for test.
 *
 * Source: Debian's `dataset-fashion-mnist` package (/usr/share/datasets/fashion-mnist/, the
 * original gzipped IDX files); `.ci/run` installs it. `HEED_FASHION_MNIST_DIR` or `{ dir }`
 * points elsewhere.
 *
 * Split: the official test set is the test split. The 60,000 training images are split once
 * into 55,000 train and 5,000 valid, stratified (500 per class), by one generator seeded with 0
 * (xoshiro128**, src/tensor/rng.ts); each split keeps ascending file order. Choose models on
 * valid; report test once.
 *
 * Images are (N, 784) Float32Array scaled to [0, 1]; labels (N,) Int32Array.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ValueError } from '../errors.js';
import { Generator } from '../tensor/rng.js';
import { shuffleInPlace } from './batching.js';
import { readIdx } from './idx.js';
import { Tensor } from '../tensor/tensor.js';

export const FASHION_SIDE = 28;
export const FASHION_PIXELS = FASHION_SIDE * FASHION_SIDE;
export const FASHION_CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];
export const FASHION_DEBIAN_DIR = '/usr/share/datasets/fashion-mnist';

export interface ImageSet {
  /** (N, H·W) row-major, values in [0, 1]. */
  images: Float32Array;
  /** (N,) class ids. */
  labels: Int32Array;
}

export interface FashionMnist {
  train: ImageSet;
  valid: ImageSet;
  test: ImageSet;
}

const FILES = {
  trainImages: 'train-images-idx3-ubyte.gz', trainLabels: 'train-labels-idx1-ubyte.gz',
  testImages: 't10k-images-idx3-ubyte.gz', testLabels: 't10k-labels-idx1-ubyte.gz',
};

/** The directory holding the four IDX files: the option, then HEED_FASHION_MNIST_DIR, then Debian's. */
export function fashionMnistDir(dir?: string): string {
  const d = dir ?? process.env.HEED_FASHION_MNIST_DIR ?? FASHION_DEBIAN_DIR;
  const missing = Object.values(FILES).filter((f) => !existsSync(join(d, f)));
  if (missing.length > 0) {
    throw new ValueError(`Fashion-MNIST: ${missing.join(', ')} not found in ${d}. Fix: apt-get install dataset-fashion-mnist (Debian), or set HEED_FASHION_MNIST_DIR to a directory with the four gzipped IDX files.`);
  }
  return d;
}

/** Reads one images/labels pair and checks that they agree. */
export function readImageSet(imagesPath: string, labelsPath: string, numClasses = FASHION_CLASSES.length): ImageSet {
  const im = readIdx(imagesPath), lb = readIdx(labelsPath);
  if (im.shape.length !== 3) throw new ValueError(`${imagesPath}: IDX images have dims ${im.shape.join('×')}, expected 3 (N × H × W).`);
  if (lb.shape.length !== 1 || lb.shape[0] !== im.shape[0]) {
    throw new ValueError(`${labelsPath}: ${lb.shape.join('×')} labels for ${im.shape[0]} images in ${imagesPath}; expected one label per image.`);
  }
  const bad = lb.data.findIndex((l) => l >= numClasses);
  if (bad >= 0) throw new ValueError(`${labelsPath}: label ${bad} is ${lb.data[bad]}, expected 0..${numClasses - 1}.`);
  const images = new Float32Array(im.data.length); // a plain loop: Float32Array.from with a map function is ~15× slower here
  for (let i = 0; i < images.length; i++) images[i] = im.data[i] / 255;
  return { images, labels: Int32Array.from(lb.data) };
}

/** The rows `rows` of a set, in that order. */
export function subsetImages(set: ImageSet, rows: ArrayLike<number>): ImageSet {
  const P = set.images.length / Math.max(set.labels.length, 1);
  const images = new Float32Array(rows.length * P);
  const labels = new Int32Array(rows.length);
  for (let i = 0; i < rows.length; i++) {
    images.set(set.images.subarray(rows[i] * P, (rows[i] + 1) * P), i * P);
    labels[i] = set.labels[rows[i]];
  }
  return { images, labels };
}

/** The images at `rows` of a set as one model batch (B, 1, 28, 28). */
export function fashionBatch(set: ImageSet, rows: ArrayLike<number>): Tensor {
  const x = new Float32Array(rows.length * FASHION_PIXELS); // (B, 784)
  for (let b = 0; b < rows.length; b++) x.set(set.images.subarray(rows[b] * FASHION_PIXELS, (rows[b] + 1) * FASHION_PIXELS), b * FASHION_PIXELS);
  return new Tensor(x, [rows.length, 1, FASHION_SIDE, FASHION_SIDE]);
}

/** Loads Fashion-MNIST with the fixed train/valid split of the header. */
export function loadFashionMnist(options: { dir?: string; validPerClass?: number } = {}): FashionMnist {
  const dir = fashionMnistDir(options.dir);
  const full = readImageSet(join(dir, FILES.trainImages), join(dir, FILES.trainLabels));
  const test = readImageSet(join(dir, FILES.testImages), join(dir, FILES.testLabels));
  const perClass = options.validPerClass ?? 500;
  const rng = new Generator(0);
  const train: number[] = [], valid: number[] = [];
  for (let c = 0; c < FASHION_CLASSES.length; c++) {
    const rows: number[] = [];
    full.labels.forEach((l, i) => l === c && rows.push(i));
    shuffleInPlace(rows, rng);
    valid.push(...rows.slice(0, perClass));
    train.push(...rows.slice(perClass));
  }
  const asc = (r: number[]) => r.sort((a, b) => a - b);
  return { train: subsetImages(full, asc(train)), valid: subsetImages(full, asc(valid)), test };
}
