/**
 * Transformer encoder and decoder layers and stacks, with torch.nn.TransformerEncoderLayer /
 * TransformerDecoderLayer's math (post-norm by default as PyTorch, pre-norm with normFirst).
 *
 *   post-norm: x = norm1(x + sa(x));        x = norm2(x + ca(x, mem));  x = norm3(x + ff(x))
 *   pre-norm:  x = x + sa(norm1(x));        x = x + ca(norm2(x), mem);  x = x + ff(norm3(x))
 *   ff(x) = dropout2(linear2(dropout(act(linear1(x)))))          sa/ca end in dropout1/dropout2
 *
 * Each `x + sublayer(...)` ends in a GEMM (the attention's outProj, linear2) whose bias, dropout and
 * residual add run in the GEMM's epilogue when the layers are plain (residual-attention.ts,
 * residual-ffn.ts); hooked, LoRA-wrapped or quantized layers run the same math op by op. The
 * residual's gradient then goes to the neighbouring norm's backward kernel (linkedNorm below)
 * instead of a separate add on the tape.
 *
 * Parameter names (PyTorch → heed): self_attn.* → selfAttn.* (see attention/multihead.ts),
 * multihead_attn.* → crossAttn.*, linear1/linear2/norm1/norm2/norm3 unchanged.
 *
 * Letters: B batch, T target length, S source length, D dModel, F dimFeedforward.
 */
import { Tensor } from '../tensor/tensor.js';
import { Module, ModuleList } from './module.js';
import { Linear } from './linear.js';
import { LayerNorm } from './norm.js';
import { Dropout } from './dropout.js';
import { type Activation } from './feedforward.js';
import { residualFfn, isPlainDropout, isPlainLinear } from './residual-ffn.js';
import { residualAttention, canFuseOutProjection } from './residual-attention.js';
import { isRecording } from './attention/recorder.js';
import { deferKernels, flushKernels } from '../backend/registry.js';
import { layerNormLinked } from '../ops/norm.js';
import { ResidualGrad } from '../ops/residual-grad.js';
import { MultiheadAttention } from './attention/multihead.js';
import { KVCache } from './attention/kv-cache.js';
import { ConfigError } from '../errors.js';

export interface TransformerLayerOptions {
  /** Hidden size of the feed-forward block (default 4·D... PyTorch's default is 2048). */
  dimFeedforward?: number;
  dropout?: number;
  /** 'relu' (default, PyTorch's) or 'gelu' / 'gelu_tanh'. */
  activation?: Exclude<Activation, 'swiglu'>;
  layerNormEps?: number;
  /** Pre-norm (true) or post-norm (false, PyTorch's default). */
  normFirst?: boolean;
  bias?: boolean;
  /** Key/value heads for grouped-query attention (default numHeads). */
  numKvHeads?: number;
}

/*
 * Masks follow the one convention of ops/attention-mask.ts (see attention/README.md): bool
 * true = may attend or float added, (T, T), (B, T, T) or (B, H, T, T); key padding masks keep
 * PyTorch's true = padding; everything given is AND-ed.
 */
export interface EncoderCallOptions {
  /** heed convention (true = may attend), (T, T), (B, T, T) or (B, H, T, T). */
  mask?: Tensor | null;
  /** PyTorch convention: (B, T) bool, true = padding. */
  keyPaddingMask?: Tensor | null;
  /** Position t sees positions ≤ t. */
  isCausal?: boolean;
}

export interface DecoderCallOptions {
  /** heed convention (true = may attend), over (new target positions, all target positions so far). */
  tgtMask?: Tensor | null;
  /** Target position t sees target positions ≤ t; with a cache the new positions follow the cached ones (bottom-right). */
  tgtIsCausal?: boolean;
  /** (B, T) bool, true = padding (PyTorch convention). */
  tgtKeyPaddingMask?: Tensor | null;
  /** heed convention (true = may attend), (T, S) or broadcastable to (B, H, T, S). */
  memoryMask?: Tensor | null;
  /** (B, S) bool, true = padding (PyTorch convention). */
  memoryKeyPaddingMask?: Tensor | null;
  /** Per-layer caches for incremental decoding (see TransformerDecoder.makeCache). */
  cache?: DecoderLayerCache | null;
}

