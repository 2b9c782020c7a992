/**
 * FusedEncoder: a TransformerEncoder's inference forward (eval mode, no grad) as a short fixed list
 * of native kernel calls on buffers reused across calls — the encoder side of FusedDecoder.
 *
 *   const h = runEncoder(encoder, x, { keyPaddingMask: pad });  // (B, T, D): fused when it can be, else encoder.call
 *   const f = FusedEncoder.tryCreate(encoder, x, options);      // null: use the module path
 *
 * Why it exists. The module path is ~25 ops per layer, each validating its inputs, resolving masks
 * and allocating its output; at batch 1 that JavaScript is a large part of a request (a spam
 * request on the module path: sgemm 31%, attention 14%, most of the rest per-op JS). Here a layer
 * costs, on raw buffers:
 *   [layer norm]  ONE q|k|v GEMM (the three weights packed once)  fused attention reading q, k, v
 *   in place through its strides and writing the heads merged  out GEMM with the residual in its
 *   epilogue (beta = 1)
 *   [layer norm]  FFN GEMM with the activation in its epilogue  FFN GEMM + residual  [layer norm]
 * (pre-norm normalizes before each block, post-norm after). No tensor storage is allocated per
 * call but the (B, T, D) result (only small JS objects: buffer views and kernel arguments).
 *
 * int8. QuantizedLinear projections run the packed int8 kernel (int8GemmPacked); q|k|v is one
 * int8 GEMM over the three layers' int8 weights packed together (each row of x is quantized once
 * instead of three times, and the per-row scale is the same, so the values are those of three
 * calls). That kernel has no epilogue: the activation and residual run as elementwise kernels.
 *
 * Stale packs. The fp32 q|k|v pack and the int8 packs are copies of the weights. They are rebuilt
 * when any module or weight tensor read has been replaced (identities compared on every call: a
 * pruned head, a quantized layer, a new Parameter) or when weightsVersion() has moved since they
 * were made (Optimizer.step, loadStateDict, train()/eval(), pruning and LoRA merges bump it;
 * src/nn/weights-version.ts). Other fp32 weights and the norms are read in place, never copied.
 *
 * Covered: post-norm and pre-norm layers, relu or gelu (erf) FFN, plain Linear or QuantizedLinear
 * projections (also one packed inProj), key padding masks (suffix padding → key lengths; any
 * other pattern → an additive mask), isCausal, heads pruned per layer. Not covered (tryCreate
 * returns null, the module path runs): grad enabled, training mode, forward hooks (adapters),
 * LoRA or other subclasses, head masks, rotary or ALiBi, grouped-query attention, an explicit
 * attnMask, a row whose keys are all padding, an AttentionRecorder recording, non-float32 input.
 *
 * Letters: B batch, T length, N = B·T rows, D dModel, H heads (per layer), hd head dim,
 * E = H·hd (D unless heads were pruned), F FFN width.
 */
import { Tensor } from '../tensor/tensor.js';
import { k as kernels } from '../backend/registry.js';
import { ACT_NONE, ACT_RELU, ACT_GELU } from '../backend/js/gemm.js';
import { type Gemm, gemmOf, packRows } from './stacked-projection.js';
import { allocUninit } from '../tensor/dtype.js';
import { isGradEnabled } from '../autograd/mode.js';
import { Module } from '../nn/module.js';
import { Linear } from '../nn/linear.js';
import { QuantizedLinear } from '../nn/quantized-linear.js';
import { LayerNorm } from '../nn/norm.js';
import { Dropout } from '../nn/dropout.js';
import { MultiheadAttention } from '../nn/attention/multihead.js';
import { isRecording } from '../nn/attention/recorder.js';
import { TransformerEncoder, TransformerEncoderLayer, type EncoderCallOptions } from '../nn/transformer.js';
import { weightsVersion } from '../nn/weights-version.js';

/** A projection as the kernels read it: fp32 weight (O, I), or int8 packed with scales. */

interface Norm { w: Float32Array | null; b: Float32Array | null; eps: number }

interface LayerPlan {
  normFirst: boolean;
  act: number;
  H: number; hd: number;
  qkv: Gemm; out: Gemm; ff1: Gemm; ff2: Gemm;
  norm1: Norm; norm2: Norm;
}

// HEED_FUSED_ENCODER=0 starts with it off (benchmarks of the module path in another process).
let enabled = process.env.HEED_FUSED_ENCODER !== '0';

