/**
 * FusedDecoder: one decoding step of a Seq2SeqTransformer's decoder for all rows of a batch,
 * run as a short fixed list of kernel calls on buffers reused from decode to decode.
 *
 *   const dec = FusedDecoder.tryCreate(parts, memory, srcPad, maxSteps); // null: use the module path
 *   const logits = dec.step(lastTokens, t);  // (rows, V), a view of a reused buffer
 *   dec.gather(parents, n);                  // beams: row i takes old row parents[i]'s caches
 *
 * Why it exists. The module path (decoder.call with KV caches) is ~60 ops per token, each
 * validating its inputs and allocating its output; at batch 1 that is all of a step, and at
 * batch 256 it is a third of it plus the garbage collector. Here a token costs, per layer:
 * layer norm, ONE q|k|v GEMM (the three weights stacked once per model, stackedRows), the cached self-attention, the
 * output GEMM with the residual added in its epilogue (beta = 1), layer norm, the cross query
 * GEMM, cross-attention on keys/values projected once per decode, its output GEMM (+ residual),
 * layer norm and the two FFN GEMMs (activation and residual in their epilogues). Then the final
 * norm and the output projection. Nothing is allocated per token.
 *
 * Layouts. At one query per head, q (rows, H, 1, hd) IS the q projection's (rows, H·hd) output
 * (the self-attention reads it in place from the q|k|v rows, through the kernel's strides), and
 * the attention output (rows, H, 1, hd) is the output projection's input: no transposes.
 * The self-attention cache is (rows, Hkv, maxSteps, hd), written in place at position t; the
 * cross-attention keys|values stay as their GEMM wrote them, (rows, S, 2·Hkv·hd), read through strides.
 *
 * Rows can be reordered or dropped in place (gather): beam search keeps each beam's parent, and
 * greedy decoding drops finished sequences so that later steps run on fewer rows.
 *
 * Buffers: the caches and work buffers come from a workspace kept per decoder module and reused
 * by the next decode (release() hands it back), so a server decoding batch after batch allocates
 * nothing per batch either.
 *
 * int8 models (quantizeDynamic). A QuantizedLinear projection runs through the packed int8 kernel
 * (int8GemmPacked) on the layer's own packed weights, with the same epilogue (bias, activation,
 * residual) as the fp32 GEMM. The q|k|v GEMM concatenates the three packs: each output channel
 * keeps its own weight scale, and the activation row scale is the same for the three (one
 * input), so it computes exactly what the three modules compute.
 *
 * It covers the standard layers only: plain Linear or QuantizedLinear projections (no hooks, no
 * adapter subclasses; q, k and v of one kind), no head mask, rotary or ALiBi, eval mode, float32,
 * suffix source padding, relu or gelu (erf) FFN. tryCreate returns null otherwise, and the caller runs the module path,
 * which computes the same function (test/models/seq2seq-decode.test.ts checks both agree).
 *
 * Letters: R rows, S source length, D dModel, H heads, Hkv kv heads, hd head dim, E = H·hd,
 * Ekv = Hkv·hd, F FFN width, V target vocabulary, C = maxSteps (the self cache's capacity).
 */
import { Tensor } from '../tensor/tensor.js';
import { k as kernels } from '../backend/registry.js';
import { ACT_NONE, ACT_RELU, ACT_GELU } from '../backend/js/gemm.js';
import { type Gemm, type Projection, gemmOf, stackedRows } from './stacked-projection.js';
import { RecentMax, SHRINK_FACTOR, SHRINK_MIN_BYTES } from './fused-encoder.js';
import { zeros } from '../tensor/creation.js';
import { allocUninit } from '../tensor/dtype.js';
import { noGrad } from '../autograd/mode.js';
import { Linear } from '../nn/linear.js';
import { QuantizedLinear } from '../nn/quantized-linear.js';
import { Embedding } from '../nn/embedding.js';
import { LayerNorm } from '../nn/norm.js';
import { Module } from '../nn/module.js';
import { MultiheadAttention } from '../nn/attention/multihead.js';
import { isRecording } from '../nn/attention/recorder.js';
import type { TransformerDecoder, TransformerDecoderLayer } from '../nn/transformer.js';
import { ValueError } from '../errors.js';