export interface DecoderLayerCache {
  self: KVCache;
  cross: KVCache;
}

function resolveFf(dModel: number, o: TransformerLayerOptions): { F: number; p: number; act: Exclude<Activation, 'swiglu'> } {
  const act = o.activation ?? 'relu';
  if (!['relu', 'gelu', 'gelu_tanh'].includes(act)) throw new ConfigError(`Transformer layer: activation='${String(act)}', expected 'relu', 'gelu' or 'gelu_tanh'.`);
  return { F: o.dimFeedforward ?? 4 * dModel, p: o.dropout ?? 0.1, act };
}

export class TransformerEncoderLayer extends Module {
  readonly normFirst: boolean;
  readonly activation: Exclude<Activation, 'swiglu'>;
  selfAttn: MultiheadAttention;
  linear1: Linear;
  dropout: Dropout;
  linear2: Linear;
  norm1: LayerNorm;
  norm2: LayerNorm;
  dropout1: Dropout;
  dropout2: Dropout;

  /**
   * Args:
   *   dModel: model size D.
   *   numHeads: attention heads.
   *   options: dimFeedforward (default 4·D), dropout (0.1), activation ('relu'), normFirst (false), layerNormEps (1e-5).
   */
  constructor(dModel: number, numHeads: number, options: TransformerLayerOptions = {}) {
    super();
    const { F, p, act } = resolveFf(dModel, options);
    const bias = options.bias ?? true, eps = options.layerNormEps ?? 1e-5;
    this.normFirst = options.normFirst ?? false;
    this.activation = act;
    this.selfAttn = new MultiheadAttention(dModel, numHeads, { dropout: p, bias, numKvHeads: options.numKvHeads ?? numHeads });
    this.linear1 = new Linear(dModel, F, { bias });
    this.dropout = new Dropout(p);
    this.linear2 = new Linear(F, dModel, { bias });
    this.norm1 = new LayerNorm(dModel, { eps, bias });
    this.norm2 = new LayerNorm(dModel, { eps, bias });
    this.dropout1 = new Dropout(p);
    this.dropout2 = new Dropout(p);
  }

  /** x (B, T, D) → (B, T, D). */
  override forward(x: Tensor, o: EncoderCallOptions = {}): Tensor {
    if (!this.runsFused() || !fusedInputs([x], [o.mask])) {
      flushKernels(); // kernel by kernel; also ends a model's deferral (models/seq2seq.ts) that reached this layer
      return this.layer(x, o);
    }
    const was = deferKernels(true); // every op of the layer is a fused op that reads no tensor values in JS
    try {
      return this.layer(x, o);
    } finally {
      if (!was) flushKernels();
    }
  }

  /** Whether every part runs its fused op (allFused), so the layer may defer its kernel calls. */
  runsFused(): boolean {
    return allFused([this.norm1, this.norm2], [[this.selfAttn, this.dropout1]], this, this.dropout2);
  }

  private layer(x: Tensor, o: EncoderCallOptions): Tensor {
    // residual + dropout1(selfAttn(h)): outProj, dropout1 and the add fused when they can be (residual-attention.ts)
    const sa = (h: Tensor, residual: Tensor, link: ResidualGrad | null): Tensor => residualAttention(this.selfAttn, this.dropout1, residual, h, h, h, {
      attnMask: o.mask, keyPaddingMask: o.keyPaddingMask, isCausal: o.isCausal,
    }, link); // (B, T, D)
    if (this.normFirst) {
      let n = linkedNorm(this.norm1, x, 'input');
      x = sa(n.y, x, n.link); // x + sa(norm1(x)), (B, T, D)
      n = linkedNorm(this.norm2, x, 'input');
      return this.ffResidual(n.y, x, n.link); // x + ff(norm2(x)), (B, T, D)
    }
    const n = linkedNorm(this.norm1, sa(x, x, null), 'output'); // (B, T, D)
    return this.norm2.call(this.ffResidual(n.y, n.y, n.link)); // (B, T, D)
  }

