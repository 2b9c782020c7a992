/**
 * MultiheadAttention (Vaswani et al. 2017), with grouped-query attention (Ainslie et
 * al. 2023; numKvHeads = 1 is multi-query attention), kdim/vdim, a KV cache for
 * incremental decoding, and optional attention weights. torch.nn.MultiheadAttention's
 * math; differences from PyTorch are listed in ./README.md (batchFirst defaults to
 * true; attnMask uses heed's convention, keyPaddingMask keeps PyTorch's).
 *
 *   const attn = new MultiheadAttention(64, 4);
 *   const { output } = attn.forward(x, x, x, { isCausal: true });   // (B, L, E)
 *
 * Letters: B batch, L queries, S keys, E embedDim, H numHeads, Hkv numKvHeads, hd = E / H.
 *
 * Heads can be removed for real with pruneHeads (Michel et al. 2019; Hugging Face's prune_heads):
 * the projections shrink to the kept heads, so H·hd may then be smaller than E. headMask scales
 * each head's output before outProj (0 silences a head; a ones tensor that requires grad gives the
 * gradient-based head importance of src/compress/prune-heads.ts).
 *
 * Parameter names (PyTorch → heed): in_proj_weight rows [0:E] / [E:2E] / [2E:3E] →
 * qProj.weight / kProj.weight / vProj.weight (likewise in_proj_bias → *.bias;
 * q_proj_weight … when kdim/vdim differ); out_proj.* → outProj.*. With packedQkv the three
 * are one Linear, inProj (rows q | k | v), as PyTorch's in_proj_weight and GPT-2's c_attn.
 */
import { Tensor } from '../../tensor/tensor.js';
import { Module } from '../module.js';
import { Linear } from '../linear.js';
import { Parameter } from '../parameter.js';
import { attentionMergedHeads, attentionWeights, repeatKvHeads, splitHeads, type AttentionOptions, type HeadColumns, type Heads } from '../../ops/attention.js';
import type { AttentionMaskOptions, CausalAlignment } from '../../ops/attention-mask.js';
import { matmul, linear } from '../../ops/matmul.js';
import { linearStacked } from '../../ops/linear-stacked.js';
import { needsGrad } from '../../autograd/node.js';
import { isPlainLinear } from '../residual-ffn.js';
import { dropout } from '../../ops/dropout.js';
import { mean } from '../../ops/reduce.js';
import { narrow, reshape, transpose } from '../../ops/shape.js';
import { noGrad } from '../../autograd/mode.js';
import { mul } from '../../ops/elementwise.js';
import { ConfigError, NotImplementedError, ShapeError, ValueError, fmtShape } from '../../errors.js';
import { KVCache } from './kv-cache.js';
import { isRecording, reportAttention } from './recorder.js';
import { RotaryEmbedding, alibiSlopes } from '../positional.js';

export interface MultiheadAttentionOptions {
  /** Key/value heads for GQA (default numHeads; 1 = MQA). Must divide numHeads. */
  numKvHeads?: number;
  /** Dropout on the attention weights while training (default 0). */
  dropout?: number;
  /** Biases in the four projections (default true, as PyTorch). */
  bias?: boolean;
  /** Feature size of key inputs (default embedDim). */
  kdim?: number;
  /** Feature size of value inputs (default embedDim). */
  vdim?: number;
  /** Inputs and outputs are (B, L, E) when true (default — PyTorch's default is false), (L, B, E) when false. */
  batchFirst?: boolean;
  /** Rotate q and k with RoPE (positions continue from the KV cache length). Default false. */
  rotary?: boolean;
  /** RoPE base θ (default 10000). */
  ropeBase?: number;
  /** Add ALiBi biases (slopes from alibiSlopes(numHeads)) to the scores. Default false. */
  alibi?: boolean;
  /**
   * One packed in-projection `inProj` (E → E + 2·Hkv·hd, rows q | k | v) instead of qProj, kProj,
   * vProj: PyTorch's in_proj_weight and GPT-2's c_attn, so their checkpoints map one to one.
   * Self-attention then runs one GEMM. Needs kdim = vdim = E. Default false.
   */
  packedQkv?: boolean;
}