/**
 * The buffers of one decode, kept per decoder module between decodes: a server decodes batch
 * after batch, and allocating ~1 MB of caches per batch (d 128, 16 rows) made the worker's
 * garbage collector run a full mark-compact every few hundred ms ("external memory pressure").
 * One decode at a time holds it (checked out by the FusedDecoder, returned by release()); a
 * decoder made while another holds it allocates its own buffers, as before. Buffers grow to the
 * largest decode, and are dropped when the last SHRINK_WINDOW decodes needed under half of them
 * (the fused encoder's rule), so one big batch (heed eval's 256 rows) does not pin them for good.
 */
class Workspace {
  inUse = false;
  private readonly buffers = new Map<string, Float32Array>();
  /** Floats asked for by the decode holding it, and by the last SHRINK_WINDOW decodes. */
  private asked = 0;
  private readonly recent = new RecentMax();

  /** n floats of the buffer kept under `name` (contents undefined). */
  take(name: string, n: number): Float32Array {
    this.asked += n;
    const have = this.buffers.get(name);
    if (have !== undefined && have.length >= n) return have.subarray(0, n);
    // Batches differ in rows and lengths: grow by half again, so a few batches reach the largest.
    const b = floats(Math.max(n, Math.ceil(1.5 * (have?.length ?? 0))));
    this.buffers.set(name, b);
    return b.subarray(0, n);
  }

  /** Floats held between decodes. */
  get held(): number {
    let n = 0;
    for (const b of this.buffers.values()) n += b.length;
    return n;
  }

  /** Ends a decode: hands the buffers back, and drops them when recent decodes used under half. */
  release(): void {
    this.inUse = false;
    const recent = this.recent.push(this.asked);
    this.asked = 0;
    if (recent === null) return;
    const held = this.held;
    if (4 * held > SHRINK_MIN_BYTES && held > SHRINK_FACTOR * recent) {
      this.buffers.clear();
      this.recent.clear();
    }
  }
}

/** Buffers that belong to one decode only (the workspace was in use). */
const PRIVATE = { take: (_name: string, n: number) => floats(n) };

const workspaces = new WeakMap<TransformerDecoder, Workspace>();

/** Bytes of decode buffers kept for `decoder` between decodes (0 before its first fused decode). */
export function fusedDecoderWorkspaceBytes(decoder: TransformerDecoder): number {
  return 4 * (workspaces.get(decoder)?.held ?? 0);
}

/** The parts of a Seq2SeqTransformer a decoding step reads. */
export interface DecoderParts {
  decoder: TransformerDecoder;
  tgtEmbed: Embedding;
  /** The positional module: pos.call(x (1, T, D), 0) adds positions 0…T−1. */
  tgtPos: Module;
  outProj: Projection;
  dModel: number;
  scaleEmbeddings: boolean;
}

/** The projections the step runs: fp32 Linear or int8 QuantizedLinear. */


interface LayerWeights {
  norm1: LayerNorm; norm2: LayerNorm; norm3: LayerNorm;
  qkv: Gemm; selfOut: Gemm; crossQ: Gemm; crossOut: Gemm; ff1: Gemm; ff2: Gemm;
  act: number;
  normFirst: boolean;
  /** (C_rows, Hkv, C, hd) self-attention keys and values, written at position t. */
  selfK: Float32Array; selfV: Float32Array;
  /** (R, S, 2·Ekv) cross-attention keys | values per source position, projected once, read in place. */
  crossKV: Float32Array;
}

