/**
 * The `--check` guard (bench/check.ts) on simulated runs, where the truth is known: how many ratios
 * of unchanged code it flags (false alarms), and how many it catches when every heed row is 25% slower
 * (every ratio 20% lower), against the sixth session's guard (a single-pass baseline, a flat 15%,
 * flagged rows re-run twice and each row's best pass kept).
 *
 * The model: W workloads, each a heed row (with GFLOP/s, so a ratio to the pass's peak) and a peer
 * row, in their own modules. Every time is its true value × exp(sigma·z), z standard normal; with
 * `tail`, each time is also, with that probability, 1.3–2× slower (a busy moment: noise only slows a
 * time down). With `peerModes` p, each peer also runs, with probability p per pass, in a slow mode
 * 4× its usual time for that whole pass (onnxruntime-node's 3×3 conv on this VM: 13 or 54 ms from one
 * process to the next). The peak probe has 2% noise. Baseline: 3 passes; check: 1 pass + 2
 * confirmation passes of the suspects' modules, as `npm run bench -- --check` runs them
 * (checkAgainst), with and without asking the heed row's other reference (bench/check.ts, step 4).
 *
 *   node --import tsx bench/check-sim.ts [--seeds 10] [--k 3] [--confirm 2] [--out file.json]
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { checkAgainst, makeBaseline, ratios, type RunRecord } from './check.ts';
import { readArgs } from './args.ts';

export interface SimOptions { sigma: number; tail: number; slow: number; seed: number; workloads?: number; k?: number; confirm?: number; peerModes?: number; corroborate?: boolean }
export interface SimResult { guarded: number; tooNoisy: number; flagged: number; workloadsFlagged: number; workloads: number; oneReference: number }

/** Seeded normal and uniform draws (an LCG: the figures must not change from run to run). */
function rng(seed: number) {
  let s = seed;
  const u = () => { s = (s * 1103515245 + 12345) % 2 ** 31; return (s + 0.5) / 2 ** 31; };
  const z = () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
  return { u, z };
}

/** A pass generator for the model above; `modules` narrows it as a confirmation pass. */
function passes(o: SimOptions) {
  const { u, z } = rng(o.seed);
  const W = o.workloads ?? 100;
  const time = (t: number) => t * Math.exp(o.sigma * z()) * (u() < o.tail ? 1.3 + 0.7 * u() : 1);
  return (slow: number, modules?: Set<string>): RunRecord => {
    const peak = 100 * Math.exp(0.02 * z());
    const mode = Array.from({ length: W }, () => (u() < (o.peerModes ?? 0) ? 4 : 1)); // this pass's mode of each peer
    const rows: RunRecord['rows'] = [{ workload: 'fp32 FMA peak', impl: 'heed-native', threads: 1, ms: 0, gflops: peak, module: 'peak' }];
    for (let i = 0; i < W; i++) {
      const t = 1 + i / W; // workloads of different sizes
      if (!modules || modules.has(`h${i}`)) { const ms = time(t * slow); rows.push({ workload: `w${i}`, impl: 'heed', threads: 1, ms, gflops: (50 * t) / ms, module: `h${i}` }); }
      if (!modules || modules.has(`p${i}`)) rows.push({ workload: `w${i}`, impl: 'peer', threads: 1, ms: time(2 * t * mode[i]), module: `p${i}` });
    }
    return { peak: { '1': peak }, rows };
  };
}

/** The current guard: a 3-pass baseline, then the check as bench/index.ts runs it. */
export async function simulate(o: SimOptions): Promise<SimResult> {
  const pass = passes(o);
  const baseline = makeBaseline([pass(1), pass(1), pass(1)]);
  const { report } = await checkAgainst(baseline, [pass(o.slow)], async (modules) => pass(o.slow, modules), { k: o.k, confirm: o.confirm, corroborate: o.corroborate });
  return {
    guarded: report.regressions.length + report.passed.length + report.oneReference.length, tooNoisy: report.tooNoisy.length, flagged: report.regressions.length,
    workloadsFlagged: new Set(report.regressions.map((r) => r.workload)).size, workloads: o.workloads ?? 100, oneReference: report.oneReference.length,
  };
}

