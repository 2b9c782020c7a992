/**
 * Block-sparse attention (Child et al. 2019; BigBird): the sequence is cut into tiles of
 * blockSize; a boolean layout (qBlocks × kBlocks) says which query tile may attend to which
 * key tile. Only the allowed tiles are computed: each query tile gathers its key tiles and
 * runs scaledDotProductAttention on them, so the cost is O(nonzero tiles), not O(L·S).
 * The result equals dense attention with layoutToMask(layout) (tests check it).
 *
 * Letters: B batch, H heads, L queries, S keys, d head dim, bs blockSize.
 */
import { Tensor } from '../../tensor/tensor.js';
import { alloc } from '../../tensor/dtype.js';
import { narrow, cat, reshape, transpose } from '../../ops/shape.js';
import { Module } from '../module.js';
import { Linear } from '../linear.js';
import { scaledDotProductAttention } from '../../ops/attention.js';
import { floatTensor } from '../../ops/util.js';
import { ConfigError, ShapeError, fmtShape } from '../../errors.js';

export interface BlockSparseOptions {
  blockSize: number;
  /** layout[qb][kb] = true when query tile qb may attend to key tile kb. */
  layout: boolean[][];
  /** Also apply the causal mask inside the allowed tiles (j ≤ i). */
  causal?: boolean;
  scale?: number;
}

/** The dense (L, S) bool mask (true = may attend) equal to a layout (and causal). */
export function layoutToMask(L: number, S: number, o: BlockSparseOptions): Tensor {
  const d = alloc('bool', L * S);
  for (let i = 0; i < L; i++) for (let j = 0; j < S; j++) {
    d[i * S + j] = o.layout[Math.floor(i / o.blockSize)][Math.floor(j / o.blockSize)] && (!o.causal || j <= i) ? 1 : 0;
  }
  return new Tensor(d, [L, S]);
}

/** A layout for local + global attention: each tile sees `local` tiles back (and itself), plus the first `global` tiles. */
export function localGlobalLayout(nBlocks: number, local: number, global = 0): boolean[][] {
  return Array.from({ length: nBlocks }, (_, qb) => Array.from({ length: nBlocks }, (_, kb) => (kb <= qb && qb - kb <= local) || kb < global));
}

/**
 * q (B, H, L, d), k (B, H, S, d), v (B, H, S, dv) → (B, H, L, dv), computing only allowed tiles.
 * A query tile with no allowed key tile gives zeros.
 */
export function blockSparseAttention(q: Tensor, k: Tensor, v: Tensor, o: BlockSparseOptions): Tensor {
  const bs = o.blockSize, L = q.shape[2], S = k.shape[2];
  const nQ = Math.ceil(L / bs), nK = Math.ceil(S / bs);
  if (q.ndim !== 4 || o.layout.length !== nQ || o.layout.some((row) => row.length !== nK)) {
    throw new ShapeError(`blockSparseAttention: layout is ${o.layout.length}×${o.layout[0]?.length ?? 0}, expected ${nQ}×${nK} tiles for q ${fmtShape(q.shape)} and k ${fmtShape(k.shape)} with blockSize=${bs}.`);
  }
  const outs: Tensor[] = [];
  for (let qb = 0; qb < nQ; qb++) {
    const q0 = qb * bs, ql = Math.min(bs, L - q0);
    const qTile = narrow(q, 2, q0, ql); // (B, H, ql, d)
    const kbs = o.layout[qb].map((on, kb) => (on ? kb : -1)).filter((kb) => kb >= 0);
    if (kbs.length === 0) {
      outs.push(floatTensor(q.dtype, [q.shape[0], q.shape[1], ql, v.shape[3]])); // (B, H, ql, dv)
      continue;
    }
    const spans = kbs.map((kb) => [kb * bs, Math.min(bs, S - kb * bs)] as const);
    const kTile = cat(spans.map(([s, n]) => narrow(k, 2, s, n)), 2); // (B, H, Sq, d)
    const vTile = cat(spans.map(([s, n]) => narrow(v, 2, s, n)), 2); // (B, H, Sq, dv)
    let mask: Tensor | null = null;
    if (o.causal) {
      const keyPos = spans.flatMap(([s, n]) => Array.from({ length: n }, (_, t) => s + t));
      const d = alloc('bool', ql * keyPos.length);
      for (let i = 0; i < ql; i++) keyPos.forEach((j, c) => { d[i * keyPos.length + c] = j <= q0 + i ? 1 : 0; });
      mask = new Tensor(d, [ql, keyPos.length]); // (ql, Sq)
    }
    outs.push(scaledDotProductAttention(qTile, kTile, vTile, { attnMask: mask, scale: o.scale })); // (B, H, ql, dv)
  }
  return cat(outs, 2); // (B, H, L, dv)
}

/** Self-attention with MultiheadAttention's projections and a fixed block-sparse layout. */
export class BlockSparseAttention extends Module {
  readonly numHeads: number;
  readonly options: BlockSparseOptions;
  qProj: Linear;
  kProj: Linear;
  vProj: Linear;
  outProj: Linear;

  /**
   * Args:
   *   embedDim: E (divisible by numHeads).  numHeads: H.
   *   options: blockSize, layout (ceil(L/bs) × ceil(L/bs)), causal.
   */
  constructor(embedDim: number, numHeads: number, options: BlockSparseOptions) {
    super();
    if (embedDim % numHeads !== 0) throw new ConfigError(`BlockSparseAttention: embedDim=${embedDim} is not divisible by numHeads=${numHeads}.`);
    this.numHeads = numHeads;
    this.options = options;
    this.qProj = new Linear(embedDim, embedDim);
    this.kProj = new Linear(embedDim, embedDim);
    this.vProj = new Linear(embedDim, embedDim);
    this.outProj = new Linear(embedDim, embedDim);
  }

  /** x (B, L, E) → (B, L, E). */
  override forward(x: Tensor): Tensor {
    const [B, L, E] = x.shape, H = this.numHeads, d = E / H;
    const split = (t: Tensor): Tensor => transpose(reshape(t, [B, L, H, d]), 1, 2); // (B, H, L, d)
    const y = blockSparseAttention(split(this.qProj.call(x)), split(this.kProj.call(x)), split(this.vProj.call(x)), this.options); // (B, H, L, d)
    return this.outProj.call(reshape(transpose(y, 1, 2), [B, L, E])); // (B, L, E)
  }
}
