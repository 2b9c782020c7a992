// Figures in README.md and BENCHMARKS.md can be traced: every raw results file they name is
// committed, every committed raw file is named, and the headline figures equal what their raw
// files say (so a rerun that replaces a file, or an edit of a figure, cannot drift apart silently).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..', '..');
const results = join(root, 'bench', 'results');
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const benchmarks = readFileSync(join(root, 'BENCHMARKS.md'), 'utf8');
/** The text with line breaks and runs of spaces as one space, so a figure may wrap. */
const flat = (s: string) => s.replace(/\s+/g, ' ');

interface Row { workload: string; impl: string; threads: number; ms: number }
const rowsOf = (file: string) => (JSON.parse(readFileSync(join(results, file), 'utf8')) as { rows: Row[] }).rows;
const pct = (p: number) => (100 * p).toFixed(2);

test('every bench/results file that README.md or BENCHMARKS.md names is committed', () => {
  const named = new Set([...`${readme}\n${benchmarks}`.matchAll(/bench\/results\/([\w.-]+\.json)/g)].map((m) => m[1]));
  assert.ok(named.size >= 5, `expected the docs to name the raw files, found ${[...named].join(', ')}`);
  for (const f of named) assert.ok(existsSync(join(results, f)), `a doc names bench/results/${f}, which does not exist`);
});

test('every committed raw results file is named in BENCHMARKS.md', () => {
  for (const f of readdirSync(results).filter((n) => n.endsWith('.json'))) {
    assert.ok(benchmarks.includes(`bench/results/${f}`), `bench/results/${f} is committed but BENCHMARKS.md never names it`);
  }
});

test("the training-step headline is heed's best against PyTorch's best, from its raw file", () => {
  const step = rowsOf('train-2026-11-25T1935.json').filter((r) => r.workload.startsWith('train step'));
  const best = (pred: (impl: string) => boolean) => Math.min(...step.filter((r) => pred(r.impl)).map((r) => r.ms));
  const ratio = best((i) => i.startsWith('pytorch')) / best((i) => i === 'heed');
  assert.ok(ratio > 1 && ratio < 10, `ratio ${ratio}`);
  const quoted = `${ratio.toFixed(1)}×`;
  assert.ok(flat(readme).includes(`${quoted} PyTorch 1.13 at its best`), `README should quote ${quoted} PyTorch best against best`);
  assert.ok(flat(benchmarks).includes(`is ${quoted} PyTorch 1.13 at its best`), `BENCHMARKS.md should quote ${quoted} PyTorch best against best`);
});

test('the spam ensemble was chosen on validation and its one test score is the one quoted', () => {
  const r = JSON.parse(readFileSync(join(results, 'spam-ensemble.json'), 'utf8')) as {
    candidates: { dir: string; valid: { accuracy: number } }[];
    path: { members: string[]; valid: { accuracy: number; macroF1: number } }[];
    chosen: { members: string[]; valid: { accuracy: number } };
    test: { accuracy: number; examples: number; standardError: number };
  };
  assert.equal(r.path.length, r.candidates.length, 'the greedy path runs to the full set');
  const bestValid = Math.max(...r.path.map((s) => s.valid.accuracy));
  assert.equal(r.chosen.valid.accuracy, bestValid, 'the choice is the best ensemble on the path by validation accuracy');
  assert.ok(r.path.some((s) => s.members.join(',') === r.chosen.members.join(',')), 'the choice is on the path');
  assert.ok(Math.abs(r.test.standardError - Math.sqrt((r.test.accuracy * (1 - r.test.accuracy)) / r.test.examples)) < 1e-12);
  const quoted = `${pct(r.test.accuracy)}% ± ${(100 * r.test.standardError).toFixed(2)}`;
  assert.ok(flat(readme).includes(quoted), `README should quote the test accuracy as ${quoted}`);
  assert.ok(flat(benchmarks).includes(quoted), `BENCHMARKS.md should quote the test accuracy as ${quoted}`);
  assert.ok(flat(readme).includes(`n = ${r.test.examples}`), 'README gives the test split size');
});

test('the recommendation table quotes its raw file: every model on test, overall and cold, under both protocols', () => {
  const file = 'recommend-2026-12-04.json';
  type M = Record<string, number>;
  const r = JSON.parse(readFileSync(join(results, file), 'utf8')) as { results: Record<string, { test: M; testCold: M; valid: M }> };
  const f = (v: number) => v.toFixed(4);
  for (const [key, label] of [['popularity', 'PopRec'], ['bpr', 'BPR-MF'], ['sasrec', 'SASRec'], ['sasrec+fusion', 'SASRec + fusion']]) {
    const m = r.results[key];
    assert.ok(m, `${file} has no ${key}`);
    const row = `| ${label} | ${[m.valid.ndcg10, m.test.hr10, m.test.ndcg10, m.test.fullHr10, m.test.fullNdcg10, m.testCold.hr10, m.testCold.ndcg10, m.testCold.fullHr10, m.testCold.fullNdcg10].map(f).join(' | ')} |`;
    assert.ok(benchmarks.includes(row), `BENCHMARKS.md should hold the row\n${row}`);
  }
});
