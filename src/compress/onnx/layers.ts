/**
 * ONNX exporters for heed's basic layers: each takes the module, its path in the model's
 * module tree and the ONNX value(s) it is called on, adds the nodes that compute the module's
 * forward (in eval mode) to an OnnxGraph, and returns the output value. They mirror the
 * forward methods line by line, so a reader can hold the two side by side:
 *
 *   Linear      y = x·Wᵀ + b                → MatMul(x, Wᵀ) + Add(b)   (Wᵀ stored (I, O))
 *   QuantizedLinear (int8)                   → the int8 weights as int8 + DequantizeLinear (QDQ),
 *               each row of x quantized as heed does (symmetric, round half away, ±127) → see quantizedLinearOnnx
 *   LayerNorm   over the last dims           → LayerNormalization(axis = −dims, epsilon)
 *   Embedding   weight[ids]                  → Gather(weight, ids)
 *   activations relu / gelu (erf) / gelu_tanh / swiglu → Relu / Erf / Tanh / Sigmoid compositions
 *   FeedForward fc2(act(fc1(x)))             (dropout is the identity in eval mode)
 *   Conv2d                                   → Conv(x, W, b, group)
 *   BatchNorm2d (eval: running statistics)   → BatchNormalization(x, γ, β, μ, σ²)
 *   MaxPool2d / AvgPool2d                    → MaxPool / AveragePool (heed's window rules)
 *
 * A module of another class than the exporter expects is an OnnxExportError naming its class and
 * path (a quantized or custom layer, say), never a silently different graph.
 *
 * Letters: B batch, T positions, D model dim, F feed-forward dim, V vocabulary.
 */
import type { OnnxGraph, OnnxAttr } from '../../io/onnx/graph.js';
import type { Module } from '../../nn/module.js';
import { Linear } from '../../nn/linear.js';
import { LayerNorm } from '../../nn/norm.js';
import { Embedding } from '../../nn/embedding.js';
import { Dropout } from '../../nn/dropout.js';
import { FeedForward, type Activation } from '../../nn/feedforward.js';
import { Conv2d } from '../../nn/conv.js';
import { QuantizedLinear } from '../../nn/quantized-linear.js';
import { BatchNorm2d } from '../../nn/batch-norm.js';
import { MaxPool2d, AvgPool2d } from '../../nn/pool.js';
import { pair } from '../../ops/pool.js';
import { ones, zeros } from '../../tensor/creation.js';
import { OnnxExportError } from '../../errors.js';

/** Throws an OnnxExportError unless `m` is exactly of class `cls` (a subclass may compute something else). */
export function expectModule<M extends Module>(m: Module | null, cls: abstract new (...a: never[]) => M, path: string): M {
  if (m !== null && m.constructor === cls) return m as M;
  const found = m === null ? 'nothing' : m.constructor.name;
  throw new OnnxExportError(
    `exportOnnx: module '${path || '(model)'}' is ${found}, which has no ONNX mapping here; the exporter expects ${cls.name}. ` +
      'Fix: export the float model before quantizing or replacing layers, or add an exporter for this module type in src/compress/onnx/.',
    found, path);
}

/** Throws an OnnxExportError for a module option the exporter does not map (e.g. rotary positions). */
export function unsupported(path: string, moduleType: string, what: string): never {
  throw new OnnxExportError(`exportOnnx: module '${path || '(model)'}' (${moduleType}) uses ${what}, which has no ONNX mapping in this exporter. Fix: export a model without it, or extend src/compress/onnx/.`, moduleType, path);
}

/** Dropout is the identity in eval mode; the module is still checked, so an unknown one is not skipped silently. */
export function dropoutOnnx(m: Module | null, path: string, x: string): string {
  expectModule(m, Dropout, path);
  return x;
}

/** y = x·Wᵀ + b. x (N…, I) → (N…, O). A QuantizedLinear goes to quantizedLinearOnnx. */
export function linearOnnx(g: OnnxGraph, m: Module | null, path: string, x: string): string {
  if (m !== null && m.constructor === QuantizedLinear) return quantizedLinearOnnx(g, m as QuantizedLinear, path, x);
  const lin = expectModule(m, Linear, path);
  return g.scoped(path, () => {
    const y = g.node('MatMul', [x, g.tensor(`${path}.weight`, lin.weight, { transpose: true })]); // (N…, O)
    return lin.bias ? g.node('Add', [y, g.tensor(`${path}.bias`, lin.bias)]) : y; // (N…, O)
  });
}

