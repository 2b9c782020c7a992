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
 * Storage. Without gradients (decoding), the keys live at the front of a buffer with room to
 * grow, (B, Hkv, capacity, hd): a step writes only its new rows, and attention reads the first
 * `length` rows in place (scaledDotProductAttention's kvLength). The capacity doubles when full,
 * so T steps copy O(T) rows in all instead of O(T²), and allocate O(log T) buffers instead of T.
 * When a gradient must flow through the keys (prefix tuning trains its prefix through a cache),
 * appending concatenates instead, which autograd records.
 *
 * Letters: B batch, Hkv key/value heads, S cached keys, C capacity (≥ S), hd head dim.
 */
import { Tensor } from '../../tensor/tensor.js';
import { allocUninit } from '../../tensor/dtype.js';
import { cat, narrow } from '../../ops/shape.js';
import { indexSelect } from '../../ops/indexing.js';
import { isGradEnabled } from '../../autograd/mode.js';
import { ShapeError, fmtShape } from '../../errors.js';

/** The smallest capacity a growing cache allocates (decoders rarely stop before it). */
const MIN_CAPACITY = 16;

export class KVCache {
  /** 'append' for self-attention (grows each step), 'static' for cross-attention (computed once). */
  readonly mode: 'append' | 'static';
  private kBuf: Tensor | null = null; // (B, Hkv, C, hd)
  private vBuf: Tensor | null = null; // (B, Hkv, C, hdv)
  private size = 0;

  constructor(mode: 'append' | 'static' = 'append') {
    this.mode = mode;
  }

  /** Number of cached positions S. */
  get length(): number {
    return this.size;
  }

  /** Positions the buffers hold room for (≥ length). */
  get capacity(): number {
    return this.kBuf === null ? 0 : this.kBuf.shape[2];
  }

  /** The cached keys, (B, Hkv, S, hd), or null when empty (a copy when the buffer has spare room). */
  get k(): Tensor | null {
    return this.front(this.kBuf);
  }

  /** The cached values, (B, Hkv, S, hdv), or null when empty. */
  get v(): Tensor | null {
    return this.front(this.vBuf);
  }

  /**
   * Appends (B, Hkv, T, hd) keys and values. Returns the buffers, (B, Hkv, C, hd), whose first
   * `length` (= S + T) positions are the keys; pass `kvLength: cache.length` to attention.
   */
  append(k: Tensor, v: Tensor): [Tensor, Tensor] {
    const kb = this.kBuf, vb = this.vBuf;
    if (kb === null || vb === null) {
      this.kBuf = k;
      this.vBuf = v;
      this.size = k.shape[2];
      return [k, v];
    }
    if (k.ndim !== 4 || k.shape[0] !== kb.shape[0] || k.shape[1] !== kb.shape[1] || k.shape[3] !== kb.shape[3] || v.shape[3] !== vb.shape[3] || v.shape[2] !== k.shape[2]) {
      throw new ShapeError(`KVCache.append: new keys ${fmtShape(k.shape)} and values ${fmtShape(v.shape)}, expected [${kb.shape[0]}, ${kb.shape[1]}, T, ${kb.shape[3]}] and [${vb.shape[0]}, ${vb.shape[1]}, T, ${vb.shape[3]}] like the cache. Fix: use one cache per layer and per batch.`);
    }
    const T = k.shape[2], S = this.size;
    if (isGradEnabled() && (k.requiresGrad || v.requiresGrad || kb.requiresGrad || vb.requiresGrad)) {
      // Recorded by autograd: the keys' gradient flows back through the concatenation.
      this.kBuf = cat([this.front(kb)!, k], 2); // (B, Hkv, S + T, hd)
      this.vBuf = cat([this.front(vb)!, v], 2); // (B, Hkv, S + T, hdv)
    } else {
      if (S + T > kb.shape[2]) {
        const C = Math.max(2 * kb.shape[2], S + T, MIN_CAPACITY);
        this.kBuf = regrow(kb, S, C);
        this.vBuf = regrow(vb, S, C);
      }
      writeRows(this.kBuf!, k, S);
      writeRows(this.vBuf!, v, S);
    }
    this.size = S + T;
    return [this.kBuf!, this.vBuf!];
  }

  /** Keeps batch rows `index` (int32, (B')), in that order: beam search reorders beams with it. */
  reorder(index: Tensor): void {
    if (this.kBuf !== null && this.vBuf !== null) {
      this.kBuf = indexSelect(this.kBuf, 0, index); // (B', Hkv, C, hd)
      this.vBuf = indexSelect(this.vBuf, 0, index); // (B', Hkv, C, hdv)
    }
  }

  clear(): void {
    this.kBuf = null;
    this.vBuf = null;
    this.size = 0;
  }

  private front(buf: Tensor | null): Tensor | null {
    if (buf === null) return null;
    return buf.shape[2] === this.size ? buf : narrow(buf, 2, 0, this.size);
  }
}

/** A (B, Hkv, C, d) buffer holding the first S positions of `buf` (the rest uninitialised, never read). */
function regrow(buf: Tensor, S: number, C: number): Tensor {
  const [B, Hkv, C0, d] = buf.shape;
  const data = allocUninit(buf.dtype, B * Hkv * C * d);
  const src = buf.data;
  for (let bh = 0; bh < B * Hkv; bh++) data.set(src.subarray(bh * C0 * d, (bh * C0 + S) * d) as ArrayLike<number>, bh * C * d);
  return new Tensor(data, [B, Hkv, C, d]);
}

/** Writes x (B, Hkv, T, d) into positions S … S + T − 1 of buf (B, Hkv, C, d), in place. */
function writeRows(buf: Tensor, x: Tensor, S: number): void {
  const [B, Hkv, C, d] = buf.shape, T = x.shape[2];
  const src = x.data, dst = buf.data;
  for (let bh = 0; bh < B * Hkv; bh++) dst.set(src.subarray(bh * T * d, (bh + 1) * T * d) as ArrayLike<number>, (bh * C + S) * d);
}
