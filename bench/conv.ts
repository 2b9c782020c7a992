/**
 * Convolution: the 3×3 convolutions of the Fashion-MNIST CNN (src/models/cnn.ts, width 32,
 * batch 128, padding 1), forward and forward + backward, heed against PyTorch 1.13 (F.conv2d,
 * its oneDNN/NNPACK path) and onnxruntime-node (a one-node Conv graph, forward only), on 1 and
 * 2 threads. FLOPs: 2·B·O·Ho·Wo·C·kh·kw forward; the backward adds dx and dWeight, twice that.
 *
 *   npm run bench -- --only conv            (in the harness: GFLOP/s and % of the measured peak)
 *   node --import tsx bench/conv.ts [--quick]   (alone: prints the rows as JSON)
 *   node --import tsx bench/conv.ts --kernels-cpu   (1 thread, CPU-clock medians of each shape's forward and backward)
 *   node --import tsx bench/conv.ts --step [--threads 2] [--width 32] [--attention se] [--batch 128] [--steps 10] [--cpu]
 *       one CnnClassifier training step (forward, label-smoothed loss, backward, AdamW), with the time
 *       of each kernel and the rest (autograd, JS ops, allocation) as "outside kernels", and the CPU
 *       time per step (steadier than wall time when other jobs share the cores; --cpu times the kernels
 *       on the CPU clock too; HEED_CONV_DIRECT=0
 *       runs the convolutions on the older gather + sgemm path, for a before/after in one build)
 */
import { spawnSync } from 'node:child_process';
import { nk, nativeLoad, threadCounts, withThreads, timeMs, filled, skipped, timeKernelCalls, cpuNowMs } from './native-util.ts';
import { buildModel } from './peers/onnx-proto.ts';
import { readArgs, type Args } from './args.ts';
import { CNN_ATTENTION } from '../src/models/cnn.ts';
import { session } from './peers/onnxruntime.ts';
import { findTorchPython } from './peers/torch.ts';
import { gflopsOf, randomFloats, timeIt, type BenchOptions, type BenchRow } from './peers/common.ts';

/** B, C, O, H (= W): the CNN's convolutions at width 32 (stage 1: 28×28, stage 2: 14×14). */
export const CONV_SHAPES: readonly (readonly [number, number, number, number])[] = [
  [128, 1, 32, 28], [128, 32, 32, 28], [128, 32, 64, 14], [128, 64, 64, 14],
];
const QUICK = [CONV_SHAPES[1], CONV_SHAPES[3]];

const name = ([B, C, O, H]: readonly number[], what: string) => `conv3x3 ${what} B${B} ${C}→${O} ${H}x${H}`;
const flops = ([B, C, O, H]: readonly number[]) => 2 * B * O * H * H * C * 9;

function heedRows(shapes: typeof CONV_SHAPES, quick: boolean): BenchRow[] {
  const kern = nk;
  if (!kern || !nativeLoad) return skipped('conv3x3');
  const rows: BenchRow[] = [];
  for (const threads of threadCounts()) {
    withThreads(threads, () => {
      for (const s of shapes) {
        const [B, C, O, H] = s;
        const g = { B, C, H, W: H, kh: 3, kw: 3, Ho: H, Wo: H, strideH: 1, strideW: 1, padH: 1, padW: 1, dilationH: 1, dilationW: 1, O, groups: 1 };
        const x = filled(B * C * H * H, 1), weight = filled(O * C * 9, 2), y = new Float32Array(B * O * H * H), dy = filled(y.length, 3);
        const dx = new Float32Array(x.length), dWeight = new Float32Array(weight.length);
        const budget = quick ? 150 : 600;
        const fwd = timeMs(() => kern.conv2dForward!({ x, weight, bias: null, y, ...g }), budget);
        rows.push({ workload: name(s, 'fwd'), impl: 'heed-native', threads, ms: fwd, gflops: gflopsOf(flops(s), fwd) });
        const both = timeMs(() => {
          kern.conv2dForward!({ x, weight, bias: null, y, ...g });
          kern.conv2dBackward!({ x, weight, dy, dx, dWeight, dBias: null, ...g });
        }, budget);
        rows.push({ workload: name(s, 'fwd+bwd'), impl: 'heed-native', threads, ms: both, gflops: gflopsOf(3 * flops(s), both) });
      }
    });
  }
  return rows;
}

const TORCH = String.raw`
import json, sys, time, statistics
import torch
import torch.nn.functional as F
cfg = json.loads(sys.argv[1])
torch.set_num_threads(cfg['threads'])
budget = 0.15 if cfg['quick'] else 0.6
def time_it(fn):
    fn(); fn()
    ts, start = [], time.perf_counter()
    while len(ts) < 3 or (time.perf_counter() - start < budget and len(ts) < 50):
        s = time.perf_counter(); fn(); ts.append(time.perf_counter() - s)
    return statistics.median(ts) * 1e3
rows = []
for B, C, O, H in cfg['shapes']:
    x, w = torch.randn(B, C, H, H), torch.randn(O, C, 3, 3)
    with torch.no_grad():
        rows.append({'shape': [B, C, O, H], 'what': 'fwd', 'ms': time_it(lambda: F.conv2d(x, w, padding=1))})
    xg, wg = x.clone().requires_grad_(), w.clone().requires_grad_()
    gy = torch.randn(B, O, H, H)
    def step():
        xg.grad = None; wg.grad = None
        F.conv2d(xg, wg, padding=1).backward(gy)
    rows.append({'shape': [B, C, O, H], 'what': 'fwd+bwd', 'ms': time_it(step)})
print(json.dumps({'version': torch.__version__, 'rows': rows}))
`;