  /** residual + ff(h), ff(h) = dropout2(linear2(dropout(act(linear1(h))))); fused when it can be (residual-ffn.ts). */
  private ffResidual(h: Tensor, residual: Tensor, link: ResidualGrad | null): Tensor {
    return residualFfn({ linear1: this.linear1, dropout: this.dropout, linear2: this.linear2, outDropout: this.dropout2, activation: this.activation }, h, residual, link);
  }
}

export class TransformerDecoderLayer extends Module {
  readonly normFirst: boolean;
  readonly activation: Exclude<Activation, 'swiglu'>;
  selfAttn: MultiheadAttention;
  crossAttn: MultiheadAttention;
  linear1: Linear;
  dropout: Dropout;
  linear2: Linear;
  norm1: LayerNorm;
  norm2: LayerNorm;
  norm3: LayerNorm;
  dropout1: Dropout;
  dropout2: Dropout;
  dropout3: Dropout;

  /** Args as TransformerEncoderLayer. */
  constructor(dModel: number, numHeads: number, options: TransformerLayerOptions = {}) {
    super();
    const { F, p, act } = resolveFf(dModel, options);
    const bias = options.bias ?? true, eps = options.layerNormEps ?? 1e-5;
    this.normFirst = options.normFirst ?? false;
    this.activation = act;
    const numKvHeads = options.numKvHeads ?? numHeads;
    this.selfAttn = new MultiheadAttention(dModel, numHeads, { dropout: p, bias, numKvHeads });
    this.crossAttn = new MultiheadAttention(dModel, numHeads, { dropout: p, bias, numKvHeads });
    this.linear1 = new Linear(dModel, F, { bias });
    this.dropout = new Dropout(p);
    this.linear2 = new Linear(F, dModel, { bias });
    this.norm1 = new LayerNorm(dModel, { eps, bias });
    this.norm2 = new LayerNorm(dModel, { eps, bias });
    this.norm3 = new LayerNorm(dModel, { eps, bias });
    this.dropout1 = new Dropout(p);
    this.dropout2 = new Dropout(p);
    this.dropout3 = new Dropout(p);
  }

  /**
   * Args:
   *   x: (B, T, D) target (with a cache: only the new positions).
   *   memory: (B, S, D) encoder output.
   * Returns: (B, T, D).
   */
  override forward(x: Tensor, memory: Tensor, o: DecoderCallOptions = {}): Tensor {
    if (o.cache != null || !this.runsFused() || !fusedInputs([x, memory], [o.tgtMask, o.memoryMask])) {
      flushKernels(); // kernel by kernel; also ends a model's deferral (models/seq2seq.ts) that reached this layer
      return this.layer(x, memory, o);
    }
    const was = deferKernels(true); // every op of the layer is a fused op that reads no tensor values in JS
    try {
      return this.layer(x, memory, o);
    } finally {
      if (!was) flushKernels();
    }
  }

  /** Whether every part runs its fused op (allFused), so the layer may defer its kernel calls (without a cache). */
  runsFused(): boolean {
    return allFused([this.norm1, this.norm2, this.norm3], [[this.selfAttn, this.dropout1], [this.crossAttn, this.dropout2]], this, this.dropout3);
  }