/** The sixth session's guard: one baseline pass, flat 15%, flagged rows' modules twice more, each row's best pass. */
export function simulateOld(o: SimOptions): SimResult {
  const pass = passes(o);
  const before = ratios(pass(1));
  const runs = [pass(o.slow)];
  const bestOf = (): RunRecord => {
    const best = new Map<string, RunRecord['rows'][number]>();
    let peak = 0;
    for (const r of runs) {
      peak = Math.max(peak, r.peak['1']);
      for (const row of r.rows) { const k = `${row.workload}|${row.impl}`; const c = best.get(k); if (!c || row.ms < c.ms) best.set(k, row); }
    }
    return { peak: { '1': peak }, rows: [...best.values()] };
  };
  const down = () => [...before].filter(([k, b]) => ratios(bestOf()).get(k)!.value / b.value - 1 < -0.15).map(([k]) => k);
  if (down().length) runs.push(pass(o.slow), pass(o.slow)); // (all modules: flagged rows span most of them)
  const flagged = down();
  return { guarded: before.size, tooNoisy: 0, flagged: flagged.length, workloadsFlagged: new Set(flagged.map((k) => k.split('|')[0])).size, workloads: o.workloads ?? 100, oneReference: 0 };
}

async function main(): Promise<void> {
  const flags = readArgs(import.meta.url, {
    seeds: { kind: 'int', default: 10, min: 1, help: 'simulated runs per scenario' },
    k: { kind: 'number', min: 0, help: 'a row\'s tolerance is max(15%, k × its baseline spread) (default 3, bench/check.ts)' },
    confirm: { kind: 'int', default: 2, min: 0, help: 'confirmation passes of the suspects\' modules' },
    out: { kind: 'string', default: '', help: 'raw results file (JSON)' },
  });
  const { seeds, out, k, confirm } = flags;
  const rows: Record<string, unknown>[] = [];
  const GUARDS = ['tenth session: median of passes, per-row tolerance, the row\'s other reference asked', 'ninth session: median of passes, per-row tolerance',
    'sixth session: single-pass baseline, best pass'] as const;
  console.log('| noise (per time) | busy-moment tail | peer slow mode (4×) per pass | code | guard | ratios guarded | too noisy | fell against one reference only | ratios flagged | workloads with a flagged ratio |');
  console.log('|---|---:|---:|---|---|---:|---:|---:|---:|---:|');
  for (const [tail, peerModes] of [[0, 0], [0.1, 0], [0.1, 0.2]]) {
    for (const sigma of [0.02, 0.05, 0.08]) {
      for (const slow of [1, 1.25]) {
        for (const guard of GUARDS) {
          const sum: SimResult = { guarded: 0, tooNoisy: 0, flagged: 0, workloadsFlagged: 0, workloads: 0, oneReference: 0 };
          for (let seed = 1; seed <= seeds; seed++) {
            const r = guard.startsWith('sixth') ? simulateOld({ sigma, tail, slow, seed, peerModes })
              : await simulate({ sigma, tail, slow, seed, k, confirm, peerModes, corroborate: guard.startsWith('tenth') });
            for (const key of Object.keys(sum) as (keyof SimResult)[]) sum[key] += r[key];
          }
          const row = { sigma, tail, peerModes, code: slow === 1 ? 'unchanged' : 'heed 25% slower', guard, ...sum,
            ratiosFlaggedPct: +((100 * sum.flagged) / sum.guarded).toFixed(1), workloadsFlaggedPct: +((100 * sum.workloadsFlagged) / sum.workloads).toFixed(1) };
          rows.push(row);
          console.log(`| ${(100 * sigma).toFixed(0)}% | ${(100 * tail).toFixed(0)}% | ${(100 * peerModes).toFixed(0)}% | ${row.code} | ${guard} | ${sum.guarded} | ${sum.tooNoisy} | ${sum.oneReference} | ${row.ratiosFlaggedPct}% | ${row.workloadsFlaggedPct}% |`);
        }
      }
    }
  }
  if (out) writeFileSync(out, JSON.stringify({ seeds, workloads: 100, k: k ?? 'default (3)', confirm, rows }, null, 1) + '\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
