/**
 * The `--check` guard (bench/check.ts) against a noisy peer: a ratio that fell against one peer
 * while the same heed row held against the peak (or, without a peak ratio, against two or more
 * other peers) is set apart, not failed; a fall against the peak always counts; each judged ratio
 * says why; and, on simulated runs (bench/check-sim.ts), fewer false alarms at the same catch rate.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { checkAgainst, compareRuns, formatCheck, makeBaseline, suspects, type RunRecord } from '../../bench/check.ts';
import { simulate } from '../../bench/check-sim.ts';

type Row = RunRecord['rows'][number];

/**
 * One pass. GEMM: heed at 3 ms × `heed` (80% of a 100 GFLOP/s peak at 1), beside ORT (6 ms × `ort`)
 * and PyTorch (9 ms). Train: no FLOP count, so no peak ratio; heed 100 ms × `heed`, beside
 * pytorch (300 ms × `torch`), tfjs (500 ms) and, with `third`, a third peer (700 ms).
 */
function pass(o: { heed?: number; ort?: number; torch?: number; third?: boolean; jitter?: number } = {}): RunRecord {
  const j = 1 + (o.jitter ?? 0);
  const h = o.heed ?? 1;
  const rows: Row[] = [
    { workload: 'fp32 FMA peak', impl: 'heed-native', threads: 1, ms: 0, gflops: 100, module: 'peak' },
    { workload: 'sgemm 512', impl: 'heed native', threads: 1, ms: 3 * h * j, gflops: 240 / (3 * h * j), module: 'gemm' },
    { workload: 'sgemm 512', impl: 'onnxruntime-node', threads: 1, ms: 6 * (o.ort ?? 1), module: 'onnxruntime-node' },
    { workload: 'sgemm 512', impl: 'pytorch', threads: 1, ms: 9, module: 'pytorch' },
    { workload: 'train step', impl: 'heed', threads: 1, ms: 100 * h * j, module: 'train' },
    { workload: 'train step', impl: 'pytorch', threads: 1, ms: 300 * (o.torch ?? 1), module: 'train' },
    { workload: 'train step', impl: 'tfjs', threads: 1, ms: 500, module: 'train' },
  ];
  if (o.third) rows.push({ workload: 'train step', impl: 'peer3', threads: 1, ms: 700, module: 'train' });
  return { peak: { '1': 100 }, rows };
}
// a steady baseline: every ratio's spread ≈ 1% (tolerance 15%)
const baseline = (third = false) => makeBaseline([pass({ third }), pass({ jitter: 0.01, third }), pass({ jitter: -0.01, third })]);
const keys = (js: { key: string }[]) => js.map((j) => j.key).sort();