  private layer(x: Tensor, memory: Tensor, o: DecoderCallOptions): Tensor {
    // residual + dropout(attn(...)): outProj, the dropout and the add fused when they can be (residual-attention.ts)
    const sa = (h: Tensor, residual: Tensor, link: ResidualGrad | null): Tensor => residualAttention(this.selfAttn, this.dropout1, residual, h, h, h, {
      attnMask: o.tgtMask, keyPaddingMask: o.tgtKeyPaddingMask, isCausal: o.tgtIsCausal, kvCache: o.cache?.self,
    }, link); // (B, T, D)
    const ca = (h: Tensor, residual: Tensor, link: ResidualGrad | null): Tensor => residualAttention(this.crossAttn, this.dropout2, residual, h, memory, memory, {
      attnMask: o.memoryMask, keyPaddingMask: o.memoryKeyPaddingMask, kvCache: o.cache?.cross,
    }, link); // (B, T, D)
    if (this.normFirst) {
      let n = linkedNorm(this.norm1, x, 'input');
      x = sa(n.y, x, n.link); // x + sa(norm1(x)), (B, T, D)
      n = linkedNorm(this.norm2, x, 'input');
      x = ca(n.y, x, n.link); // x + ca(norm2(x)), (B, T, D)
      n = linkedNorm(this.norm3, x, 'input');
      return this.ffResidual(n.y, x, n.link); // x + ff(norm3(x)), (B, T, D)
    }
    const n1 = linkedNorm(this.norm1, sa(x, x, null), 'output'); // (B, T, D)
    const n2 = linkedNorm(this.norm2, ca(n1.y, n1.y, n1.link), 'output'); // (B, T, D)
    return this.norm3.call(this.ffResidual(n2.y, n2.y, n2.link)); // (B, T, D)
  }

  /** residual + ff(h), ff(h) = dropout3(linear2(dropout(act(linear1(h))))); fused when it can be (residual-ffn.ts). */
  private ffResidual(h: Tensor, residual: Tensor, link: ResidualGrad | null): Tensor {
    return residualFfn({ linear1: this.linear1, dropout: this.dropout, linear2: this.linear2, outDropout: this.dropout3, activation: this.activation }, h, residual, link);
  }
}

/**
 * norm(x) for a norm whose input (pre-norm) or output (post-norm) is also the residual of the
 * sublayer that follows: a plain LayerNorm runs layerNormLinked, whose backward adds the residual's
 * gradient (handed over by the sublayer's fused GEMM, ops/residual-grad.ts) in its own kernel
 * instead of the tape adding it. A hooked or subclassed norm runs as usual and gets no link, and
 * then the sublayer keeps its residual on the tape. x (B, T, D) → y (B, T, D).
 */
function linkedNorm(norm: LayerNorm, x: Tensor, side: 'input' | 'output'): { y: Tensor; link: ResidualGrad | null } {
  if (!(norm instanceof LayerNorm) || Object.getPrototypeOf(norm) !== LayerNorm.prototype || norm.hasForwardHooks) return { y: norm.call(x), link: null };
  const link = new ResidualGrad();
  const y = layerNormLinked(x, norm.normalizedShape, norm.weight, norm.bias, norm.eps, side === 'input' ? { input: link } : { output: link });
  return { y, link };
}

/**
 * Whether a layer's forward runs its fused ops only: plain LayerNorms (linkedNorm's path), plain
 * MultiheadAttention (no subclass, hooks, rotary, head mask, packed projection, KV cache or
 * attention recorder) with plain q/k/v Linears and a fusable out-projection, and the fused FFN.
 * Those ops (layerNormLinked, linearStacked, linear, attentionMergedHeads, linearDropout) read no
 * tensor values in JavaScript but the masks the layer is given, which exist before it runs. So its
 * kernel calls may be queued and run at the layer's end, in order (src/backend/registry.ts
 * deferKernels): the layer's JS then runs in cache instead of after each kernel has evicted it.
 * Anything else (a hook, a LoRA or quantized Linear, a cache) runs as before, kernel by kernel.
 */
function allFused(norms: readonly LayerNorm[], attns: readonly [MultiheadAttention, Dropout][], ff: { linear1: Linear; dropout: Dropout; linear2: Linear; activation: string }, ffOutDropout: Dropout): boolean {
  if (isRecording()) return false;
  for (const n of norms) if (Object.getPrototypeOf(n) !== LayerNorm.prototype || n.hasForwardHooks) return false;
  for (const [a, drop] of attns) {
    if (Object.getPrototypeOf(a) !== MultiheadAttention.prototype || !canFuseOutProjection(a, drop)) return false;
    if (a.rotary !== null || a.headMask !== null || a.inProj !== null) return false;
    if (a.qProj === null || a.kProj === null || a.vProj === null || !isPlainLinear(a.qProj) || !isPlainLinear(a.kProj) || !isPlainLinear(a.vProj)) return false;
  }
  return (ff.activation === 'relu' || ff.activation === 'gelu') && isPlainLinear(ff.linear1) && isPlainDropout(ff.dropout) && isPlainLinear(ff.linear2) && isPlainDropout(ffOutDropout);
}