/** Turns the fused path on or off (benchmarks and tests compare both); returns the previous setting. */
export function setFusedEncoderEnabled(on: boolean): boolean {
  const was = enabled;
  enabled = on;
  return was;
}

/** Why the fused forward cannot run this encoder on this call (null: it can). */
export function fusedEncodeBlocker(encoder: TransformerEncoder, x: Tensor, o: EncoderCallOptions = {}): string | null {
  if (isGradEnabled()) return 'gradients are enabled (run under noGrad or inferenceMode)';
  if (encoder.training) return 'the encoder is in training mode (dropout is active)';
  if (isRecording()) return 'an AttentionRecorder is recording';
  if (Object.getPrototypeOf(encoder) !== TransformerEncoder.prototype || encoder.hasForwardHooks) return 'the encoder is a subclass or has forward hooks';
  if (encoder.norm !== null && !plainNorm(encoder.norm)) return 'the final norm is not a plain LayerNorm';
  if (o.mask != null) return 'an explicit attention mask is given (only key padding masks and isCausal are fused)';
  const D = encoder.norm?.normalizedShape[0] ?? (encoder.layers.toArray() as TransformerEncoderLayer[])[0]?.norm1.normalizedShape[0];
  if (x.dtype !== 'float32' || x.ndim !== 3 || x.shape[2] !== D) return `the input is ${x.dtype} of ${x.ndim} dims, expected float32 (B, T, ${D})`;
  const [B, T] = x.shape;
  const pad = o.keyPaddingMask;
  if (pad != null) {
    if (pad.ndim !== 2 || pad.shape[0] !== B || pad.shape[1] !== T) return 'the key padding mask is not (B, T)';
    for (let b = 0; b < B; b++) {
      let any = false;
      for (let t = 0; t < T && !any; t++) any = !pad.data[b * T + t];
      if (!any) return `row ${b} is all padding`;
    }
  }
  for (const layer of encoder.layers) {
    if (Object.getPrototypeOf(layer) !== TransformerEncoderLayer.prototype || layer.hasForwardHooks) return 'an encoder layer is a subclass or has forward hooks (an adapter)';
    if (layer.training) return 'a layer is in training mode';
    if (layer.activation !== 'relu' && layer.activation !== 'gelu') return `activation '${layer.activation}' has no GEMM epilogue`;
    if (!plainNorm(layer.norm1) || !plainNorm(layer.norm2) || layer.norm1.normalizedShape[0] !== D) return 'a layer norm is not a plain LayerNorm over D';
    for (const d of [layer.dropout, layer.dropout1, layer.dropout2]) if (Object.getPrototypeOf(d) !== Dropout.prototype || d.hasForwardHooks) return 'a dropout is not a plain Dropout';
    if (!plainProj(layer.linear1) || !plainProj(layer.linear2)) return 'an FFN projection is not a plain Linear or QuantizedLinear';
    const a = layer.selfAttn;
    if (Object.getPrototypeOf(a) !== MultiheadAttention.prototype || a.hasForwardHooks || !a.batchFirst || a.training) return 'the attention is not a plain batch-first MultiheadAttention in eval mode';
    if (a.headMask !== null || a.rotary !== null || a.alibi !== null) return 'the attention has a head mask, rotary or ALiBi';
    if (a.numKvHeads !== a.numHeads) return 'grouped-query attention (numKvHeads < numHeads) is not fused';
    const qkv = a.inProj !== null ? [a.inProj] : [a.qProj!, a.kProj!, a.vProj!];
    if (!qkv.every(plainProj) || !plainProj(a.outProj)) return 'an attention projection is not a plain Linear or QuantizedLinear';
    if (qkv.some((l) => (l instanceof QuantizedLinear) !== (qkv[0] instanceof QuantizedLinear))) return 'q, k and v mix int8 and fp32 projections';
    const xScales = new Set(qkv.map((l) => (l instanceof QuantizedLinear ? l.xScale : 0)));
    if (xScales.size > 1) return 'q, k and v have different static input scales';
    if (qkv.some((l) => l.inFeatures !== D)) return 'the key/value inputs are not of width D (kdim/vdim)';
  }
  return null;
}