/** Why the fused step cannot run this model (null: it can). */
export function fusedDecodeBlocker(p: DecoderParts): string | null {
  if (p.decoder.training) return 'the model is in training mode (dropout is active)';
  if (isRecording()) return 'an AttentionRecorder is recording';
  if (!plainProjection(p.outProj) || p.tgtEmbed.weight.dtype !== 'float32' || hooked(p.tgtEmbed) || hooked(p.tgtPos) || hooked(p.decoder)) return 'the embedding or output projection is not a plain float32 module';
  if (p.decoder.norm !== null && !plainNorm(p.decoder.norm)) return 'the final norm is not a plain LayerNorm';
  const a0 = (p.decoder.layers.toArray() as TransformerDecoderLayer[])[0]?.selfAttn;
  for (const layer of p.decoder.layers) {
    if (hooked(layer)) return 'a decoder layer has forward hooks';
    if (layer.activation !== 'relu' && layer.activation !== 'gelu') return `activation '${layer.activation}' has no GEMM epilogue`;
    if (!plainNorm(layer.norm1) || !plainNorm(layer.norm2) || !plainNorm(layer.norm3)) return 'a layer norm is not a plain LayerNorm';
    if (!plainProjection(layer.linear1) || !plainProjection(layer.linear2)) return 'an FFN projection is not a plain Linear or QuantizedLinear';
    for (const a of [layer.selfAttn, layer.crossAttn]) {
      if (Object.getPrototypeOf(a) !== MultiheadAttention.prototype || hooked(a) || !a.batchFirst) return 'an attention module is not a plain batch-first MultiheadAttention';
      if (a.headMask !== null || a.rotary !== null || a.alibi !== null) return 'an attention module has a head mask, rotary or ALiBi';
      // One head count and width for every attention module (the step's buffers are sized once): pruned heads differ.
      if (a0 !== undefined && (a.numHeads !== a0.numHeads || a.numKvHeads !== a0.numKvHeads || a.headDim !== a0.headDim || a.numHeads * a.headDim !== a.embedDim)) return 'the attention modules differ in head count (pruned heads)';
      if (a.inProj !== null || ![a.qProj!, a.kProj!, a.vProj!, a.outProj].every(plainProjection)) return 'an attention projection is not a plain Linear or QuantizedLinear';
      // q|k|v run as one GEMM, so they must be of one kind.
      if (new Set([a.qProj, a.kProj, a.vProj].map((l) => l instanceof QuantizedLinear)).size > 1) return 'the q, k and v projections mix int8 and fp32 (quantize all three or none)';
      if (new Set([a.qProj, a.kProj, a.vProj].map((l) => (l instanceof QuantizedLinear ? l.xScale : 0))).size > 1) return 'the q, k and v projections have different static input scales';
    }
  }
  return null;
}

export class FusedDecoder {
  /** Rows decoded by the next step (gather shrinks it). */
  rows: number;
  readonly vocab: number;
  private readonly layers: LayerWeights[];
  private readonly finalNorm: LayerNorm | null;
  private readonly out: Gemm;
  private readonly embed: Float32Array; // (V, D)
  private readonly embedScale: number;
  private readonly pos: Float32Array; // (C, D)
  private readonly D: number; private readonly H: number; private readonly Hkv: number; private readonly hd: number;
  private readonly S: number; private readonly C: number;
  private readonly scale: number;
  /** (R) source lengths (keys each row's cross-attention reads). */
  private readonly srcLen: Int32Array;
  /** (R) which encoder row each decoder row reads (its cross keys are that row's). */
  private readonly item: Int32Array;
  // Work buffers, (R, ·). The residual stream lives in one of bufA / bufB, the normed input in the other.
  private readonly bufA: Float32Array; private readonly bufB: Float32Array;
  private readonly qkv: Float32Array; private readonly q: Float32Array; private readonly att: Float32Array;
  private readonly ff: Float32Array; private readonly logits: Float32Array;
  private readonly mean: Float32Array; private readonly rstd: Float32Array; private readonly lse: Float32Array;
  private scratch: Float32Array = new Float32Array(0);
  private length = 0; // positions in the self cache
  /** The decoder's shared workspace while this decode holds it (release() returns it). */
  private workspace: Workspace | null;

  /**
   * A fused decoder for `memory` (B, S, D) with its padding mask srcPad (B, S) (true = pad),
   * every encoder row repeated `repeat` times (beam search: R = B·repeat rows), for at most
   * maxSteps tokens; null when fusedDecodeBlocker names a reason or the padding is not a suffix.
   */
  static tryCreate(p: DecoderParts, memory: Tensor, srcPad: Tensor, maxSteps: number, repeat = 1): FusedDecoder | null {
    if (fusedDecodeBlocker(p) !== null || memory.dtype !== 'float32') return null;
    const [B, S] = srcPad.shape;
    const srcLen = new Int32Array(B * repeat);
    for (let b = 0; b < B; b++) {
      let n = 0;
      while (n < S && !srcPad.data[b * S + n]) n++;
      for (let j = n; j < S; j++) if (!srcPad.data[b * S + j]) return null; // padding inside a row: the kernel takes lengths only
      srcLen.fill(n, b * repeat, (b + 1) * repeat);
    }
    return new FusedDecoder(p, memory, srcLen, maxSteps, repeat);
  }

