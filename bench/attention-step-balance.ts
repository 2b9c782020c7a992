/**
 * How evenly the training step's attention calls split over 2 threads, from the pool's profile
 * counters (native/threadpool.h PoolProfile): each call's tasks timed on their thread's CPU clock and
 * replayed in claim order on 2 free threads. Per call, `balance` = makespan / (Σ task CPU / 2): 1 is a
 * perfect split, 1.05 means the second thread idles 5% of the job at its end. A ratio inside one
 * profiled sample, so the machine's load moves it far less than a 1-thread / 2-thread comparison.
 * Same calls as bench/attention-step.ts (B 64, H 4, d 64, (B, L, H·d) strides, dropout 0.1).
 *
 *   node --import tsx bench/attention-step-balance.ts [--lens 12,32] [--rounds 15] [--calls 100]
 *   (HEED_NATIVE_PATH=<other heed.node> for the A/B; prints one JSON object)
 */
import { median } from './peers/common.ts';
import { readArgs } from './args.ts';
import { nk, nativeLoad, filled } from './native-util.ts';

process.env.HEED_QUIET ??= '1';
const flags = readArgs(import.meta.url, {
  rounds: { kind: 'int', default: 15, min: 1, help: 'interleaved rounds' },
  calls: { kind: 'int', default: 100, min: 1, help: 'calls per timed batch' },
  lens: { kind: 'ints', default: [12, 32], min: 1, help: 'sequence lengths' },
});
if (!nk || !nativeLoad) throw new Error('bench/attention-step-balance.ts: the native addon is not built (npm run build:native)');
const kern = nk, addon = nativeLoad;
const rounds = flags.rounds, calls = flags.calls;
const lens = flags.lens;
const B = 64, H = 4, D = 64;

function makeCall(Lq: number, Lk: number, causal: boolean, keyLengths: boolean) {
  const q = filled(B * Lq * H * D, 1), k = filled(B * Lk * H * D, 2), v = filled(B * Lk * H * D, 3);
  const out = new Float32Array(q.length), lse = new Float32Array(B * H * Lq);
  const dOut = filled(q.length, 4), dq = new Float32Array(q.length), dk = new Float32Array(k.length), dv = new Float32Array(v.length);
  const lens = keyLengths ? Int32Array.from({ length: B }, (_, b) => Math.max(1, Lk - ((b * 7) % Math.ceil((2 * Lk) / 3)))) : null;
  const st = (L: number, tag: string) => ({ [`${tag}StrideB`]: L * H * D, [`${tag}StrideH`]: D, [`${tag}StrideL`]: H * D });
  const fwdArgs = { B, H, Hkv: H, Lq, Lk, D, Dv: D, scale: 1 / Math.sqrt(D), causal, causalOffset: 0, keyLengths: lens, mask: null, maskStrideB: 0,
    maskStrideH: 0, alibiSlopes: null, dropoutP: 0.1, dropoutSeed: 12345, ...st(Lq, 'q'), ...st(Lk, 'k'), ...st(Lk, 'v'), ...st(Lq, 'out'), q, k, v, out, lse };
  const bwdArgs = { ...fwdArgs, dOut, dq, dk, dv };
  kern.attentionForwardStrided!(fwdArgs as never);
  return { fwd: () => kern.attentionForwardStrided!(fwdArgs as never), bwd: () => kern.attentionBackwardStrided!(bwdArgs as never) };
}

const a = new Float64Array(8), b = new Float64Array(8);
addon.setThreads(2);
const rows: Record<string, unknown>[] = [];
for (const Ls of lens) {
  const Lt = Ls - 1;
  const shapes = [
    { name: `enc self L${Ls}`, Lq: Ls, Lk: Ls, causal: false, keyLengths: true },
    { name: `dec self L${Lt} causal`, Lq: Lt, Lk: Lt, causal: true, keyLengths: false },
    { name: `cross ${Lt}×${Ls}`, Lq: Lt, Lk: Ls, causal: false, keyLengths: true },
  ];
  for (const s of shapes) {
    const c = makeCall(s.Lq, s.Lk, s.causal, s.keyLengths);
    for (const [dir, fn] of [['fwd', c.fwd], ['bwd', c.bwd]] as const) {
      for (let i = 0; i < 20; i++) fn();
      const balance: number[] = [], tasks: number[] = [], taskUs: number[] = [];
      for (let r = 0; r < rounds; r++) {
        addon.poolProfile(true, a);
        for (let i = 0; i < calls; i++) fn();
        addon.poolProfile(false, b);
        const jobs = b[0] - a[0];
        balance.push((b[5] - a[5]) / ((b[2] - a[2]) / 2));
        tasks.push((b[1] - a[1]) / jobs);
        taskUs.push((b[2] - a[2]) / jobs / 1e3);
      }
      const row = { call: `${dir} ${s.name}`, balance: median(balance), tasksPerCall: median(tasks), taskCpuUsPerCall: median(taskUs), balanceSamples: balance };
      rows.push(row);
      console.error(`${row.call.padEnd(26)} balance ${row.balance.toFixed(3)}  tasks/call ${row.tasksPerCall.toFixed(0)}  task CPU ${row.taskCpuUsPerCall.toFixed(1)} µs/call`);
    }
  }
}
console.log(JSON.stringify({ native: process.env.HEED_NATIVE_PATH ?? 'build/Release/heed.node', rounds, calls, rows }));