function torchRows(shapes: typeof CONV_SHAPES, threads: number[], quick: boolean): BenchRow[] {
  const py = findTorchPython();
  if (py === undefined) return [{ workload: name(shapes[0], 'fwd'), impl: 'pytorch', threads: 0, ms: NaN, note: 'skipped: no python3 with torch' }];
  const rows: BenchRow[] = [];
  for (const t of threads) {
    const env = { ...process.env, OMP_NUM_THREADS: String(t), OPENBLAS_NUM_THREADS: String(t), MKL_NUM_THREADS: String(t) };
    const r = spawnSync(py, ['-c', TORCH, JSON.stringify({ threads: t, quick, shapes })], { env, encoding: 'utf8', maxBuffer: 1 << 24, timeout: 20 * 60_000 });
    if (r.status !== 0) {
      rows.push({ workload: name(shapes[0], 'fwd'), impl: 'pytorch', threads: t, ms: NaN, note: `failed: ${(r.stderr || r.error?.message || '').trim().split('\n').pop()}` });
      continue;
    }
    const out = JSON.parse(r.stdout) as { version: string; rows: { shape: number[]; what: string; ms: number }[] };
    for (const x of out.rows) {
      const f = flops(x.shape) * (x.what === 'fwd' ? 1 : 3);
      rows.push({ workload: name(x.shape, x.what), impl: `pytorch ${out.version}`, threads: t, ms: x.ms, gflops: gflopsOf(f, x.ms) });
    }
  }
  return rows;
}

async function ortRows(shapes: typeof CONV_SHAPES, threads: number[], opts: BenchOptions): Promise<BenchRow[]> {
  let ort: typeof import('onnxruntime-node');
  try {
    ort = await import('onnxruntime-node');
  } catch (e) {
    return [{ workload: name(shapes[0], 'fwd'), impl: 'onnxruntime-node', threads: 0, ms: NaN, note: `skipped: ${(e as Error).message}` }];
  }
  const impl = `onnxruntime-node ${ort.env.versions?.node ?? ''}`.trim();
  const rows: BenchRow[] = [];
  for (const s of shapes) {
    const [B, C, O, H] = s;
    const model = buildModel({
      name: 'conv',
      nodes: [{ op: 'Conv', inputs: ['X', 'W'], outputs: ['Y'], attrs: [{ name: 'kernel_shape', ints: [3, 3] }, { name: 'pads', ints: [1, 1, 1, 1] }] }],
      inputs: [{ name: 'X', shape: [B, C, H, H] }], outputs: [{ name: 'Y', shape: [B, O, H, H] }],
      initializers: [{ name: 'W', shape: [O, C, 3, 3], data: randomFloats(O * C * 9, 2) }],
    });
    const feeds = { X: new ort.Tensor('float32', randomFloats(B * C * H * H, 1), [B, C, H, H]) };
    for (const t of threads) {
      const sess = await session(ort, model, t);
      const ms = await timeIt(() => sess.run(feeds), { quick: opts.quick, budgetMs: opts.quick ? 150 : 600 });
      rows.push({ workload: name(s, 'fwd'), impl, threads: t, ms, gflops: gflopsOf(flops(s), ms) });
      await sess.release();
    }
  }
  return rows;
}

export async function run(opts: BenchOptions = {}): Promise<BenchRow[]> {
  const shapes = opts.quick ? QUICK : CONV_SHAPES;
  const threads = opts.threads ?? [1, 2];
  return [...heedRows(shapes, opts.quick ?? false), ...torchRows(shapes, threads, opts.quick ?? false), ...await ortRows(shapes, threads, opts)];
}

