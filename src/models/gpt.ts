/**
 * GPT: a decoder-only causal Transformer (Radford et al. 2019), after nanoGPT's model.py:
 * token + position embeddings, pre-norm blocks of causal self-attention and a GELU MLP,
 * a final LayerNorm and a language-model head tied to the token embedding.
 * Positions are learned (GPT-2), rotary (RoPE) or ALiBi; generation runs on KV caches.
 *
 *   const gpt = new GPT({ vocabSize: 65, maxLen: 64, numLayers: 2, numHeads: 2, dModel: 32 });
 *   const logits = gpt.forward(idx);                              // (B, T, V)
 *   const out = gpt.generate(idx, { maxNewTokens: 20, temperature: 0.8, topK: 10, seed: 1 });
 *
 * Config names are heed's, shared by every model (nanoGPT's in brackets): dModel (n_embd),
 * numHeads (n_head), numLayers (n_layer), maxLen (block_size).
 *
 * Letters: B batch, T positions, C dModel, V vocabSize.
 * Parameter names follow nanoGPT in camelCase: wte.weight, wpe.weight, h.N.ln1, h.N.attn.{q,k,v,out}Proj,
 * h.N.ln2, h.N.mlp.fc1 / fc2, lnF, lmHead (tied to wte).
 */
import { Tensor } from '../tensor/tensor.js';
import { add, eq } from '../ops/elementwise.js';
import { narrow, cat, reshape } from '../ops/shape.js';
import { softmax } from '../ops/softmax.js';
import { noGrad } from '../autograd/mode.js';
import { tensor } from '../tensor/creation.js';
import { Generator, defaultGenerator } from '../tensor/rng.js';
import { Module, ModuleList } from '../nn/module.js';
import { Embedding } from '../nn/embedding.js';
import { Linear } from '../nn/linear.js';
import { LayerNorm } from '../nn/norm.js';
import { Dropout } from '../nn/dropout.js';
import { FeedForward } from '../nn/feedforward.js';
import { LearnedPositionalEmbedding } from '../nn/positional.js';
import { MultiheadAttention } from '../nn/attention/multihead.js';
import { KVCache } from '../nn/attention/kv-cache.js';
import { normal } from '../nn/init.js';
import { ConfiguredModel, defineModelConfig, type ModelInit } from './config.js';
import { ConfigError, DTypeError, ShapeError, fmtShape } from '../errors.js';

export interface GPTConfig {
  vocabSize: number;
  /** Longest context (positions) the model sees; nanoGPT's block_size. */
  maxLen: number;
  numLayers: number;
  numHeads: number;
  /** Key/value heads (GQA); 0 means numHeads. */
  numKvHeads: number;
  dModel: number;
  dropout: number;
  bias: boolean;
  positional: 'learned' | 'rope' | 'alibi';
  /** lmHead shares the token embedding's weight. */
  tieOutput: boolean;
  /** MLP activation: 'gelu' (exact) or 'gelu_tanh' (GPT-2's gelu_new). */
  activation: 'gelu' | 'gelu_tanh' | 'relu';
  /** eps of every LayerNorm. */
  layerNormEps: number;
  /** MLP hidden size; 0 means 4·dModel. */
  dimFeedforward: number;
  /** q, k, v as one packed projection attn.inProj (GPT-2's c_attn), so HF checkpoints map one to one. */
  packedQkv: boolean;
}

export const GPT_DEFAULTS: Readonly<Omit<GPTConfig, 'vocabSize'>> = Object.freeze({
  maxLen: 128, // enough for character-level demos; the cost is O(T²) per layer
  numLayers: 4, // a small model that trains in minutes on 2 cores
  numHeads: 4, // head size dModel / numHeads = 32
  numKvHeads: 0, // 0 = numHeads: plain multi-head attention
  dModel: 128,
  dropout: 0.0, // nanoGPT: 0 for pretraining, raise it for small-data fine-tuning
  bias: true, // GPT-2 has biases; false is slightly faster and as good
  positional: 'learned', // GPT-2's scheme, so GPT-2 checkpoints copy
  tieOutput: true, // lmHead = wte (Press & Wolf 2017), as GPT-2
  activation: 'gelu', // exact GELU (heed's first GPT); GPT-2 checkpoints load with 'gelu_tanh'
  layerNormEps: 1e-5, // PyTorch's and GPT-2's
  dimFeedforward: 0, // 4·dModel, GPT-2's n_inner default
  packedQkv: false, // separate q/k/v projections (heed's first GPT); GPT-2 checkpoints load packed
});

