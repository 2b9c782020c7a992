/**
 * PyTorch peer of bench/train.ts: runs bench/peers/train_torch.py in a python3 subprocess per
 * thread count (OMP_NUM_THREADS / OPENBLAS_NUM_THREADS set too, as bench/peers/torch.ts does).
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchOptions, BenchRow } from './common.ts';
import { findTorchPython } from './torch.ts';
import { TRAIN_CFG, tokensNote, trainWorkload, type TrainBatch, type TrainCfg } from '../train.ts';

const script = join(dirname(fileURLToPath(import.meta.url)), 'train_torch.py');

export async function run(batch: TrainBatch, opts: BenchOptions = {}, c: TrainCfg = TRAIN_CFG): Promise<BenchRow[]> {
  const workload = trainWorkload(c);
  const py = findTorchPython();
  if (py === undefined) return [{ workload: workload, impl: 'pytorch', threads: 0, ms: NaN, note: 'skipped: no python3 with torch' }];
  const rows: BenchRow[] = [];
  for (const threads of opts.threads ?? [1, 2]) {
    const cfg = {
      ...c, threads, B: batch.B, S: batch.S, T: batch.T, src: [...batch.src], tgtIn: [...batch.tgtIn], tgtOut: [...batch.tgtOut],
      warm: 3, reps: opts.quick ? 8 : 30, budgetMs: opts.quick ? 3000 : 15000,
    };
    const env = { ...process.env, OMP_NUM_THREADS: String(threads), OPENBLAS_NUM_THREADS: String(threads), MKL_NUM_THREADS: String(threads) };
    const r = spawnSync(py, [script, JSON.stringify(cfg)], { env, encoding: 'utf8', timeout: 600_000, maxBuffer: 1 << 24 });
    if (r.status !== 0) {
      rows.push({ workload: workload, impl: 'pytorch', threads, ms: NaN, note: `failed: ${(r.stderr || r.error?.message || '').trim().split('\n').pop()}` });
      continue;
    }
    const o = JSON.parse(r.stdout.trim().split('\n').pop()!) as { version: string; ms: number; n: number; loss0: number; loss1: number; params: number };
    rows.push({
      workload: workload, impl: `pytorch ${o.version}`, threads, ms: o.ms,
      note: tokensNote(o.ms, batch.tokens, `median of ${o.n}; loss ${o.loss0.toFixed(2)}→${o.loss1.toFixed(2)}; ${o.params} params`),
    });
  }
  return rows;
}
