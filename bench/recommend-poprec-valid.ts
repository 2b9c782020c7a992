/**
 * PopRec on the validation item only (the yardstick of the SASRec tuning runs; bench/recommend.ts
 * scores it on valid and test beside every model): SASRec's 100-negative protocol (seed 0) and
 * full ranking, overall and on cold items (< 10 train interactions). Prints one JSON line.
 *
 *   node --import tsx bench/recommend-poprec-valid.ts [data dir]
 */
import { loadMovieTweetings, trainItemCounts } from '../src/data/movietweetings.ts';
import { rankNextItems, summarizeRanks } from '../src/train/next-item-eval.ts';
import { popularityScorer } from '../src/tasks/recommend-baselines.ts';
import { readArgs } from './args.ts';

const dataDir = readArgs(import.meta.url, {}, { positional: { name: 'data dir', help: 'the MovieTweetings directory (default: the loader\'s)', max: 1 } })._[0];
const data = loadMovieTweetings({ dir: dataDir ?? '' });
const counts = trainItemCounts(data);
const r = rankNextItems(data, popularityScorer(data), { split: 'valid', numNegatives: 100, seed: 0 });
console.log(JSON.stringify({ valid: summarizeRanks(r), validCold: summarizeRanks(r, 10, (t) => counts[t] < 10) }));
