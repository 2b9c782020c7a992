/**
 * Chooses a checkpoint ensemble on the validation split only, then scores the chosen ensemble on
 * the test split exactly once, and writes every number it saw to one raw JSON results file.
 *
 *   node --import tsx tools/select-ensemble.ts --out bench/results/spam-ensemble.json \
 *     runs/spam-s0 runs/spam-s1 runs/spam-s2 runs/spam-s3 runs/spam-s4 runs/spam-s5
 *
 * The candidates are trained model directories of one task (for the spam row,
 * `heed train spam --seed s --out runs/spam-s$s`). Selection is greedy forward selection
 * without replacement (Caruana et al. 2004, "Ensemble selection from libraries of models"):
 *
 *   1. Score every candidate alone on the validation split (`heed.evaluate(dir, { split: 'valid' })`).
 *   2. Start from the empty ensemble. At each step add the candidate that gives the highest
 *      validation accuracy of the ensemble (class probabilities averaged, as `heed eval a,b,c`
 *      does); ties go to the higher validation macro F1, then to the candidate listed first.
 *      Continue until every candidate is in, so the path ends at "all candidates".
 *   3. The choice is the ensemble on that path with the highest validation accuracy; ties go to
 *      the higher macro F1, then to the larger ensemble (averaging more models lowers variance,
 *      and the validation split is too small to tell close ensembles apart).
 *   4. Score the chosen ensemble on the test split, once. No other test score is computed.
 *
 * The output file is never overwritten (a second look at test must not replace the first);
 * remove it by hand to start over, and say so where the figure is quoted.
 *
 * Validation is used twice (each run keeps its best-validation checkpoint, then the ensemble is
 * chosen on the same split), so the validation scores written here are optimistic; the test score
 * is the unbiased one. Its standard error is sqrt(p(1 − p)/n).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { basename, join } from 'node:path';
import { evaluate, backendInfo } from '../src/index.js';

interface Score {
  accuracy: number;
  macroF1: number;
  examples: number;
}

interface StepTrial {
  add: string;
  valid: Score;
}

interface PathStep {
  members: string[];
  added: string;
  valid: Score;
  /** Every candidate tried at this step, with the ensemble's validation score. */
  tried: StepTrial[];
}

const USAGE = 'usage: node --import tsx tools/select-ensemble.ts --out <results.json> <model-dir> <model-dir> [...]';

function parseArgs(argv: string[]): { out: string; dirs: string[] } {
  let out = '';
  const dirs: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--out') out = argv[++i] ?? '';
    else if (argv[i].startsWith('--')) throw new Error(`select-ensemble: unknown flag ${argv[i]}. ${USAGE}`);
    else dirs.push(argv[i]);
  }
  if (out === '' || dirs.length < 2) throw new Error(`select-ensemble: expected --out and at least two model directories, received ${JSON.stringify(argv)}. ${USAGE}`);
  if (new Set(dirs).size !== dirs.length) throw new Error(`select-ensemble: a model directory is listed twice in ${JSON.stringify(dirs)}.`);
  return { out, dirs };
}

async function score(dirs: readonly string[], split: 'valid' | 'test'): Promise<Score> {
  const r = await evaluate(dirs.length === 1 ? dirs[0] : dirs, { split });
  const { accuracy, macroF1, examples } = r.metrics;
  if (![accuracy, macroF1, examples].every(Number.isFinite)) throw new Error(`select-ensemble: ${dirs.join(',')} on ${split} returned metrics ${JSON.stringify(r.metrics)}; expected accuracy, macroF1 and examples (a classification task).`);
  return { accuracy, macroF1, examples };
}

/** a better than b: accuracy, then macro F1; equal scores are not better. */
function better(a: Score, b: Score): boolean {
  return a.accuracy > b.accuracy || (a.accuracy === b.accuracy && a.macroF1 > b.macroF1);
}

function standardError(p: number, n: number): number {
  return Math.sqrt((p * (1 - p)) / n);
}

