/**
 * `npm run bench`: every benchmark in one process, so heed/peer ratios come from one run
 * on one machine state.
 *
 *   npm run bench                         full run (~10–20 min on 2 cores)
 *   npm run bench -- --quick              short run (fewer sizes, shorter timing budgets)
 *   npm run bench -- --only gemm,attention   only these workload families
 *                                          (peak, dispatch, gemm, attention, mha, norms, int8, train, compress, conv)
 *   npm run bench -- --repeat 2            run everything twice, keep each row's best pass
 *   npm run bench -- --check               quick pass, compared with bench/results/baseline.json (bench/check.ts): each
 *                                          ratio to the same pass's peak or peer, median against the baseline's
 *                                          median; a fall beyond max(15%, 3 × the row's baseline spread) is a
 *                                          regression (exit 1), rows too noisy to resolve 15% are listed apart, a
 *                                          baseline ratio not measured is an error (exit 2). Ratios down by more
 *                                          than half their tolerance get their modules re-measured (--confirm N,
 *                                          default 2 more passes) and are judged by their median (4–12 min quiet);
 *                                          a heed-free memory probe beside each module tells a slower host from a
 *                                          slower heed for the ratios to the peak (bench/check-host.ts)
 *   npm run bench -- --quick --repeat 3 --write-baseline   save 3 passes' medians and spreads as that baseline
 *                                          (~13 min quiet; --write-baseline alone implies --quick --repeat 3)
 *   npm run bench -- --baseline FILE ...   read (--check) or write (--write-baseline) FILE instead
 *
 * Modules (each exports `run(opts): Promise<BenchRow[]>`):
 *   bench/peak.ts, gemm.ts, attention.ts, norms.ts   heed's native kernels (optional: skipped when absent)
 *   bench/dispatch.ts                                heed's per-op overhead on tiny ops
 *   bench/peers/onnxruntime.ts, tfjs.ts, torch.ts    the peers, on the same workloads
 *   bench/peers/heed.ts                              heed through its ops API: the composed-ops attention
 *                                                    backward (baseline for the fused one), and GEMM/attention
 *                                                    forward when gemm.ts / attention.ts are absent
 * Output: Markdown tables on stdout (ms, GFLOP/s, % of the measured FMA peak at that thread
 * count, and heed's speed-up over each peer at the same thread count), then a check of the
 * DESIGN.md targets; all rows go to bench/results/latest.json (latest-<families>.json with --only).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchOptions, BenchRow } from './peers/common.ts';
import { BenchArgsError, parseArgs, readArgs } from './args.ts';
import { hostProbe } from './check-host.ts';

export type { BenchRow, BenchOptions };

process.env.HEED_QUIET ??= '1';
const here = dirname(fileURLToPath(import.meta.url));

interface ModuleSpec { name: string; file: string; families: string[]; kind: 'heed' | 'peer' }
const MODULES: ModuleSpec[] = [
  { name: 'peak', file: 'peak.ts', families: ['peak'], kind: 'heed' },
  { name: 'dispatch', file: 'dispatch.ts', families: ['dispatch'], kind: 'heed' },
  { name: 'gemm', file: 'gemm.ts', families: ['gemm'], kind: 'heed' },
  { name: 'attention', file: 'attention.ts', families: ['attention'], kind: 'heed' },
  { name: 'norms', file: 'norms.ts', families: ['norms'], kind: 'heed' },
  { name: 'int8', file: 'int8.ts', families: ['int8'], kind: 'heed' }, // int8 QuantizedLinear vs fp32 Linear
  { name: 'compress', file: 'compress.ts', families: ['compress'], kind: 'heed' }, // whole models: fp32 / int8 / fp16 / pruned / distilled
  { name: 'onnxruntime-node', file: 'peers/onnxruntime.ts', families: ['gemm', 'attention'], kind: 'peer' },
  { name: 'onnxruntime-node fused MHA', file: 'peers/ort-mha.ts', families: ['mha'], kind: 'peer' }, // heed's fused forward and ORT's MultiHeadAttention
  { name: 'tfjs-wasm', file: 'peers/tfjs.ts', families: ['gemm', 'attention', 'dispatch'], kind: 'peer' },
  { name: 'pytorch', file: 'peers/torch.ts', families: ['gemm', 'attention', 'dispatch'], kind: 'peer' },
  { name: 'train', file: 'train.ts', families: ['train'], kind: 'peer' }, // heed, PyTorch and tfjs training steps
  { name: 'conv', file: 'conv.ts', families: ['conv'], kind: 'peer' }, // the CNN's 3×3 convolutions: heed, PyTorch and ORT Conv
];

const FAMILIES = ['peak', 'dispatch', 'gemm', 'attention', 'mha', 'norms', 'int8', 'train', 'compress', 'conv'] as const;
/** `npm run bench`'s flags (bench/args.ts reads and checks them; `--help` prints this file's comment and them). */
export const BENCH_FLAGS = {
  quick: { kind: 'bool', help: 'short run (fewer sizes, shorter timing budgets)' },
  only: { kind: 'strings', choices: FAMILIES, help: 'only these workload families' },
  threads: { kind: 'ints', min: 1, help: 'thread counts to measure (default 1,2)' },
  repeat: { kind: 'int', min: 1, help: 'passes over everything; each row keeps its best (default 1; 3 with --write-baseline)' },
  check: { kind: 'bool', help: 'a quick pass compared with the baseline (bench/check.ts); exit 1 on a regression, 2 on a ratio not measured' },
  confirm: { kind: 'int', min: 0, help: '--check: more passes of the modules of ratios down by more than half their tolerance (default 2)' },
  'write-baseline': { kind: 'bool', help: 'save the passes\' medians and spreads as the baseline (implies --quick --repeat 3)' },
  baseline: { kind: 'string', help: 'the baseline file --check reads and --write-baseline writes (default bench/results/baseline.json)' },
} as const;