export class FusedEncoder {
  private readonly layers: LayerPlan[];
  private readonly finalNorm: Norm | null;
  private readonly D: number;
  /** The widest layer's E = H·hd, H and F: what the work buffers hold per row. */
  private readonly widths: { E: number; H: number; F: number };
  /** Every module and tensor the plan read, and weightsVersion() then: the plan is current while they are unchanged. */
  private readonly sources: unknown[];
  private readonly version: number;
  // Work buffers, grown to the largest N of the recent calls (plain arrays: outside any inferenceMode
  // pool) and shrunk when the recent calls need much less (see shrinkIfOversized).
  private rows = 0;
  /** Rows (N) and additive-mask length (0: none) of the last SHRINK_WINDOW calls. */
  private readonly recentRows = new RecentMax();
  private readonly recentMask = new RecentMax();
  private bufA: Float32Array = new Float32Array(0); private bufB: Float32Array = new Float32Array(0);
  private qkv: Float32Array = new Float32Array(0); private merged: Float32Array = new Float32Array(0);
  private ff: Float32Array = new Float32Array(0);
  private mean: Float32Array = new Float32Array(0); private rstd: Float32Array = new Float32Array(0); private lse: Float32Array = new Float32Array(0);
  private keyLengths: Int32Array = new Int32Array(0);
  private mask: Float32Array = new Float32Array(0);
  /** Bytes of work buffers allocated since the plan was made (fusedEncoderAllocatedBytes; tests count them). */
  allocatedBytes = 0;

  /** A fused forward for `encoder`, or null when fusedEncodeBlocker names a reason for this call. */
  static tryCreate(encoder: TransformerEncoder, x: Tensor, o: EncoderCallOptions = {}): FusedEncoder | null {
    return fusedEncodeBlocker(encoder, x, o) === null ? new FusedEncoder(encoder) : null;
  }

  private constructor(encoder: TransformerEncoder) {
    this.version = weightsVersion();
    this.sources = sourcesOf(encoder);
    const layers = encoder.layers.toArray() as TransformerEncoderLayer[];
    this.D = layers[0]?.norm1.normalizedShape[0] ?? encoder.norm!.normalizedShape[0];
    this.finalNorm = encoder.norm ? normOf(encoder.norm) : null;
    this.layers = layers.map((l) => {
      const a = l.selfAttn;
      return {
        normFirst: l.normFirst, act: l.activation === 'relu' ? ACT_RELU : ACT_GELU,
        H: a.numHeads, hd: a.headDim,
        qkv: a.inProj !== null ? gemmOf(a.inProj) : packRows([a.qProj!, a.kProj!, a.vProj!]),
        out: gemmOf(a.outProj), ff1: gemmOf(l.linear1), ff2: gemmOf(l.linear2),
        norm1: normOf(l.norm1), norm2: normOf(l.norm2),
      };
    });
    this.widths = {
      E: Math.max(...this.layers.map((l) => l.H * l.hd), 1), H: Math.max(...this.layers.map((l) => l.H), 1),
      F: Math.max(...this.layers.map((l) => l.ff1.out), 1),
    };
  }

  /** Whether this plan still reads `encoder`'s current modules and weights. */
  isCurrentFor(encoder: TransformerEncoder): boolean {
    if (weightsVersion() !== this.version) return false;
    let i = 0, same = true;
    forEachSource(encoder, (s) => { same &&= s === this.sources[i++]; });
    return same && i === this.sources.length;
  }

  /**
   * Args:
   *   x: (B, T, D) float32 (not modified).
   *   o: keyPaddingMask (B, T) bool, true = pad; isCausal. (attnMask is not fused: see tryCreate.)
   * Returns: (B, T, D), a new tensor (its storage from the inferenceMode pool when inside one).
   */
  forward(x: Tensor, o: EncoderCallOptions = {}): Tensor {
    const [B, T, D] = x.shape, N = B * T;
    this.reserve(N, B, T);
    const masks = this.masks(o.keyPaddingMask ?? null, B, T);
    let h = this.bufA;
    h.set((x.data as Float32Array).subarray(0, N * D)); // (N, D)
    for (const l of this.layers) h = this.layer(l, h, B, T, o.isCausal ?? false, masks);
    const y = allocUninit('float32', N * D) as Float32Array; // (B, T, D)
    if (this.finalNorm) this.norm(this.finalNorm, h, y, N);
    else y.set(h.subarray(0, N * D));
    this.shrinkIfOversized(N, B, T, masks.mask ? B * T * T : 0);
    return new Tensor(y, [B, T, D]);
  }

