// The `npm run bench -- --check` regression guard compares within-pass ratios, never absolute times:
// median against median, with a per-row tolerance from the baseline's own spread.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  BASELINE_FORMAT, BaselineError, MissingRowsError, compareRuns, formatCheck, makeBaseline, median, missingError, modulesOf,
  parseBaseline, ratioStats, ratios, spreadOf, suspects, type RunRecord,
} from '../../bench/check.ts';
import { ValueError } from '../../src/errors.ts';
import { simulate, simulateOld } from '../../bench/check-sim.ts';

type Row = RunRecord['rows'][number];

/**
 * One pass: GEMM at `gemmPct` of a 100 GFLOP/s peak (module gemm) beside onnxruntime (module onnxruntime-node);
 * dispatch add 64 beside pytorch, whose ratio is `dispatchX` (module dispatch / pytorch).
 */
function pass(opts: { gemmMs?: number; ortMs?: number; dispatchX?: number; peak?: number } = {}): RunRecord {
  const peak = opts.peak ?? 100;
  const gemmMs = opts.gemmMs ?? 3;
  const rows: Row[] = [
    { workload: 'fp32 FMA peak', impl: 'heed-native (avx512)', threads: 1, ms: 0, gflops: peak, module: 'peak' },
    // 240 MFLOP: at 3 ms, 80 GFLOP/s = 80% of a 100 GFLOP/s peak
    { workload: 'sgemm 512x512x512', impl: 'heed native', threads: 1, ms: gemmMs, gflops: 240 / gemmMs, module: 'gemm' },
    { workload: 'sgemm 512x512x512', impl: 'onnxruntime-node', threads: 1, ms: opts.ortMs ?? 6, module: 'onnxruntime-node' },
    { workload: 'dispatch add 64', impl: 'heed', threads: 1, ms: 0.002, module: 'dispatch' },
    { workload: 'dispatch add 64', impl: 'pytorch', threads: 1, ms: 0.002 * (opts.dispatchX ?? 2), module: 'pytorch' },
  ];
  return { peak: { '1': peak }, rows };
}

const GEMM_PEAK = 'sgemm 512x512x512|1|peak';
const GEMM_ORT = 'sgemm 512x512x512|1|onnxruntime-node';
const DISPATCH = 'dispatch add 64|1|pytorch';

describe('bench --check: ratios and statistics', () => {
  it('takes a fraction of peak and a ratio to each peer for every heed row, with the modules that measured them', () => {
    const r = ratios(pass());
    assert.ok(Math.abs(r.get(GEMM_PEAK)!.value - 0.8) < 1e-9);
    assert.ok(Math.abs(r.get(GEMM_ORT)!.value - 2) < 1e-9);
    assert.ok(Math.abs(r.get(DISPATCH)!.value - 2) < 1e-9);
    assert.equal(r.size, 3);
    assert.deepEqual(r.get(GEMM_PEAK)!.modules, ['gemm']);
    assert.deepEqual(r.get(GEMM_ORT)!.modules, ['gemm', 'onnxruntime-node']);
  });

  it('median and spread: the median relative distance of a pass from the median', () => {
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([4, 1, 2, 3]), 2.5);
    assert.ok(Math.abs(spreadOf([1.0, 1.1, 1.2]) - 0.1 / 1.1) < 1e-12);
    assert.equal(spreadOf([5]), 0);
    // one pass far off does not make a steady row look noisy: the spread is a median too
    assert.ok(Math.abs(spreadOf([1.0, 1.02, 1.5]) - 0.02 / 1.02) < 1e-12);
    const s = ratioStats([pass({ dispatchX: 2 }), pass({ dispatchX: 1.8 }), pass({ dispatchX: 2.3 })]).get(DISPATCH)!;
    assert.deepEqual(s.values.map((v) => +v.toFixed(6)), [2, 1.8, 2.3]);
    assert.ok(Math.abs(s.median - 2) < 1e-12);
    assert.ok(Math.abs(s.spread - 0.1) < 1e-9);
  });

  it('each pass is divided by its own peak, so a busier pass (peak and rows alike slower) changes no ratio', () => {
    const base = makeBaseline([pass(), pass(), pass()]);
    const busy = pass({ peak: 50, gemmMs: 6, ortMs: 12 });
    const report = compareRuns(base, [busy]);
    assert.equal(report.compared, 3);
    assert.deepEqual(report.regressions, []);
    assert.ok(report.passed.every((j) => Math.abs(j.change) < 1e-9));
  });

  it('refuses to write a baseline from fewer than 3 passes', () => {
    assert.throws(() => makeBaseline([pass(), pass()]), (e: unknown) => e instanceof BaselineError && /got 2 passes, expected at least 3.*--repeat 3 --write-baseline/.test((e as Error).message));
  });
});

