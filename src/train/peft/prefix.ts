/**
 * PrefixAttention: prefix tuning (Li & Liang 2021; HF peft's PREFIX_TUNING). Every adapted
 * attention layer gets P trained key and value vectors per head that each query may attend to
 * before the real keys; the model's weights stay frozen.
 *
 *   K' = [Pk ; K],  V' = [Pv ; V]     Pk, Pv (P, D) trained, K, V (T, D) from the frozen projections
 *
 * As in peft (past_key_values), the prefix vectors are keys and values already projected: they
 * skip kProj and vProj. They start as N(0, 0.02²) (peft's prefix embedding is nn.Embedding,
 * N(0, 1); smaller keys leave the first scores near the base model's).
 *
 * A PrefixAttention is a MultiheadAttention that takes over its base's projections (the same
 * Linear objects), so dotted names do not change (`selfAttn.qProj.weight` stays) and the prefix
 * adds `selfAttn.prefixKey` and `selfAttn.prefixValue`. The prefix enters through an 'append'
 * KVCache holding it before the call: causal masks align bottom-right (query t sees the whole
 * prefix and keys ≤ t), and the key padding mask gains P columns that are never padding.
 *
 * Letters: B batch, L queries, T keys, P prefix length, Hkv key/value heads, hd head dim, D = Hkv·hd.
 */
import type { Tensor } from '../../tensor/tensor.js';
import { empty } from '../../tensor/tensor.js';
import { zeros } from '../../tensor/creation.js';
import { cat, expand, reshape, transpose } from '../../ops/shape.js';
import { Parameter } from '../../nn/parameter.js';
import { normal } from '../../nn/init.js';
import { MultiheadAttention, type AttentionOutput, type MultiheadAttentionCallOptions, type MultiheadAttentionOptions } from '../../nn/attention/multihead.js';
import { KVCache } from '../../nn/attention/kv-cache.js';
import { ConfigError, NotImplementedError } from '../../errors.js';

export class PrefixAttention extends MultiheadAttention {
  readonly prefixLength: number;
  prefixKey: Parameter;
  prefixValue: Parameter;

  /**
   * Args:
   *   base: a MultiheadAttention (exactly that class: variants change the mask, which a prefix would bypass).
   *   prefixLength: P, the number of virtual tokens.
   */
  constructor(base: MultiheadAttention, prefixLength: number) {
    if (base.constructor !== MultiheadAttention) {
      throw new NotImplementedError(`prefix tuning: ${base.constructor.name} is not supported, only MultiheadAttention (a variant's own mask would not cover the prefix). Fix: target plain attention layers, or use LoRA.`);
    }
    if (!Number.isInteger(prefixLength) || prefixLength <= 0) throw new ConfigError(`prefix tuning: prefixLength=${prefixLength}, expected a positive integer number of virtual tokens.`);
    if (!base.batchFirst) throw new NotImplementedError('prefix tuning: batchFirst=false attention is not supported. Fix: build the attention with batchFirst: true.');
    super(base.embedDim, base.numHeads, sameOptions(base));
    takeLayers(this, base); // the freshly built projections above are dropped
    this.prefixLength = prefixLength;
    const D = base.numKvHeads * base.headDim;
    this.prefixKey = new Parameter(normal(empty([prefixLength, D]), 0, 0.02)); // (P, D)
    this.prefixValue = new Parameter(normal(empty([prefixLength, D]), 0, 0.02)); // (P, D)
    for (const m of [this.qProj, this.kProj, this.vProj, this.inProj, this.outProj]) for (const p of m?.parameters() ?? []) p.requiresGrad = false;
  }

  /** A plain MultiheadAttention with the same (shared) projections: the prefix removed. */
  toAttention(): MultiheadAttention {
    return takeLayers(new MultiheadAttention(this.embedDim, this.numHeads, sameOptions(this)), this);
  }

  /** (B, Hkv, P, hd) view of a (P, D) prefix, for every batch row. */
  private heads(p: Tensor, B: number): Tensor {
    const P = this.prefixLength, Hkv = this.numKvHeads, hd = this.headDim;
    return expand(transpose(reshape(p, [1, P, Hkv, hd]), 1, 2), [B, Hkv, P, hd]); // (B, Hkv, P, hd)
  }

  override forward(query: Tensor, key: Tensor = query, value: Tensor = key, options: MultiheadAttentionCallOptions = {}): AttentionOutput {
    if (options.kvCache) throw new NotImplementedError('PrefixAttention: a KV cache together with a prefix is not supported yet (incremental decoding). Fix: merge nothing, decode without the cache, or use LoRA.');
    if (options.attnMask) throw new NotImplementedError('PrefixAttention: attnMask is not supported yet (it would need P extra key columns). Fix: pass keyPaddingMask and isCausal instead.');
    const B = query.shape[0];
    const cache = new KVCache('append');
    cache.append(this.heads(this.prefixKey, B), this.heads(this.prefixValue, B)); // (B, Hkv, P, hd)
    const pad = options.keyPaddingMask
      ? cat([zeros([B, this.prefixLength], { dtype: options.keyPaddingMask.dtype }), options.keyPaddingMask], 1) // (B, P + T)
      : null;
    return super.forward(query, key, value, { ...options, keyPaddingMask: pad, kvCache: cache });
  }
}

/** The constructor options that rebuild an attention module shaped like `m`. */
function sameOptions(m: MultiheadAttention): MultiheadAttentionOptions {
  const packed = m.inProj !== null;
  return {
    numKvHeads: m.numKvHeads, dropout: m.dropoutP, bias: m.outProj.bias !== null, alibi: m.alibi !== null, packedQkv: packed,
    kdim: packed ? undefined : m.kProj!.inFeatures, vdim: packed ? undefined : m.vProj!.inFeatures,
  };
}

/** Gives `to` the projections (the same objects), rotary table and mode of `from`; returns `to`. */
function takeLayers<M extends MultiheadAttention>(to: M, from: MultiheadAttention): M {
  to.qProj = from.qProj;
  to.kProj = from.kProj;
  to.vProj = from.vProj;
  to.inProj = from.inProj;
  to.outProj = from.outProj;
  to.rotary = from.rotary;
  to.training = from.training;
  return to;
}