  private constructor(p: DecoderParts, memory: Tensor, srcLen: Int32Array, maxSteps: number, repeat: number) {
    const layers = p.decoder.layers.toArray() as TransformerDecoderLayer[];
    const a0 = layers[0].selfAttn;
    const [B, S, D] = memory.shape;
    const R = B * repeat, H = a0.numHeads, Hkv = a0.numKvHeads, hd = a0.headDim, C = maxSteps;
    let ws = workspaces.get(p.decoder);
    if (ws === undefined) workspaces.set(p.decoder, ws = new Workspace());
    this.workspace = ws.inUse ? null : ws;
    if (this.workspace !== null) this.workspace.inUse = true;
    const buf = this.workspace ?? PRIVATE;
    this.rows = R; this.D = D; this.H = H; this.Hkv = Hkv; this.hd = hd; this.S = S; this.C = C;
    this.scale = 1 / Math.sqrt(hd); // scaledDotProductAttention's default
    this.srcLen = srcLen;
    this.item = Int32Array.from({ length: R }, (_, r) => Math.floor(r / repeat));
    this.vocab = p.outProj.outFeatures;
    this.out = gemmOf(p.outProj);
    this.embed = p.tgtEmbed.weight.data as Float32Array;
    this.embedScale = p.scaleEmbeddings ? Math.fround(Math.sqrt(p.dModel)) : 1;
    this.finalNorm = p.decoder.norm;
    let F = 0;
    const E = H * hd, Ekv = Hkv * hd;
    this.layers = layers.map((l, i) => {
      const sa = l.selfAttn, ca = l.crossAttn;
      F = Math.max(F, l.linear1.outFeatures);
      return {
        norm1: l.norm1, norm2: l.norm2, norm3: l.norm3,
        qkv: stackedRows([sa.qProj!, sa.kProj!, sa.vProj!] as Projection[]), selfOut: gemmOf(sa.outProj),
        crossQ: gemmOf(ca.qProj!), crossOut: gemmOf(ca.outProj), ff1: gemmOf(l.linear1), ff2: gemmOf(l.linear2),
        act: l.activation === 'relu' ? ACT_RELU : ACT_GELU, normFirst: l.normFirst,
        selfK: buf.take(`selfK${i}`, R * Hkv * C * hd), selfV: buf.take(`selfV${i}`, R * Hkv * C * hd),
        crossKV: crossKeys(ca, memory, repeat, buf.take(`crossKV${i}`, R * S * 2 * Ekv)),
      };
    });
    this.pos = noGrad(() => p.tgtPos.call(zeros([1, C, D]), 0).data as Float32Array); // (C, D): positions 0…C−1
    this.bufA = buf.take('bufA', R * D); this.bufB = buf.take('bufB', R * D);
    this.qkv = buf.take('qkv', R * (E + 2 * Ekv)); this.q = buf.take('q', R * E); this.att = buf.take('att', R * E);
    this.ff = buf.take('ff', R * F); this.logits = buf.take('logits', R * this.vocab);
    this.mean = new Float32Array(R); this.rstd = new Float32Array(R); this.lse = new Float32Array(R * H);
  }

  /**
   * Returns the decoder's shared buffers for the next decode: call once this decode is over (its
   * logits views are then invalid). The search loops (seq2seq-search.ts) do. Not calling it is
   * safe: later decodes allocate their own buffers.
   */
  release(): void {
    this.workspace?.release();
    this.workspace = null;
  }