export interface MultiheadAttentionCallOptions {
  /** PyTorch convention: (B, S) bool, true = padding key, ignored. The one exception to heed's mask rule. */
  keyPaddingMask?: Tensor | null;
  /** heed convention: bool true = may attend, or float added; (L, S), (B, L, S) or (B | 1, H | 1, L, S). */
  attnMask?: Tensor | null;
  /** Query i may see keys j ≤ p_i (see causalAlignment). */
  isCausal?: boolean;
  /**
   * Where query i sits when L ≠ S: 'top-left' (p_i = i, PyTorch's rule, the default without a
   * cache) or 'bottom-right' (p_i = i + S − L). With an 'append' kvCache the new queries follow
   * the cached keys, so 'bottom-right' is the default there and 'top-left' is an error.
   */
  causalAlignment?: CausalAlignment;
  /** Also return the attention weights (computed by the composed path). Default false. */
  needWeights?: boolean;
  /** Average the weights over heads → (B, L, S) (default true, as PyTorch); else (B, H, L, S). */
  averageAttnWeights?: boolean;
  /** Cache of earlier keys/values; the new ones are appended (or reused when static and full). */
  kvCache?: KVCache | null;
}

export interface AttentionOutput {
  /** (B, L, E), or (L, B, E) when batchFirst is false. */
  output: Tensor;
  /** (B, L, S) or (B, H, L, S) when needWeights, else null. */
  weights: Tensor | null;
}

export class MultiheadAttention extends Module {
  readonly embedDim: number;
  /** Query heads; fewer than the constructor's after pruneHeads. */
  numHeads: number;
  numKvHeads: number;
  readonly headDim: number;
  readonly dropoutP: number;
  readonly batchFirst: boolean;
  alibi: Tensor | null;
  /** (H) float, or null: each head's output is multiplied by its entry before outProj. Not saved. */
  headMask: Tensor | null = null;
  /** Original index of each remaining head (0..H−1 until pruneHeads removes some). */
  private _headIds: number[];
  rotary: RotaryEmbedding | null;
  /** The q, k, v projections (null with packedQkv). */
  qProj: Linear | null;
  kProj: Linear | null;
  vProj: Linear | null;
  /** The packed q | k | v projection (packedQkv only). */
  inProj: Linear | null;
  outProj: Linear;

  /**
   * Args:
   *   embedDim: model size E (queries and output).
   *   numHeads: query heads H; E must be divisible by H.
   *   options: see MultiheadAttentionOptions.
   */
  constructor(embedDim: number, numHeads: number, options: MultiheadAttentionOptions = {}) {
    super();
    const Hkv = options.numKvHeads ?? numHeads;
    if (!Number.isInteger(numHeads) || numHeads <= 0 || embedDim % numHeads !== 0) {
      throw new ConfigError(`MultiheadAttention: embedDim=${embedDim} is not divisible by numHeads=${numHeads}. Fix: choose numHeads among the divisors of ${embedDim} (e.g. ${divisors(embedDim).join(', ')}).`);
    }
    if (!Number.isInteger(Hkv) || Hkv <= 0 || numHeads % Hkv !== 0) {
      throw new ConfigError(`MultiheadAttention: numHeads=${numHeads} is not divisible by numKvHeads=${Hkv}. Fix: choose numKvHeads among ${divisors(numHeads).join(', ')}.`);
    }
    const p = options.dropout ?? 0;
    if (!(p >= 0 && p < 1)) throw new ConfigError(`MultiheadAttention: dropout=${p}, expected a probability in [0, 1).`);
    this.embedDim = embedDim;
    this.numHeads = numHeads;
    this.numKvHeads = Hkv;
    this.headDim = embedDim / numHeads;
    this.dropoutP = p;
    this.batchFirst = options.batchFirst ?? true;
    const bias = options.bias ?? true;
    const kvOut = Hkv * this.headDim;
    const packed = options.packedQkv ?? false;
    if (packed && ((options.kdim ?? embedDim) !== embedDim || (options.vdim ?? embedDim) !== embedDim)) {
      throw new ConfigError(`MultiheadAttention: packedQkv needs kdim = vdim = embedDim = ${embedDim}, received kdim=${options.kdim}, vdim=${options.vdim}. Fix: drop packedQkv.`);
    }
    this.qProj = packed ? null : new Linear(embedDim, embedDim, { bias });
    this.kProj = packed ? null : new Linear(options.kdim ?? embedDim, kvOut, { bias });
    this.vProj = packed ? null : new Linear(options.vdim ?? embedDim, kvOut, { bias });
    if (this.qProj !== null && this.kProj !== null && this.vProj !== null) colocate([this.qProj, this.kProj, this.vProj]);
    this.inProj = packed ? new Linear(embedDim, embedDim + 2 * kvOut, { bias }) : null;
    this.outProj = new Linear(embedDim, embedDim, { bias });
    this.rotary = options.rotary ? new RotaryEmbedding(this.headDim, options.ropeBase ?? 10000) : null;
    this.alibi = options.alibi ? alibiSlopes(numHeads) : null; // (H)
    this._headIds = Array.from({ length: numHeads }, (_, h) => h);
  }

