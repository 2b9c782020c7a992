/**
 * FusedCnn: a CnnClassifier's inference forward (eval mode, no grad) as a fixed list of native
 * kernel calls on buffers reused across calls — the CNN counterpart of FusedEncoder.
 *
 *   const logits = runFusedCnn(model, images, classes);   // (B, K), or null: run the module path
 *   (CnnClassifier.forward calls it first; it is on by default)
 *
 * Why it exists. The module path of the CBAM CNN is ~50 kernel calls and as many JS ops per
 * forward: each conv is followed by a BatchNorm pass, CBAM runs its gates as ~20 small ops (means,
 * maxima, four 1×1 convs on (B, C, 1, 1), a concatenation, a 7×7 conv, sigmoids, two scalings)
 * and max pooling reads the gated map once more, every op allocating its output (at batch 64 the
 * stage-1 maps are 6.4 MB each, fresh pages every call). Here a stage is three calls:
 *   conv3×3 with the eval BatchNorm folded into its weight and bias and the ReLU in its epilogue
 *   (conv2dTransposedForward), twice; then CBAM + 2×2 max pooling in one pass per image
 *   (cbamPoolForward), which for the last stage also writes the global average pool; the head is
 *   one sgemm with its bias.
 *
 * Folding. Eval BatchNorm is y = (conv(x) − μ)·s + β with s = γ / √(σ² + ε) per output channel,
 * so conv'(x) = conv_{W·s}(x) + (β − μ·s): the weight is scaled per output channel and transposed
 * to (C·3·3, O), the layout the kernel's register tiles read in place. Those copies are rebuilt
 * when a module or weight tensor read has been replaced (identities compared on every call) or
 * when weightsVersion() has moved (Optimizer.step, loadStateDict, train()/eval(), pruning;
 * src/nn/weights-version.ts). The other weights (CBAM, head) are read in place.
 *
 * Covered: attention 'cbam' (the fashion task's default), plain Conv2d 3×3 stride 1 without
 * groups or dilation, BatchNorm2d with running statistics (with or without its fused ReLU),
 * MaxPool2d(2), a plain fp32 Linear head or a plain QuantizedLinear head (`heed compress
 * --quantize int8` quantizes only the head; it runs its own int8 forward on the pooled features),
 * float32 input. Not covered (the module path runs): grad enabled, training mode, forward hooks or
 * subclasses anywhere, attention 'none' | 'se' | 'mhsa'.
 *
 * Letters: B batch, C channels, I image side, h side of a stage's map, R CBAM hidden width,
 * ks spatial kernel side, K classes.
 */
import { Tensor } from '../tensor/tensor.js';
import { k as kernels } from '../backend/registry.js';
import { allocUninit } from '../tensor/dtype.js';
import { isGradEnabled } from '../autograd/mode.js';
import type { Module, ModuleList } from '../nn/module.js';
import { Conv2d } from '../nn/conv.js';
import { BatchNorm2d } from '../nn/batch-norm.js';
import { MaxPool2d } from '../nn/pool.js';
import { Linear } from '../nn/linear.js';
import { QuantizedLinear } from '../nn/quantized-linear.js';
import { Dropout } from '../nn/dropout.js';
import { CBAM, ChannelAttention, SpatialAttention } from '../nn/cbam.js';
import { isSnapshotCurrent, snapshotWeights, type WeightsSnapshot } from '../nn/weights-version.js';

/** What the plan reads of a ConvStage (./cnn.ts; described here, not imported: cnn.ts imports this file). */
interface CnnStage extends Module { conv1: Conv2d; bn1: BatchNorm2d; conv2: Conv2d; bn2: BatchNorm2d; attention: Module | null; pool: MaxPool2d }

/** What the plan reads of a CnnClassifier. */
export interface FusableCnn extends Module {
  readonly config: { attention: string; inChannels: number; imageSize: number };
  stages: ModuleList<CnnStage>;
  drop: Dropout;
  head: Linear | QuantizedLinear;
}

/** The exact classes the plan was written for: cnn.ts passes CnnClassifier and ConvStage (subclasses keep the module path). */
export interface CnnClasses { model: { prototype: object }; stage: { prototype: object } }