/** The options of a command line (argv without `node` and the script), or a BenchArgsError. */
export function benchOptions(argv: readonly string[]): BenchOptions {
  const f = parseArgs('bench/index.ts', BENCH_FLAGS, argv);
  const opts: BenchOptions = {};
  if (f.quick) opts.quick = true;
  if (f.only.length) opts.only = f.only;
  if (f.threads.length) opts.threads = f.threads;
  if (f.repeat !== undefined) opts.repeat = f.repeat;
  if (f.check) { opts.check = true; opts.quick = true; }
  if (f.confirm !== undefined) opts.confirm = f.confirm;
  if (f.writeBaseline) opts.writeBaseline = true;
  if (f.baseline !== undefined) opts.baseline = f.baseline;
  if (opts.writeBaseline) {
    // A baseline stores each ratio's median and spread over several passes (bench/check.ts).
    if (opts.check) throw new BenchArgsError('bench: --check and --write-baseline together would compare a run with itself. Fix: run them one after the other.');
    // --check runs quick passes, so its baseline must be quick passes too (the same workloads and budgets).
    opts.quick = true;
    if (opts.repeat === undefined) opts.repeat = 3;
    if (opts.repeat < 3) throw new BenchArgsError(`bench: --write-baseline with --repeat ${opts.repeat}: a baseline needs at least 3 passes for a median and a spread per ratio. Fix: run \`npm run bench -- --quick --repeat 3 --write-baseline\`.`);
  }
  return opts;
}

function machine(): Record<string, unknown> {
  let flags = '';
  try { flags = readFileSync('/proc/cpuinfo', 'utf8').split('\n').find((l) => l.startsWith('flags')) ?? ''; } catch { /* not Linux */ }
  const has = (f: string) => new RegExp(`\\b${f}\\b`).test(flags);
  return {
    cpu: cpus()[0]?.model ?? 'unknown', logicalCores: cpus().length, memGiB: +(totalmem() / 2 ** 30).toFixed(1),
    avx2: has('avx2'), avx512f: has('avx512f'), avx512vnni: has('avx512_vnni'), node: process.version,
  };
}

