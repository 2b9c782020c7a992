/**
 * Family `mha`: heed's fused attention forward against onnxruntime-node's own fused CPU
 * attention, the `com.microsoft` MultiHeadAttention contrib op, in one process.
 *
 *   long sequences   B1 H12 d64, L = 64 … 4096, causal and not (joins the `attention`
 *                    family's rows, where the unfused ORT graph is)
 *   small shapes     B32 H4 and H12, d64, L = 32, 64, 128, 256, not causal (classification
 *                    and tagging encoders)
 *
 * The unfused ORT graph of peers/onnxruntime.ts (Transpose→MatMul→Mul→(Add mask)→Softmax→MatMul)
 * runs on the same shapes in the same pass, so fused and unfused ORT sit side by side.
 *
 * ORT's graph is one node: MultiHeadAttention(query, key, value) with q, k, v in (B, L, H·d),
 * attribute num_heads = H, and unidirectional = 1 for causal (ORT ≥ 1.19 honours it on the CPU
 * kernel; the check below proves it here). heed's kernel (`attentionForwardStrided`) reads the same
 * (B, L, H·d) buffers in place through its strides and writes (B, L, H·d), as nn.MultiheadAttention
 * calls it; the unfused ORT graph gets (B, H, L, d).
 *
 * Before any timing, both compute one shape (B2 H3 L65 d64, causal and not) from the same
 * inputs, and the run stops if they differ by more than 1e-4, so the rows compare the same
 * computation. Times are medians (common.ts `timeIt`), heed and ORT through the same timer;
 * ORT's include session.run's async hop (~10 µs, visible only at the smallest shapes).
 */
import { buildModel } from './onnx-proto.ts';
import { attentionModel, session } from './onnxruntime.ts';
import { randomFloats, timeIt, gflopsOf, type BenchOptions, type BenchRow } from './common.ts';
import { nk, nativeLoad } from '../native-util.js';

type Ort = typeof import('onnxruntime-node');

export interface MhaShape { B: number; H: number; L: number; d: number; causal: boolean }

export const MHA_LONG = { full: [64, 128, 256, 512, 1024, 2048, 4096], quick: [64, 512, 2048] };
export const MHA_SMALL = { B: 32, heads: [4, 12], full: [32, 64, 128, 256], quick: [32, 128] };

/** Join key, same form as the `attention` family's: `attention fwd B1 H12 L512 d64 causal`. */
export const mhaWorkload = (s: MhaShape): string => `attention fwd B${s.B} H${s.H} L${s.L} d${s.d}${s.causal ? ' causal' : ''}`;

/** The two matmuls, 4·B·H·L²·d, halved when causal (as bench/attention.ts counts them). */
export const mhaFlops = (s: MhaShape): number => (4 * s.B * s.H * s.L * s.L * s.d) / (s.causal ? 2 : 1);

/** One-node graph: com.microsoft MultiHeadAttention over (B, L, H·d) inputs. */
export function mhaModel(s: MhaShape): Uint8Array {
  const shape = [s.B, s.L, s.H * s.d];
  return buildModel({
    name: 'mha',
    nodes: [{
      op: 'MultiHeadAttention', domain: 'com.microsoft', inputs: ['q', 'k', 'v'], outputs: ['out'],
      attrs: [{ name: 'num_heads', i: s.H }, { name: 'unidirectional', i: s.causal ? 1 : 0 }],
    }],
    inputs: ['q', 'k', 'v'].map((name) => ({ name, shape })), outputs: [{ name: 'out', shape }],
  });
}

/** (B, L, H, d) → (B, H, L, d): ORT's layout to heed's kernel layout. */
function blhdToBhld(x: Float32Array, s: MhaShape): Float32Array {
  const out = new Float32Array(x.length);
  for (let b = 0; b < s.B; b++) for (let l = 0; l < s.L; l++) for (let h = 0; h < s.H; h++) {
    out.set(x.subarray(((b * s.L + l) * s.H + h) * s.d, ((b * s.L + l) * s.H + h + 1) * s.d), ((b * s.H + h) * s.L + l) * s.d);
  }
  return out;
}

export type Kernels = NonNullable<typeof nk>;

/** heed's fused forward on (B, L, H·d) buffers (ORT's layout, read through strides); returns the call to time. */
export function heedForward(kern: Kernels, s: MhaShape, q: Float32Array, k: Float32Array, v: Float32Array): { call: () => void; out: Float32Array } {
  const out = new Float32Array(q.length), lse = new Float32Array(s.B * s.H * s.L);
  const E = s.H * s.d, sB = s.L * E, sH = s.d, sL = E;
  const call = () => kern.attentionForwardStrided!({ q, k, v, out, lse, B: s.B, H: s.H, Hkv: s.H, Lq: s.L, Lk: s.L, D: s.d, Dv: s.d,
    scale: 1 / Math.sqrt(s.d), causal: s.causal, causalOffset: 0, keyLengths: null, mask: null, maskStrideB: 0, maskStrideH: 0,
    alibiSlopes: null, dropoutP: 0, dropoutSeed: 0,
    qStrideB: sB, qStrideH: sH, qStrideL: sL, kStrideB: sB, kStrideH: sH, kStrideL: sL,
    vStrideB: sB, vStrideH: sH, vStrideL: sL, outStrideB: sB, outStrideH: sH, outStrideL: sL });
  return { call, out };
}