/** A conv3×3 with its BatchNorm folded in: weightT (C·kh·kw, O), bias (O). */
interface ConvPlan { weightT: Float32Array; bias: Float32Array; C: number; O: number; k: number; pad: number; relu: boolean }

/** CBAM's weights, read in place. */
interface CbamPlan { fc1W: Float32Array; fc1B: Float32Array | null; fc2W: Float32Array; fc2B: Float32Array | null; spatialW: Float32Array; R: number; ks: number }

interface StagePlan { convs: [ConvPlan, ConvPlan]; cbam: CbamPlan; C: number }

// HEED_FUSED_CNN=0 starts with it off (benchmarks of the module path in another process).
let enabled = process.env.HEED_FUSED_CNN !== '0';

/** Turns the fused path on or off (benchmarks and tests compare both); returns the previous setting. */
export function setFusedCnnEnabled(on: boolean): boolean {
  const was = enabled;
  enabled = on;
  return was;
}

const plain = (m: Module | null, cls: { prototype: object }): boolean => m !== null && Object.getPrototypeOf(m) === cls.prototype && !m.hasForwardHooks && !m.training;

function convBlocker(conv: Conv2d, bn: BatchNorm2d): string | null {
  if (!plain(conv, Conv2d) || !plain(bn, BatchNorm2d)) return 'a conv or BatchNorm is a subclass, has forward hooks or is in training mode';
  const [kh, kw] = conv.kernelSize, o = conv.opts;
  if (kh !== kw || o.stride !== 1 || o.dilation !== 1 || conv.groups !== 1) return 'a conv is not square with stride 1, dilation 1 and one group';
  if (!bn.trackRunningStats || bn.runningMean === null || bn.runningVar === null) return 'a BatchNorm has no running statistics';
  if (bn.numFeatures !== conv.outChannels) return 'a BatchNorm does not match its conv';
  return null;
}

/** Why the fused forward cannot run this model on this call (null: it can). */
export function fusedCnnBlocker(model: FusableCnn, images: Tensor, classes: CnnClasses): string | null {
  if (isGradEnabled()) return 'gradients are enabled (run under noGrad or inferenceMode)';
  if (Object.getPrototypeOf(model) !== classes.model.prototype || model.training || model.hasForwardHooks) return 'the model is a subclass, in training mode or has forward hooks';
  const c = model.config;
  if (c.attention !== 'cbam') return `attention '${c.attention}' is not fused (only 'cbam')`;
  if (images.dtype !== 'float32' || images.ndim !== 4 || images.shape[1] !== c.inChannels || images.shape[2] !== c.imageSize || images.shape[3] !== c.imageSize) {
    return 'the input is not float32 (B, inChannels, imageSize, imageSize)';
  }
  for (const stage of model.stages) {
    if (!plain(stage, classes.stage)) return 'a stage is a subclass, has forward hooks or is in training mode';
    const why = convBlocker(stage.conv1, stage.bn1) ?? convBlocker(stage.conv2, stage.bn2);
    if (why) return why;
    const a = stage.attention;
    if (!plain(a, CBAM)) return 'a stage attention is not a plain CBAM in eval mode';
    const cbam = a as CBAM;
    if (!plain(cbam.channelAttention, ChannelAttention) || !plain(cbam.spatialAttention, SpatialAttention)) return 'a CBAM gate is a subclass or has hooks';
    for (const conv of [cbam.channelAttention.fc1, cbam.channelAttention.fc2, cbam.spatialAttention.conv]) {
      if (!plain(conv, Conv2d) || conv.groups !== 1 || conv.opts.stride !== 1 || conv.opts.dilation !== 1) return 'a CBAM conv is not a plain Conv2d';
    }
    const pool = stage.pool;
    const po = pool.options;
    const two = (v: unknown) => v === 2 || (Array.isArray(v) && v[0] === 2 && v[1] === 2);
    if (!plain(pool, MaxPool2d) || !two(po.kernelSize) || !(po.stride == null || two(po.stride)) || !(po.padding == null || po.padding === 0) || po.ceilMode) {
      return 'a stage pool is not MaxPool2d(2)';
    }
  }
  const head = model.head;
  const fp32Head = plain(head, Linear) && head.weight.dtype === 'float32' && (head.bias?.dtype ?? 'float32') === 'float32';
  if (!plain(model.drop, Dropout) || !(fp32Head || plain(head, QuantizedLinear))) {
    return 'the head is not a plain fp32 Linear or QuantizedLinear after a plain Dropout';
  }
  return null;
}