/**
 * Whether the inputs let the attention run its fused kernel (float32 activations; no attention mask
 * that requires grad): otherwise it runs composed ops, some of which (narrow, cat) copy in JS.
 */
function fusedInputs(xs: readonly Tensor[], masks: readonly (Tensor | null | undefined)[]): boolean {
  for (const x of xs) if (x.dtype !== 'float32') return false;
  for (const m of masks) if (m != null && m.requiresGrad) return false;
  return true;
}

/**
 * Whether a whole stack runs fused ops only (see allFused): the stack itself, its layers and its final
 * norm plain (no subclass, no hooks), every layer fused. A model that also holds only such parts may
 * defer its forward's kernel calls as a layer does (models/seq2seq.ts).
 */
export function stackRunsFused(stack: TransformerEncoder | TransformerDecoder): boolean {
  const isEncoder = stack instanceof TransformerEncoder;
  if (Object.getPrototypeOf(stack) !== (isEncoder ? TransformerEncoder.prototype : TransformerDecoder.prototype) || stack.hasForwardHooks) return false;
  if (stack.norm !== null && (Object.getPrototypeOf(stack.norm) !== LayerNorm.prototype || stack.norm.hasForwardHooks)) return false;
  for (const layer of stack.layers) {
    if (layer.hasForwardHooks) return false;
    const proto = Object.getPrototypeOf(layer);
    if ((proto !== TransformerEncoderLayer.prototype && proto !== TransformerDecoderLayer.prototype) || !layer.runsFused()) return false;
  }
  return true;
}

/** A stack of encoder layers with an optional final LayerNorm (used with pre-norm). */
export class TransformerEncoder extends Module {
  layers: ModuleList<TransformerEncoderLayer>;
  norm: LayerNorm | null;

  constructor(numLayers: number, makeLayer: () => TransformerEncoderLayer, norm: LayerNorm | null = null) {
    super();
    this.layers = new ModuleList(Array.from({ length: numLayers }, makeLayer));
    this.norm = norm;
  }

  /** x (B, T, D) → (B, T, D). */
  override forward(x: Tensor, o: EncoderCallOptions = {}): Tensor {
    for (const layer of this.layers) x = layer.call(x, o); // (B, T, D)
    return this.norm ? this.norm.call(x) : x; // (B, T, D)
  }
}

/** A stack of decoder layers with an optional final LayerNorm (used with pre-norm). */
export class TransformerDecoder extends Module {
  layers: ModuleList<TransformerDecoderLayer>;
  norm: LayerNorm | null;

  constructor(numLayers: number, makeLayer: () => TransformerDecoderLayer, norm: LayerNorm | null = null) {
    super();
    this.layers = new ModuleList(Array.from({ length: numLayers }, makeLayer));
    this.norm = norm;
  }

  /** One empty cache per layer, for incremental decoding. */
  makeCache(): DecoderLayerCache[] {
    return this.layers.toArray().map(() => ({ self: new KVCache('append'), cross: new KVCache('static') }));
  }

  /** x (B, T, D), memory (B, S, D) → (B, T, D). With caches, x holds only the new positions. */
  override forward(x: Tensor, memory: Tensor, o: Omit<DecoderCallOptions, 'cache'> & { caches?: DecoderLayerCache[] | null } = {}): Tensor {
    let i = 0;
    for (const layer of this.layers) x = layer.call(x, memory, { ...o, cache: o.caches?.[i++] ?? null }); // (B, T, D)
    return this.norm ? this.norm.call(x) : x; // (B, T, D)
  }
}
