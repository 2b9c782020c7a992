/**
 * Recommend: next-item recommendation with SASRec on MovieTweetings 100K (`heed train recommend`).
 *
 * Data (src/data/movietweetings.ts): SASRec's preparation and leave-one-out split, read in place
 * from `--data-dir` (or $HEED_RECSYS_DIR). Training reads only the train parts: each user's train
 * sequence s gives inputs s[0..n−2] and targets s[1..n−1], with one negative per position drawn
 * from the items the user never had in train (SASRec's sampler; drawn from the Trainer's resumable
 * augmentation generator, so a resumed run draws the same negatives). `objective: 'softmax'`
 * scores all items instead.
 *
 * Validation (every evalEvery steps; picks the best checkpoint on NDCG@10): SASRec's protocol, the
 * validation item against 100 sampled negatives, plus full ranking (src/train/next-item-eval.ts).
 * `heed eval <dir> --split test` reads train + validation and ranks the test item, and also
 * reports the cold users: those whose test item had fewer than `coldThreshold` train interactions.
 *
 * `fusion: 'attention'` adds the items' titles and genres (src/models/item-side-fusion.ts);
 * `idDropout` and `contentOnlyBelow` make rare items lean on them (see src/models/sasrec.ts). The
 * item counts that contentOnlyBelow reads are the train parts' (trainItemCounts), never a
 * validation or test item.
 *
 * The model directory holds `items.vocab.json` (each item's IMDb id, title, genres and train count), so
 * predict and serve need no data files (recommend-predictor.ts).
 */
import { SASRec, padHistories, type SASRecBatch } from '../models/sasrec.js';
import { loadMovieTweetings, trainItemCounts, type MovieTweetings } from '../data/movietweetings.js';
import { buildTitleVocab, encodeGenres, encodeTitles, genreNames } from '../data/item-features.js';
import { sampleNegative } from '../data/negative-sampling.js';
import { BatchIterator } from '../data/batching.js';
import { rankNextItems, summarizeRanks, type NextItemScorer } from '../train/next-item-eval.js';
import { Trainer } from '../train/trainer.js';
import { Tensor } from '../tensor/tensor.js';
import { manualSeed, type Generator } from '../tensor/rng.js';
import { noGrad } from '../autograd/mode.js';
import { loadCheckpoint, CONFIG_FILE } from '../io/checkpoint.js';
import { CheckpointError, ConfigError, NotImplementedError, ValueError } from '../errors.js';
import type { ConfigSchema } from '../models/config.js';
import {
  TRAIN_SCHEMA, TRAIN_DEFAULTS, buildCheckpointModel, makeOptimizer, makeScheduler, modelDirList, resolveTaskConfig, trainerOptions,
  type ModelDirs, type TrainConfig, type TaskSpec, type TaskDefinition, type RunOptions, type EvalResult, type TrainSummary,
} from './common.js';
import { ITEMS_FILE, RecommendPredictor, catalogueOf, readCatalogue, type Catalogue } from './recommend-predictor.js';

export interface RecommendConfig extends TrainConfig {
  /** Folder holding the MovieTweetings .dat.gz files; '' = $HEED_RECSYS_DIR. */
  dataDir: string;
  maxLen: number;
  dModel: number;
  numHeads: number;
  numLayers: number;
  dimFeedforward: number;
  /** 'none' = ID embeddings only (SASRec); 'attention' = fuse titles and genres. */
  fusion: 'none' | 'attention';
  titleLayers: number;
  titleMaxLen: number;
  /** Fusion only: probability of zeroing an item's ID embedding per training step (item-ID dropout). */
  idDropout: number;
  /** Fusion only: at evaluation, items with fewer train interactions than this are represented by title and genres alone. */
  contentOnlyBelow: number;
  /** Apply contentOnlyBelow in training too (measured worse for cold items). */
  contentOnlyInTraining: boolean;
  /** 'bce' = SASRec's one sampled negative per position; 'softmax' = all items. */
  objective: 'bce' | 'softmax';
  batchSize: number;
  /** Negatives per user in the sampled protocol (SASRec: 100). */
  evalNegatives: number;
  /** Seed of the protocol's negatives (fixed across models so they are ranked on the same draws). */
  evalSeed: number;
  /** An item with fewer train interactions than this is "cold" in the report. */
  coldThreshold: number;
}