describe('bench --check: a fall against one reference', () => {
  it('a peer 3× faster than in the baseline, heed steady against the peak: set apart, not a regression, and says why', () => {
    const report = compareRuns(baseline(), [pass({ ort: 1 / 3 })]);
    assert.deepEqual(report.regressions, []);
    assert.deepEqual(keys(report.oneReference), ['sgemm 512|1|onnxruntime-node']);
    const r = report.oneReference[0];
    assert.ok(Math.abs(r.change + 2 / 3) < 1e-6);
    assert.match(r.reason, /^fell 67% \(one pass\), beyond its tolerance 15% \(the floor; its baseline spread is ±\d+%\); but the same heed row held against the peak \+0% \(tolerance 15%\): onnxruntime-node moved, not heed$/);
    // still re-measured before the verdict, like any ratio down by more than half its tolerance
    assert.deepEqual(keys(suspects(report)), ['sgemm 512|1|onnxruntime-node']);
  });

  it('heed 25% slower: every reference of the row falls, each a regression corroborated by the peak', () => {
    const report = compareRuns(baseline(), [pass({ heed: 1.25 })]);
    assert.deepEqual(report.oneReference, []);
    assert.deepEqual(keys(report.regressions), ['sgemm 512|1|onnxruntime-node', 'sgemm 512|1|peak', 'sgemm 512|1|pytorch', 'train step|1|pytorch', 'train step|1|tfjs']);
    const ort = report.regressions.find((j) => j.against === 'onnxruntime-node')!;
    assert.match(ort.reason, /fell 20% .*; the same heed row fell against the peak −20% \(tolerance 15%\) too$/);
    const peak = report.regressions.find((j) => j.against === 'peak')!;
    assert.match(peak.reason, /a fall against the peak is heed's/);
  });

  it('a fall against the peak counts even when the peers held (a peer slower in the check can hide a slower heed)', () => {
    const report = compareRuns(baseline(), [pass({ heed: 1.25, ort: 1.3 })]);
    assert.ok(report.regressions.some((j) => j.key === 'sgemm 512|1|peak'));
  });

  it('without a peak ratio: one other peer cannot tell which moved, two or more can', () => {
    const two = compareRuns(baseline(), [pass({ torch: 1 / 3 })]);
    assert.deepEqual(keys(two.regressions), ['train step|1|pytorch']);
    assert.match(two.regressions[0].reason, /heed's row held against tfjs \+0% \(tolerance 15%\), but with two peers and no peak ratio either may have moved, so it counts/);
    const three = compareRuns(baseline(true), [pass({ torch: 1 / 3, third: true })]);
    assert.deepEqual(three.regressions, []);
    assert.deepEqual(keys(three.oneReference), ['train step|1|pytorch']);
    assert.match(three.oneReference[0].reason, /held against tfjs \+0% \(tolerance 15%\), peer3 \+0% \(tolerance 15%\): pytorch moved, not heed/);
  });

  it('corroborate: false judges every ratio alone (the ninth session\'s guard)', () => {
    const report = compareRuns(baseline(), [pass({ ort: 1 / 3 })], { corroborate: false });
    assert.deepEqual(keys(report.regressions), ['sgemm 512|1|onnxruntime-node']);
    assert.deepEqual(report.oneReference, []);
    assert.match(report.regressions[0].reason, /not checked against the row's other references/);
  });

  it('the printed report gives the reason for every regression, every ratio set apart and every re-measured ratio', async () => {
    // pass 1: ORT fast and PyTorch's train row fast; the confirmations: ORT still fast, PyTorch back to normal
    let n = 0;
    const { report, confirmation } = await checkAgainst(baseline(), [pass({ ort: 1 / 3, torch: 1 / 3 })], async () => { n++; return pass({ ort: 1 / 3 }); });
    assert.equal(n, 2);
    assert.deepEqual(keys(report.oneReference), ['sgemm 512|1|onnxruntime-node']);
    assert.deepEqual(report.regressions, []);
    const text = formatCheck(report, confirmation);
    assert.match(text, /\nNo regressions\./);
    assert.match(text, /Fell against one reference only \(1; the same heed row held against its others, so the reference moved; not failed\):/);
    assert.match(text, /\| sgemm 512 \| 1 \| onnxruntime-node \| .* \| 3 \| -67% \| 15% \| fell 67% \(the median of 3 passes\), .*onnxruntime-node moved, not heed \|/);
    assert.match(text, /Re-measured and passed \(1\):[\s\S]*\| train step \| 1 \| pytorch \| .* \| 3 \| 0% \| 15% \| rose 0% \(the median of 3 passes\), within its tolerance 15%/);
  });
});

describe('bench --check: a peer with a slow mode, on simulated runs (bench/check-sim.ts)', () => {
  // 100 workloads × 3 seeds; 2% noise per time, one time in ten 1.3–2× slower, each peer 4× slower in one pass in five
  const total = async (slow: number, corroborate: boolean) => {
    const sum = { guarded: 0, flagged: 0, workloadsFlagged: 0, workloads: 0 };
    for (let seed = 1; seed <= 3; seed++) {
      const r = await simulate({ sigma: 0.02, tail: 0.1, peerModes: 0.2, slow, seed, corroborate });
      for (const k of Object.keys(sum) as (keyof typeof sum)[]) sum[k] += r[k];
    }
    return sum;
  };

  it('asking the row\'s peak ratio cuts the false alarms of unchanged code and keeps catching a heed 25% slower', async () => {
    const [same, sameAlone] = [await total(1, true), await total(1, false)];
    assert.ok(same.workloadsFlagged < sameAlone.workloadsFlagged / 2, `workloads flagged on unchanged code: ${same.workloadsFlagged} asking the peak, ${sameAlone.workloadsFlagged} alone`);
    const [slow, slowAlone] = [await total(1.25, true), await total(1.25, false)];
    assert.ok(slow.workloadsFlagged >= slowAlone.workloadsFlagged - 3, `workloads caught: ${slow.workloadsFlagged} asking the peak, ${slowAlone.workloadsFlagged} alone`);
    assert.ok(slow.workloadsFlagged >= 0.85 * slow.workloads, `${slow.workloadsFlagged} of ${slow.workloads} workloads caught`);
  });
});
