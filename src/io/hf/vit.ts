/**
 * ViT in the Hugging Face layout (ViTForImageClassification): the name map onto heed's
 * models.ViT and config.json ↔ heed config. Pre-norm layers (layernorm_before / _after), a
 * final LayerNorm, the class token's output classified. Reference: transformers/models/vit/modeling_vit.py.
 */
import type { NameMap } from './names.js';
import { HF_ACTIVATIONS, HEED_TO_HF_ACTIVATION, HfConfigReader, labelMaps, type HfConfig } from './config.js';

export const VIT_ARCHITECTURE = 'ViTForImageClassification';

export function vitNameMap(): NameMap {
  const L = 'encoder.layers.{i}', H = 'vit.encoder.layer.{i}';
  return Object.freeze({
    architecture: VIT_ARCHITECTURE,
    rules: Object.freeze([
      { heed: 'patchEmbed.proj', hf: 'vit.embeddings.patch_embeddings.projection' },
      { heed: 'clsToken', hf: 'vit.embeddings.cls_token' },
      { heed: 'posEmbed', hf: 'vit.embeddings.position_embeddings' },
      { heed: `${L}.selfAttn.qProj`, hf: `${H}.attention.attention.query` },
      { heed: `${L}.selfAttn.kProj`, hf: `${H}.attention.attention.key` },
      { heed: `${L}.selfAttn.vProj`, hf: `${H}.attention.attention.value` },
      { heed: `${L}.selfAttn.outProj`, hf: `${H}.attention.output.dense` },
      { heed: `${L}.norm1`, hf: `${H}.layernorm_before` },
      { heed: `${L}.linear1`, hf: `${H}.intermediate.dense` },
      { heed: `${L}.linear2`, hf: `${H}.output.dense` },
      { heed: `${L}.norm2`, hf: `${H}.layernorm_after` },
      { heed: 'encoder.norm', hf: 'vit.layernorm' },
      { heed: 'head', hf: 'classifier' },
    ]),
    // ViTModel's pooler (unused by the classifier), the masked-image-modeling token
    ignore: Object.freeze([/^vit\.pooler\./, /^vit\.embeddings\.mask_token$/]),
  });
}

export function vitConfigFromHf(r: HfConfigReader): Record<string, unknown> {
  r.requireValue('qkv_bias', true, 'attention projections without bias are not implemented for ViT');
  const eps = r.num('layer_norm_eps', 1e-12);
  return {
    numClasses: r.numLabels(), imageSize: r.int('image_size', 224), patchSize: r.int('patch_size', 16), inChannels: r.int('num_channels', 3),
    dModel: r.int('hidden_size'), numHeads: r.int('num_attention_heads'), numLayers: r.int('num_hidden_layers'),
    dimFeedforward: r.int('intermediate_size'), dropout: r.num('hidden_dropout_prob', 0),
    activation: r.choice('hidden_act', HF_ACTIVATIONS, 'gelu'), layerNormEps: eps, finalNormEps: eps,
  };
}

export function vitConfigToHf(c: Readonly<Record<string, unknown>>, extras: HfConfig): HfConfig {
  return {
    ...extras, architectures: [VIT_ARCHITECTURE], model_type: 'vit',
    image_size: c.imageSize, patch_size: c.patchSize, num_channels: c.inChannels, hidden_size: c.dModel,
    num_attention_heads: c.numHeads, num_hidden_layers: c.numLayers, intermediate_size: c.dimFeedforward,
    hidden_dropout_prob: c.dropout, attention_probs_dropout_prob: extras.attention_probs_dropout_prob ?? c.dropout,
    hidden_act: HEED_TO_HF_ACTIVATION[c.activation as string], layer_norm_eps: c.layerNormEps, qkv_bias: true,
    ...labelMaps(c.numClasses as number, extras),
  };
}
