/**
 * Cold items, paired: trained SASRec checkpoints ranked on the same users and the same protocol
 * negatives (seed 0) of one split, overall and on cold users (target with < 10 train
 * interactions), with each figure's standard error and, for every model after the first, its
 * difference from the first model (the reference, e.g. ID-only) with the standard error of that
 * paired difference (the per-user differences' SE: both models face the same users and draws, so
 * this is tighter than combining two independent SEs). Also split by the target's train count.
 *
 *   node --import tsx bench/recommend-cold.ts --data-dir /work/shared/data/recsys --split valid \
 *     --model id=runs/cold-none --model fusion=runs/cold-cob10 [--out bench/results/x.json]
 *
 * A model given as `dir#cob=k` is evaluated with its items of < k train interactions (the counts of
 * its own catalogue, i.e. its training data's train parts) represented by content only, whatever it
 * was trained with (DropoutNet's inference for cold items; needs a fused model).
 *
 * Select on --split valid; run --split test once, for the chosen models.
 */
import { writeFileSync } from 'node:fs';
import { execSync } from 'node:child_process';
import { loadMovieTweetings, trainItemCounts } from '../src/data/movietweetings.ts';
import { rankNextItems, type NextItemRanks } from '../src/train/next-item-eval.ts';
import { loadRecommendPredictor, sasrecScorer } from '../src/tasks/recommend.ts';
import { SASRec } from '../src/models/sasrec.ts';
import { readArgs } from './args.ts';

const args = process.argv.slice(2);
const flags = readArgs(import.meta.url, {
  split: { kind: 'string', default: 'valid', choices: ['valid', 'test'], help: 'the split scored' },
  model: { kind: 'strings', repeat: true, help: 'a trained model, name=dir (give one or more)' },
  'data-dir': { kind: 'string', default: '', help: 'the MovieTweetings directory (default: the loader\'s)' },
  out: { kind: 'string', help: 'results file (JSON)' },
});
const split = flags.split;
const models = flags.model.map((m) => [m.slice(0, m.indexOf('=')), m.slice(m.indexOf('=') + 1)] as [string, string]);
if (models.length === 0) throw new Error('give at least one --model name=dir');
const COLD = 10;
const K = 10;

const data = loadMovieTweetings({ dir: flags.dataDir });
const counts = trainItemCounts(data);

/** Per-user hit@10 and NDCG@10 under each protocol. */
function perUser(r: NextItemRanks): Record<string, Float64Array> {
  const hit = (rank: number) => (rank < K ? 1 : 0);
  const gain = (rank: number) => (rank < K ? 1 / Math.log2(rank + 2) : 0);
  return {
    hr10: Float64Array.from(r.sampled, hit), ndcg10: Float64Array.from(r.sampled, gain),
    fullHr10: Float64Array.from(r.full, hit), fullNdcg10: Float64Array.from(r.full, gain),
  };
}

/** Mean and its standard error over the selected users. */
function meanSe(v: Float64Array, idx: number[]): { mean: number; se: number } {
  const n = idx.length;
  if (n < 2) return { mean: n ? v[idx[0]] : 0, se: NaN };
  let s = 0;
  for (const i of idx) s += v[i];
  const mean = s / n;
  let ss = 0;
  for (const i of idx) ss += (v[i] - mean) ** 2;
  return { mean, se: Math.sqrt(ss / (n - 1) / n) };
}

const t0 = Date.now();
const ranked: { name: string; dir: string; ranks: NextItemRanks; values: Record<string, Float64Array>; config: Record<string, unknown> }[] = [];
for (const [name, spec] of models) {
  const [dir, gate] = spec.split('#cob=');
  const p = await loadRecommendPredictor(dir);
  let model = p.model;
  if (gate !== undefined) {
    model = new SASRec({ ...p.model.config, contentOnlyBelow: Number(gate) });
    model.loadStateDict(p.model.stateDict(), { strict: false }); // all but the counts buffer
    model.setItemCounts([0, ...p.catalogue.items.map((it) => it.count)]);
  }
  const ranks = rankNextItems(data, sasrecScorer(model), { split, numNegatives: 100, seed: 0 });
  ranked.push({ name, dir: spec, ranks, values: perUser(ranks), config: { ...model.config } });
}
const ref = ranked[0];
for (const m of ranked) {
  if (m.ranks.users.length !== ref.ranks.users.length || m.ranks.targets.some((t, i) => t !== ref.ranks.targets[i])) throw new Error(`${m.name}: ranked other users than ${ref.name}`);
}
const n = ref.ranks.users.length;
const groups: Record<string, number[]> = { all: [], cold: [], 'cold, 0-4 train interactions': [], 'cold, 5-9 train interactions': [], warm: [] };
for (let i = 0; i < n; i++) {
  const c = counts[ref.ranks.targets[i]];
  groups.all.push(i);
  if (c < COLD) {
    groups.cold.push(i);
    groups[c < 5 ? 'cold, 0-4 train interactions' : 'cold, 5-9 train interactions'].push(i);
  } else groups.warm.push(i);
}

const results: Record<string, unknown> = {};
for (const m of ranked) {
  const byGroup: Record<string, unknown> = {};
  for (const [g, idx] of Object.entries(groups)) {
    const row: Record<string, unknown> = { users: idx.length };
    for (const [metric, v] of Object.entries(m.values)) {
      row[metric] = meanSe(v, idx);
      if (m !== ref) {
        const diff = Float64Array.from(v, (x, i) => x - ref.values[metric][i]);
        row[`${metric}MinusRef`] = meanSe(diff, idx);
      }
    }
    byGroup[g] = row;
  }
  results[m.name] = { dir: m.dir, model: m.config, ...byGroup };
}

const fmt = (x: { mean: number; se: number }) => `${x.mean.toFixed(4)} ± ${x.se.toFixed(4)}`;
for (const m of ranked) {
  const r = results[m.name] as Record<string, Record<string, { mean: number; se: number }>>;
  for (const g of ['all', 'cold']) {
    const d = m === ref ? '' : `   Δ vs ${ref.name}: HR@10 ${fmt(r[g].hr10MinusRef)}  NDCG@10 ${fmt(r[g].ndcg10MinusRef)}  full HR@10 ${fmt(r[g].fullHr10MinusRef)}`;
    console.log(`${split} ${m.name.padEnd(14)} ${g.padEnd(5)} n=${String(r[g].users).padStart(4)}  HR@10 ${fmt(r[g].hr10)}  NDCG@10 ${fmt(r[g].ndcg10)}  full HR@10 ${fmt(r[g].fullHr10)}${d}`);
  }
}

const out = flags.out;
if (out) {
  writeFileSync(out, `${JSON.stringify({
    command: `node --import tsx bench/recommend-cold.ts ${args.join(' ')}`,
    date: new Date().toISOString(),
    uptime: execSync('uptime').toString().trim(),
    split,
    protocol: 'leave-one-out; sampled = true item vs 100 negatives drawn uniformly with replacement from items not in the user\'s train part (SASRec quirks kept; seed 0); full = vs all items not in the input history',
    cold: `users whose target item has < ${COLD} train interactions (train parts only)`,
    reference: ref.name,
    se: 'standard error of the mean over users; *MinusRef: mean and SE of the per-user difference from the reference model',
    seconds: (Date.now() - t0) / 1000,
    results,
  }, null, 2)}\n`);
  console.log(`wrote ${out}`);
}