/**
 * An int8 QuantizedLinear as heed computes it (nn/quantized-linear.ts), with QDQ nodes:
 *
 *   sx   = max |x_row| / 127 (1 for an all-zero row)              per row, at run time
 *   qx   = clamp(round_half_away(x / sx), ±127) → Cast int8 → DequantizeLinear(scale 1)
 *   W    = DequantizeLinear(qwᵀ int8 (I, O), sw (O), axis 1)       the stored int8 weights and scales
 *   y    = (qx · W) · sx + b
 *
 * The file stores the weights as int8 (a quarter of the float bytes) and the integer products are
 * exact, so the runtime's output equals heed's int8 output up to float summation order. ONNX's
 * QuantizeLinear has no per-row scale before opset 21 (and rounds half to even), hence the
 * explicit rounding. A runtime computes this MatMul in float: the export is about size and
 * fidelity, not int8 speed. x (N…, I) → (N…, O).
 */
export function quantizedLinearOnnx(g: OnnxGraph, q: QuantizedLinear, path: string, x: string): string {
  return g.scoped(path, () => {
    const [O, I] = [q.outFeatures, q.inFeatures];
    const src = q.weight.data as Int8Array, wt = new Int8Array(O * I);
    for (let o = 0; o < O; o++) for (let i = 0; i < I; i++) wt[i * O + o] = src[o * I + i];
    const w = g.node('DequantizeLinear', [g.initializer(`${path}.weight.T`, wt, [I, O], q.weight), g.tensor(`${path}.weightScale`, q.weightScale), g.int8(new Array<number>(O).fill(0), [O])], { axis: { i: 1 } }); // (I, O)
    const { xq, sx } = quantizeRows(g, x);
    const out = g.node('Mul', [g.node('MatMul', [xq, w]), sx]); // (N…, O)
    return q.bias ? g.node('Add', [out, g.tensor(`${path}.bias`, q.bias)]) : out; // (N…, O)
  });
}

/** Per graph: an activation value → its row-quantized form, so q, k and v (one input) quantize it once. */
const quantizedRows = new WeakMap<OnnxGraph, Map<string, { xq: string; sx: string }>>();

/** x (N…, I) → row scales sx (N…, 1) and the int8 row values as integer-valued float xq (N…, I), as heed's kernel. */
function quantizeRows(g: OnnxGraph, x: string): { xq: string; sx: string } {
  let cache = quantizedRows.get(g);
  if (cache === undefined) quantizedRows.set(g, (cache = new Map()));
  const seen = cache.get(x);
  if (seen !== undefined) return seen;
  const maxAbs = g.node('ReduceMax', [g.node('Abs', [x])], { axes: { ints: [-1] }, keepdims: { i: 1 } }); // (N…, 1)
  const sx = g.node('Where', [g.node('Greater', [maxAbs, g.float(0)]), g.node('Div', [maxAbs, g.float(127)]), g.float(1)]); // (N…, 1)
  const y = g.node('Mul', [x, g.node('Reciprocal', [sx])]); // (N…, I), in [−127, 127]
  const rounded = g.node('Mul', [g.node('Sign', [y]), g.node('Floor', [g.node('Add', [g.node('Abs', [y]), g.float(0.5)])])]); // half away from zero
  const qx = g.node('Cast', [g.node('Clip', [rounded, g.float(-127), g.float(127)])], { to: { i: 3 } }); // (N…, I) int8
  const out = { xq: g.node('DequantizeLinear', [qx, g.float(1), g.int8([0], [])]), sx }; // (N…, I) integer-valued float
  cache.set(x, out);
  return out;
}

/** x (N…, D) → (N…, D), normalized over normalizedShape. */
export function layerNormOnnx(g: OnnxGraph, m: Module | null, path: string, x: string): string {
  const ln = expectModule(m, LayerNorm, path);
  return g.scoped(path, () => {
    const scale = ln.weight ? g.tensor(`${path}.weight`, ln.weight) : g.tensor(`${path}.ones`, ones(ln.normalizedShape));
    const inputs = ln.bias ? [x, scale, g.tensor(`${path}.bias`, ln.bias)] : [x, scale];
    return g.node('LayerNormalization', inputs, { axis: { i: -ln.normalizedShape.length }, epsilon: { f: ln.eps } }); // (N…, D)
  });
}

/** ids (N…) int32 → (N…, D). */
export function embeddingOnnx(g: OnnxGraph, m: Module | null, path: string, ids: string): string {
  const emb = expectModule(m, Embedding, path);
  return g.scoped(path, () => g.node('Gather', [g.tensor(`${path}.weight`, emb.weight), ids], { axis: { i: 0 } })); // (N…, D)
}

/**
 * A pointwise activation, as ops/elementwise computes it:
 *   gelu(x)      = x · ½ · (1 + erf(x / √2))
 *   gelu_tanh(x) = x · ½ · (1 + tanh(√(2/π) · (x + 0.044715 · x³)))
 */
export function activationOnnx(g: OnnxGraph, name: Exclude<Activation, 'swiglu'>, x: string): string {
  if (name === 'relu') return g.node('Relu', [x]);
  let inner: string;
  if (name === 'gelu') inner = g.node('Erf', [g.node('Mul', [x, g.float(Math.SQRT1_2)])]);
  else {
    const cube = g.node('Mul', [g.node('Mul', [x, x]), x]);
    inner = g.node('Tanh', [g.node('Mul', [g.node('Add', [x, g.node('Mul', [cube, g.float(0.044715)])]), g.float(Math.sqrt(2 / Math.PI))])]);
  }
  return g.node('Mul', [g.node('Mul', [x, g.float(0.5)]), g.node('Add', [inner, g.float(1)])]);
}