export const RECOMMEND_SCHEMA: ConfigSchema<RecommendConfig> = {
  ...TRAIN_SCHEMA,
  dataDir: 'string', maxLen: 'number', dModel: 'number', numHeads: 'number', numLayers: 'number', dimFeedforward: 'number',
  fusion: ['none', 'attention'], titleLayers: 'number', titleMaxLen: 'number', idDropout: 'number', contentOnlyBelow: 'number', contentOnlyInTraining: 'boolean', objective: ['bce', 'softmax'], batchSize: 'number',
  evalNegatives: 'number', evalSeed: 'number', coldThreshold: 'number',
};

export const RECOMMEND_DEFAULTS: Readonly<RecommendConfig> = Object.freeze({
  ...TRAIN_DEFAULTS,
  dataDir: '',
  maxLen: 50, // SASRec's default for sparse data
  dModel: 64,
  numHeads: 1,
  numLayers: 2,
  dimFeedforward: 64,
  fusion: 'none',
  titleLayers: 0, // bag of words: a Transformer over all titles at every step costs ~10× the step
  titleMaxLen: 12,
  idDropout: 0,
  contentOnlyBelow: 0,
  contentOnlyInTraining: false,
  objective: 'bce',
  batchSize: 128, // SASRec's batch size
  evalNegatives: 100,
  evalSeed: 0,
  coldThreshold: 10, // on MovieTweetings ~13% of test items have < 10 train interactions
  dropout: 0.5, // SASRec's rate for sparse data
  lr: 1e-3, // SASRec's
  weightDecay: 0,
  labelSmoothing: 0,
  warmupSteps: 100,
  maxSteps: 3000, // ≈ 80 epochs of 37 batches
  evalEvery: 250,
  logEvery: 50,
});

const SPEC: TaskSpec<RecommendConfig> = {
  name: 'recommend', summary: 'next-item recommendation with SASRec on MovieTweetings; metric NDCG@10 (100 sampled negatives)',
  schema: RECOMMEND_SCHEMA, defaults: RECOMMEND_DEFAULTS, metric: 'ndcg10', metricMode: 'max',
};

function resolve(user: Record<string, unknown>): RecommendConfig {
  const c = resolveTaskConfig(SPEC, user);
  if (!Number.isInteger(c.titleLayers) || c.titleLayers < 0) throw new ConfigError(`recommend config: 'titleLayers' is ${c.titleLayers}, expected an integer ≥ 0 (0 = bag of words).`);
  for (const k of ['maxLen', 'dModel', 'numHeads', 'numLayers', 'dimFeedforward', 'titleMaxLen', 'batchSize', 'evalNegatives', 'coldThreshold'] as const) {
    if (!Number.isInteger(c[k]) || c[k] < 1) throw new ConfigError(`recommend config: '${k}' is ${c[k]}, expected a positive integer.`);
  }
  return c;
}

/** The SASRec of a config and data set, with the items' side inputs set when fusing. */
function buildModel(c: RecommendConfig, data: MovieTweetings): SASRec {
  const titles = data.items.map((i) => i.title);
  const genres = data.items.map((i) => i.genres);
  const vocab = buildTitleVocab(titles.slice(1));
  const names = genreNames(genres);
  const model = new SASRec({
    numItems: data.numItems, maxLen: c.maxLen, dModel: c.dModel, numHeads: c.numHeads, numLayers: c.numLayers, dimFeedforward: c.dimFeedforward,
    dropout: c.dropout, fusion: c.fusion, titleVocabSize: vocab.size, titleMaxLen: c.titleMaxLen, titleLayers: c.titleLayers, numGenres: Math.max(1, names.length),
    idDropout: c.idDropout, contentOnlyBelow: c.contentOnlyBelow, contentOnlyInTraining: c.contentOnlyInTraining,
  });
  model.side?.setItemFeatures(encodeTitles(titles, vocab, c.titleMaxLen), encodeGenres(genres, names));
  if (model.itemCounts) model.setItemCounts(trainItemCounts(data)); // train parts only
  return model;
}

/** A NextItemScorer over a SASRec: the item table is computed once per evaluation. */
export function sasrecScorer(model: SASRec): NextItemScorer {
  let table: Tensor | null = null;
  return {
    scoreAll: (histories) => noGrad(() => {
      model.eval();
      table ??= model.itemTable();
      const { ids, lengths } = padHistories(histories, model.config.maxLen);
      return model.scoreNext(ids, lengths, table).data as Float32Array;
    }),
  };
}

