/**
 * PyTorch peer, through a python3 subprocess (Debian's python3-torch 1.13 + OpenBLAS).
 * One subprocess per thread count, with OMP_NUM_THREADS / OPENBLAS_NUM_THREADS set as well
 * as torch.set_num_threads, since the BLAS pool does not follow torch's setting.
 * Same workloads as the other peers: torch.matmul, the composed attention under no_grad
 * (PyTorch 1.13 has no F.scaled_dot_product_attention), and the three small dispatch ops
 * with and without autograd recording. Skipped with a note when no python has torch.
 */
import { spawnSync } from 'node:child_process';
import { wants, ATTN_LENGTHS, ATTN_SHAPE, GEMM_SIZES, attnFlops, attnWorkload, gemmFlops, gemmWorkload, gflopsOf, type BenchOptions, type BenchRow } from './common.ts';

const SCRIPT = String.raw`
import json, math, sys, time, statistics
import torch
cfg = json.loads(sys.argv[1])
torch.set_num_threads(cfg['threads'])
torch.manual_seed(0)
rows = []
budget = 0.3 if cfg['quick'] else 1.5

def time_it(fn):
    t0 = time.perf_counter(); fn(); first = time.perf_counter() - t0; fn()
    reps = max(3, min(200, round(budget / max(first, 1e-6))))
    ts = []
    for _ in range(reps):
        s = time.perf_counter(); fn(); ts.append(time.perf_counter() - s)
    return statistics.median(ts) * 1e3

with torch.no_grad():
    for n in cfg['gemm']:
        a, b = torch.randn(n, n), torch.randn(n, n)
        rows.append({'workload': 'gemm', 'n': n, 'ms': time_it(lambda: torch.matmul(a, b))})
    B, H, d = cfg['B'], cfg['H'], cfg['d']
    for L in cfg['attn']:
        q, k, v = (torch.randn(B, H, L, d) for _ in range(3))
        mask = torch.full((L, L), float('-inf')).triu(1)
        for causal in (False, True):
            def attn():
                s = torch.matmul(q, k.transpose(-2, -1)) * (1 / math.sqrt(d))
                if causal:
                    s = s + mask
                return torch.matmul(torch.softmax(s, dim=-1), v)
            rows.append({'workload': 'attention', 'L': L, 'causal': causal, 'ms': time_it(attn)})

def per_op_us(fn):
    inner, batches = 1000, (30 if cfg['quick'] else 200)
    for _ in range(10 * inner): fn()
    per = []
    for _ in range(batches):
        t0 = time.perf_counter()
        for _ in range(inner): fn()
        per.append((time.perf_counter() - t0) * 1e6 / inner)
    return statistics.median(per)

if cfg['threads'] == 1 and cfg['dispatch']:
    for grad in (False, True):
        a64, b64 = torch.randn(64, requires_grad=grad), torch.randn(64, requires_grad=grad)
        a8, b8 = torch.randn(8, 8, requires_grad=grad), torch.randn(8, 8, requires_grad=grad)
        for name, fn in [('add 64', lambda: torch.add(a64, b64)), ('matmul 8x8', lambda: torch.matmul(a8, b8)), ('softmax 64', lambda: torch.softmax(a64, -1))]:
            rows.append({'workload': 'dispatch', 'name': name, 'grad': grad, 'us': per_op_us(fn)})
print(json.dumps({'version': torch.__version__, 'rows': rows}))
`;

/** The first python3 that imports torch: PATH's, then Debian's (pyenv shims may hide it). */
export function findTorchPython(): string | undefined {
  for (const py of ['python3', '/usr/bin/python3']) {
    const r = spawnSync(py, ['-c', 'import torch'], { stdio: 'ignore', timeout: 60_000 });
    if (r.status === 0) return py;
  }
  return undefined;
}

export async function run(opts: BenchOptions = {}): Promise<BenchRow[]> {
  const py = findTorchPython();
  if (py === undefined) return [{ workload: 'gemm', impl: 'pytorch', threads: 0, ms: NaN, note: 'skipped: no python3 with torch (apt-get install -y python3-torch libopenblas0-pthread)' }];
  const rows: BenchRow[] = [];
  const { B, H, d } = ATTN_SHAPE;
  for (const threads of opts.threads ?? [1, 2]) {
    const cfg = {
      threads, quick: opts.quick ?? false, B, H, d, dispatch: wants(opts, 'dispatch'),
      gemm: wants(opts, 'gemm') ? (opts.quick ? GEMM_SIZES.quick : GEMM_SIZES.full) : [],
      attn: wants(opts, 'attention') ? (opts.quick ? ATTN_LENGTHS.quick : ATTN_LENGTHS.full) : [],
    };
    const env = { ...process.env, OMP_NUM_THREADS: String(threads), OPENBLAS_NUM_THREADS: String(threads), MKL_NUM_THREADS: String(threads) };
    const r = spawnSync(py, ['-c', SCRIPT, JSON.stringify(cfg)], { env, encoding: 'utf8', maxBuffer: 1 << 24, timeout: 30 * 60_000 });
    if (r.status !== 0) {
      rows.push({ workload: 'gemm', impl: 'pytorch', threads, ms: NaN, note: `failed: ${(r.stderr || r.error?.message || '').trim().split('\n').pop()}` });
      continue;
    }
    const out = JSON.parse(r.stdout) as { version: string; rows: Record<string, number | string | boolean>[] };
    const impl = `pytorch ${out.version}`;
    for (const x of out.rows) {
      if (x.workload === 'gemm') {
        const n = x.n as number, ms = x.ms as number;
        rows.push({ workload: gemmWorkload(n), impl, threads, ms, gflops: gflopsOf(gemmFlops(n), ms) });
      } else if (x.workload === 'attention') {
        const L = x.L as number, causal = x.causal as boolean, ms = x.ms as number;
        rows.push({ workload: attnWorkload(L, causal), impl: `${impl} (composed ops)`, threads, ms, gflops: gflopsOf(attnFlops(L, causal), ms) });
      } else {
        const us = x.us as number;
        rows.push({ workload: `dispatch ${x.name}${x.grad ? ' +grad' : ''}`, impl, threads: 1, ms: us / 1000, note: `${us.toFixed(2)} µs/op` });
      }
    }
  }
  return rows;
}
