/**
 * GPT-2 in the Hugging Face layout (GPT2LMHeadModel, GPT2Model): the name map onto heed's
 * models.GPT and config.json ↔ heed config.
 *
 * GPT-2's projections are Conv1D modules whose weight is stored (in, out), the transpose of a
 * Linear's; the rules mark them `transpose`. The q, k, v projections are one Conv1D (c_attn, out =
 * 3·C); heed's GPT is built with a packed in-projection (attn.inProj, rows q | k | v) so the map
 * stays one to one. lm_head is tied to wte (HF does not save it; heed writes it only when untied).
 * Reference: transformers/models/gpt2/modeling_gpt2.py.
 */
import type { NameMap, NameRule } from './names.js';
import { HF_ACTIVATIONS, HEED_TO_HF_ACTIVATION, HfConfigReader, type HfConfig } from './config.js';

export type Gpt2Head = 'base' | 'causal-lm';

export const GPT2_ARCHITECTURES: Readonly<Record<Gpt2Head, string>> = Object.freeze({ base: 'GPT2Model', 'causal-lm': 'GPT2LMHeadModel' });

/** The name map (the base model's keys carry no 'transformer.' prefix, as HF saves them). */
export function gpt2NameMap(head: Gpt2Head): NameMap {
  const p = head === 'base' ? '' : 'transformer.';
  const rules: NameRule[] = [
    { heed: 'wte', hf: `${p}wte` },
    { heed: 'wpe', hf: `${p}wpe` },
    { heed: 'h.{i}.ln1', hf: `${p}h.{i}.ln_1` },
    { heed: 'h.{i}.attn.inProj', hf: `${p}h.{i}.attn.c_attn`, transpose: true },
    { heed: 'h.{i}.attn.outProj', hf: `${p}h.{i}.attn.c_proj`, transpose: true },
    { heed: 'h.{i}.ln2', hf: `${p}h.{i}.ln_2` },
    { heed: 'h.{i}.mlp.fc1', hf: `${p}h.{i}.mlp.c_fc`, transpose: true },
    { heed: 'h.{i}.mlp.fc2', hf: `${p}h.{i}.mlp.c_proj`, transpose: true },
    { heed: 'lnF', hf: `${p}ln_f` },
  ];
  if (head === 'causal-lm') rules.push({ heed: 'lmHead', hf: 'lm_head' });
  return Object.freeze({
    architecture: GPT2_ARCHITECTURES[head],
    rules: Object.freeze(rules),
    // the causal-mask buffers older versions saved (GPT2Attention.bias / masked_bias)
    ignore: Object.freeze([/(^|\.)h\.\d+\.attn\.(bias|masked_bias)$/]),
  });
}

/** heed GPT config keys read from a GPT-2 config.json. */
export function gpt2ConfigFromHf(r: HfConfigReader, head: Gpt2Head): Record<string, unknown> {
  r.requireValue('scale_attn_weights', true, 'unscaled attention scores are not implemented');
  r.requireValue('scale_attn_by_inverse_layer_idx', false, 'per-layer score scaling is not implemented');
  r.requireValue('add_cross_attention', false, 'GPT-2 with cross-attention is not implemented');
  const dModel = r.int('n_embd');
  return {
    vocabSize: r.int('vocab_size'), maxLen: r.int('n_positions'), dModel, numLayers: r.int('n_layer'), numHeads: r.int('n_head'),
    dimFeedforward: r.int('n_inner', 4 * dModel) || 4 * dModel, activation: r.choice('activation_function', HF_ACTIVATIONS, 'gelu_new'),
    layerNormEps: r.num('layer_norm_epsilon', 1e-5), dropout: r.num('resid_pdrop', 0.1),
    // the base model has no lm_head; heed's GPT always has one, tied to wte so it adds no weights
    tieOutput: head === 'base' ? true : r.bool('tie_word_embeddings', true),
    bias: true, positional: 'learned', packedQkv: true, numKvHeads: 0,
  };
}

export function gpt2ConfigToHf(c: Readonly<Record<string, unknown>>, head: Gpt2Head, extras: HfConfig): HfConfig {
  return {
    ...extras, architectures: [GPT2_ARCHITECTURES[head]], model_type: 'gpt2',
    vocab_size: c.vocabSize, n_positions: c.maxLen, n_embd: c.dModel, n_layer: c.numLayers, n_head: c.numHeads,
    n_inner: c.dimFeedforward, activation_function: HEED_TO_HF_ACTIVATION[c.activation as string],
    layer_norm_epsilon: c.layerNormEps, resid_pdrop: c.dropout,
    embd_pdrop: extras.embd_pdrop ?? c.dropout, attn_pdrop: extras.attn_pdrop ?? c.dropout,
    tie_word_embeddings: c.tieOutput, scale_attn_weights: true,
  };
}