  /**
   * Decodes position t (= the number of steps so far) for rows 0…rows−1.
   * Args: tokens: (rows) the last token of each row.
   * Returns: (rows, V) logits, a view of a buffer the next step overwrites.
   */
  step(tokens: ArrayLike<number>, t: number): Float32Array {
    if (t !== this.length || t >= this.C) {
      throw new ValueError(`FusedDecoder.step: position ${t}, expected ${this.length} (the steps so far; at most ${this.C} steps, the maxSteps it was made for). Fix: call step once per position, from 0.`);
    }
    const R = this.rows, D = this.D;
    const { embed, embedScale, pos } = this;
    let x = this.bufA;
    for (let r = 0; r < R; r++) { // x = embed(token)·√D + pe[t]   (R, D)
      const e = tokens[r] * D, o = r * D, pt = t * D;
      for (let j = 0; j < D; j++) x[o + j] = Math.fround(embed[e + j] * embedScale) + pos[pt + j];
    }
    for (const l of this.layers) x = this.layer(l, x); // (R, D)
    this.length = t + 1;
    const h = this.finalNorm ? this.norm(this.finalNorm, x, this.other(x)) : x; // (R, D)
    this.gemm(this.out, h, this.logits, ACT_NONE, false); // (R, V)
    return this.logits.subarray(0, R * this.vocab);
  }

  /**
   * Keeps n rows: new row i is old row index[i] (its self cache, and its cross keys when they
   * come from another encoder row). In place: a source row that is itself overwritten is saved
   * first, so the cost is the rows that move, not all rows.
   */
  gather(index: ArrayLike<number>, n: number): void {
    const overwritten = new Uint8Array(this.rows);
    for (let i = 0; i < n; i++) if (index[i] !== i) overwritten[i] = 1;
    const saved = new Map<number, number>(); // source row → its slot in scratch
    for (let i = 0; i < n; i++) {
      const j = index[i];
      if (j !== i && overwritten[j] && !saved.has(j)) saved.set(j, saved.size);
    }
    const selfRow = this.Hkv * this.length * this.hd, crossRow = this.Hkv * this.S * this.hd;
    const slot = this.layers.length * 2 * (selfRow + crossRow);
    if (this.scratch.length < saved.size * slot) this.scratch = floats(2 * saved.size * slot);
    for (const [j, s] of saved) this.moveRow(j, s * slot, true);
    const item = Int32Array.from(this.item), srcLen = Int32Array.from(this.srcLen);
    for (let i = 0; i < n; i++) {
      const j = index[i];
      if (j === i) continue;
      const s = saved.get(j);
      const withCross = item[j] !== this.item[i];
      if (s === undefined) this.copyRow(j, i, withCross);
      else this.moveRow(i, s * slot, false, withCross);
      this.item[i] = item[j];
      this.srcLen[i] = srcLen[j];
    }
    this.rows = n;
  }

  /** One decoder layer on x (R, D); returns the buffer holding the result. */
  private layer(l: LayerWeights, x: Float32Array): Float32Array {
    const R = this.rows, { H, Hkv, hd } = this, E = H * hd, Ekv = Hkv * hd, t = this.length;
    const pre = l.normFirst;
    // Self-attention: q|k|v in one GEMM, k and v written into the cache at position t.
    const saIn = pre ? this.norm(l.norm1, x, this.other(x)) : x;
    this.gemm(l.qkv, saIn, this.qkv, ACT_NONE, false); // (R, E + 2·Ekv)
    const W = E + 2 * Ekv, C = this.C, qkv = this.qkv, sk = l.selfK, sv = l.selfV;
    for (let r = 0; r < R; r++) {
      const o = r * W;
      for (let g = 0; g < Hkv; g++) {
        const dst = ((r * Hkv + g) * C + t) * hd, ks = o + E + g * hd, vs = o + E + Ekv + g * hd;
        for (let j = 0; j < hd; j++) { sk[dst + j] = qkv[ks + j]; sv[dst + j] = qkv[vs + j]; }
      }
    }
    // q read in place from the q|k|v rows (stride W); keys and values from the cache (R, Hkv, C, hd).
    this.attend(qkv, W, l.selfK, l.selfV, t + 1, [Hkv * C * hd, C * hd, hd], null); // (R, E)
    x = this.residual(l.selfOut, this.att, x, pre ? null : l.norm1);
    // Cross-attention on the keys projected once.
    const caIn = pre ? this.norm(l.norm2, x, this.other(x)) : x;
    this.gemm(l.crossQ, caIn, this.q, ACT_NONE, false); // (R, E)
    const S = this.S;
    this.attend(this.q, E, l.crossKV, l.crossKV.subarray(Ekv), S, [S * 2 * Ekv, hd, 2 * Ekv], this.srcLen); // (R, E)
    x = this.residual(l.crossOut, this.att, x, pre ? null : l.norm2);
    // Feed-forward: activation in the first GEMM's epilogue, the residual in the second's.
    const ffIn = pre ? this.norm(l.norm3, x, this.other(x)) : x;
    this.gemm(l.ff1, ffIn, this.ff, l.act, false); // (R, F)
    return this.residual(l.ff2, this.ff, x, pre ? null : l.norm3);
  }

