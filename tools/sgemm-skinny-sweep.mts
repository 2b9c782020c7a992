// Where x·Wᵀ should stop running unpacked (native/gemm.cpp kSkinnyRows): a Linear's best time at
// M = 8 … 96 rows, K = N = 256 and 1024, on the current build. Run it once per threshold build:
//   HEED_NUM_THREADS=1 taskset -c 0 node --import tsx tools/sgemm-skinny-sweep.mts > bench/results/sgemm-skinny-<date>-1t-threshold<T>.txt
import * as h from '../src/index.ts';
import { nn } from '../src/index.ts';
h.manualSeed(0);
const out: string[] = [];
for (const KN of [256, 1024]) for (const M of [8, 16, 17, 24, 32, 48, 64, 96]) {
  const lin = new nn.Linear(KN, KN); lin.eval();
  const x = h.randn([M, KN]);
  h.noGrad(() => {
    for (let i = 0; i < 10; i++) lin.forward(x);
    let best = Infinity;
    const t1 = performance.now();
    while (performance.now() - t1 < 300) { const t0 = performance.now(); lin.forward(x); best = Math.min(best, performance.now() - t0); }
    out.push(`M${M} K=N=${KN}: ${(best * 1000).toFixed(1)} us ${(2 * M * KN * KN / best / 1e6).toFixed(0)} GFLOP/s`);
  });
}
console.log(out.join('\n'));