  /** Original index (as built) of each head still present. */
  get headIds(): readonly number[] {
    return this._headIds;
  }

  /**
   * Removes heads for real: qProj/kProj/vProj keep only the kept heads' output rows and outProj
   * only their input columns, so the layer computes exactly what it computed with those heads'
   * outputs set to zero (headMask 0), with fewer FLOPs and weights.
   *
   * Args:
   *   heads: indices among the current heads (0..numHeads−1) to remove; at least one head must stay.
   * Throws: ValueError for an index out of range or removing every head; NotImplementedError for
   *   grouped-query attention (numKvHeads < numHeads), whose key/value heads are shared.
   */
  pruneHeads(heads: readonly number[]): void {
    const H = this.numHeads, hd = this.headDim;
    const drop = new Set(heads);
    for (const h of drop) {
      if (!Number.isInteger(h) || h < 0 || h >= H) throw new ValueError(`MultiheadAttention.pruneHeads: head ${h} is out of range; this layer has ${H} heads (0..${H - 1}).`);
    }
    if (drop.size === 0) return;
    if (drop.size >= H) {
      throw new ValueError(`MultiheadAttention.pruneHeads: asked to remove ${drop.size} heads, but this layer has ${H}; at least one must stay. Fix: remove at most ${H - 1} heads from this layer.`);
    }
    if (this.numKvHeads !== H) {
      throw new NotImplementedError(`MultiheadAttention.pruneHeads: the layer uses grouped-query attention (${H} query heads share ${this.numKvHeads} key/value heads); pruning its heads is not implemented.`);
    }
    if (this.qProj === null || this.kProj === null || this.vProj === null) {
      throw new NotImplementedError('MultiheadAttention.pruneHeads: the layer packs q/k/v into one inProj (packedQkv); pruning its heads is not implemented. Fix: build it with separate projections.');
    }
    const keep = Array.from({ length: H }, (_, h) => h).filter((h) => !drop.has(h));
    const rows = keep.flatMap((h) => Array.from({ length: hd }, (_, i) => h * hd + i)); // kept rows of q/k/v, columns of out
    this.qProj = sliceLinear(this.qProj, rows, 'out');
    this.kProj = sliceLinear(this.kProj, rows, 'out');
    this.vProj = sliceLinear(this.vProj, rows, 'out');
    this.outProj = sliceLinear(this.outProj, rows, 'in');
    if (this.alibi) this.alibi = new Tensor(Float32Array.from(keep, (h) => this.alibi!.data[h]), [keep.length]); // (H')
    if (this.headMask) this.headMask = new Tensor(Float32Array.from(keep, (h) => this.headMask!.data[h]), [keep.length]); // (H')
    this._headIds = keep.map((h) => this._headIds[h]);
    this.numHeads = keep.length;
    this.numKvHeads = keep.length;
  }

  /**
   * Args:
   *   query: (B, L, E).
   *   key: (B, S, kdim); default query (self-attention).
   *   value: (B, S, vdim); default key.
   *   options: masks, isCausal, needWeights, kvCache (MultiheadAttentionCallOptions).
   * Returns: { output (B, L, E), weights (B, L, S) | (B, H, L, S) | null }.
   */
  override forward(query: Tensor, key: Tensor = query, value: Tensor = key, options: MultiheadAttentionCallOptions = {}): AttentionOutput {
    const { context, weights } = this.attend(query, key, value, options);
    let out = this.outProj.call(context); // (B, L, E)
    if (!this.batchFirst) out = transpose(out, 0, 1); // (L, B, E)
    return { output: out, weights };
  }