describe('bench --check: judging', () => {
  // A quiet baseline: gemm ratios steady to ±1%, dispatch/pytorch spread ±6.7% (values 2.8, 3.0, 3.2 → median 3).
  const base = makeBaseline([pass({ gemmMs: 3, dispatchX: 2.8 }), pass({ gemmMs: 3.03, dispatchX: 3.0 }), pass({ gemmMs: 2.97, dispatchX: 3.2 })]);

  it('catches a genuine 20% slowdown, seen in every pass', () => {
    // heed's GEMM 25% longer = 20% lower fraction of peak, and 20% lower against onnxruntime
    const slow = [pass({ gemmMs: 3.75, dispatchX: 3 }), pass({ gemmMs: 3.7, dispatchX: 3 }), pass({ gemmMs: 3.8, dispatchX: 3 })];
    const report = compareRuns(base, slow);
    assert.deepEqual(report.regressions.map((r) => r.key).sort(), [GEMM_ORT, GEMM_PEAK]);
    for (const r of report.regressions) {
      assert.ok(Math.abs(r.change + 0.2) < 0.01, `${r.key}: ${r.change}`);
      assert.equal(r.tolerance, 0.15); // 3 × a 1% spread is below the 15% floor
      assert.equal(r.passesNow, 3);
    }
    const text = formatCheck(report);
    assert.ok(text.includes('| sgemm 512x512x512 | 1 | peak | 80% of peak | ±1% | 64% of peak | 3 | -20% | 15% |'), text);
    assert.ok(!text.includes('No regressions'));
  });

  it('does not flag a noisy row that fell within its own measured spread, but flags a steady row by the same amount', () => {
    // dispatch/pytorch: 3 → 2.5, −16.7%, beyond 15% but inside its tolerance 3 × 6.7% = 20%
    const report = compareRuns(base, [pass({ dispatchX: 2.5, gemmMs: 3.6 })]);
    const d = report.passed.find((j) => j.key === DISPATCH)!;
    assert.ok(d.change < -0.15 && d.change > -d.tolerance, `${d.change} vs ${d.tolerance}`);
    assert.ok(Math.abs(d.tolerance - 0.2) < 1e-9);
    // the steady GEMM rows, −16.7% (3 → 3.6 ms), are regressions at the 15% floor
    assert.deepEqual(report.regressions.map((r) => r.key).sort(), [GEMM_ORT, GEMM_PEAK]);
  });

  it('lists a row whose spread cannot resolve 15% as too noisy to guard, neither passed nor failed', () => {
    // dispatch/pytorch values 1.0, 2.0, 3.0: spread ±50%, tolerance 150% > 30%
    const noisy = makeBaseline([pass({ dispatchX: 1 }), pass({ dispatchX: 2 }), pass({ dispatchX: 3 })]);
    const report = compareRuns(noisy, [pass({ dispatchX: 1.2 })]);
    assert.deepEqual(report.tooNoisy.map((j) => j.key), [DISPATCH]);
    assert.ok(!report.regressions.some((j) => j.key === DISPATCH) && !report.passed.some((j) => j.key === DISPATCH));
    const text = formatCheck(report);
    assert.match(text, /Too noisy to guard \(1; baseline spread ±10% or more/);
    assert.ok(text.includes('| dispatch add 64 | 1 | pytorch | 2.00× pytorch | ±50% | 1.20× pytorch | -40% |'), text);
    assert.ok(text.includes('No regressions.'));
  });

  it('judges the median of the check passes: one bad pass out of three is not a regression', () => {
    const report = compareRuns(base, [pass({ gemmMs: 4.5, dispatchX: 3 }), pass({ gemmMs: 3, dispatchX: 2 }), pass({ gemmMs: 3.02, dispatchX: 3.05 })]);
    assert.deepEqual(report.regressions, []);
  });

  it('re-measures ratios down by more than half their tolerance, with the modules of the heed row and of its peer', () => {
    // GEMM −10% (beyond 7.5%): a suspect, though not a regression yet; dispatch unchanged
    const report = compareRuns(base, [pass({ gemmMs: 3.33, dispatchX: 3 })]);
    assert.deepEqual(report.regressions, []);
    const s = suspects(report);
    assert.deepEqual(s.map((j) => j.key).sort(), [GEMM_ORT, GEMM_PEAK]);
    assert.deepEqual([...modulesOf(s)].sort(), ['gemm', 'onnxruntime-node']);
    // a ratio to the peak needs only heed's own module
    assert.deepEqual([...modulesOf(s.filter((j) => j.against === 'peak'))], ['gemm']);
  });

  it('a baseline ratio the check did not measure is an error with a clear message', () => {
    const noPytorch = pass();
    noPytorch.rows = noPytorch.rows.filter((r) => r.impl !== 'pytorch');
    const report = compareRuns(base, [noPytorch]);
    assert.deepEqual(report.missing, [DISPATCH]);
    const err = missingError(report);
    assert.ok(err instanceof MissingRowsError && err instanceof ValueError);
    assert.equal(err.code, 'HEED_BENCH_MISSING');
    assert.deepEqual(err.keys, [DISPATCH]);
    assert.match(err.message, /1 ratio of bench\/results\/baseline\.json was not measured by this run.*dispatch add 64\|1\|pytorch.*module that failed or was skipped.*--quick --repeat 3 --write-baseline/);
    assert.ok(formatCheck(report).includes('**Error:** bench --check: 1 ratio'));
    assert.equal(missingError(compareRuns(base, [pass()])), undefined);
  });

  it('with --only, ratios of modules that did not run are out of scope, not missing', () => {
    const gemmOnly: RunRecord = { peak: { '1': 100 }, rows: pass().rows.filter((r) => r.module === 'gemm' || r.module === 'peak') };
    const report = compareRuns(base, [gemmOnly], { ran: new Set(['peak', 'gemm']) });
    assert.equal(report.compared, 1);
    assert.deepEqual(report.missing, []);
  });

  it('lists ratios new since the baseline without judging them', () => {
    const extra = pass();
    extra.rows.push({ workload: 'dispatch add 64', impl: 'tfjs-wasm', threads: 1, ms: 0.004, module: 'tfjs-wasm' });
    const report = compareRuns(base, [extra]);
    assert.deepEqual(report.onlyNow, ['dispatch add 64|1|tfjs-wasm']);
    assert.equal(report.compared, 3);
  });
});

describe('bench --check: on simulated runs (bench/check-sim.ts)', () => {
  // 100 workloads, each a heed row and a peer row with 5% noise per time; 3 seeds
  const total = async (slow: number, tail: number) => {
    let guarded = 0, flagged = 0;
    for (let seed = 1; seed <= 3; seed++) {
      const r = await simulate({ sigma: 0.05, tail, slow, seed });
      guarded += r.guarded; flagged += r.flagged;
    }
    return { guarded, flagged };
  };

  it('flags almost no ratio of unchanged code, and most ratios of a heed 25% slower (ratios 20% lower)', async () => {
    const same = await total(1, 0);
    assert.ok(same.guarded > 550, `${same.guarded} of 600 ratios guarded`);
    assert.ok(same.flagged <= 0.015 * same.guarded, `${same.flagged} false alarms of ${same.guarded}`);
    const slow = await total(1.25, 0);
    assert.ok(slow.flagged >= 0.7 * slow.guarded, `a 20% fall caught on ${slow.flagged} of ${slow.guarded} ratios`);
  });

  it('with busy moments (one time in ten 1.3–2× slower) it raises fewer false alarms than the single-pass guard', async () => {
    const same = await total(1, 0.1);
    let old = 0, oldCompared = 0;
    for (let seed = 1; seed <= 3; seed++) { const r = simulateOld({ sigma: 0.05, tail: 0.1, slow: 1, seed }); old += r.flagged; oldCompared += r.guarded; }
    assert.ok(same.flagged / same.guarded < old / oldCompared, `median: ${same.flagged} of ${same.guarded}; single pass: ${old} of ${oldCompared}`);
    assert.ok(same.flagged <= 0.06 * same.guarded, `${same.flagged} false alarms of ${same.guarded}`);
  });
});

describe('bench --check: the baseline file', () => {
  const good = makeBaseline([pass(), pass(), pass()], { started: '2026-12-05T19:00:00Z' });

  it('round-trips a written baseline', () => {
    const b = parseBaseline(JSON.stringify(good), 'b.json');
    assert.equal(b.format, BASELINE_FORMAT);
    assert.equal(b.passes, 3);
    assert.equal(Object.keys(b.ratios).length, 3);
  });

  it('names the file and the fix when the baseline is malformed, as a typed error', () => {
    const bad = (text: string, re: RegExp) => assert.throws(() => parseBaseline(text, 'bench/results/baseline.json'),
      (e: unknown) => e instanceof BaselineError && e.code === 'HEED_BENCH_BASELINE' && re.test((e as Error).message) && /--quick --repeat 3 --write-baseline/.test((e as Error).message));
    bad('{"format": "heed-bench', /baseline\.json is not valid JSON/);
    bad('[1, 2]', /holds an array, expected a baseline object/);
    bad('null', /holds null/);
    bad(JSON.stringify({ ...good, format: 'heed-bench-baseline/9' }), /has format "heed-bench-baseline\/9", expected 'heed-bench-baseline\/2'/);
    bad(JSON.stringify({ ...good, passes: 1 }), /written from 1 passes, expected at least 3/);
    bad(JSON.stringify({ ...good, ratios: {} }), /has no 'ratios'/);
    bad(JSON.stringify({ ...good, ratios: { ...good.ratios, [DISPATCH]: { ...good.ratios[DISPATCH], values: [2, -1, 2] } } }), /ratio 'dispatch add 64\|1\|pytorch' is .*values: positive numbers/);
    bad(JSON.stringify({ ...good, ratios: { ...good.ratios, [DISPATCH]: { ...good.ratios[DISPATCH], values: [] } } }), /values: positive numbers/);
    bad(JSON.stringify({ ...good, ratios: { ...good.ratios, [DISPATCH]: { ...good.ratios[DISPATCH], modules: undefined } } }), /expected \{workload, threads, against, modules/);
  });

  it('an old single-pass baseline (peak and rows, no format) tells the user to write a new one with --repeat 3', () => {
    const old = { started: '2026-12-05T18:10:11Z', options: { quick: true, writeBaseline: true }, peak: { '1': 228 }, rows: pass().rows };
    assert.throws(() => parseBaseline(JSON.stringify(old), 'bench/results/baseline.json'),
      (e: unknown) => e instanceof BaselineError && /baseline\.json is an older single-pass baseline .*Fix: write a new one with `npm run bench -- --quick --repeat 3 --write-baseline`/.test((e as Error).message));
  });
});