/** Where one training step of the Fashion-MNIST CNN spends its time (see the header). */
async function profileStep(flags: ConvFlags): Promise<void> {
  const h = await import('../src/index.ts');
  const { k, setBackend, setNumThreads, backendInfo } = await import('../src/backend/registry.ts');
  if (backendInfo().nativeAvailable) setBackend('native');
  setNumThreads(flags.threads);
  const B = flags.batch, width = flags.width, attention = flags.attention;
  h.manualSeed(0);
  const model = new h.models.CnnClassifier({ numClasses: 10, width, attention });
  model.train();
  const opt = new h.optim.AdamW(model.parameters(), { lr: 1e-3 });
  const x = h.randn([B, 1, 28, 28]), y = new h.Tensor(Int32Array.from({ length: B }, (_, i) => i % 10), [B]);
  const cpuClock = flags.cpu;
  const timer = timeKernelCalls(k, cpuClock ? cpuNowMs : undefined);
  const step = () => { opt.zeroGrad(); h.crossEntropy(model.call(x), y, { labelSmoothing: 0.1 }).backward(); opt.step(); };
  for (let i = 0; i < 2; i++) step();
  const steps = flags.steps;
  timer.on = true;
  const t0 = performance.now(), c0 = process.cpuUsage();
  for (let i = 0; i < steps; i++) step();
  const ms = (performance.now() - t0) / steps, cpu = process.cpuUsage(c0);
  timer.on = false;
  // CPU time (user + system, all threads) per step: on a loaded machine a pinned 1-thread run is preempted, so its
  // wall time overstates the step while its CPU time does not (GC helper threads add a little to it)
  const cpuMs = (cpu.user + cpu.system) / 1000 / steps;
  const rows = [...timer.time.entries()].map(([n, t]) => ({ kernel: n, ms: t.ms / steps })).sort((a, b) => b.ms - a.ms);
  const inKernels = rows.reduce((s, r) => s + r.ms, 0);
  console.log(JSON.stringify({
    model: `CnnClassifier width ${width} attention ${attention}`, batch: B, threads: backendInfo().threads, stepMs: ms, imagesPerSecond: (1000 * B) / ms, kernelClock: cpuClock ? 'cpu' : 'wall',
    cpuMsPerStep: cpuMs, imagesPerCpuSecond: (1000 * B) / cpuMs,
    outsideKernelsMs: (cpuClock ? cpuMs : ms) - inKernels, kernels: rows.filter((r) => r.ms >= 0.01), loadavg: (await import('node:os')).loadavg(),
  }, null, 1));
}

/**
 * The four CONV_SHAPES on 1 thread, timed on the process's CPU clock (median of 7 after a warm-up), so the
 * figures hold on a loaded machine; prints one JSON row per shape and direction.
 */
function kernelsCpu(): void {
  const kern = nk;
  if (!kern || !nativeLoad) throw new Error('bench/conv.ts --kernels-cpu: the native addon is not built (npm run build:native).');
  const cpuMs = (fn: () => void) => {
    fn();
    const t: number[] = [];
    for (let i = 0; i < 7; i++) { const c0 = cpuNowMs(); fn(); t.push(cpuNowMs() - c0); }
    return t.sort((a, b) => a - b)[3];
  };
  withThreads(1, () => {
    for (const s of CONV_SHAPES) {
      const [B, C, O, H] = s;
      const g = { B, C, H, W: H, kh: 3, kw: 3, Ho: H, Wo: H, strideH: 1, strideW: 1, padH: 1, padW: 1, dilationH: 1, dilationW: 1, O, groups: 1 };
      const x = filled(B * C * H * H, 1), weight = filled(O * C * 9, 2), y = new Float32Array(B * O * H * H), dy = filled(y.length, 3);
      const dx = C === 1 ? null : new Float32Array(x.length), dWeight = new Float32Array(weight.length); // the first layer's input needs no gradient
      const fwd = cpuMs(() => kern.conv2dForward!({ x, weight, bias: null, y, ...g }));
      const bwd = cpuMs(() => kern.conv2dBackward!({ x, weight, dy, dx, dWeight, dBias: null, ...g }));
      console.log(JSON.stringify({ workload: name(s, 'fwd'), cpuMs: fwd, gflops: gflopsOf(flops(s), fwd) }));
      console.log(JSON.stringify({ workload: name(s, dx ? 'bwd (dx, dW)' : 'bwd (dW)'), cpuMs: bwd, gflops: gflopsOf((dx ? 2 : 1) * flops(s), bwd) }));
    }
  });
}

/** The command line of `node --import tsx bench/conv.ts` (the step profile's flags apply with --step). */
const CONV_FLAGS = {
  quick: { kind: 'bool', help: 'the bench rows at quick budgets' },
  'kernels-cpu': { kind: 'bool', help: 'the conv kernels alone on the process CPU clock' },
  step: { kind: 'bool', help: 'profile the CNN classifier\'s training step per kernel' },
  threads: { kind: 'int', default: 2, min: 1, help: '--step: pool threads' },
  batch: { kind: 'int', default: 128, min: 1, help: '--step: batch size' },
  width: { kind: 'int', default: 32, min: 1, help: '--step: the CNN\'s width' },
  attention: { kind: 'string', default: 'se', choices: CNN_ATTENTION, help: '--step: the CNN\'s attention block' },
  cpu: { kind: 'bool', help: '--step: time kernels on the CPU clock' },
  steps: { kind: 'int', default: 10, min: 1, help: '--step: timed steps' },
} as const;
type ConvFlags = Args<typeof CONV_FLAGS>;

if (import.meta.url === `file://${process.argv[1]}`) {
  const flags = readArgs(import.meta.url, CONV_FLAGS);
  if (flags.kernelsCpu) kernelsCpu();
  else if (flags.step) await profileStep(flags);
  else console.log(JSON.stringify(await run({ quick: flags.quick }), null, 1));
}