/** heed's best implementation of a workload (not the js backend, not the composed-ops baseline). */
const isHeed = (r: BenchRow) => r.impl.startsWith('heed') && !r.impl.includes('js backend') && !r.impl.includes('composed');
const fmtMs = (ms: number) => (!Number.isFinite(ms) ? '—' : ms === 0 ? '' : ms < 0.01 ? `${(ms * 1000).toFixed(2)} µs` : ms < 10 ? ms.toFixed(3) : ms.toFixed(1));
const fmtNum = (x: number | undefined, digits = 1) => (x === undefined || !Number.isFinite(x) ? '' : x.toFixed(digits));

/** heed's row for a workload at a thread count (the fastest heed row when there are several). */
function heedRow(rows: BenchRow[], workload: string, threads: number): BenchRow | undefined {
  return rows.filter((r) => r.workload === workload && r.threads === threads && isHeed(r) && Number.isFinite(r.ms)).sort((a, b) => a.ms - b.ms)[0];
}

function table(rows: BenchRow[], peak: Map<number, number>): string {
  const out: string[] = [];
  const workloads = [...new Set(rows.map((r) => r.workload))];
  const families: [string, (w: string) => boolean][] = [
    ['Peak', (w) => w.includes('peak')],
    ['Small-op dispatch', (w) => w.startsWith('dispatch') || w.includes('dispatch')],
    ['fp32 GEMM', (w) => w.startsWith('sgemm')],
    ['int8 GEMM', (w) => w.startsWith('int8')],
    ['Attention forward', (w) => w.startsWith('attention fwd') && !w.includes('memory')],
    ['Attention backward and memory', (w) => w.startsWith('attention')],
    ['Training step', (w) => w.startsWith('train')],
    ['Convolution', (w) => w.startsWith('conv')],
    ['Norms and softmax', () => true],
  ];
  const done = new Set<string>();
  for (const [title, match] of families) {
    const ws = workloads.filter((w) => !done.has(w) && match(w));
    if (ws.length === 0) continue;
    ws.forEach((w) => done.add(w));
    out.push(`\n### ${title}\n`);
    out.push('| workload | impl | threads | time (ms) | GFLOP/s | % peak | GB/s | heed speed-up | note |');
    out.push('|---|---|---:|---:|---:|---:|---:|---:|---|');
    for (const w of ws) {
      for (const r of rows.filter((x) => x.workload === w)) {
        const p = peak.get(r.threads) ?? peak.get(1);
        const pct = r.gflops !== undefined && p && !w.includes('peak') ? `${((100 * r.gflops) / p).toFixed(0)}%` : '';
        const h = isHeed(r) ? undefined : heedRow(rows, w, r.threads);
        const speed = h && Number.isFinite(r.ms) ? `${(r.ms / h.ms).toFixed(2)}×` : '';
        out.push(`| ${w} | ${r.impl} | ${r.threads} | ${fmtMs(r.ms)} | ${fmtNum(r.gflops)} | ${pct} | ${fmtNum(r.gbps)} | ${speed} | ${r.note ?? ''} |`);
      }
    }
  }
  return out.join('\n');
}

interface TargetCheck { target: string; measured: string; ok: boolean | null }