/** conv → eval BatchNorm as one conv: weightT[t][o] = W[o][t]·s[o], bias[o] = (b[o] − μ[o])·s[o] + β[o]. */
function foldConv(conv: Conv2d, bn: BatchNorm2d): ConvPlan {
  const O = conv.outChannels, C = conv.inChannels, k = conv.kernelSize[0], T = C * k * k;
  const w = conv.weight.data as Float32Array, mu = bn.runningMean!.data, v = bn.runningVar!.data;
  const gamma = bn.weight?.data ?? null, beta = bn.bias?.data ?? null, convBias = conv.bias?.data ?? null;
  const weightT = new Float32Array(T * O), bias = new Float32Array(O);
  for (let o = 0; o < O; o++) {
    // the same float32 steps as the module path's batchNorm: invstd, then invstd·γ
    const invstd = Math.fround(1 / Math.sqrt(v[o] + bn.eps));
    const s = Math.fround(invstd * (gamma ? gamma[o] : 1));
    for (let t = 0; t < T; t++) weightT[t * O + o] = w[o * T + t] * s;
    bias[o] = ((convBias ? convBias[o] : 0) - mu[o]) * s + (beta ? beta[o] : 0);
  }
  return { weightT, bias, C, O, k, pad: conv.opts.padding, relu: bn.relu };
}

function cbamPlan(a: CBAM): CbamPlan {
  const { fc1, fc2 } = a.channelAttention, sp = a.spatialAttention.conv;
  return {
    fc1W: fc1.weight.data as Float32Array, fc1B: (fc1.bias?.data as Float32Array | undefined) ?? null,
    fc2W: fc2.weight.data as Float32Array, fc2B: (fc2.bias?.data as Float32Array | undefined) ?? null,
    spatialW: sp.weight.data as Float32Array, R: fc1.outChannels, ks: sp.kernelSize[0],
  };
}

/**
 * Every module and tensor storage the plan read (identities: the plan is stale when one is
 * replaced). Read field by field, not through parameters(): it runs on every call.
 */
function sourcesOf(model: FusableCnn): unknown[] {
  const out: unknown[] = [model.head, model.head.weight.data, model.head.bias?.data, model.drop];
  const conv = (c: Conv2d) => out.push(c, c.weight, c.weight.data, c.bias, c.bias?.data);
  const bn = (n: BatchNorm2d) => out.push(n, n.weight, n.weight?.data, n.bias, n.bias?.data, n.runningMean, n.runningMean?.data, n.runningVar, n.runningVar?.data);
  for (const s of model.stages) {
    out.push(s, s.attention, s.pool);
    conv(s.conv1); bn(s.bn1); conv(s.conv2); bn(s.bn2);
    const a = s.attention as CBAM;
    out.push(a.channelAttention, a.spatialAttention);
    conv(a.channelAttention.fc1); conv(a.channelAttention.fc2); conv(a.spatialAttention.conv);
  }
  return out;
}

export class FusedCnn {
  private readonly stages: StagePlan[];
  private readonly made: WeightsSnapshot;
  // Two work buffers, ping-ponged through the network, grown to the largest batch seen (outside any pool).
  private bufA = new Float32Array(0);
  private bufB = new Float32Array(0);
  private pooled = new Float32Array(0);
  private batch = 0;

  constructor(private readonly model: FusableCnn) {
    this.made = snapshotWeights(sourcesOf(model));
    this.stages = model.stages.toArray().map((s) => ({
      convs: [foldConv(s.conv1, s.bn1), foldConv(s.conv2, s.bn2)],
      cbam: cbamPlan(s.attention as CBAM),
      C: s.conv2.outChannels,
    }));
  }