  /** Bytes of the work buffers this plan holds between calls. */
  workBytes(): number {
    const bufs = [this.bufA, this.bufB, this.qkv, this.merged, this.ff, this.mean, this.rstd, this.lse, this.keyLengths, this.mask];
    return bufs.reduce((n, b) => n + b.byteLength, 0);
  }

  /**
   * The buffer policy. Buffers grow to the call's N and stay, so a stream of calls no larger than
   * the largest so far allocates nothing; but one big batch (64 spam mails of 255 tokens: ~60 MB) must not pin its
   * buffers for the rest of a serving process's life. After each call: when the buffers hold more
   * than SHRINK_FACTOR times the rows the last SHRINK_WINDOW calls needed (and more than
   * SHRINK_MIN_BYTES), they are reallocated at that need; a repeated big batch keeps them.
   */
  private shrinkIfOversized(N: number, B: number, T: number, maskLength: number): void {
    const rows = this.recentRows.push(N), mask = this.recentMask.push(maskLength);
    if (rows === null || mask === null || this.workBytes() <= SHRINK_MIN_BYTES) return; // too few calls yet to say what is usual
    if (this.rows <= SHRINK_FACTOR * rows && this.mask.length <= SHRINK_FACTOR * mask) return;
    this.rows = 0; // reserve() reallocates at the recent need
    this.lse = new Float32Array(0);
    this.keyLengths = new Int32Array(0);
    this.mask = this.floats(mask);
    this.reserve(rows, B, T);
  }

  /** One encoder layer on the stream x (N, D); returns the buffer holding the result. */
  private layer(l: LayerPlan, x: Float32Array, B: number, T: number, causal: boolean, m: { lengths: Int32Array | null; mask: Float32Array | null }): Float32Array {
    const N = B * T, { H, hd } = l, E = H * hd, pre = l.normFirst;
    // Self-attention: q|k|v in one GEMM, attended in place, projected onto x.
    const saIn = pre ? this.norm(l.norm1, x, this.other(x), N) : x; // (N, D)
    this.gemm(l.qkv, saIn, this.qkv, N, ACT_NONE, false); // (B, T, 3, H, hd)
    // The kernel reads q, k, v as column blocks of the (B, T, 3·E) GEMM output (row stride 3·E) and
    // writes the heads merged, (B, T, H·hd): no head split or merge copies.
    const qkv = this.qkv.subarray(0, 3 * N * E), R = 3 * E;
    kernels.attentionForwardStrided({
      q: qkv, k: qkv.subarray(E), v: qkv.subarray(2 * E),
      out: this.merged.subarray(0, N * E), lse: this.lse.subarray(0, B * H * T),
      B, H, Hkv: H, Lq: T, Lk: T, D: hd, Dv: hd, scale: 1 / Math.sqrt(hd), // scaledDotProductAttention's default
      causal, causalOffset: 0, keyLengths: m.lengths, mask: m.mask, maskStrideB: m.mask ? T * T : 0, maskStrideH: 0,
      alibiSlopes: null, dropoutP: 0, dropoutSeed: 0,
      qStrideB: T * R, qStrideH: hd, qStrideL: R, kStrideB: T * R, kStrideH: hd, kStrideL: R,
      vStrideB: T * R, vStrideH: hd, vStrideL: R, outStrideB: T * E, outStrideH: hd, outStrideL: E,
    }); // (B, T, H·hd)
    this.gemm(l.out, this.merged, x, N, ACT_NONE, true); // x += attn   (N, D)
    if (!pre) x = this.norm(l.norm1, x, this.other(x), N);
    // Feed-forward: activation in the first GEMM's epilogue, the residual in the second's.
    const ffIn = pre ? this.norm(l.norm2, x, this.other(x), N) : x; // (N, D)
    this.gemm(l.ff1, ffIn, this.ff, N, l.act, false); // (N, F)
    this.gemm(l.ff2, this.ff, x, N, ACT_NONE, true); // x += ff   (N, D)
    return pre ? x : this.norm(l.norm2, x, this.other(x), N);
  }