/** The DESIGN.md performance targets that this run's rows can decide. */
function checkTargets(rows: BenchRow[], peak: Map<number, number>): TargetCheck[] {
  const checks: TargetCheck[] = [];
  // ORT's fused MultiHeadAttention rows (family mha) have their own target, so the older ones see only the other ORT rows.
  const fusedMha = (r: BenchRow) => r.impl.startsWith('onnxruntime') && r.impl.includes('fused MHA');
  const ort = (r: BenchRow) => r.impl.startsWith('onnxruntime') && !fusedMha(r);
  const ratios = (prefix: string, minL = 0, peer = ort) => rows.filter((r) => peer(r) && r.workload.startsWith(prefix) && Number.isFinite(r.ms)
    && (minL === 0 || Number(/L(\d+)/.exec(r.workload)?.[1] ?? 0) >= minL))
    .flatMap((r) => { const h = heedRow(rows, r.workload, r.threads); return h ? [{ w: r.workload, t: r.threads, x: r.ms / h.ms }] : []; });
  const summarize = (xs: { w: string; t: number; x: number }[]) => {
    if (xs.length === 0) return 'no rows';
    const worst = xs.reduce((a, b) => (b.x < a.x ? b : a));
    return `min ${worst.x.toFixed(2)}× (${worst.w}, ${worst.t}T), median ${[...xs].sort((a, b) => a.x - b.x)[xs.length >> 1].x.toFixed(2)}× over ${xs.length} rows`;
  };
  const g = ratios('sgemm');
  checks.push({ target: 'fp32 GEMM ≥ 1.2× onnxruntime-node (256–2048, 1 and 2 threads)', measured: summarize(g), ok: g.length ? g.every((x) => x.x >= 1.2) : null });
  const p1 = peak.get(1);
  const g1 = rows.filter((r) => isHeed(r) && r.threads === 1 && /^sgemm (\d+)/.test(r.workload) && Number(/^sgemm (\d+)/.exec(r.workload)![1]) >= 512 && r.gflops);
  if (p1 && g1.length) {
    const worst = g1.reduce((a, b) => (b.gflops! < a.gflops! ? b : a));
    checks.push({ target: 'fp32 GEMM ≥ 70% of measured FMA peak, 1 thread, n ≥ 512', measured: `min ${((100 * worst.gflops!) / p1).toFixed(0)}% (${worst.workload}; peak ${p1.toFixed(0)} GFLOP/s)`, ok: g1.every((r) => r.gflops! >= 0.7 * p1) });
  }
  const a = ratios('attention fwd', 512);
  checks.push({ target: 'fused attention forward ≥ 1.5× onnxruntime-node unfused graph, L ≥ 512', measured: summarize(a), ok: a.length ? a.every((x) => x.x >= 1.5) : null });
  const m = ratios('attention fwd', 0, fusedMha);
  if (m.length) checks.push({ target: 'fused attention forward ≥ onnxruntime-node fused MultiHeadAttention, every L 32–4096, 1 and 2 threads (issue 16)', measured: summarize(m), ok: m.every((x) => x.x >= 1) });
  const long = rows.filter((r) => isHeed(r) && r.gflops && /^attention fwd B1 H12 L(\d+) d64$/.test(r.workload) && Number(/L(\d+)/.exec(r.workload)![1]) >= 1024);
  if (long.length && peak.size) {
    const pct = long.map((r) => ({ r, p: (100 * r.gflops!) / (peak.get(r.threads) ?? peak.get(1)!) }));
    const worst = pct.reduce((x, y) => (y.p < x.p ? y : x));
    checks.push({ target: 'fused attention forward ≥ 85% of the measured peak, non-causal L ≥ 1024 (issue 16)', measured: `min ${worst.p.toFixed(0)}% (${worst.r.workload}, ${worst.r.threads}T) over ${pct.length} rows`, ok: pct.every((x) => x.p >= 85) });
  }
  const bwd = rows.filter((r) => r.impl === 'heed composed ops' && Number.isFinite(r.ms))
    .flatMap((r) => { const f = heedRow(rows, r.workload, r.threads); return f ? [{ w: r.workload, t: r.threads, x: r.ms / f.ms }] : []; });
  checks.push({ target: 'fused attention backward ≥ 3× the composed ops (same backend)', measured: summarize(bwd), ok: bwd.length ? bwd.every((x) => x.x >= 3) : null });
  const d = rows.find((r) => r.impl === 'heed' && r.workload === 'dispatch add 64');
  const dg = rows.find((r) => r.impl === 'heed' && r.workload === 'dispatch add 64 +grad');
  if (d) {
    const us = (r: BenchRow) => (r.ms * 1000).toFixed(2);
    checks.push({ target: 'small-op dispatch < 2 µs (add of 64 floats)', measured: `${us(d)} µs${dg ? `; ${us(dg)} µs with autograd recording` : ''}`, ok: d.ms * 1000 < 2 });
  }
  const i8 = rows.filter((r) => r.workload.startsWith('int8') && r.note && /([\d.]+)x fp32/.test(r.note));
  if (i8.length) {
    const xs = i8.map((r) => Number(/([\d.]+)x fp32/.exec(r.note!)![1]));
    checks.push({ target: 'int8 GEMM (VNNI) ≥ 2× our fp32 GEMM', measured: `min ${Math.min(...xs).toFixed(2)}× over ${xs.length} rows`, ok: xs.every((x) => x >= 2) });
  }
  return checks;
}