  /** True while no weight changed in place and no module or tensor read was replaced. */
  isCurrentFor(model: FusableCnn): boolean {
    return model === this.model && isSnapshotCurrent(this.made, sourcesOf(model));
  }

  /** images (B, Cin, I, I) → logits (B, K). */
  forward(images: Tensor): Tensor {
    const [B, , I] = images.shape;
    this.reserve(B, I);
    let x = images.data as Float32Array, side = I;
    let cur = this.bufA, other = this.bufB;
    const last = this.stages.length - 1;
    this.stages.forEach((st, s) => {
      for (const cv of st.convs) {
        const Ho = side + 2 * cv.pad - cv.k + 1;
        kernels.conv2dTransposedForward({
          x: x.subarray(0, B * cv.C * side * side), weightT: cv.weightT, bias: cv.bias, y: cur.subarray(0, B * cv.O * Ho * Ho),
          B, C: cv.C, H: side, W: side, O: cv.O, kh: cv.k, kw: cv.k, Ho, Wo: Ho, padH: cv.pad, padW: cv.pad, relu: cv.relu,
        });
        side = Ho;
        x = cur;
        [cur, other] = [other, cur];
      }
      const c = st.cbam, half = Math.floor(side / 2);
      kernels.cbamPoolForward({
        x: x.subarray(0, B * st.C * side * side), fc1W: c.fc1W, fc1B: c.fc1B, fc2W: c.fc2W, fc2B: c.fc2B, spatialW: c.spatialW,
        y: cur.subarray(0, B * st.C * half * half), mean: s === last ? this.pooled.subarray(0, B * st.C) : null,
        B, C: st.C, H: side, W: side, R: c.R, ks: c.ks, pool: 2, Ho: half, Wo: half,
      });
      side = half;
      x = cur;
      [cur, other] = [other, cur];
    });
    // head: logits (B, K) = pooled (B, C) · Wᵀ + b
    const head = this.model.head, K = head.outFeatures, C = head.inFeatures;
    // an int8 head runs its own forward (packed int8 kernel); the pooled rows are copied out of the work buffer
    if (head instanceof QuantizedLinear) return head.forward(new Tensor(this.pooled.slice(0, B * C), [B, C]));
    const y = allocUninit('float32', B * K) as Float32Array; // (B, K)
    kernels.sgemm({
      a: this.pooled.subarray(0, B * C), b: head.weight.data as Float32Array, c: y, batch: 1, m: B, n: K, k: C, transA: false, transB: true,
      alpha: 1, beta: 0, strideA: 0, strideB: 0, strideC: 0, bias: (head.bias?.data as Float32Array | undefined) ?? null, activation: 0,
    });
    return new Tensor(y, [B, K]);
  }

  /** Grows the work buffers to a batch of B images of side I. */
  private reserve(B: number, I: number): void {
    if (B <= this.batch) return;
    let side = I, most = 0, C = 0;
    for (const st of this.stages) {
      for (const cv of st.convs) {
        side = side + 2 * cv.pad - cv.k + 1;
        most = Math.max(most, B * cv.O * side * side);
      }
      side = Math.floor(side / 2);
      C = st.C;
    }
    this.bufA = new Float32Array(most);
    this.bufB = new Float32Array(most);
    this.pooled = new Float32Array(B * C);
    this.batch = B;
  }
}

const plans = new WeakMap<FusableCnn, FusedCnn>();

/**
 * The model's forward for inference: the fused kernels when they cover this call (the plan kept
 * per model and rebuilt when stale), else null and the caller runs the module path. Both compute
 * the same function (test/models/fused-cnn.test.ts).
 *
 * Args: model; images (B, Cin, I, I); classes: the model's and its stages' exact classes.
 * Returns: logits (B, K), or null.
 */
export function runFusedCnn(model: FusableCnn, images: Tensor, classes: CnnClasses): Tensor | null {
  if (!enabled || fusedCnnBlocker(model, images, classes) !== null) return null;
  let f = plans.get(model);
  if (f === undefined || !f.isCurrentFor(model)) {
    f = new FusedCnn(model);
    plans.set(model, f);
  }
  return f.forward(images);
}