export const GPT_CONFIG = defineModelConfig<GPTConfig, 'vocabSize'>({
  model: 'GPT',
  schema: {
    vocabSize: 'number', maxLen: 'number', numLayers: 'number', numHeads: 'number', numKvHeads: 'number', dModel: 'number',
    dropout: 'number', bias: 'boolean', positional: ['learned', 'rope', 'alibi'], tieOutput: 'boolean',
    activation: ['gelu', 'gelu_tanh', 'relu'], layerNormEps: 'number', dimFeedforward: 'number', packedQkv: 'boolean',
  },
  defaults: GPT_DEFAULTS,
  positiveInts: ['vocabSize', 'maxLen', 'numLayers', 'numHeads', 'dModel'],
  // The first version used nanoGPT's names; checkpoints written then still load through fromConfig.
  renamed: { blockSize: 'maxLen', nLayer: 'numLayers', nHead: 'numHeads', nKvHead: 'numKvHeads', nEmbd: 'dModel', tieWeights: 'tieOutput' },
});

export interface GenerateOptions {
  maxNewTokens: number;
  /** Divides the logits (default 1); 0 means greedy. */
  temperature?: number;
  /** Keep only the k most probable tokens. */
  topK?: number;
  /** Keep the smallest set of tokens whose probability sums to ≥ p (nucleus sampling). */
  topP?: number;
  /** Seed for a private generator (reproducible); default the global generator. */
  seed?: number;
  /** Stop a row at this token. */
  eos?: number;
}

/** One pre-norm Transformer block: x + attn(ln1(x)), then x + mlp(ln2(x)). */
export class GPTBlock extends Module {
  ln1: LayerNorm;
  attn: MultiheadAttention;
  ln2: LayerNorm;
  mlp: FeedForward;
  drop: Dropout;

  constructor(c: GPTConfig) {
    super();
    this.ln1 = new LayerNorm(c.dModel, { bias: c.bias, eps: c.layerNormEps });
    this.attn = new MultiheadAttention(c.dModel, c.numHeads, {
      numKvHeads: c.numKvHeads || c.numHeads, dropout: c.dropout, bias: c.bias, rotary: c.positional === 'rope', alibi: c.positional === 'alibi',
      packedQkv: c.packedQkv,
    });
    this.ln2 = new LayerNorm(c.dModel, { bias: c.bias, eps: c.layerNormEps });
    this.mlp = new FeedForward(c.dModel, c.dimFeedforward || 4 * c.dModel, { activation: c.activation, bias: c.bias });
    this.drop = new Dropout(c.dropout);
  }

  /** x (B, T, C) → (B, T, C); with a cache, x holds only the new positions. keyPaddingMask (B, S) true = padding key. */
  override forward(x: Tensor, cache: KVCache | null = null, keyPaddingMask: Tensor | null = null): Tensor {
    const h = this.ln1.call(x); // (B, T, C)
    x = add(x, this.drop.call(this.attn.call(h, h, h, { isCausal: true, kvCache: cache, keyPaddingMask }).output)); // (B, T, C)
    return add(x, this.drop.call(this.mlp.call(this.ln2.call(x)))); // (B, T, C)
  }
}

export class GPT extends ConfiguredModel<GPTConfig> {
  wte: Embedding;
  wpe: LearnedPositionalEmbedding | null;
  drop: Dropout;
  h: ModuleList<GPTBlock>;
  lnF: LayerNorm;
  lmHead: Linear;

  /** Args: config: vocabSize is required; the rest default to GPT_DEFAULTS. */
  constructor(config: ModelInit<GPTConfig, 'vocabSize'>) {
    super(GPT_CONFIG, config);
    const c = this.config;
    this.wte = new Embedding(c.vocabSize, c.dModel);
    this.wpe = c.positional === 'learned' ? new LearnedPositionalEmbedding(c.maxLen, c.dModel) : null;
    this.drop = new Dropout(c.dropout);
    this.h = new ModuleList(Array.from({ length: c.numLayers }, () => new GPTBlock(c)));
    this.lnF = new LayerNorm(c.dModel, { bias: c.bias, eps: c.layerNormEps });
    this.lmHead = new Linear(c.dModel, c.vocabSize, { bias: false });
    // GPT-2 init: N(0, 0.02) for linears and embeddings, residual projections scaled by 1/√(2·numLayers)
    for (const [name, p] of this.namedParameters()) {
      if (name.endsWith('.weight') && p.ndim === 2 && !name.startsWith('wpe')) {
        normal(p, 0, name.endsWith('outProj.weight') || name.endsWith('fc2.weight') ? 0.02 / Math.sqrt(2 * c.numLayers) : 0.02);
      } else if (name.endsWith('Proj.bias') || name.endsWith('fc1.bias') || name.endsWith('fc2.bias') || name.endsWith('gate.bias')) p.data.fill(0);
    }
    if (c.tieOutput) this.lmHead.weight = this.wte.weight;
  }

  /** Rebuilds a model from a saved config; the first version's names (nEmbd, nHead, ...) are migrated. */
  static fromConfig(saved: Record<string, unknown>): GPT {
    return new GPT(GPT_CONFIG.load(saved));
  }

  /** One empty KV cache per block, for generation. */
  makeCache(): KVCache[] {
    return this.h.toArray().map(() => new KVCache('append'));
  }

