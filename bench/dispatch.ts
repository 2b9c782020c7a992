/**
 * Small-op dispatch overhead: how long heed takes per op when the op does almost no
 * arithmetic, so what is measured is argument checks, allocation, kernel lookup and
 * (with +grad) recording the autograd node. DESIGN target: < 2 µs for add of 64 floats.
 *
 * Workloads: add of two 64-float vectors, matmul 8×8 · 8×8, softmax of 64 floats; each
 * with no input requiring grad and with inputs that require grad (the op is recorded).
 * Timing: batches of `inner` calls, median batch time / inner, over many batches.
 * Peers (tfjs wasm, PyTorch) run the same three ops in bench/peers/.
 */
import * as h from '../src/index.ts';
import type { Tensor } from '../src/index.ts';
import { median, wants, type BenchOptions, type BenchRow } from './peers/common.ts';

export interface DispatchOp {
  workload: string;
  make: (requiresGrad: boolean) => () => Tensor;
}

export const DISPATCH_OPS: DispatchOp[] = [
  { workload: 'dispatch add 64', make: (rg) => { const a = h.randn([64], { requiresGrad: rg }), b = h.randn([64], { requiresGrad: rg }); return () => h.add(a, b); } },
  { workload: 'dispatch matmul 8x8', make: (rg) => { const a = h.randn([8, 8], { requiresGrad: rg }), b = h.randn([8, 8], { requiresGrad: rg }); return () => h.matmul(a, b); } },
  { workload: 'dispatch softmax 64', make: (rg) => { const a = h.randn([64], { requiresGrad: rg }); return () => h.softmax(a, -1); } },
];

/** Median µs per call of fn. */
export function microsPerOp(fn: () => unknown, quick: boolean): number {
  const inner = 1000, batches = quick ? 30 : 200;
  for (let i = 0; i < 20 * inner; i++) fn(); // warm up the JIT
  const per: number[] = [];
  for (let b = 0; b < batches; b++) {
    const t0 = performance.now();
    for (let i = 0; i < inner; i++) fn();
    per.push(((performance.now() - t0) * 1000) / inner);
  }
  return median(per);
}

export async function run(opts: BenchOptions = {}): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  if (!wants(opts, 'dispatch')) return rows;
  const initial = h.getBackend();
  const backends: h.BackendName[] = h.backendInfo().nativeAvailable ? ['native', 'js'] : ['js'];
  for (const backend of backends) {
    h.setBackend(backend);
    for (const op of DISPATCH_OPS) {
      for (const grad of [false, true]) {
        const us = microsPerOp(op.make(grad), opts.quick ?? false);
        rows.push({
          workload: `${op.workload}${grad ? ' +grad' : ''}`, impl: backend === 'native' ? 'heed' : 'heed (js backend)', threads: 1,
          ms: us / 1000, note: `${us.toFixed(2)} µs/op${grad ? ', autograd recording' : ''}`,
        });
      }
    }
  }
  h.setBackend(initial);
  return rows;
}
