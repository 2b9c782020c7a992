/**
 * The `--check` guard (bench/check.ts) against a host whose memory speed has modes: a fall against
 * the peak is set apart when the same heed row held against the host memory probe measured beside
 * it (bench/check-host.ts), and counts when it fell against the probe too; a host-probe ratio is a
 * witness only; each verdict says why; and, on simulated runs with a bimodal host
 * (bench/check-sim.ts), fewer false alarms without losing the catch rate.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { checkAgainst, compareRuns, formatCheck, HELD, HOST_PROBE, makeBaseline, suspects, type RunRecord } from '../../bench/check.ts';
import { hostProbe } from '../../bench/check-host.ts';
import { simulate } from '../../bench/check-sim.ts';

type Row = RunRecord['rows'][number];

/**
 * One pass. sgemm: heed 3 ms × `heed` (80% of a 100 GFLOP/s peak at 1) beside ORT (6 ms) and
 * PyTorch (9 ms); attention: heed 1 ms × `heed`, no peer. `host` is the memory's slow-down factor:
 * every time × `host` (a memory-bound row and its peers alike), the memory probe 100 / `host` GB/s,
 * the FMA peak unchanged. `probe` scales the memory probe alone; `noProbe` leaves it out.
 */
function pass(o: { heed?: number; host?: number; probe?: number; jitter?: number; noProbe?: boolean } = {}): RunRecord {
  const j = 1 + (o.jitter ?? 0), h = (o.heed ?? 1) * j, m = o.host ?? 1;
  const rows: Row[] = [
    { workload: 'fp32 FMA peak', impl: 'heed-native', threads: 1, ms: 0, gflops: 100, module: 'peak' },
    { workload: 'sgemm 512', impl: 'heed native', threads: 1, ms: 3 * h * m, gflops: 240 / (3 * h * m), module: 'gemm' },
    { workload: 'sgemm 512', impl: 'onnxruntime-node', threads: 1, ms: 6 * m, module: 'onnxruntime-node' },
    { workload: 'sgemm 512', impl: 'pytorch', threads: 1, ms: 9 * m, module: 'pytorch' },
    { workload: 'attention L32', impl: 'heed-native fused', threads: 1, ms: h * m, gflops: 50 / (h * m), module: 'attention' },
  ];
  const gbps = (100 / m) * (o.probe ?? 1) * (1 - (o.jitter ?? 0) / 2);
  return { peak: { '1': 100 }, rows, ...(o.noProbe ? {} : { host: { gemm: gbps, attention: gbps } }) };
}
const baseline = (noProbe = false) => makeBaseline([pass({ noProbe }), pass({ jitter: 0.01, noProbe }), pass({ jitter: -0.01, noProbe })]);
const keys = (js: { key: string }[]) => js.map((j) => j.key).sort();