  /**
   * forward without the output projection: the heads' outputs merged, before outProj. A
   * Transformer layer calls it to run outProj, its dropout and the residual add as one fused
   * GEMM (nn/residual-attention.ts). Args as forward.
   * Returns: { context (B, L, H·hd), batch-first whatever batchFirst says; weights as forward }.
   */
  attend(query: Tensor, key: Tensor = query, value: Tensor = key, options: MultiheadAttentionCallOptions = {}): { context: Tensor; weights: Tensor | null } {
    const kind = key === query ? 'self' : 'cross';
    if (!this.batchFirst) {
      const [q0, k0, v0] = [query, key, value];
      query = transpose(q0, 0, 1); // (B, L, E)
      key = k0 === q0 ? query : transpose(k0, 0, 1); // (B, S, kdim)
      value = v0 === k0 ? key : transpose(v0, 0, 1); // (B, S, vdim)
    }
    this.checkInputs(query, key, value);
    const [B, L] = query.shape;
    const H = this.numHeads, Hkv = this.numKvHeads, hd = this.headDim;
    const cache = options.kvCache ?? null;
    const reuseCache = cache !== null && cache.mode === 'static' && cache.length > 0;
    // q, k, v stay heads-merged, (B, ·, H·hd) column blocks of the projections' outputs: the fused
    // kernel reads them in place. Rotary embeddings, the KV cache and the weights split heads.
    const [qIn, kIn, vIn] = this.project(query, key, value, !reuseCache); // heads of (B, L, ·), (B, S, ·) ×2
    let q: Heads = qIn, k: Heads, v: Heads;
    const past = cache && cache.mode === 'append' ? cache.length : null; // keys cached before this call
    if (this.rotary) q = this.rotary.call(splitHeads(q), past ?? 0); // (B, H, L, hd)
    if (reuseCache) {
      [k, v] = [cache.k!, cache.v!]; // (B, Hkv, S, hd)
    } else {
      [k, v] = [kIn!, vIn!];
      if (this.rotary) k = this.rotary.call(splitHeads(k), past ?? 0); // (B, Hkv, T, hd)
      if (cache) [k, v] = cache.append(splitHeads(k), splitHeads(v)); // (B, Hkv, S, hd)
    }
    const p = this.training ? this.dropoutP : 0;
    // kvLength: an appending cache returns its buffers, whose first cache.length positions are the keys.
    // maskOptions returns a fresh object: the call's options are added to it, not spread into another
    // (a spread plus fields builds the object on V8's slow path)
    const masked: AttentionOptions = this.maskOptions(options, past);
    masked.enableGqa = H !== Hkv;
    masked.kvLength = cache?.length;
    let y: Tensor, weights: Tensor | null = null;
    if (options.needWeights ?? false) {
      const w = attentionWeights(splitHeads(q), splitHeads(k), masked); // (B, H, L, S)
      const vAll = splitHeads(v); // (B, Hkv, S | capacity, hd)
      const vKeys = masked.kvLength !== undefined && masked.kvLength < vAll.shape[2] ? narrow(vAll, 2, 0, masked.kvLength) : vAll; // (B, Hkv, S, hd)
      const yh = matmul(p > 0 ? dropout(w, p) : w, repeatKvHeads(vKeys, H)); // (B, H, L, hd)
      y = reshape(transpose(yh, 1, 2), [B, L, H * hd]); // (B, L, H·hd)
      weights = (options.averageAttnWeights ?? true) ? mean(w, 1) : w; // (B, L, S) or (B, H, L, S)
      if (isRecording()) reportAttention(this, w, kind);
    } else {
      masked.dropoutP = p; // attentionWeights below ignores it (weights before dropout)
      y = attentionMergedHeads(q, k, v, masked); // (B, L, H·hd)
      if (isRecording()) reportAttention(this, noGrad(() => attentionWeights(splitHeads(q), splitHeads(k), masked)), kind); // (B, H, L, S)
    }
    if (this.headMask) {
      if (this.headMask.size !== H) throw new ShapeError(`MultiheadAttention: headMask has ${this.headMask.size} entries, expected one per head (${H}).`);
      y = reshape(mul(reshape(y, [B, L, H, hd]), reshape(this.headMask, [1, 1, H, 1])), [B, L, H * hd]); // (B, L, H·hd)
    }
    return { context: y, weights }; // (B, L, H·hd)
  }

