/**
 * ONNX exporters for heed's basic layers: each takes the module, its path in the model's
 * module tree and the ONNX value(s) it is called on, adds the nodes that compute the module's
 * forward (in eval mode) to an OnnxGraph, and returns the output value. They mirror the
 * forward methods line by line, so a reader can hold the two side by side:
 *
 *   Linear      y = x·Wᵀ + b                → MatMul(x, Wᵀ) + Add(b)   (Wᵀ stored (I, O))
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

/** y = x·Wᵀ + b. x (N…, I) → (N…, O). */
export function linearOnnx(g: OnnxGraph, m: Module | null, path: string, x: string): string {
  const lin = expectModule(m, Linear, path);
  return g.scoped(path, () => {
    const y = g.node('MatMul', [x, g.tensor(`${path}.weight`, lin.weight, { transpose: true })]); // (N…, O)
    return lin.bias ? g.node('Add', [y, g.tensor(`${path}.bias`, lin.bias)]) : y; // (N…, O)
  });
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