describe('bench --check: a fall against the peak, asked of the host memory probe', () => {
  it('records the probe as a ratio of every heed row with a FLOP count, from the probe beside its module', () => {
    const b = baseline();
    assert.ok(b.ratios[`sgemm 512|1|${HOST_PROBE}`]);
    assert.ok(b.ratios[`attention L32|1|${HOST_PROBE}`]);
    assert.equal(Object.keys(b.ratios).filter((key) => key.endsWith(HOST_PROBE)).length, 2);
  });

  it('the host\'s memory 25% slower in every pass, heed unchanged: the peak ratios count (the default), and say the host was in another mode', () => {
    const report = compareRuns(baseline(), [pass({ host: 1.25 })]);
    assert.deepEqual(keys(report.regressions), ['attention L32|1|peak', 'sgemm 512|1|peak']);
    assert.match(report.regressions[0].reason, /^fell 20% \(one pass; the host memory probe against the FMA probe read −20% from the baseline's in every pass: the host's memory in another mode\), beyond its tolerance 15% .*; the same heed row held against the host memory probe [+−]0% \(tolerance 15%\), measured beside it, but a fall against the peak counts unless hostWitness is set$/);
  });

  it('with hostWitness, the falls against the peak are set apart as the host\'s, with the reason', () => {
    const report = compareRuns(baseline(), [pass({ host: 1.25 })], { hostWitness: true });
    assert.deepEqual(report.regressions, []);
    assert.deepEqual(keys(report.slowerHost), ['attention L32|1|peak', 'sgemm 512|1|peak']);
    const attn = report.slowerHost.find((j) => j.workload === 'attention L32')!;
    assert.match(attn.reason, /^fell 20% \(one pass; the host memory probe against the FMA probe read −20% from the baseline's in every pass: the host's memory in another mode\), beyond its tolerance 15% \(the floor; its baseline spread is ±\d+%\); but the same heed row held against the host memory probe [+−]0% \(tolerance 15%\), measured beside it: the host's memory was slower \(the memory probe fell 20% against the FMA probe\), not heed$/);
    // still re-measured before the verdict, like any ratio down by more than half its tolerance
    assert.deepEqual(keys(suspects(report)), ['attention L32|1|peak', 'sgemm 512|1|peak']);
    const text = formatCheck(report);
    assert.match(text, /\nNo regressions\./);
    assert.match(text, /Fell against the peak with the host \(2; the same heed row held against the host memory probe measured beside it, so the host's memory was slower; not failed\):/);
  });

  it('heed 25% slower, the host unchanged: caught against the peak and against the memory probe', () => {
    const report = compareRuns(baseline(), [pass({ heed: 1.25 })], { hostWitness: true });
    assert.deepEqual(report.slowerHost, []);
    assert.deepEqual(keys(report.regressions), ['attention L32|1|host memory probe', 'attention L32|1|peak', 'sgemm 512|1|host memory probe', 'sgemm 512|1|onnxruntime-node',
      'sgemm 512|1|peak', 'sgemm 512|1|pytorch']);
    const peak = report.regressions.find((j) => j.key === 'attention L32|1|peak')!;
    assert.match(peak.reason, /fell 20% .*; the same heed row fell against the host memory probe −20% \(tolerance 15%\) too: heed's \(both probes are heed-free\)$/);
  });

  it('heed 25% slower while the host\'s memory is 25% slower too: still caught, the row fell against the memory probe', () => {
    const report = compareRuns(baseline(), [pass({ heed: 1.25, host: 1.25 })], { hostWitness: true });
    assert.deepEqual(report.slowerHost, []);
    assert.ok(report.regressions.some((j) => j.key === 'attention L32|1|peak'));
    assert.ok(report.regressions.some((j) => j.key === 'sgemm 512|1|onnxruntime-node'));
  });

  it('a memory probe that read faster is a witness, never a regression on its own', () => {
    const report = compareRuns(baseline(), [pass({ probe: 1.5 })]);
    assert.deepEqual(report.regressions, []);
    assert.deepEqual(keys(report.oneReference), ['attention L32|1|host memory probe', 'sgemm 512|1|host memory probe']);
    assert.match(report.oneReference[0].reason, /but the same heed row held against the peak \+0% \(tolerance 15%\): the memory probe read faster, not heed$/);
    assert.deepEqual(suspects(report), []); // nothing to re-measure: no heed row fell against a workload or the peak
  });

  it('a baseline written before the probe: a fall against the peak counts, and the report says to rewrite the baseline', () => {
    const report = compareRuns(baseline(true), [pass({ host: 1.25 })]);
    assert.equal(report.hostInBaseline, false);
    assert.ok(report.regressions.some((j) => j.key === 'attention L32|1|peak'));
    assert.match(report.regressions.find((j) => j.key === 'attention L32|1|peak')!.reason, /the baseline has no guarded memory probe ratio for this row \(written before bench\/check-host\.ts: rewrite it with `npm run bench -- --quick --repeat 3 --write-baseline`\)$/);
    const text = formatCheck(report);
    assert.match(text, /The baseline has no host memory probe ratios \(written before bench\/check-host\.ts\), so no fall against the peak can be told from a slower host; 2 measured now, not judged\./);
    assert.doesNotMatch(text, /New since the baseline/);
  });

  it('a fall against the peak with no pass in the baseline\'s host mode is re-measured in a later minute, and judged on the pass in it', async () => {
    // the first pass and both confirmations in the slow mode, the first retry back in the fast one
    const measured: RunRecord[] = [pass({ host: 1.25 }), pass({ host: 1.25 }), pass()];
    let n = 0;
    const { report, confirmation } = await checkAgainst(baseline(), [pass({ host: 1.25 })], async () => measured[n++]);
    assert.equal(n, 3);
    assert.equal(confirmation.hostRetries, 1);
    assert.deepEqual(report.regressions, []);
    const peak = report.passed.find((j) => j.key === 'attention L32|1|peak')!;
    assert.equal(peak.passesNow, 1);
    assert.match(peak.reason, /^rose 0% \(one pass in the baseline's host mode; 3 passes left out, whose memory probe against the FMA probe read −20%, −20%, −20% from the baseline's\)/);
    assert.match(formatCheck(report, confirmation), /1 more pass re-measured the rows that fell against the peak with no pass in the baseline's host mode\./);
  });

  it('a heed 25% slower stays caught through the retries', async () => {
    let n = 0;
    const { report, confirmation } = await checkAgainst(baseline(), [pass({ heed: 1.25, host: 1.25 })], async () => { n++; return pass({ heed: 1.25, host: n <= 2 ? 1.25 : 1 }); });
    assert.equal(confirmation.hostRetries, 1);
    const peak = report.regressions.find((j) => j.key === 'attention L32|1|peak')!;
    assert.ok(Math.abs(peak.change + 0.2) < 1e-6, `${peak.change}`);
    assert.equal(peak.passesNow, 1);
  });

  it('the confirmation passes re-measure the suspects with their probe, and the median decides', async () => {
    // the first pass in the slow mode; the confirmations back in the fast one: the row passes on its median
    const { report, confirmation } = await checkAgainst(baseline(), [pass({ host: 1.25 })], async () => pass());
    assert.equal(confirmation.suspects, 2);
    assert.deepEqual(report.regressions, []);
    assert.deepEqual(report.slowerHost, []);
    const text = formatCheck(report, confirmation);
    assert.match(text, /Re-measured and passed \(2\):/);
    // the peak ratio is judged on the two passes in the baseline's host mode, and says which it left out
    assert.match(report.passed.find((j) => j.key === 'attention L32|1|peak')!.reason,
      /^rose 0% \(the median of 2 passes in the baseline's host mode; 1 pass left out, whose memory probe against the FMA probe read −20% from the baseline's\), within its tolerance 15%/);
  });

  it('judges a real fall on the passes in the baseline\'s host mode: heed 25% slower with one pass in the slow mode is caught', async () => {
    const { report } = await checkAgainst(baseline(), [pass({ heed: 1.25, host: 1.25 })], async () => pass({ heed: 1.25 }));
    const peak = report.regressions.find((j) => j.key === 'attention L32|1|peak')!;
    assert.ok(peak, 'the peak ratio is a regression');
    assert.equal(peak.passesNow, 2);
    assert.ok(Math.abs(peak.change + 0.2) < 1e-6);
  });

  it('one threshold: a reference held, and a ratio is a suspect, at a fall of half its tolerance', () => {
    assert.equal(HELD, 0.5);
    const report = compareRuns(baseline(), [pass({ heed: 1 / 0.92 })]); // every heed ratio 8% lower: > 7.5%, half of 15%
    assert.deepEqual(keys(suspects(report)), ['attention L32|1|peak', 'sgemm 512|1|onnxruntime-node', 'sgemm 512|1|peak', 'sgemm 512|1|pytorch']);
  });

  it('the probe itself: a positive GB/s', () => {
    const gbps = hostProbe(3, 2 ** 20);
    assert.ok(Number.isFinite(gbps) && gbps > 0, `${gbps} GB/s`);
  });
});

describe('bench --check: a host with a slow memory mode, on simulated runs (bench/check-sim.ts)', () => {
  // 100 workloads × 12 seeds (the host's mode is shared by every workload of a pass); 2% noise per time; the host's memory 1.35× slower in 30% of the passes
  const total = async (slow: number, hostProbe: boolean) => {
    const sum = { flagged: 0, workloadsFlagged: 0, workloads: 0, slowerHost: 0 };
    for (let seed = 1; seed <= 12; seed++) {
      const r = await simulate({ sigma: 0.02, tail: 0, hostModes: 0.3, hostSlow: 0.35, slow, seed, hostProbe });
      sum.flagged += r.flagged; sum.workloadsFlagged += r.workloadsFlagged; sum.workloads += r.workloads; sum.slowerHost += r.slowerHost ?? 0;
    }
    return sum;
  };

  it('judging the peak ratios in the baseline\'s host mode cuts the false alarms of unchanged code and keeps catching a heed 25% slower', async () => {
    const [same, sameBefore] = [await total(1, true), await total(1, false)];
    assert.ok(same.workloadsFlagged < 0.75 * sameBefore.workloadsFlagged, `workloads flagged on unchanged code: ${same.workloadsFlagged} asking the probe, ${sameBefore.workloadsFlagged} before`);
    const [slow, slowBefore] = [await total(1.25, true), await total(1.25, false)];
    assert.ok(slow.workloadsFlagged >= slowBefore.workloadsFlagged - 0.03 * slow.workloads, `workloads caught: ${slow.workloadsFlagged} asking the probe, ${slowBefore.workloadsFlagged} before`);
    assert.ok(slow.workloadsFlagged >= 0.75 * slow.workloads, `${slow.workloadsFlagged} of ${slow.workloads} workloads caught`);
  });
});
