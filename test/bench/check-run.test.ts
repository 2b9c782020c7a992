/**
 * A `--check` run's saved passes (bench/results/latest-check.json) judged again offline: the same
 * report as the run's own, and a clear error for a file that is not a saved check run.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CHECK_RUN_FORMAT, CheckRunError, compareRuns, makeBaseline, parseCheckRun, type CheckRun, type RunRecord } from '../../bench/check.ts';

/** One pass: heed's GEMM (a ratio to the peak) beside ORT's, heed `slower`× its usual time. */
function pass(slower = 1, jitter = 0): RunRecord {
  const ms = 3 * slower * (1 + jitter);
  return { peak: { '1': 100 }, rows: [
    { workload: 'fp32 FMA peak', impl: 'heed-native', threads: 1, ms: 0, gflops: 100, module: 'peak' },
    { workload: 'sgemm 512', impl: 'heed native', threads: 1, ms, gflops: 240 / ms, module: 'gemm' },
    { workload: 'sgemm 512', impl: 'onnxruntime-node', threads: 1, ms: 6, module: 'onnxruntime-node' },
  ] };
}
const baseline = makeBaseline([pass(), pass(1, 0.01), pass(1, -0.01)]);
const ran = ['gemm', 'onnxruntime-node', 'peak'];

describe('bench check run: saved passes judged again', () => {
  it('a saved run round-trips through JSON and gives the report the passes gave', () => {
    for (const passes of [[pass()], [pass(1.3), pass(1.3), pass(1.25)]]) {
      const saved: CheckRun = { format: CHECK_RUN_FORMAT, started: '2026-12-06T12:00:00.000Z', baseline: 'bench/results/baseline.json', ran, passes };
      const run = parseCheckRun(JSON.stringify(saved), 'latest-check.json');
      const again = compareRuns(baseline, run.passes, { ran: new Set(run.ran) });
      const direct = compareRuns(baseline, passes, { ran: new Set(ran) });
      assert.deepEqual(again, direct);
    }
    // and the slower heed is flagged on the saved passes, the steady one is not
    const slow = parseCheckRun(JSON.stringify({ format: CHECK_RUN_FORMAT, started: '', baseline: 'b.json', ran, passes: [pass(1.3), pass(1.3), pass(1.25)] }), 'x.json');
    assert.ok(compareRuns(baseline, slow.passes).regressions.length > 0);
    const steady = parseCheckRun(JSON.stringify({ format: CHECK_RUN_FORMAT, started: '', baseline: 'b.json', ran, passes: [pass()] }), 'x.json');
    assert.equal(compareRuns(baseline, steady.passes).regressions.length, 0);
  });

  it('a file that is not a saved check run: a CheckRunError naming the file, what it held and the command to run', () => {
    const bad: [string, RegExp][] = [
      ['{not json', /not valid JSON/],
      [JSON.stringify({ format: 'heed-bench-baseline/2', passes: 3, ratios: {} }), /format "heed-bench-baseline\/2", expected 'heed-bench-check-run\/1'/],
      [JSON.stringify({ format: CHECK_RUN_FORMAT, started: '', baseline: 'b.json', ran, passes: [] }), /lacks its passes/],
      [JSON.stringify({ format: CHECK_RUN_FORMAT, started: '', baseline: 'b.json', passes: [pass()] }), /lacks its passes/],
    ];
    for (const [text, why] of bad) {
      assert.throws(() => parseCheckRun(text, 'bench/results/odd.json'), (err: unknown) =>
        err instanceof CheckRunError && why.test(err.message) && err.message.includes('bench/results/odd.json') && err.message.includes('npm run bench -- --check'));
    }
  });
});