  /**
   * Args:
   *   idx: (B, T) int32 token ids.
   *   caches: per-block KV caches; idx then holds only the new tokens.
   *   options.attentionMask: (B, cached + T), 1 = a real token, 0 = padding (HF's attention_mask);
   *     padding keys are never attended to. Positions stay 0…T−1 (pad on the right).
   * Returns: (B, T, V) logits.
   */
  override forward(idx: Tensor, caches: KVCache[] | null = null, options: { attentionMask?: Tensor | null } = {}): Tensor {
    if (idx.dtype !== 'int32' || idx.ndim !== 2) {
      throw new DTypeError(`GPT: idx must be (B, T) int32 token ids, received ${idx.dtype} ${fmtShape(idx.shape)}.`);
    }
    const past = caches?.[0]?.length ?? 0, T = idx.shape[1];
    if (past + T > this.config.maxLen) {
      throw new ShapeError(`GPT: ${past + T} positions (${past} cached + ${T} new) exceed maxLen=${this.config.maxLen}. Fix: crop the context to the last ${this.config.maxLen} tokens or build the model with a larger maxLen.`);
    }
    let x = this.wte.call(idx); // (B, T, C)
    if (this.wpe) x = this.wpe.call(x, past); // (B, T, C)
    x = this.drop.call(x); // (B, T, C)
    const m = options.attentionMask ?? null;
    if (m !== null && (m.ndim !== 2 || m.shape[0] !== idx.shape[0] || m.shape[1] !== past + T)) {
      throw new ShapeError(`GPT: attentionMask has shape ${fmtShape(m.shape)}, expected [${idx.shape[0]}, ${past + T}] (batch, cached + new positions).`);
    }
    const pad = m === null ? null : eq(m, 0); // (B, S) true = padding
    let i = 0;
    for (const block of this.h) x = block.call(x, caches?.[i++] ?? null, pad); // (B, T, C)
    return this.lmHead.call(this.lnF.call(x)); // (B, T, V)
  }

  /** Continues idx (B, T) by maxNewTokens sampled tokens → (B, T + n) int32. Runs on KV caches, without gradients. */
  generate(idx: Tensor, o: GenerateOptions): Tensor {
    const temperature = o.temperature ?? 1;
    if (!(temperature >= 0)) throw new ConfigError(`GPT.generate: temperature=${temperature}, expected ≥ 0.`);
    if (o.topP !== undefined && !(o.topP > 0 && o.topP <= 1)) throw new ConfigError(`GPT.generate: topP=${o.topP}, expected in (0, 1].`);
    const g = o.seed !== undefined ? new Generator(o.seed) : defaultGenerator;
    return noGrad(() => {
      const [B, T0] = idx.shape, V = this.config.vocabSize;
      const caches = this.makeCache();
      let logits = this.forward(idx, caches); // (B, T0, V)
      let out = idx;
      const done = new Array<boolean>(B).fill(false);
      for (let n = 0; n < o.maxNewTokens; n++) {
        const last = reshape(narrow(logits, 1, logits.shape[1] - 1, 1), [B, V]); // (B, V)
        const next = new Int32Array(B);
        for (let b = 0; b < B; b++) {
          next[b] = done[b] && o.eos !== undefined ? o.eos : sampleRow(Array.from(last.data.subarray(b * V, (b + 1) * V) as ArrayLike<number>), temperature, o.topK, o.topP, g);
          if (next[b] === o.eos) done[b] = true;
        }
        const step = tensor(next, [B, 1]); // (B, 1)
        out = cat([out, step], 1); // (B, T0 + n + 1)
        if (done.every((d) => d) || n === o.maxNewTokens - 1) break;
        if (T0 + n + 1 >= this.config.maxLen) {
          throw new ShapeError(`GPT.generate: the sequence reached maxLen=${this.config.maxLen}. Fix: ask for at most ${this.config.maxLen - T0} new tokens.`);
        }
        logits = this.forward(step, caches); // (B, 1, V)
      }
      return out;
    });
  }
}

/** Samples one id from logits with temperature, top-k and top-p filtering (temperature 0 = argmax). */
export function sampleRow(logits: number[], temperature: number, topK: number | undefined, topP: number | undefined, g: Generator): number {
  if (temperature === 0) return logits.indexOf(Math.max(...logits));
  const order = logits.map((_, i) => i).sort((a, b) => logits[b] - logits[a]);
  let keep = topK !== undefined ? order.slice(0, Math.max(1, Math.min(topK, order.length))) : order;
  const probs = softmax(new Tensor(Float64Array.from(keep.map((i) => logits[i] / temperature)), [keep.length])).data;
  let n = keep.length;
  if (topP !== undefined) {
    let s = 0;
    for (n = 0; n < keep.length && s < topP; n++) s += probs[n];
  }
  keep = keep.slice(0, n);
  let total = 0;
  for (let i = 0; i < n; i++) total += probs[i];
  let r = g.uniform() * total;
  for (let i = 0; i < n; i++) {
    r -= probs[i];
    if (r < 0) return keep[i];
  }
  return keep[n - 1];
}