  /**
   * The q, k and v projections as heads side by side in their outputs' columns (k and v null when
   * `withKv` is false: a full static cache). Packed self-attention is one GEMM whose output holds
   * the three blocks (read in place, no split copy); packed cross-attention applies the row blocks
   * of inProj to the query and to the key/value inputs.
   */
  private project(query: Tensor, key: Tensor, value: Tensor, withKv: boolean): [HeadColumns, HeadColumns | null, HeadColumns | null] {
    const H = this.numHeads, Hkv = this.numKvHeads, hd = this.headDim;
    if (this.inProj === null) {
      const [qp, kp, vp] = [this.qProj!, this.kProj!, this.vProj!];
      // On the tape, projections of one input run stacked (ops/linear-stacked.ts): one GEMM forward,
      // one linearBackward, and no gradient sums for the shared input. Off the tape, one by one.
      if (withKv && key === value && stackable([kp, vp], key) && needsGrad(key, kp.weight, vp.weight, kp.bias, vp.bias)) {
        const kvOut = Hkv * hd;
        if (key === query && stackable([qp, kp, vp], query)) {
          const qkv = linearStacked(query, [qp.weight, kp.weight, vp.weight], [qp.bias, kp.bias, vp.bias]); // (B, L, H·hd + 2·Hkv·hd)
          return [headColumns(hd, qkv, 0, H), headColumns(hd, qkv, H * hd, Hkv), headColumns(hd, qkv, H * hd + kvOut, Hkv)];
        }
        const kv = linearStacked(key, [kp.weight, vp.weight], [kp.bias, vp.bias]); // (B, S, 2·Hkv·hd)
        return [headColumns(hd, qp.call(query), 0, H), headColumns(hd, kv, 0, Hkv), headColumns(hd, kv, kvOut, Hkv)];
      }
      return [headColumns(hd, qp.call(query), 0, H), withKv ? headColumns(hd, kp.call(key), 0, Hkv) : null, withKv ? headColumns(hd, vp.call(value), 0, Hkv) : null]; // (B, L, H·hd), (B, S, Hkv·hd) ×2
    }
    const E = this.embedDim, kvOut = Hkv * hd;
    if (withKv && key === query && value === query) {
      const qkv = this.inProj.call(query); // (B, L, E + 2·Hkv·hd)
      return [headColumns(hd, qkv, 0, H), headColumns(hd, qkv, E, Hkv), headColumns(hd, qkv, E + kvOut, Hkv)];
    }
    const W = this.inProj.weight, b = this.inProj.bias; // (E + 2·Hkv·hd, E), (E + 2·Hkv·hd)
    const part = (x: Tensor, start: number, n: number): Tensor => linear(x, narrow(W, 0, start, n), b ? narrow(b, 0, start, n) : null);
    return [headColumns(hd, part(query, 0, E), 0, H), withKv ? headColumns(hd, part(key, E, kvOut), 0, Hkv) : null, withKv ? headColumns(hd, part(value, E + kvOut, kvOut), 0, Hkv) : null];
  }

  /**
   * The masks of one call as ops/attention-mask.ts takes them (the one conversion); `past`
   * is the number of keys an 'append' cache held before this call. Variants add their
   * pattern here (SlidingWindowAttention adds its window).
   */
  protected maskOptions(o: MultiheadAttentionCallOptions, past: number | null): AttentionMaskOptions {
    if (past !== null && past > 0 && o.isCausal && o.causalAlignment === 'top-left') {
      throw new ValueError(`MultiheadAttention: causalAlignment='top-left' with a KV cache holding ${past} keys would hide the cached keys from the new queries, which follow them. Fix: leave causalAlignment unset ('bottom-right' with a cache).`);
    }
    const m = o.attnMask;
    return {
      attnMask: m && m.ndim === 3 ? reshape(m, [m.shape[0], 1, m.shape[1], m.shape[2]]) : m, // (B, L, S) → (B, 1, L, S)
      keyPaddingMask: o.keyPaddingMask,
      isCausal: o.isCausal ?? false,
      causalAlignment: o.causalAlignment ?? (past !== null ? 'bottom-right' : 'top-left'),
      alibiSlopes: this.alibi,
    };
  }