/**
 * One pass over every wanted module. `modules`, when given, narrows the pass to those modules
 * (and the peak probe): the --check confirmation passes re-measure only the suspects' modules.
 * Every row is tagged with the module that measured it.
 */
const wantedModule = (opts: BenchOptions, m: ModuleSpec, modules?: Set<string>) => (modules === undefined || modules.has(m.name) || m.name === 'peak')
  && (opts.only === undefined || m.name === 'peak' || m.families.some((f) => opts.only!.includes(f)));

/** Each pass's host memory probe per module (bench/check-host.ts), GB/s, the mean of a reading before and one after the module. */
const hostOfPass = new WeakMap<BenchRow[], Record<string, number>>();

async function runOnce(opts: BenchOptions, log: (s: string) => void, modules?: Set<string>): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const host: Record<string, number> = {};
  hostOfPass.set(rows, host);
  const wanted = (m: ModuleSpec) => wantedModule(opts, m, modules);
  const missing: string[] = [];
  for (const m of MODULES) {
    if (!wanted(m)) continue;
    const path = join(here, m.file);
    if (!existsSync(path)) { missing.push(m.name); log(`bench: ${m.file} not found, skipping ${m.name}`); continue; }
    const t0 = performance.now();
    log(`bench: ${m.name} ...`);
    try {
      const mod = (await import(path)) as { run: (o: BenchOptions) => Promise<BenchRow[]> };
      const before = hostProbe();
      const got = await mod.run(opts);
      host[m.name] = (before + hostProbe()) / 2;
      // native modules do not know --only; keep their rows in the asked-for families
      rows.push(...got.filter((r) => m.kind === 'peer' || opts.only === undefined || m.name === 'peak' || m.families.some((f) => opts.only!.includes(f)))
        .map((r) => ({ ...r, module: r.module ?? m.name })));
      log(`bench: ${m.name} done in ${((performance.now() - t0) / 1000).toFixed(1)} s (${got.length} rows)`);
    } catch (e) {
      log(`bench: ${m.name} failed: ${(e as Error).stack ?? e}`);
      rows.push({ workload: m.name, impl: m.name, threads: 0, ms: NaN, note: `failed: ${(e as Error).message}` });
    }
  }
  const heedApi = await import('./peers/heed.ts');
  if (missing.includes('gemm') || missing.includes('attention')) {
    rows.push(...(await heedApi.run({ ...opts, gemm: missing.includes('gemm'), attention: missing.includes('attention') })));
  }
  if ((opts.only === undefined || opts.only.includes('attention')) && (modules === undefined || modules.has('attention'))) {
    log('bench: heed composed attention backward ...');
    rows.push(...(await heedApi.runComposedAttentionBackward(opts)).map((r) => ({ ...r, module: 'attention' })));
  }
  return rows;
}

/**
 * Best of several passes: for each (workload, impl, threads) the fastest median (and the
 * highest peak). On a shared machine a pass can hit a busy minute; the best pass is the
 * closest to what the code can do, for heed and peers alike.
 */