/** FeedForward: fc2(act(fc1(x))), swiglu: fc2(silu(fc1(x)) ⊙ gate(x)). x (N…, D) → (N…, D). */
export function feedForwardOnnx(g: OnnxGraph, m: Module | null, path: string, x: string): string {
  const ff = expectModule(m, FeedForward, path);
  const h = linearOnnx(g, ff.fc1, `${path}.fc1`, x); // (N…, F)
  const a = g.scoped(path, () => {
    if (ff.activation !== 'swiglu') return activationOnnx(g, ff.activation, h);
    const gate = linearOnnx(g, ff.gate, `${path}.gate`, x); // (N…, F)
    return g.node('Mul', [g.node('Mul', [h, g.node('Sigmoid', [h])]), gate]); // (N…, F)
  });
  return linearOnnx(g, ff.fc2, `${path}.fc2`, dropoutOnnx(ff.dropout, `${path}.dropout`, a)); // (N…, D)
}

/** Conv2d (any groups; ONNX's `group` is PyTorch's): x (B, C, H, W) → (B, O, Ho, Wo). */
export function conv2dOnnx(g: OnnxGraph, m: Module | null, path: string, x: string): string {
  const conv = expectModule(m, Conv2d, path);
  const { stride: s, padding: p, dilation: d } = conv.opts;
  return g.scoped(path, () => {
    const inputs = [x, g.tensor(`${path}.weight`, conv.weight), ...(conv.bias ? [g.tensor(`${path}.bias`, conv.bias)] : [])];
    return g.node('Conv', inputs, { kernel_shape: { ints: conv.kernelSize }, strides: { ints: [s, s] }, pads: { ints: [p, p, p, p] }, dilations: { ints: [d, d] }, group: { i: conv.groups } });
  });
}

/**
 * BatchNorm2d in eval mode: (x − μ) / √(σ² + eps) · γ + β with the running statistics, so a
 * prediction does not depend on its batch. A BatchNorm without running statistics normalizes
 * with the batch's own, which ONNX inference (training_mode 0) does not compute: an OnnxExportError.
 * x (B, C, H, W) → (B, C, H, W).
 */
export function batchNorm2dOnnx(g: OnnxGraph, m: Module | null, path: string, x: string): string {
  const bn = expectModule(m, BatchNorm2d, path);
  if (!bn.trackRunningStats || bn.runningMean === null || bn.runningVar === null) unsupported(path, 'BatchNorm2d', 'batch statistics at inference (trackRunningStats: false)');
  const C = bn.numFeatures;
  return g.scoped(path, () => {
    const scale = bn.weight ? g.tensor(`${path}.weight`, bn.weight) : g.tensor(`${path}.ones`, ones([C]));
    const bias = bn.bias ? g.tensor(`${path}.bias`, bn.bias) : g.tensor(`${path}.zeros`, zeros([C]));
    const mean = g.tensor(`${path}.runningMean`, bn.runningMean!), variance = g.tensor(`${path}.runningVar`, bn.runningVar!);
    return g.node('BatchNormalization', [x, scale, bias, mean, variance], { epsilon: { f: bn.eps } }); // (B, C, H, W)
  });
}

/**
 * MaxPool2d / AvgPool2d: x (B, C, H, W) → (B, C, Ho, Wo). heed's windows (ops/pool.ts) are
 * PyTorch's, which ONNX's pads / ceil_mode / count_include_pad reproduce.
 */
export function pool2dOnnx(g: OnnxGraph, m: Module | null, path: string, x: string): string {
  const isMax = m !== null && m.constructor === MaxPool2d;
  const pool = isMax ? (m as MaxPool2d) : expectModule(m, AvgPool2d, path);
  const o = pool.options;
  const k = pair(o.kernelSize), s = pair(o.stride ?? o.kernelSize), p = pair(o.padding ?? 0);
  const attrs: Record<string, OnnxAttr> = { kernel_shape: { ints: k }, strides: { ints: s }, pads: { ints: [p[0], p[1], p[0], p[1]] }, ceil_mode: { i: o.ceilMode ? 1 : 0 } };
  if (!isMax) attrs.count_include_pad = { i: ((o as AvgPool2d['options']).countIncludePad ?? true) ? 1 : 0 };
  return g.scoped(path, () => g.node(isMax ? 'MaxPool' : 'AveragePool', [x], attrs)); // (B, C, Ho, Wo)
}

/** The size of dim `axis` of `x` as a 1-element int64 tensor (1). */
export function dimOf(g: OnnxGraph, x: string, axis: number): string {
  return g.node('Shape', [x], { start: { i: axis }, end: { i: axis + 1 } }); // (1)
}