/** What a run directory's metrics.jsonl says about its training (wall time includes evaluations). */
function trainingOf(dir: string): Record<string, unknown> {
  const path = join(dir, 'metrics.jsonl');
  if (!existsSync(path)) return { note: 'no metrics.jsonl' };
  const lines = readFileSync(path, 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
  const steps = lines.filter((l) => l.type === 'step');
  const evals = lines.filter((l) => l.type === 'eval').map((l) => ({ step: l.step, accuracy: l.accuracy, macroF1: l.macroF1 }));
  const times = lines.map((l) => Date.parse(String(l.time))).filter(Number.isFinite);
  const rates = steps.map((l) => Number(l.tokensPerSecond)).filter(Number.isFinite).sort((a, b) => a - b);
  const best = evals.reduce<(typeof evals)[number] | null>((b, e) => (b === null || Number(e.accuracy) > Number(b.accuracy) ? e : b), null);
  return {
    steps: steps.length > 0 ? steps[steps.length - 1].step : 0,
    firstLogToLastLogSeconds: times.length > 1 ? (times[times.length - 1] - times[0]) / 1000 : null,
    medianTokensPerSecond: rates.length > 0 ? rates[rates.length >> 1] : null,
    evals,
    keptCheckpoint: best, // the Trainer keeps the best validation accuracy (first one on ties)
  };
}

function gitCommit(): string {
  try {
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8' }).trim() !== '';
    return dirty ? `${head} (with uncommitted changes)` : head;
  } catch {
    return 'unknown';
  }
}

async function main(): Promise<void> {
  const { out, dirs } = parseArgs(process.argv.slice(2));
  if (existsSync(out)) throw new Error(`select-ensemble: ${out} exists. The test split is scored once per selection; this script never overwrites a result. Remove the file by hand to start over, and say so where its figure is quoted.`);
  const started = new Date().toISOString();
  const loadAvgBefore = loadavg()[0];

  // 1. Each candidate alone, on validation.
  const alone = new Map<string, Score>();
  for (const d of dirs) {
    alone.set(d, await score([d], 'valid'));
    console.error(`valid ${d}: ${(100 * alone.get(d)!.accuracy).toFixed(2)}%`);
  }

  // 2. Greedy forward selection on validation, without replacement, to the full set.
  const path: PathStep[] = [];
  const members: string[] = [];
  while (members.length < dirs.length) {
    const tried: StepTrial[] = [];
    for (const d of dirs) {
      if (members.includes(d)) continue;
      tried.push({ add: d, valid: members.length === 0 ? alone.get(d)! : await score([...members, d], 'valid') });
    }
    const pick = tried.reduce((b, t) => (better(t.valid, b.valid) ? t : b));
    members.push(pick.add);
    path.push({ members: [...members], added: pick.add, valid: pick.valid, tried });
    console.error(`step ${members.length}: + ${pick.add} → valid ${(100 * pick.valid.accuracy).toFixed(2)}%`);
  }

  // 3. The best ensemble on the path; ties go to the larger one.
  const chosen = path.reduce((b, s) => (better(s.valid, b.valid) || (!better(b.valid, s.valid) && s.members.length > b.members.length) ? s : b));

  // 4. The one test evaluation.
  const test = await score(chosen.members, 'test');
  const result = {
    what: 'checkpoint-ensemble selection on the validation split, then one test evaluation',
    command: `node --import tsx tools/select-ensemble.ts --out ${out} ${dirs.join(' ')}`,
    commit: gitCommit(),
    backend: backendInfo(),
    started,
    finished: new Date().toISOString(),
    loadAvgBefore,
    loadAvgAfter: loadavg()[0],
    rule: 'greedy forward selection without replacement (Caruana et al. 2004) by validation accuracy, ties: validation macro F1, then the candidate listed first; choice: the best ensemble on the path by validation accuracy, ties: macro F1, then the larger ensemble; test scored once, for the choice only',
    candidates: dirs.map((d) => ({ dir: d, name: basename(d), valid: alone.get(d), training: trainingOf(d), config: JSON.parse(readFileSync(join(d, 'config.json'), 'utf8')) as unknown })),
    path,
    allCandidates: { members: dirs, valid: path[path.length - 1].valid },
    chosen: { members: chosen.members, size: chosen.members.length, valid: chosen.valid },
    test: { ...test, standardError: standardError(test.accuracy, test.examples), errors: Math.round((1 - test.accuracy) * test.examples) },
  };
  writeFileSync(out, JSON.stringify(result, null, 2) + '\n', { flag: 'wx' });
  console.log(`chosen on valid: ${chosen.members.join(',')} (valid ${(100 * chosen.valid.accuracy).toFixed(2)}%); test once: accuracy ${(100 * test.accuracy).toFixed(2)}% ± ${(100 * result.test.standardError).toFixed(2)} (n = ${test.examples}), macro F1 ${(100 * test.macroF1).toFixed(2)}%; written to ${out}`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exitCode = 1;
});