/** Runs an async fn with heed's pool at `threads` (native-util's withThreads would restore it at the first await). */
async function onThreads<T>(threads: number, fn: () => Promise<T>): Promise<T> {
  const before = nativeLoad!.threads();
  nativeLoad!.setThreads(threads);
  try {
    return await fn();
  } finally {
    nativeLoad!.setThreads(before);
  }
}

/** ORT's fused MHA and heed's fused forward agree to 1e-4 on one shape, causal and not; throws if not. */
async function checkSameComputation(ort: Ort, kern: Kernels): Promise<string> {
  const notes: string[] = [];
  for (const causal of [false, true]) {
    const s: MhaShape = { B: 2, H: 3, L: 65, d: 64, causal };
    const n = s.B * s.L * s.H * s.d, dims = [s.B, s.L, s.H * s.d];
    const q = randomFloats(n, 11), k = randomFloats(n, 12), v = randomFloats(n, 13);
    const sess = await session(ort, mhaModel(s), 1);
    const got = (await sess.run({ q: new ort.Tensor('float32', q, dims), k: new ort.Tensor('float32', k, dims), v: new ort.Tensor('float32', v, dims) })).out.data as Float32Array;
    await sess.release();
    const h = heedForward(kern, s, q, k, v);
    h.call();
    let maxDiff = 0;
    for (let i = 0; i < n; i++) maxDiff = Math.max(maxDiff, Math.abs(got[i] - h.out[i]));
    if (!(maxDiff <= 1e-4)) {
      throw new Error(`bench mha: onnxruntime MultiHeadAttention and heed's fused forward differ by ${maxDiff.toExponential(2)} on ${mhaWorkload(s)} (expected ≤ 1e-4); the peer does not compute the same attention, so its times would not compare`);
    }
    notes.push(`${causal ? 'causal' : 'non-causal'} max |Δ| ${maxDiff.toExponential(1)}`);
  }
  return `output checked against heed on B2 H3 L65 d64: ${notes.join(', ')}`;
}

export async function run(opts: BenchOptions = {}): Promise<BenchRow[]> {
  if (!nk || !nativeLoad) return [{ workload: 'mha', impl: 'heed-native fused', threads: 0, ms: NaN, note: 'skipped: native addon not built' }];
  const kern = nk;
  let ort: Ort;
  try {
    ort = await import('onnxruntime-node');
  } catch (e) {
    return [{ workload: 'mha', impl: 'onnxruntime-node fused MHA', threads: 0, ms: NaN, note: `skipped: ${(e as Error).message}` }];
  }
  const impl = `onnxruntime-node ${ort.env.versions?.node ?? ''} fused MHA`.replace('  ', ' ');
  const checked = await checkSameComputation(ort, kern);

  const shapes: MhaShape[] = [];
  for (const L of opts.quick ? MHA_LONG.quick : MHA_LONG.full) for (const causal of [false, true]) shapes.push({ B: 1, H: 12, L, d: 64, causal });
  for (const H of MHA_SMALL.heads) for (const L of opts.quick ? MHA_SMALL.quick : MHA_SMALL.full) shapes.push({ B: MHA_SMALL.B, H, L, d: 64, causal: false });

  const rows: BenchRow[] = [];
  const maxPool = nativeLoad.threads();
  for (const t of opts.threads ?? [1, 2]) {
    for (const s of shapes) {
      const n = s.B * s.L * s.H * s.d, dims = [s.B, s.L, s.H * s.d];
      const q = randomFloats(n, 3), k = randomFloats(n, 4), v = randomFloats(n, 5);
      const timing = { quick: opts.quick, budgetMs: s.L >= 4096 ? 1 : undefined };
      const flops = mhaFlops(s), workload = mhaWorkload(s);
      if (t <= maxPool) {
        // heed reads ORT's own (B, L, H·d) inputs
        const h = heedForward(kern, s, q, k, v);
        const ms = await onThreads(t, () => timeIt(h.call, timing));
        rows.push({ workload, impl: 'heed-native fused', threads: t, ms, gflops: gflopsOf(flops, ms) });
      }
      const sess = await session(ort, mhaModel(s), t);
      const feeds = { q: new ort.Tensor('float32', q, dims), k: new ort.Tensor('float32', k, dims), v: new ort.Tensor('float32', v, dims) };
      const ms = await timeIt(() => sess.run(feeds), timing);
      await sess.release();
      rows.push({ workload, impl, threads: t, ms, gflops: gflopsOf(flops, ms), note: rows.some((r) => r.note === checked) ? undefined : checked });
      // the unfused graph takes (B, H, L, d); its inputs are the same random numbers in that layout
      const bhld = [s.B, s.H, s.L, s.d];
      const unfused = await session(ort, attentionModel(s.L, s.causal, s), t);
      const feedsU = { q: new ort.Tensor('float32', blhdToBhld(q, s), bhld), k: new ort.Tensor('float32', blhdToBhld(k, s), bhld), v: new ort.Tensor('float32', blhdToBhld(v, s), bhld) };
      const msU = await timeIt(() => unfused.run(feedsU), timing);
      await unfused.release();
      rows.push({ workload, impl: `onnxruntime-node ${ort.env.versions?.node ?? ''} (unfused graph)`, threads: t, ms: msU, gflops: gflopsOf(flops, msU) });
    }
  }
  return rows;
}