type Batch = SASRecBatch & { users: Int32Array };

async function train(user: Record<string, unknown>, run: RunOptions): Promise<TrainSummary> {
  const c = resolve(user);
  if (c.adversarialEpsilon > 0) throw new NotImplementedError('recommend: adversarial training is not implemented for SASRec (its inputs are item ids). Fix: leave adversarialEpsilon at 0.');
  const print = run.print ?? console.log;
  const data = loadMovieTweetings({ dir: c.dataDir });
  manualSeed(c.seed);
  const model = buildModel(c, data);
  // users whose train part has ≥ 2 items give at least one (input, next item) pair
  const users = Int32Array.from(data.train.map((s, u) => (s.length >= 2 ? u : -1)).filter((u) => u >= 0));
  const trainCount = users.reduce((n, u) => n + data.train[u].length, 0);
  print(`recommend: ${data.train.length} users (${users.length} train sequences, ${trainCount} interactions), ${data.numItems} items; SASRec ${model.numParameters().toLocaleString('en-US')} parameters (d=${c.dModel}, ${c.numLayers} layers, fusion ${c.fusion}${c.idDropout > 0 ? `, ID dropout ${c.idDropout}` : ''}${c.contentOnlyBelow > 0 ? `, content only below ${c.contentOnlyBelow} train interactions${c.contentOnlyInTraining ? ' (also in training)' : ' (at evaluation)'}` : ''}, objective ${c.objective})`);
  // length-bucketed: a batch pads to its longest input, and histories range from 1 to 277 items
  const inputLengths = Int32Array.from(users, (u) => Math.min(data.train[u].length - 1, c.maxLen));
  const batches = new BatchIterator(inputLengths, { batchSize: c.batchSize, seed: c.seed, shuffle: true });
  const optimizer = makeOptimizer(model, c);
  const scheduler = makeScheduler(optimizer, c);
  const catalogue = catalogueOf(data, trainItemCounts(data));
  const trainer = new Trainer<Batch>({
    model, optimizer, scheduler, batches,
    makeBatch: (idx) => {
      const u = Int32Array.from(idx, (i) => users[i]);
      const inputs = Array.from(u, (x) => data.train[x].subarray(0, -1));
      const targets = Array.from(u, (x) => data.train[x].subarray(1));
      const { ids, lengths } = padHistories(inputs, c.maxLen);
      const pos = padHistories(targets, c.maxLen).ids; // (B, T), aligned with ids
      return { ids, lengths, pos, neg: new Tensor(new Int32Array(pos.size), pos.shape), users: u };
    },
    // the negatives are drawn here, from the Trainer's resumable generator
    augment: (b, rng) => ({ ...b, neg: drawNegatives(b, data, rng) }),
    loss: (b) => ({ loss: model.loss(b, c.objective), tokens: b.lengths.reduce((n, l) => n + l, 0) }),
    evaluate: () => summarizeRanks(rankNextItems(data, sasrecScorer(model), { split: 'valid', numNegatives: c.evalNegatives, seed: c.evalSeed })),
    checkpoint: () => ({
      task: 'recommend', config: { ...c, model: model.toConfig() } as Record<string, unknown>,
      files: { items: { name: ITEMS_FILE, json: catalogue } },
    }),
  }, trainerOptions(c, SPEC as unknown as TaskSpec<TrainConfig>, run));
  if (run.resume) await trainer.resume();
  const r = await trainer.fit();
  return { out: run.out, steps: r.step, seconds: r.seconds, tokensPerSecond: r.tokensPerSecond, stoppedBy: r.stoppedBy, best: r.best, metrics: r.lastEval };
}

/** One negative per real position, excluding the user's whole train sequence (SASRec's sampler). */
function drawNegatives(b: Batch, data: MovieTweetings, rng: Generator): Tensor {
  const [B, T] = b.pos.shape;
  const neg = new Int32Array(B * T); // (B, T)
  for (let i = 0; i < B; i++) {
    const seen = new Set(data.train[b.users[i]]);
    for (let t = 0; t < b.lengths[i]; t++) neg[i * T + t] = sampleNegative(data.numItems, seen, rng);
  }
  return new Tensor(neg, [B, T]);
}