function bestOf(passes: BenchRow[][]): BenchRow[] {
  const best = new Map<string, BenchRow>();
  for (const pass of passes) {
    for (const r of pass) {
      const key = `${r.workload}|${r.impl}|${r.threads}`;
      const cur = best.get(key);
      const better = cur === undefined || (r.workload.includes('peak') ? (r.gflops ?? 0) > (cur.gflops ?? 0) : Number.isFinite(r.ms) && !(cur.ms <= r.ms));
      if (better) best.set(key, r);
    }
  }
  return [...best.values()];
}

async function main(): Promise<void> {
  readArgs(import.meta.url, BENCH_FLAGS); // --help; an unknown flag or a bad value exits here
  let opts: BenchOptions;
  try {
    opts = benchOptions(process.argv.slice(2)); // and the flags that do not go together
  } catch (err) {
    if (!(err instanceof BenchArgsError)) throw err;
    console.error(err.message);
    process.exit(2);
  }
  const started = new Date();
  const log = (s: string) => process.stderr.write(s + '\n');
  const loadBefore = loadavg()[0];
  const baselineFile = opts.baseline ?? join(here, 'results', 'baseline.json');
  const baselineName = opts.baseline ?? 'bench/results/baseline.json';
  // --check reads its baseline before measuring anything: a missing or old-format file fails in a second, not after minutes.
  let baseline: import('./check.ts').Baseline | undefined;
  if (opts.check) {
    if (!existsSync(baselineFile)) {
      console.error(`bench --check: ${baselineName} is missing. Make one with \`npm run bench -- --quick --repeat 3 --write-baseline\` on a quiet machine and commit it.`);
      process.exitCode = 2;
      return;
    }
    const { parseBaseline } = await import('./check.ts');
    try {
      baseline = parseBaseline(readFileSync(baselineFile, 'utf8'), baselineName);
    } catch (err) {
      console.error((err as Error).message);
      process.exitCode = 2;
      return;
    }
  }
  const passes: BenchRow[][] = [];
  for (let i = 0; i < (opts.repeat ?? 1); i++) {
    if ((opts.repeat ?? 1) > 1) log(`bench: pass ${i + 1} of ${opts.repeat}`);
    passes.push(await runOnce(opts, log));
  }
  const rows = bestOf(passes);

  // the measured FMA peak per thread count: bench/peak.ts's rows, else the addon's probe
  // The machine is shared, so one probe can land on a busy moment: the peak is the best of
  // bench/peak.ts's probes at the start and two more at the end of the run.
  const peak = new Map<number, number>();
  for (const r of rows) if (r.workload.includes('peak') && r.gflops) peak.set(r.threads, Math.max(peak.get(r.threads) ?? 0, r.gflops));
  const { loadNative } = await import('../src/backend/native/load.js');
  const native = loadNative();
  if (native.ok) {
    for (const t of peak.size ? [...peak.keys()] : [1, 2]) peak.set(t, Math.max(peak.get(t) ?? 0, native.peakFlops(t), native.peakFlops(t)));
  }

  const { backendInfo } = await import('../src/index.ts');
  const info = backendInfo();
  // other processes on the machine: the 1-minute load average before and after the run (2 cores = 2.0 when busy)
  const facts = { ...machine(), heedBackend: info.backend, isa: info.isa, poolThreads: info.threads,
    loadAvgBefore: +loadBefore.toFixed(2), loadAvgAfter: +loadavg()[0].toFixed(2) };
  console.log(`# heed benchmarks, ${started.toISOString()}${opts.quick ? ' (--quick)' : ''}${(opts.repeat ?? 1) > 1 ? `, best of ${opts.repeat} passes` : ''}\n`);
  console.log(`Machine: ${JSON.stringify(facts)}`);
  console.log(`Measured fp32 FMA peak (best probe of the run): ${[...peak].map(([t, g]) => `${g.toFixed(0)} GFLOP/s on ${t} thread${t > 1 ? 's' : ''}`).join(', ')}`);
  console.log('Times are medians of repeated calls. "heed speed-up" = peer time / heed time at the same thread count (> 1: heed is faster).');
  console.log(table(rows, peak));
  const checks = checkTargets(rows, peak);
  console.log('\n### DESIGN.md targets\n');
  console.log('| target | measured | met |');
  console.log('|---|---|---|');
  for (const c of checks) console.log(`| ${c.target} | ${c.measured} | ${c.ok === null ? 'n/a' : c.ok ? 'yes' : 'no'} |`);

  const outDir = join(here, 'results');
  mkdirSync(outDir, { recursive: true });
  // A partial run (--only) keeps the full run's latest.json and writes beside it.
  const file = opts.only === undefined ? 'latest.json' : `latest-${opts.only.join('-')}.json`;
  // A --check run is compared, not kept: it leaves latest.json (and every committed raw file) alone.
  if (!opts.check) {
    writeFileSync(join(outDir, file), JSON.stringify({ started: started.toISOString(), finished: new Date().toISOString(), options: opts, machine: facts,
      peak: Object.fromEntries(peak), targets: checks, rows }, null, 1) + '\n');
    log(`bench: wrote bench/results/${file} (${rows.length} rows)`);
  }

  if (opts.check && baseline) {
    const { checkAgainst, formatCheck, missingError, CHECK_RUN_FORMAT } = await import('./check.ts');
    // The modules this check runs: with --only, baseline ratios of other modules are out of scope.
    const ran = new Set(MODULES.filter((m) => wantedModule(opts, m) && existsSync(join(here, m.file))).map((m) => m.name));
    const { report, confirmation } = await checkAgainst(baseline, passes.map((p) => passRecord(p, peak)), async (modules) => {
      log(`bench --check: confirmation pass re-measures ${[...modules].join(', ')}`);
      const rowsAgain = await runOnce(opts, log, modules);
      passes.push(rowsAgain);
      return passRecord(rowsAgain, peak);
    }, { ran, confirm: opts.confirm });
    console.log(formatCheck(report, confirmation, baselineName));
    // every pass measured, so that a change to the guard's rules can be judged again on this run (bench/check-rejudge.ts)
    const run: import('./check.ts').CheckRun = { format: CHECK_RUN_FORMAT, started: started.toISOString(), baseline: baselineName, ran: [...ran].sort(),
      passes: passes.map((p) => passRecord(p, peak)) };
    writeFileSync(join(outDir, 'latest-check.json'), JSON.stringify(run) + '\n');
    log(`bench --check: wrote bench/results/latest-check.json (${passes.length} pass${passes.length === 1 ? '' : 'es'}; judge them again with bench/check-rejudge.ts)`);
    if (report.regressions.length) process.exitCode = 1;
    const missing = missingError(report, baselineName);
    if (missing) { console.error(missing.message); process.exitCode = 2; }
  }
  if (opts.writeBaseline) {
    const { makeBaseline } = await import('./check.ts');
    const written = makeBaseline(passes.map((p) => passRecord(p, peak)), { started: started.toISOString(), options: opts, machine: facts, peak: Object.fromEntries(peak), rows });
    writeFileSync(baselineFile, JSON.stringify(written, null, 1) + '\n');
    log(`bench: wrote ${baselineName} (${Object.keys(written.ratios).length} ratios, median and spread over ${written.passes} passes; the reference for --check)`);
  }
}

/**
 * One pass as the guard sees it: its rows, the FMA peak that pass's bench/peak.ts measured
 * (each pass runs it), so every ratio to the peak is taken within one pass, and the host memory
 * probe measured beside each of its modules. A pass without a peak row falls back to the run's
 * best probe.
 */
function passRecord(rows: BenchRow[], runPeak: Map<number, number>): import('./check.ts').RunRecord {
  const peak: Record<string, number> = Object.fromEntries(runPeak);
  const own = new Map<number, number>();
  for (const r of rows) if (r.workload.includes('peak') && r.gflops) own.set(r.threads, Math.max(own.get(r.threads) ?? 0, r.gflops));
  for (const [t, g] of own) peak[String(t)] = g;
  return { peak, rows, host: hostOfPass.get(rows) };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