  /** x += input·Wᵀ + b (the sum in the GEMM's epilogue), then the post-norm when given; returns the new stream. */
  private residual(g: Gemm, input: Float32Array, x: Float32Array, postNorm: LayerNorm | null): Float32Array {
    this.gemm(g, input, x, ACT_NONE, true); // (R, D)
    return postNorm === null ? x : this.norm(postNorm, x, this.other(x));
  }

  /** The work buffer that is not `x`. */
  private other(x: Float32Array): Float32Array {
    return x === this.bufA ? this.bufB : this.bufA;
  }

  /**
   * One query per row against Lk keys → att (R, H, 1, hd), through strides: q's rows are qStride
   * apart (heads side by side), k and v are read at (row, kv head, position) → kvStrides[0..2].
   */
  private attend(q: Float32Array, qStride: number, k: Float32Array, v: Float32Array, Lk: number, kvStrides: readonly [number, number, number], keyLengths: Int32Array | null): void {
    const R = this.rows, { H, Hkv, hd } = this, E = H * hd;
    const [sb, sh, sl] = kvStrides;
    kernels.attentionForwardStrided({
      q, k, v, out: this.att.subarray(0, R * E), lse: this.lse.subarray(0, R * H),
      B: R, H, Hkv, Lq: 1, Lk, D: hd, Dv: hd, scale: this.scale,
      causal: false, causalOffset: 0, keyLengths: keyLengths === null ? null : keyLengths.subarray(0, R),
      mask: null, maskStrideB: 0, maskStrideH: 0, alibiSlopes: null, dropoutP: 0, dropoutSeed: 0,
      qStrideB: qStride, qStrideH: hd, qStrideL: qStride, kStrideB: sb, kStrideH: sh, kStrideL: sl,
      vStrideB: sb, vStrideH: sh, vStrideL: sl, outStrideB: E, outStrideH: hd, outStrideL: E,
    });
  }

  /** y = layerNorm(x) over rows 0…R−1; returns y. */
  private norm(n: LayerNorm, x: Float32Array, y: Float32Array): Float32Array {
    const R = this.rows, D = this.D;
    kernels.layerNormForward({
      x: x.subarray(0, R * D), weight: n.weight ? (n.weight.data as Float32Array) : null, bias: n.bias ? (n.bias.data as Float32Array) : null,
      y: y.subarray(0, R * D), mean: this.mean.subarray(0, R), rstd: this.rstd.subarray(0, R), rows: R, cols: D, eps: n.eps,
    });
    return y;
  }

  /** c = act(a·Wᵀ + b) (+ c when accumulate) over rows 0…R−1. */
  private gemm(g: Gemm, a: Float32Array, c: Float32Array, act: number, accumulate: boolean): void {
    runGemm(g, a, c, this.rows, act, accumulate);
  }

  /** Copies row `from`'s caches onto row `to` (cross keys too when withCross). */
  private copyRow(from: number, to: number, withCross: boolean): void {
    const { Hkv, hd, C, S } = this, n = this.length * hd;
    for (const l of this.layers) {
      for (let g = 0; g < Hkv; g++) {
        const s = (from * Hkv + g) * C * hd, d = (to * Hkv + g) * C * hd;
        l.selfK.copyWithin(d, s, s + n);
        l.selfV.copyWithin(d, s, s + n);
      }
      if (withCross) {
        const row = 2 * Hkv * S * hd; // (S, 2·Ekv)
        l.crossKV.copyWithin(to * row, from * row, (from + 1) * row);
      }
    }
  }