  /** Key lengths when the padding is a suffix of every row (the kernel's cheap case), else an additive (B, T, T) mask. */
  private masks(pad: Tensor | null, B: number, T: number): { lengths: Int32Array | null; mask: Float32Array | null } {
    if (pad === null) return { lengths: null, mask: null };
    const lengths = this.keyLengths.subarray(0, B);
    let suffix = true;
    for (let b = 0; b < B && suffix; b++) {
      let n = 0;
      while (n < T && !pad.data[b * T + n]) n++;
      for (let j = n; j < T; j++) if (!pad.data[b * T + j]) { suffix = false; break; }
      lengths[b] = n;
    }
    if (suffix) return { lengths, mask: null };
    if (this.mask.length < B * T * T) this.mask = this.floats(B * T * T);
    const mask = this.mask.subarray(0, B * T * T); // (B, T queries, T keys)
    for (let b = 0; b < B; b++) {
      for (let j = 0; j < T; j++) {
        const v = pad.data[b * T + j] ? -Infinity : 0;
        for (let i = 0; i < T; i++) mask[(b * T + i) * T + j] = v;
      }
    }
    return { lengths: null, mask };
  }

  /** y = layerNorm(x) over N rows of D; returns y. */
  private norm(n: Norm, x: Float32Array, y: Float32Array, N: number): Float32Array {
    const D = this.D;
    kernels.layerNormForward({
      x: x.subarray(0, N * D), weight: n.w, bias: n.b, y: y.subarray(0, N * D),
      mean: this.mean.subarray(0, N), rstd: this.rstd.subarray(0, N), rows: N, cols: D, eps: n.eps,
    });
    return y;
  }

  /** c = act(a·Wᵀ + b) (+ c when accumulate) over N rows. */
  private gemm(p: Gemm, a: Float32Array, c: Float32Array, N: number, act: number, accumulate: boolean): void {
    const A = a.subarray(0, N * p.in), C = c.subarray(0, N * p.out);
    if (p.int8 === null) {
      kernels.sgemm({
        a: A, b: p.w, c: C, batch: 1, m: N, n: p.out, k: p.in, transA: false, transB: true,
        alpha: 1, beta: accumulate ? 1 : 0, strideA: 0, strideB: 0, strideC: 0, bias: p.b, activation: act,
      });
      return;
    }
    // int8: the same epilogue (bias, activation, residual = the output itself when accumulating).
    kernels.int8GemmPacked({
      x: A, packed: p.int8.packed, wScales: p.int8.scales, colSums: p.int8.colSums, out: C, m: N, n: p.out, k: p.in, bias: p.b,
      activation: act, residual: accumulate ? C : null, xScale: p.int8.xScale,
    });
  }

  /** The stream buffer that is not `x`. */
  private other(x: Float32Array): Float32Array {
    return x === this.bufA ? this.bufB : this.bufA;
  }

  /** Grows the work buffers to N = B·T rows. */
  private reserve(N: number, B: number, T: number): void {
    const { E, H, F } = this.widths;
    if (this.keyLengths.length < B) { this.keyLengths = new Int32Array(B); this.allocatedBytes += 4 * B; }
    if (this.lse.length < B * H * T) this.lse = this.floats(B * H * T);
    if (N <= this.rows) return;
    const D = this.D;
    this.bufA = this.floats(N * D); this.bufB = this.floats(N * D);
    this.qkv = this.floats(3 * N * E); this.merged = this.floats(N * E);
    this.ff = this.floats(N * F);
    this.mean = this.floats(N); this.rstd = this.floats(N);
    this.rows = N;
  }

  /** A new work buffer of n floats, counted in allocatedBytes. */
  private floats(n: number): Float32Array {
    this.allocatedBytes += 4 * n;
    return new Float32Array(n);
  }
}

/**
 * Calls whose largest N the work buffers are sized for (FusedEncoder.shrinkIfOversized; the fused
 * decoder's workspace counts decodes). Serving batches vary (1–64 words of 6–14 tokens): with a
 * window of 8, eight calls in a row under half the largest came often enough that the buffers
 * were dropped and regrown on 40–49 of 600 calls: 128–170 KB per call at d 128, 255–340 KB at
 * d 256, as much as the result itself; with 32, 0–2 calls and 0–15 / 0–30 KB per call
 * (bench/serve/encoder-alloc.ts). A big batch's buffers are still dropped 32 calls after it.
 */
