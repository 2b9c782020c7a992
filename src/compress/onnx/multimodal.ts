/**
 * ONNX exporter for MultimodalFusion (models/multimodal.ts), a (text, image) classifier:
 *
 *   MultimodalFusion  model:  input_ids (B, T) int32, pixel_values (B, C, I, I) float32 → logits (B, K)
 *
 *   text   TransformerTextEncoder (padding = input_ids == padId)
 *   image  patch Conv → tokens + positions → one encoder layer
 *   fuse   'cross': a decoder layer, text queries over the image patches (no causal mask)
 *          'concat': one encoder layer over [text; image], the text rows kept
 *   head   LayerNorm → mean over real text tokens → linear
 *
 * Letters: B batch, T tokens, N patches, D dModel, K classes.
 */
import { OnnxGraph } from '../../io/onnx/graph.js';
import { MultimodalFusion } from '../../models/multimodal.js';
import { PatchEmbedding } from '../../models/vit.js';
import { TransformerDecoderLayer } from '../../nn/transformer.js';
import { expectModule, linearOnnx, layerNormOnnx, conv2dOnnx, dimOf } from './layers.js';
import { encoderLayerOnnx, decoderLayerOnnx, keyValueOnnx, keyPaddingAllowed } from './transformer.js';
import { textEncoderOnnx, maskedMeanOnnx } from './models.js';
import { finish, type OnnxGraphFile } from './graph-file.js';

export function multimodalOnnx(model: MultimodalFusion): OnnxGraphFile[] {
  const c = model.config, D = c.dModel;
  const g = new OnnxGraph('MultimodalFusion');
  const ids = g.input('input_ids', 'int32', ['batch', 'sequence']);
  const images = g.input('pixel_values', 'float32', ['batch', c.inChannels, c.imageSize, c.imageSize]);
  const { hidden: text, pad } = textEncoderOnnx(g, model.text, 'text', ids, null); // (B, T, D)
  const pe = expectModule(model.patchEmbed, PatchEmbedding, 'patchEmbed');
  const y = conv2dOnnx(g, pe.proj, 'patchEmbed.proj', images); // (B, D, I/p, I/p)
  const patches = g.scoped('patchEmbed', () => g.node('Transpose', [g.node('Reshape', [y, g.int64([0, D, -1])])], { perm: { ints: [0, 2, 1] } })); // (B, N, D)
  const img = encoderLayerOnnx(g, model.imageEncoder, 'imageEncoder', g.node('Add', [patches, g.tensor('imagePos', model.imagePos)]), null); // (B, N, D)
  let fused: string;
  if (model.fusion.constructor === TransformerDecoderLayer) {
    const cross = keyValueOnnx(g, (model.fusion as TransformerDecoderLayer).crossAttn, 'fusion.crossAttn', img); // (B, H, N, hd)
    fused = decoderLayerOnnx(g, model.fusion, 'fusion', text, { selfAllowed: keyPaddingAllowed(g, pad), memoryAllowed: null, cross }).output; // (B, T, D)
  } else {
    const imagePad = g.node('Expand', [g.bool(false, [1, 1]), g.node('Concat', [dimOf(g, ids, 0), dimOf(g, img, 1)], { axis: { i: 0 } })]); // (B, N)
    const joint = encoderLayerOnnx(g, model.fusion, 'fusion', g.node('Concat', [text, img], { axis: { i: 1 } }), keyPaddingAllowed(g, g.node('Concat', [pad, imagePad], { axis: { i: 1 } }))); // (B, T + N, D)
    fused = g.node('Slice', [joint, g.int64([0]), dimOf(g, ids, 1), g.int64([1])]); // (B, T, D)
  }
  const pooled = maskedMeanOnnx(g, layerNormOnnx(g, model.norm, 'norm', fused), pad); // (B, D)
  g.output('logits', linearOnnx(g, model.head, 'head', pooled), 'float32', ['batch', c.numClasses]);
  return [finish(g, 'model', `heed MultimodalFusion ('${c.fusion}' fusion); padding = input_ids == ${c.padId}`)];
}