  /** Saves row r's caches to scratch at `at` (save), or restores scratch at `at` onto row r. */
  private moveRow(r: number, at: number, save: boolean, withCross = true): void {
    const { Hkv, hd, C, S } = this, n = this.length * hd, row = 2 * Hkv * S * hd;
    let o = at;
    const move = (buf: Float32Array, start: number, len: number): void => {
      if (save) this.scratch.set(buf.subarray(start, start + len), o);
      else buf.set(this.scratch.subarray(o, o + len), start);
      o += len;
    };
    for (const l of this.layers) {
      for (let g = 0; g < Hkv; g++) {
        move(l.selfK, (r * Hkv + g) * C * hd, n);
        move(l.selfV, (r * Hkv + g) * C * hd, n);
      }
      if (withCross || save) move(l.crossKV, r * row, row); else o += row;
    }
  }
}

/** An uninitialised float32 buffer (every element is written before it is read). */
function floats(n: number): Float32Array {
  return allocUninit('float32', n) as Float32Array;
}

function hooked(m: Module): boolean {
  return m.hasForwardHooks;
}

/** A Linear (float32) or QuantizedLinear itself, not a subclass (LoRA, adapters), without hooks. */
function plainProjection(l: Module): l is Projection {
  const proto = Object.getPrototypeOf(l);
  if (hooked(l)) return false;
  return (proto === Linear.prototype && (l as Linear).weight.dtype === 'float32') || proto === QuantizedLinear.prototype;
}

function plainNorm(n: Module): n is LayerNorm {
  return Object.getPrototypeOf(n) === LayerNorm.prototype && !hooked(n) && (n as LayerNorm).normalizedShape.length === 1;
}

/** c = act(a·Wᵀ + b) (+ c when accumulate) over R rows: sgemm, or int8GemmPacked for an int8 projection. */
function runGemm(g: Gemm, a: Float32Array, c: Float32Array, R: number, act: number, accumulate: boolean): void {
  if (g.int8 !== null) {
    const out = c.subarray(0, R * g.out);
    kernels.int8GemmPacked({
      x: a.subarray(0, R * g.in), packed: g.int8.packed, wScales: g.int8.scales, colSums: g.int8.colSums, out,
      m: R, n: g.out, k: g.in, bias: g.b, activation: act, residual: accumulate ? out : null, xScale: g.int8.xScale,
    });
    return;
  }
  kernels.sgemm({
    a: a.subarray(0, R * g.in), b: g.w, c: c.subarray(0, R * g.out), batch: 1, m: R, n: g.out, k: g.in,
    transA: false, transB: true, alpha: 1, beta: accumulate ? 1 : 0, strideA: 0, strideB: 0, strideC: 0, bias: g.b, activation: act,
  });
}

/**
 * Cross-attention keys | values of memory (B, S, D) into `out` (B·repeat, S, 2·Ekv), each item's
 * rows repeated: k|v as one GEMM on the stacked pair (made once per model, stackedRows), in the
 * layout the attention kernel reads through its strides (no head split). At batch 1 this runs
 * once per word, where two module calls and two transposes cost more.
 */
function crossKeys(a: MultiheadAttention, memory: Tensor, repeat: number, out: Float32Array): Float32Array {
  const [B, S] = memory.shape, Ekv = a.numKvHeads * a.headDim;
  const kv = stackedRows([a.kProj!, a.vProj!] as Projection[]); // (2·Ekv, D)
  runGemm(kv, memory.data as Float32Array, out, B * S, ACT_NONE, false); // items 0…B−1 at the front
  const row = S * 2 * Ekv;
  if (repeat > 1) {
    // Spread item b to rows b·repeat…: from the last item down, so no item is overwritten before it moves.
    for (let b = B - 1; b >= 0; b--) {
      out.copyWithin(b * repeat * row, b * row, (b + 1) * row);
      for (let r = 1; r < repeat; r++) out.copyWithin((b * repeat + r) * row, b * repeat * row, (b * repeat + 1) * row);
    }
  }
  return out;
}
