/**
 * Block-sparse attention (Child et al. 2019; BigBird): the sequence is cut into tiles of
 * blockSize; a boolean layout (qBlocks × kBlocks) says which query tile may attend to which
 * key tile. Only the allowed tiles are computed: each query tile gathers its key tiles and
 * runs the dense kernel on them (ops/attention-mask.ts plans the tiles), so the cost is
 * O(nonzero tiles), not O(L·S).
 * The result equals dense attention with layoutToMask(layout) (tests check it).
 *
 * Letters: B batch, H heads, L queries, S keys, d head dim, bs blockSize.
 */
import { Tensor } from '../../tensor/tensor.js';
import { reshape, transpose } from '../../ops/shape.js';
import { Module } from '../module.js';
import { Linear } from '../linear.js';
import { scaledDotProductAttention } from '../../ops/attention.js';
import { allowedMask, type BlockLayout } from '../../ops/attention-mask.js';
import { ConfigError } from '../../errors.js';

export interface BlockSparseOptions extends BlockLayout {
  /** Also apply the causal mask inside the allowed tiles (j ≤ i, top-left as ops.scaledDotProductAttention). */
  causal?: boolean;
  scale?: number;
}

/** The dense (L, S) bool mask (true = may attend) a layout (and causal) stands for: a picture for tests; attention never builds it. */
export function layoutToMask(L: number, S: number, o: BlockSparseOptions): Tensor {
  return allowedMask({ blockLayout: o, isCausal: o.causal ?? false }, L, S, 'layoutToMask'); // (L, S)
}

/** A layout for local + global attention: each tile sees `local` tiles back (and itself), plus the first `global` tiles. */
export function localGlobalLayout(nBlocks: number, local: number, global = 0): boolean[][] {
  return Array.from({ length: nBlocks }, (_, qb) => Array.from({ length: nBlocks }, (_, kb) => (kb <= qb && qb - kb <= local) || kb < global));
}

/**
 * q (B, H, L, d), k (B, H, S, d), v (B, H, S, dv) → (B, H, L, dv), computing only allowed tiles
 * (ops.scaledDotProductAttention with the blockLayout mask form). A query tile with no allowed
 * key tile gives zeros.
 */
export function blockSparseAttention(q: Tensor, k: Tensor, v: Tensor, o: BlockSparseOptions): Tensor {
  return scaledDotProductAttention(q, k, v, { blockLayout: o, isCausal: o.causal ?? false, scale: o.scale }); // (B, H, L, dv)
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
