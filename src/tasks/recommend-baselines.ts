/**
 * The baselines SASRec is compared with, on the same split and protocol (src/train/next-item-eval.ts):
 *
 * - PopRec: every user gets the items ranked by their number of train interactions (the data
 *   README measured HR@10 ≈ 0.62, NDCG@10 ≈ 0.40 on test with 100 sampled negatives).
 * - BPR-MF (src/models/bpr-mf.ts): user and item factors trained with BPR on the train parts;
 *   for each train interaction (u, i) one negative is drawn from the items u never had in train.
 *   It reads no order, and scores by the user's factors whatever the input history.
 */
import { BPRMF } from '../models/bpr-mf.js';
import { trainItemCounts, type SequenceSplit } from '../data/movietweetings.js';
import { sampleNegative } from '../data/negative-sampling.js';
import { rankNextItems, summarizeRanks, type NextItemScorer } from '../train/next-item-eval.js';
import { Adam } from '../train/optim/adam.js';
import { paramGroups } from '../train/optim/optimizer.js';
import { Tensor } from '../tensor/tensor.js';
import { Generator, manualSeed } from '../tensor/rng.js';
import { noGrad } from '../autograd/mode.js';
import { backward } from '../autograd/engine.js';
import { shuffleInPlace } from '../data/batching.js';

/** PopRec: the same scores (train interaction counts) for every user. */
export function popularityScorer(data: SequenceSplit): NextItemScorer {
  const counts = Float32Array.from(trainItemCounts(data));
  return {
    scoreAll: (histories) => {
      const out = new Float32Array(histories.length * counts.length); // (n, N + 1)
      histories.forEach((_, b) => out.set(counts, b * counts.length));
      return out;
    },
  };
}

/** A NextItemScorer over a trained BPRMF (reads the user index, not the history). */
export function bprScorer(model: BPRMF): NextItemScorer {
  return { scoreAll: (_histories, users) => noGrad(() => model.scoreAll(new Tensor(Int32Array.from(users), [users.length])).data as Float32Array) };
}

export interface BPRTrainOptions {
  dim?: number;
  epochs?: number;
  batchSize?: number;
  lr?: number;
  /** BPR's λ on the touched factors. */
  l2?: number;
  seed?: number;
  /** Validate every this many epochs and keep the best weights (NDCG@10, sampled protocol). */
  evalEvery?: number;
  /** Called after each validation with the epoch and its metrics. */
  onEval?: (epoch: number, metrics: Record<string, number>) => void;
}

/** Trains BPR-MF on the train parts, keeping the epoch with the best validation NDCG@10. */
export function trainBPR(data: SequenceSplit, o: BPRTrainOptions = {}): { model: BPRMF; bestEpoch: number; valid: Record<string, number> } {
  const { dim = 64, epochs = 40, batchSize = 1024, lr = 5e-3, l2 = 1e-4, seed = 0, evalEvery = 5 } = o;
  manualSeed(seed);
  const rng = new Generator(seed);
  const model = new BPRMF({ numUsers: data.train.length, numItems: data.numItems, dim });
  const optimizer = new Adam(paramGroups(model, 0), { lr });
  const pairs: [number, number][] = [];
  data.train.forEach((seq, u) => seq.forEach((i) => pairs.push([u, i])));
  const seen = data.train.map((s) => new Set(s));
  let best = { epoch: -1, ndcg: -Infinity, valid: {} as Record<string, number>, weights: model.stateDict() };
  const copy = (sd: Record<string, Tensor>) => Object.fromEntries(Object.entries(sd).map(([k, t]) => [k, new Tensor(Float32Array.from(t.data as Float32Array), t.shape)]));
  for (let epoch = 1; epoch <= epochs; epoch++) {
    model.train();
    shuffleInPlace(pairs, rng);
    for (let s = 0; s < pairs.length; s += batchSize) {
      const batch = pairs.slice(s, s + batchSize);
      const users = Int32Array.from(batch, ([u]) => u), pos = Int32Array.from(batch, ([, i]) => i);
      const neg = Int32Array.from(batch, ([u]) => sampleNegative(data.numItems, seen[u], rng));
      const t = (a: Int32Array) => new Tensor(a, [a.length]);
      optimizer.zeroGrad();
      backward(model.loss(t(users), t(pos), t(neg), l2));
      optimizer.step();
    }
    if (epoch % evalEvery === 0 || epoch === epochs) {
      model.eval();
      const valid = summarizeRanks(rankNextItems(data, bprScorer(model), { split: 'valid' }));
      o.onEval?.(epoch, valid);
      if (valid.ndcg10 > best.ndcg) best = { epoch, ndcg: valid.ndcg10, valid, weights: copy(model.stateDict()) };
    }
  }
  model.loadStateDict(best.weights);
  model.eval();
  return { model, bestEpoch: best.epoch, valid: best.valid };
}