async function loadModel(dir: string): Promise<{ model: SASRec; config: Record<string, unknown>; catalogue: Catalogue }> {
  const ck = await loadCheckpoint(dir, 'recommend');
  if (ck.files.items === undefined) throw new CheckpointError(`${dir}/${CONFIG_FILE} names no items file (${ITEMS_FILE}); the directory is incomplete. Fix: retrain.`);
  const catalogue = readCatalogue(ck.files.items);
  const model = buildCheckpointModel(ck, 'SASRec', (m) => SASRec.fromConfig(m));
  if (model.config.numItems !== catalogue.items.length) {
    throw new CheckpointError(`${dir}/${CONFIG_FILE}: config.model.numItems is ${model.config.numItems} but ${ITEMS_FILE} lists ${catalogue.items.length} items; the directory mixes files of different models.`);
  }
  return { model, config: ck.config, catalogue };
}

/** The data a model was trained on (its dataDir, or $HEED_RECSYS_DIR), checked against its catalogue. */
function dataFor(dir: string, config: Record<string, unknown>, catalogue: Catalogue): MovieTweetings {
  const data = loadMovieTweetings({ dir: typeof config.dataDir === 'string' ? config.dataDir : '' });
  const same = data.numItems === catalogue.items.length && catalogue.items.every((it, k) => it.id === data.itemIds[k + 1]);
  if (!same) throw new CheckpointError(`${dir}: the model's ${ITEMS_FILE} does not match the items of the data set it is evaluated on; it was trained on other data.`);
  return data;
}

/** Ranks the validation or test items of every user; reports all users and the cold ones. */
async function evaluate(dir: ModelDirs, o: { split: string; limit?: number }): Promise<EvalResult> {
  const dirs = modelDirList(dir);
  if (dirs.length > 1) throw new NotImplementedError('recommend eval: checkpoint ensembles are not implemented for recommendation. Fix: evaluate one model directory.');
  if (o.split !== 'valid' && o.split !== 'test') throw new ValueError(`recommend eval: split '${o.split}', expected valid or test (train is what the model read).`);
  const { model, config, catalogue } = await loadModel(dirs[0]);
  const data = dataFor(dirs[0], config, catalogue);
  const c = resolve(Object.fromEntries(Object.entries(config).filter(([k]) => k !== 'model')));
  const ranks = rankNextItems(data, sasrecScorer(model), { split: o.split, numNegatives: c.evalNegatives, seed: c.evalSeed, limit: o.limit });
  const counts = trainItemCounts(data);
  const all = summarizeRanks(ranks);
  const cold = summarizeRanks(ranks, 10, (target) => counts[target] < c.coldThreshold);
  const metrics: Record<string, number> = { ...all };
  for (const [k, v] of Object.entries(cold)) metrics[`cold${k[0].toUpperCase()}${k.slice(1)}`] = v;
  const line = (name: string, m: Record<string, number>) =>
    `  ${name.padEnd(28)} ${String(m.users).padStart(5)} users  HR@10 ${m.hr10.toFixed(4)}  NDCG@10 ${m.ndcg10.toFixed(4)}  | full ranking HR@10 ${m.fullHr10.toFixed(4)}  NDCG@10 ${m.fullNdcg10.toFixed(4)}`;
  return {
    split: o.split, metrics,
    report: [
      `recommend ${o.split}: SASRec (fusion ${model.config.fusion}${model.config.idDropout > 0 ? `, trained with ID dropout ${model.config.idDropout}` : ''}${model.config.contentOnlyBelow > 0 ? `, content only below ${model.config.contentOnlyBelow} train interactions` : ''}), ${c.evalNegatives} sampled negatives (seed ${c.evalSeed}) and full ranking`,
      line('all users', all),
      line(`cold (< ${c.coldThreshold} train interactions)`, cold),
    ].join('\n'),
  };
}

export async function loadRecommendPredictor(dir: ModelDirs): Promise<RecommendPredictor> {
  const dirs = modelDirList(dir);
  if (dirs.length > 1) throw new NotImplementedError('recommend: checkpoint ensembles are not implemented for recommendation. Fix: load one model directory.');
  const { model, config, catalogue } = await loadModel(dirs[0]);
  return new RecommendPredictor(dirs[0], config, model, catalogue);
}

export const RECOMMEND_TASK: TaskDefinition = {
  spec: SPEC as unknown as TaskSpec<TrainConfig>,
  train,
  evaluate,
  loadPredictor: loadRecommendPredictor,
};
