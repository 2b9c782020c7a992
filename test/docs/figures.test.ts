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
  const step = rowsOf('full-2026-12-05T2319.json').filter((r) => r.workload === 'train step seq2seq d256 2+2L B64');
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

test('the transfer and PEFT tables quote the test scores, shares and optimizer state of their raw files', () => {
  const section = flat(benchmarks.slice(benchmarks.indexOf('### Transfer learning and PEFT on spam'), benchmarks.indexOf('### Earlier results')));
  for (const f of readdirSync(results).filter((n) => /^transfer-.*\.json$/.test(n) && !n.startsWith('transfer-ner-'))) {
    const runs = (JSON.parse(readFileSync(join(results, f), 'utf8')) as { runs: { name: string; valid: { accuracy: number }; test: { accuracy?: number; macroF1?: number }; trainable: number }[] }).runs;
    for (const r of runs) {
      if (r.test.accuracy === undefined) {
        // A validation-only (tuning) file: the section quotes its validation scores, and it has no test score to quote.
        assert.ok(section.includes(`${pct(r.valid.accuracy)}%`), `${f} ${r.name}: validation accuracy ${pct(r.valid.accuracy)}% is not in BENCHMARKS.md's transfer section`);
        continue;
      }
      assert.ok(section.includes(`${pct(r.test.accuracy)}%`), `${f} ${r.name}: test accuracy ${pct(r.test.accuracy)}% is not in BENCHMARKS.md's transfer section`);
      assert.ok(section.includes(`(${pct(r.test.macroF1!)})`), `${f} ${r.name}: macro F1 ${pct(r.test.macroF1!)} is not quoted`);
      if (r.name.startsWith('lora') || r.name.startsWith('adapter')) assert.ok(section.includes(r.trainable.toLocaleString('en-US')), `${f} ${r.name}: trainable count`);
    }
  }
});

test('the NER transfer table quotes the dev and validation F1 of its raw files (bench/transfer.ts --task tag)', () => {
  const files = readdirSync(results).filter((n) => /^transfer-ner-.*\.json$/.test(n));
  if (files.length === 0) return; // no NER transfer figures committed yet
  const start = benchmarks.indexOf('### Transfer learning on WNUT-17 NER');
  assert.ok(start >= 0, 'BENCHMARKS.md needs the section "### Transfer learning on WNUT-17 NER" for the transfer-ner raw files');
  const end = benchmarks.indexOf('\n## ', start);
  const section = flat(benchmarks.slice(start, end < 0 ? undefined : end));
  for (const f of files) {
    const runs = (JSON.parse(readFileSync(join(results, f), 'utf8')) as { runs: { name: string; valid: { f1: number }; test: { f1?: number } }[] }).runs;
    for (const r of runs) {
      if (r.test.f1 !== undefined) assert.ok(section.includes(pct(r.test.f1)), `${f} ${r.name}: dev F1 ${pct(r.test.f1)} is not in the NER transfer section`);
      assert.ok(section.includes(pct(r.valid.f1)), `${f} ${r.name}: validation F1 ${pct(r.valid.f1)} is not in the NER transfer section`);
    }
  }
});

test('the forecast table is the raw file\'s one test evaluation, of the candidate chosen on validation, with its goal verdict', () => {
  const r = JSON.parse(readFileSync(join(results, 'forecast-births-2026-12-04.json'), 'utf8')) as {
    candidates: { name: string; validMetrics: { mase: number } }[];
    chosen: string;
    test: { report: string };
    goal: { horizon: number; heedMase: number; bestBaselineMase: number; improvement: number; met: boolean }[];
  };
  const best = r.candidates.reduce((a, b) => (b.validMetrics.mase < a.validMetrics.mase ? b : a));
  assert.equal(r.chosen, best.name, 'the chosen candidate has the best validation MASE');
  const rows = r.test.report.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| method'));
  assert.ok(rows.length >= 5, 'heed and four baselines');
  for (const row of rows) assert.ok(benchmarks.includes(row), `BENCHMARKS.md should hold the test row ${row}`);
  for (const g of r.goal) {
    assert.ok(Math.abs(g.improvement - (1 - g.heedMase / g.bestBaselineMase)) < 1e-12);
    assert.equal(g.met, g.improvement >= 0.2);
    const quoted = `${(100 * g.improvement).toFixed(1)}% below`;
    assert.ok(flat(benchmarks).includes(quoted), `BENCHMARKS.md should quote the horizon-${g.horizon} gain as ${quoted}`);
  }
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