  private checkInputs(query: Tensor, key: Tensor, value: Tensor): void {
    const layout = this.batchFirst ? '(B, L, E)' : '(L, B, E)';
    if (query.ndim !== 3 || query.shape[2] !== this.embedDim) {
      throw new ShapeError(`MultiheadAttention: query has shape ${fmtShape(query.shape)}, expected 3-D ${layout} with E = embedDim = ${this.embedDim}. Fix: add a batch dim with unsqueeze(0), or set batchFirst to match your layout.`);
    }
    const kdim = this.kProj?.inFeatures ?? this.embedDim, vdim = this.vProj?.inFeatures ?? this.embedDim;
    if (key.ndim !== 3 || key.shape[2] !== kdim || key.shape[0] !== query.shape[0]) {
      throw new ShapeError(`MultiheadAttention: key has shape ${fmtShape(key.shape)}, expected [${query.shape[0]}, S, ${kdim}] (batch like query, kdim = ${kdim}).`);
    }
    if (value.ndim !== 3 || value.shape[2] !== vdim || value.shape[0] !== key.shape[0] || value.shape[1] !== key.shape[1]) {
      throw new ShapeError(`MultiheadAttention: value has shape ${fmtShape(value.shape)}, expected [${key.shape[0]}, ${key.shape[1]}, ${vdim}] (batch and length like key, vdim = ${vdim}).`);
    }
  }
}

/**
 * Whether linearStacked can run these projections on input x as the Linears would: plain Linears
 * (no hooks, no subclass: LoRA and quantized layers stay separate), float32 throughout, all with a
 * bias or none.
 */
function stackable(ls: readonly Linear[], x: Tensor): boolean {
  const withBias = ls[0].bias !== null;
  return x.dtype === 'float32' && ls.every((l) => isPlainLinear(l) && l.weight.dtype === 'float32' && (l.bias !== null) === withBias && (l.bias === null || l.bias.dtype === 'float32'));
}

/**
 * Moves the weights of `ls` (and their biases) into one storage each, rows in order, so that the
 * stacked projections (ops/linear-stacked.ts) read them as one (ΣO, in) matrix in place instead of
 * copying them into a stack on every call. Values are copied as they are (no random draw): the
 * layer computes exactly what it did. Each parameter stays its own Parameter (names, checkpoints,
 * optimizer state unchanged); a parameter replaced later (pruneHeads, a checkpoint loader that
 * assigns a new one) just makes linearStacked copy again.
 */
function colocate(ls: readonly Linear[]): void {
  const pack = (ps: readonly Parameter[]): void => {
    let n = 0;
    for (const p of ps) n += p.size;
    const buf = new Float32Array(n);
    let o = 0;
    ps.forEach((p, i) => {
      const view = buf.subarray(o, o + p.size);
      view.set(p.data as Float32Array);
      o += p.size;
      const moved = new Parameter(new Tensor(view, p.shape), p.requiresGrad);
      ls[i].registerParameter(ls[i].weight === p ? 'weight' : 'bias', moved);
    });
  };
  if (!ls.every((l) => l.weight.dtype === 'float32' && (l.bias === null || l.bias.dtype === 'float32'))) return;
  pack(ls.map((l) => l.weight));
  if (ls.every((l) => l.bias !== null)) pack(ls.map((l) => l.bias!));
}

/** A Linear keeping only the given output rows ('out') or input columns ('in') of another. */
function sliceLinear(lin: Linear, idx: readonly number[], side: 'out' | 'in'): Linear {
  const O = lin.outFeatures, I = lin.inFeatures;
  const w = lin.weight.data;
  const out = side === 'out' ? new Linear(I, idx.length, { bias: lin.bias !== null }) : new Linear(idx.length, O, { bias: lin.bias !== null });
  const nw = out.weight.data;
  if (side === 'out') {
    idx.forEach((r, i) => nw.set(w.subarray(r * I, (r + 1) * I), i * I)); // (O', I)
    if (lin.bias && out.bias) idx.forEach((r, i) => { out.bias!.data[i] = lin.bias!.data[r]; });
  } else {
    for (let o = 0; o < O; o++) idx.forEach((c, i) => { nw[o * idx.length + i] = w[o * I + c]; }); // (O, I')
    if (lin.bias && out.bias) out.bias.data.set(lin.bias.data);
  }
  out.weight.requiresGrad = lin.weight.requiresGrad;
  return out;
}

function divisors(n: number): number[] {
  const out: number[] = [];
  for (let d = 1; d <= n && out.length < 8; d++) if (n % d === 0) out.push(d);
  return out;
}

/** `n` heads of width `hd` side by side from column `offset` of a projection's output. */
function headColumns(hd: number, tensor: Tensor, offset: number, n: number): HeadColumns {
  return { tensor, offset, heads: n, width: hd };
}