export const SHRINK_WINDOW = 32;
/** Buffers are shrunk when they hold more than this many times the recent calls' largest N. */
export const SHRINK_FACTOR = 2;
/** Buffers this small are kept whatever their use. */
export const SHRINK_MIN_BYTES = 1 << 20;

/**
 * The largest of the last SHRINK_WINDOW values pushed: what the recent calls needed, for the
 * buffer policy of the fused encoder and the fused decoder's workspace.
 */
export class RecentMax {
  private readonly window: number[] = [];

  /** Records one call's need; returns the window's largest once it holds SHRINK_WINDOW calls (null before). */
  push(need: number): number | null {
    this.window.push(need);
    if (this.window.length > SHRINK_WINDOW) this.window.shift();
    return this.window.length < SHRINK_WINDOW ? null : Math.max(...this.window);
  }

  /** Forgets the calls so far (after the buffers were dropped). */
  clear(): void {
    this.window.length = 0;
  }
}

const plans = new WeakMap<TransformerEncoder, FusedEncoder>();

/** Bytes of the work buffers the fused plan of `encoder` holds between calls (0 without a plan). */
export function fusedEncoderWorkBytes(encoder: TransformerEncoder): number {
  return plans.get(encoder)?.workBytes() ?? 0;
}

/** Bytes of work buffers the fused plan of `encoder` has allocated since it was made (0 without a plan). */
export function fusedEncoderAllocatedBytes(encoder: TransformerEncoder): number {
  return plans.get(encoder)?.allocatedBytes ?? 0;
}

/**
 * encoder(x, o) for inference: the fused forward when it covers this call (its plan kept per
 * encoder and rebuilt when stale), else encoder.call. Both compute the same function
 * (test/models/fused-encoder.test.ts).
 *
 * Args: encoder; x (B, T, D); o: keyPaddingMask, isCausal, mask as TransformerEncoder.forward.
 * Returns: (B, T, D).
 */
export function runEncoder(encoder: TransformerEncoder, x: Tensor, o: EncoderCallOptions = {}): Tensor {
  if (!enabled || fusedEncodeBlocker(encoder, x, o) !== null) return encoder.call(x, o);
  let f = plans.get(encoder);
  if (f === undefined || !f.isCurrentFor(encoder)) {
    f = FusedEncoder.tryCreate(encoder, x, o)!;
    plans.set(encoder, f);
  }
  return f.forward(x, o);
}

function plainNorm(n: Module): n is LayerNorm {
  return Object.getPrototypeOf(n) === LayerNorm.prototype && !n.hasForwardHooks && (n as LayerNorm).normalizedShape.length === 1;
}

function plainProj(l: Module): l is Linear | QuantizedLinear {
  if (l.hasForwardHooks) return false;
  if (Object.getPrototypeOf(l) === QuantizedLinear.prototype) return true;
  return Object.getPrototypeOf(l) === Linear.prototype && (l as Linear).weight.dtype === 'float32' && ((l as Linear).bias?.dtype ?? 'float32') === 'float32';
}

/** The modules and tensors (and their storages) a plan reads, in a fixed order. */
function sourcesOf(encoder: TransformerEncoder): unknown[] {
  const out: unknown[] = [];
  forEachSource(encoder, (s) => out.push(s));
  return out;
}

/** Visits sourcesOf's entries without collecting them (isCurrentFor runs on every call). */
function forEachSource(encoder: TransformerEncoder, visit: (s: unknown) => void): void {
  const module = (m: Module | null): void => {
    visit(m);
    if (m === null) return;
    for (const name of WEIGHT_FIELDS) {
      const t = (m as unknown as Record<string, Tensor | null | undefined>)[name];
      if (t) { visit(t); visit(t.data); }
    }
  };
  visit(encoder.layers);
  module(encoder.norm);
  for (const l of encoder.layers) {
    const a = l.selfAttn;
    visit(l); visit(a); visit(a.numHeads);
    module(a.inProj); module(a.qProj); module(a.kProj); module(a.vProj); module(a.outProj);
    module(l.linear1); module(l.linear2); module(l.norm1); module(l.norm2);
  }
}
const WEIGHT_FIELDS = ['weight', 'bias', 'weightScale'] as const;

function normOf(n: LayerNorm): Norm {
  return { w: n.weight ? (n.weight.data as Float32Array) : null, b: n.bias ? (n.bias.data as Float32Array) : null, eps: n.eps };
}

