/**
 * Next-item recommendation on MovieTweetings 100K: PopRec, BPR-MF and trained SASRec models, all
 * on the same leave-one-out split and the same protocol negatives (seed 0), overall and on cold
 * users (test item with < 10 train interactions). Everything is selected on validation; test is
 * scored once, here.
 *
 *   node --import tsx bench/recommend.ts --data-dir /work/shared/data/recsys \
 *     --model sasrec=runs/sasrec --model sasrec+fusion=runs/sasrec-fusion [--out bench/results/recommend.json]
 *
 * BPR-MF is trained here (its grid is small: λ ∈ {1e-4, 1e-3}, dim 64, up to 9 epochs validated every 3, the best
 * epoch and λ by validation NDCG@10; longer training only lowered validation NDCG in a first try). SASRec models are trained beforehand with `heed train recommend` (their
 * training time is read from their metrics.jsonl).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { execSync } from 'node:child_process';
import { join } from 'node:path';
import { loadMovieTweetings, trainItemCounts } from '../src/data/movietweetings.ts';
import { rankNextItems, summarizeRanks, type NextItemScorer } from '../src/train/next-item-eval.ts';
import { popularityScorer, bprScorer, trainBPR } from '../src/tasks/recommend-baselines.ts';
import { RECOMMEND_TASK } from '../src/tasks/recommend.ts';
import { backendInfo } from '../src/index.ts';
import { readArgs } from './args.ts';

const args = process.argv.slice(2);
const flags = readArgs(import.meta.url, {
  'data-dir': { kind: 'string', default: '', help: 'the MovieTweetings directory (default: the loader\'s)' },
  out: { kind: 'string', help: 'results file (default bench/results/recommend-<date>.json)' },
  model: { kind: 'strings', repeat: true, help: 'a trained model, name=dir (repeatable)' },
});
const dataDir = flags.dataDir;
const out = flags.out ?? `bench/results/recommend-${new Date().toISOString().slice(0, 10)}.json`;
const models = flags.model.map((m) => m.split('=') as [string, string]);
const COLD = 10;

const data = loadMovieTweetings({ dir: dataDir });
const counts = trainItemCounts(data);
const evaluateScorer = (scorer: NextItemScorer) => {
  const res: Record<string, Record<string, number>> = {};
  for (const split of ['valid', 'test'] as const) {
    const r = rankNextItems(data, scorer, { split, numNegatives: 100, seed: 0 });
    res[split] = summarizeRanks(r);
    res[`${split}Cold`] = summarizeRanks(r, 10, (t) => counts[t] < COLD);
  }
  return res;
};

const results: Record<string, unknown> = {};
const t0 = Date.now();
results.popularity = { ...evaluateScorer(popularityScorer(data)), trainSeconds: 0 };
console.log('popularity', JSON.stringify(results.popularity));

let bestBpr: { l2: number; epoch: number; valid: Record<string, number>; seconds: number; model: ReturnType<typeof trainBPR>['model'] } | null = null;
const grid: Record<string, unknown>[] = [];
for (const l2 of [1e-4, 1e-3]) {
  const start = Date.now();
  const r = trainBPR(data, { l2, epochs: 9, evalEvery: 3, onEval: (e, m) => console.log(`bpr l2=${l2} epoch ${e}: valid ndcg10 ${m.ndcg10.toFixed(4)} hr10 ${m.hr10.toFixed(4)}`) });
  const seconds = (Date.now() - start) / 1000;
  grid.push({ l2, bestEpoch: r.bestEpoch, valid: r.valid, seconds });
  if (!bestBpr || r.valid.ndcg10 > bestBpr.valid.ndcg10) bestBpr = { l2, epoch: r.bestEpoch, valid: r.valid, seconds, model: r.model };
}
results.bpr = { ...evaluateScorer(bprScorer(bestBpr!.model)), chosen: { l2: bestBpr!.l2, dim: 64, epoch: bestBpr!.epoch }, grid, trainSeconds: bestBpr!.seconds };
console.log('bpr', JSON.stringify(results.bpr));

for (const [name, dir] of models) {
  const m: Record<string, unknown> = {};
  for (const split of ['valid', 'test']) {
    const r = await RECOMMEND_TASK.evaluate(dir, { split });
    console.log(r.report);
    m[split] = Object.fromEntries(Object.entries(r.metrics).filter(([k]) => !k.startsWith('cold')));
    m[`${split}Cold`] = Object.fromEntries(Object.entries(r.metrics).filter(([k]) => k.startsWith('cold')).map(([k, v]) => [k[4].toLowerCase() + k.slice(5), v]));
  }
  const lines = readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  const times = lines.map((l) => Date.parse(String(l.time))).filter((t) => Number.isFinite(t));
  const steps = lines.filter((l) => l.type === 'step').map((l) => Number(l.step));
  const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
  m.trainSeconds = (Math.max(...times) - Math.min(...times)) / 1000;
  m.steps = Math.max(...steps);
  m.config = config.config ?? config;
  results[name] = m;
}

const report = {
  command: `node --import tsx bench/recommend.ts ${args.join(' ')}`,
  date: new Date().toISOString(),
  uptime: execSync('uptime').toString().trim(),
  backend: backendInfo(),
  protocol: 'leave-one-out; sampled = true item vs 100 negatives drawn uniformly with replacement from items not in the user\'s train part (SASRec quirks kept; seed 0); full = vs all items not in the input history',
  cold: `users whose target item has < ${COLD} train interactions`,
  seconds: (Date.now() - t0) / 1000,
  results,
};
writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
console.log(`wrote ${out}`);
