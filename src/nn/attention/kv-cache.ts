/**
 * KVCache: the keys and values an attention module has already computed, so that
 * incremental decoding projects only the new token(s) at each step.
 *
 *   const cache = new KVCache();
 *   for (let t = 0; t < T; t++) attn.forward(x_t, x_t, x_t, { isCausal: true, kvCache: cache });
 *
 * Self-attention caches append along the key axis. Cross-attention caches are
 * 'static': filled on the first call from the encoder memory and reused after.
 *
 * Letters: B batch, Hkv key/value heads, S cached keys, hd head dim.
 */
import { Tensor } from '../../tensor/tensor.js';
import { cat } from '../../ops/shape.js';
import { indexSelect } from '../../ops/indexing.js';
import { ShapeError, fmtShape } from '../../errors.js';

export class KVCache {
  /** 'append' for self-attention (grows each step), 'static' for cross-attention (computed once). */
  readonly mode: 'append' | 'static';
  k: Tensor | null = null; // (B, Hkv, S, hd)
  v: Tensor | null = null; // (B, Hkv, S, hd)

  constructor(mode: 'append' | 'static' = 'append') {
    this.mode = mode;
  }

  /** Number of cached positions S. */
  get length(): number {
    return this.k === null ? 0 : this.k.shape[2];
  }

  /** Appends (B, Hkv, T, hd) keys and values; returns the full cached (B, Hkv, S + T, hd) pair. */
  append(k: Tensor, v: Tensor): [Tensor, Tensor] {
    if (this.k === null || this.v === null) {
      this.k = k;
      this.v = v;
    } else {
      if (k.shape[0] !== this.k.shape[0] || k.shape[1] !== this.k.shape[1] || k.shape[3] !== this.k.shape[3]) {
        throw new ShapeError(`KVCache.append: new keys have shape ${fmtShape(k.shape)}, expected [${this.k.shape[0]}, ${this.k.shape[1]}, T, ${this.k.shape[3]}] like the cache ${fmtShape(this.k.shape)}. Fix: use one cache per layer and per batch.`);
      }
      this.k = cat([this.k, k], 2); // (B, Hkv, S + T, hd)
      this.v = cat([this.v, v], 2); // (B, Hkv, S + T, hd)
    }
    return [this.k, this.v];
  }

  /** Keeps batch rows `index` (int32, (B')), in that order: beam search reorders beams with it. */
  reorder(index: Tensor): void {
    if (this.k !== null && this.v !== null) {
      this.k = indexSelect(this.k, 0, index); // (B', Hkv, S, hd)
      this.v = indexSelect(this.v, 0, index); // (B', Hkv, S, hd)
    }
  }

  clear(): void {
    this.k = null;
    this.v = null;
  }
}
