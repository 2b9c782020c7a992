/**
 * ONNX exporter for the convolutional image classifier (models/cnn.ts), mirroring its forward in
 * eval mode (BatchNorm with its running statistics, dropout the identity):
 *
 *   CnnClassifier  model:  pixel_values (B, C, I, I) float32 → logits (B, K)
 *
 *   stage      [Conv → BatchNormalization → Relu] × 2 → attention → MaxPool
 *   'se'       x · σ(fc2(relu(fc1(mean_hw(x)))))                         (1×1 convs as Conv)
 *   'cbam'     x' = x · σ(mlp(mean_hw x) + mlp(max_hw x));  y = x' · σ(conv7×7([mean_c x', max_c x']))
 *   'mhsa'     tokens (B, h·h, C) + positions → one pre-norm encoder layer → mean over tokens
 *   head       global average pool → Gemm-free MatMul + Add
 *
 * Letters: B batch, C channels, I imageSize, h the last stage's side, K classes.
 */
import { OnnxGraph } from '../../io/onnx/graph.js';
import type { Module } from '../../nn/module.js';
import { CnnClassifier, ConvStage } from '../../models/cnn.js';
import { SqueezeExcitation } from '../../nn/squeeze-excitation.js';
import { CBAM, ChannelAttention, SpatialAttention } from '../../nn/cbam.js';
import { expectModule, unsupported, linearOnnx, conv2dOnnx, batchNorm2dOnnx, pool2dOnnx, dropoutOnnx } from './layers.js';
import { encoderLayerOnnx } from './transformer.js';
import { finish, type OnnxGraphFile } from './graph-file.js';

/** Mean or max over `axes`, keeping them (opset 17 takes the axes as an attribute). */
function reduce(g: OnnxGraph, op: 'ReduceMean' | 'ReduceMax', x: string, axes: number[]): string {
  return g.node(op, [x], { axes: { ints: axes }, keepdims: { i: 1 } });
}

/** SqueezeExcitation: x (B, C, H, W) → x · gate (B, C, H, W). */
function squeezeExcitationOnnx(g: OnnxGraph, se: SqueezeExcitation, path: string, x: string): string {
  const pooled = g.scoped(path, () => reduce(g, 'ReduceMean', x, [2, 3])); // (B, C, 1, 1)
  const hidden = g.scoped(path, () => g.node('Relu', [conv2dOnnx(g, se.fc1, `${path}.fc1`, pooled)])); // (B, S, 1, 1)
  return g.scoped(path, () => g.node('Mul', [x, g.node('Sigmoid', [conv2dOnnx(g, se.fc2, `${path}.fc2`, hidden)])])); // (B, C, H, W)
}

/** CBAM: channel gate, then spatial gate. x (B, C, H, W) → (B, C, H, W). */
function cbamOnnx(g: OnnxGraph, cbam: CBAM, path: string, x: string): string {
  const ca = expectModule(cbam.channelAttention, ChannelAttention, `${path}.channelAttention`);
  const cp = `${path}.channelAttention`;
  const mlp = (d: string): string => conv2dOnnx(g, ca.fc2, `${cp}.fc2`, g.scoped(cp, () => g.node('Relu', [conv2dOnnx(g, ca.fc1, `${cp}.fc1`, d)]))); // (B, C, 1, 1)
  const avg = g.scoped(cp, () => reduce(g, 'ReduceMean', x, [2, 3])), mx = g.scoped(cp, () => reduce(g, 'ReduceMax', x, [2, 3])); // (B, C, 1, 1)
  const xc = g.scoped(cp, () => g.node('Mul', [x, g.node('Sigmoid', [g.node('Add', [mlp(avg), mlp(mx)])])])); // (B, C, H, W)
  const sa = expectModule(cbam.spatialAttention, SpatialAttention, `${path}.spatialAttention`);
  const sp = `${path}.spatialAttention`;
  const maps = g.scoped(sp, () => g.node('Concat', [reduce(g, 'ReduceMean', xc, [1]), reduce(g, 'ReduceMax', xc, [1])], { axis: { i: 1 } })); // (B, 2, H, W)
  const gate = g.scoped(sp, () => g.node('Sigmoid', [conv2dOnnx(g, sa.conv, `${sp}.conv`, maps)])); // (B, 1, H, W)
  return g.scoped(path, () => g.node('Mul', [xc, gate])); // (B, C, H, W)
}

/** One ConvStage: x (B, Cin, H, W) → (B, C, H/2, W/2). */
function convStageOnnx(g: OnnxGraph, m: Module, path: string, x: string): string {
  const st = expectModule(m, ConvStage, path);
  let h = g.scoped(path, () => g.node('Relu', [batchNorm2dOnnx(g, st.bn1, `${path}.bn1`, conv2dOnnx(g, st.conv1, `${path}.conv1`, x))])); // (B, C, H, W)
  h = g.scoped(path, () => g.node('Relu', [batchNorm2dOnnx(g, st.bn2, `${path}.bn2`, conv2dOnnx(g, st.conv2, `${path}.conv2`, h))])); // (B, C, H, W)
  const a = st.attention;
  if (a !== null) {
    if (a.constructor === SqueezeExcitation) h = squeezeExcitationOnnx(g, a as SqueezeExcitation, `${path}.attention`, h);
    else if (a.constructor === CBAM) h = cbamOnnx(g, a as CBAM, `${path}.attention`, h);
    else unsupported(`${path}.attention`, a.constructor.name, 'a stage attention module other than SqueezeExcitation or CBAM');
  }
  return pool2dOnnx(g, st.pool, `${path}.pool`, h); // (B, C, H/2, W/2)
}

export function cnnClassifierOnnx(model: CnnClassifier): OnnxGraphFile[] {
  const c = model.config;
  const g = new OnnxGraph('CnnClassifier');
  const images = g.input('pixel_values', 'float32', ['batch', c.inChannels, c.imageSize, c.imageSize]);
  let x = images;
  model.stages.toArray().forEach((stage, s) => { x = convStageOnnx(g, stage, `stages.${s}`, x); }); // (B, Cs, h, h)
  let pooled: string;
  if (model.selfAttention && model.posEmbed) {
    const C = c.width * 2 ** (c.stages - 1);
    const tokens = g.node('Transpose', [g.node('Reshape', [x, g.int64([0, C, -1])])], { perm: { ints: [0, 2, 1] } }); // (B, h·h, C)
    const h = encoderLayerOnnx(g, model.selfAttention, 'selfAttention', g.node('Add', [tokens, g.tensor('posEmbed', model.posEmbed)]), null); // (B, h·h, C)
    pooled = g.node('ReduceMean', [h], { axes: { ints: [1] }, keepdims: { i: 0 } }); // (B, C)
  } else {
    pooled = g.node('ReduceMean', [x], { axes: { ints: [2, 3] }, keepdims: { i: 0 } }); // (B, C)
  }
  g.output('logits', linearOnnx(g, model.head, 'head', dropoutOnnx(model.drop, 'drop', pooled)), 'float32', ['batch', c.numClasses]);
  return [finish(g, 'model', `heed CnnClassifier (attention '${c.attention}'), BatchNorm with running statistics`)];
}
