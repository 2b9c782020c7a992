// The `npm run bench -- --check` regression guard compares within-run ratios, never absolute times.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { compareRuns, formatCheck, modulesOf, parseBaseline, ratios, type RunRecord } from '../../bench/check.ts';

const run = (peak1: number, rows: RunRecord['rows']): RunRecord => ({ peak: { '1': peak1, '2': 2 * peak1 }, rows });

describe('bench --check', () => {
  const baseline = run(100, [
    { workload: 'sgemm 512x512x512', impl: 'heed native', threads: 1, ms: 3, gflops: 80 },
    { workload: 'sgemm 512x512x512', impl: 'onnxruntime-node', threads: 1, ms: 6 },
    { workload: 'dispatch add 64', impl: 'heed', threads: 1, ms: 0.002 },
    { workload: 'dispatch add 64', impl: 'pytorch', threads: 1, ms: 0.004 },
  ]);

  it('takes a fraction of peak and a ratio to each peer for every heed row', () => {
    const r = ratios(baseline);
    assert.ok(Math.abs(r.get('sgemm 512x512x512|1|peak')!.value - 0.8) < 1e-9);
    assert.ok(Math.abs(r.get('sgemm 512x512x512|1|onnxruntime-node')!.value - 2) < 1e-9);
    assert.ok(Math.abs(r.get('dispatch add 64|1|pytorch')!.value - 2) < 1e-9);
    assert.equal(r.size, 3);
  });

  it('does not flag a whole run that is slower because the machine is busier', () => {
    // everything 2× slower, the peak probe too: every ratio is unchanged
    const busy = run(50, baseline.rows.map((r) => ({ ...r, ms: 2 * r.ms, gflops: r.gflops && r.gflops / 2 })));
    const report = compareRuns(baseline, busy);
    assert.equal(report.compared, 3);
    assert.deepEqual(report.regressions, []);
  });

  it('flags a heed row that fell by more than 15% against its peer or the peak', () => {
    const slower = run(100, [
      { workload: 'sgemm 512x512x512', impl: 'heed native', threads: 1, ms: 4, gflops: 60 },
      { workload: 'sgemm 512x512x512', impl: 'onnxruntime-node', threads: 1, ms: 6 },
      { workload: 'dispatch add 64', impl: 'heed', threads: 1, ms: 0.0022 }, // 10%: within tolerance
      { workload: 'dispatch add 64', impl: 'pytorch', threads: 1, ms: 0.004 },
      { workload: 'attention fwd B1 H12 L128 d64', impl: 'heed native', threads: 1, ms: 1 },
    ]);
    const report = compareRuns(baseline, slower);
    assert.deepEqual(report.regressions.map((r) => r.against).sort(), ['onnxruntime-node', 'peak']);
    assert.ok(report.regressions[0].change < -0.15);
    const text = formatCheck(report);
    assert.ok(text.includes('| sgemm 512x512x512 | 1 | peak | 80% of peak | 60% of peak | -25% |'), text);
    assert.ok(!text.includes('No regressions'));
  });

  it('names the file and the fix when the baseline is corrupt, instead of a bare JSON error', () => {
    assert.throws(() => parseBaseline('{"peak": {"1": 2', 'bench/results/baseline.json'), /baseline\.json is not valid JSON .*--write-baseline/);
    assert.throws(() => parseBaseline('[1, 2]', 'bench/results/baseline.json'), /holds no bench run .*'peak' and 'rows'/);
    assert.equal(parseBaseline(JSON.stringify(baseline), 'b.json').rows.length, 4);
  });

  it('re-measures a flagged ratio with the modules of its heed row and of its peer, and nothing else', () => {
    const rows: RunRecord['rows'] = [
      { workload: 'sgemm 512x512x512', impl: 'heed native', threads: 1, ms: 4, gflops: 60, module: 'gemm' },
      { workload: 'sgemm 512x512x512', impl: 'onnxruntime-node', threads: 1, ms: 6, module: 'onnxruntime-node' },
      { workload: 'sgemm 512x512x512', impl: 'pytorch', threads: 1, ms: 5, module: 'pytorch' },
      { workload: 'sgemm 512x512x512', impl: 'heed native', threads: 2, ms: 2, gflops: 120, module: 'gemm' },
      { workload: 'dispatch add 64', impl: 'heed', threads: 1, ms: 0.002, module: 'dispatch' },
    ];
    const report = compareRuns(baseline, run(100, rows));
    assert.deepEqual([...modulesOf(report.regressions, rows)].sort(), ['gemm', 'onnxruntime-node']);
    // a ratio to the peak needs only heed's own module
    const peakOnly = report.regressions.filter((r) => r.against === 'peak');
    assert.deepEqual([...modulesOf(peakOnly, rows)], ['gemm']);
  });

  it('says how many flagged ratios the confirmation passes cleared', () => {
    const text = formatCheck(compareRuns(baseline, baseline), 0.15, { flaggedFirst: 5, confirmations: 2 });
    assert.ok(text.includes('The first pass flagged 5; 2 confirmation passes re-measured their modules (best pass kept), and 0 stayed down.'), text);
    assert.ok(text.includes('No regressions.'));
  });
});
