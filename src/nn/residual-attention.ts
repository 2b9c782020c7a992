/**
 * An attention sublayer of a Transformer block together with the dropout and residual add that
 * follow it:
 *
 *   residual + dropout(attn(query, key, value).output)          query, residual (B, L, E) → (B, L, E)
 *
 * attn's output ends in its out-projection, so when attn is a plain MultiheadAttention (no forward
 * hooks, forward not overridden, batch-first), its outProj a plain Linear (no LoRA wrapper, no
 * quantized layer, no hook) and the dropout a plain Dropout, this runs attn.attend (everything up
 * to outProj) and then outProj, the dropout and the residual add as one GEMM with a fused epilogue
 * (ops/linear-fused.ts linearDropout). Otherwise the same math runs op by op. Both give the same
 * values and gradients and draw the same dropout seeds in the same order
 * (test/nn/residual-attention.test.ts).
 */
import { Tensor } from '../tensor/tensor.js';
import { add } from '../ops/elementwise.js';
import { linearDropout } from '../ops/linear-fused.js';
import { Module } from './module.js';
import { Dropout } from './dropout.js';
import { MultiheadAttention, type MultiheadAttentionCallOptions } from './attention/multihead.js';
import { isPlainDropout, isPlainLinear } from './residual-ffn.js';
import type { ResidualGrad } from '../ops/residual-grad.js';

/** Whether residualAttention can fuse attn's out-projection with `outDropout` and the residual. */
export function canFuseOutProjection(attn: MultiheadAttention, outDropout: Module): boolean {
  return attn.forward === MultiheadAttention.prototype.forward && !attn.hasForwardHooks && attn.batchFirst &&
    isPlainLinear(attn.outProj) && isPlainDropout(outDropout);
}

/**
 * residual + outDropout(attn(query, key, value, options).output): see the file comment.
 * query (B, L, E), key/value (B, S, ·), residual (B, L, E) → (B, L, E).
 * link: as residualFfn's (nn/residual-ffn.ts), used only on the fused path.
 */
export function residualAttention(attn: MultiheadAttention, outDropout: Module, residual: Tensor,
  query: Tensor, key: Tensor, value: Tensor, options: MultiheadAttentionCallOptions, link: ResidualGrad | null = null): Tensor {
  if (canFuseOutProjection(attn, outDropout)) {
    const drop = outDropout as Dropout;
    const { context } = attn.attend(query, key, value, options); // (B, L, H·hd)
    attn.outProj.checkInput(context);
    return linearDropout(context, attn.outProj.weight, attn.outProj.bias, { p: drop.p, training: drop.training, residual, residualGradTo: link }); // (B, L, E)
  }
  return add(residual, (outDropout as Dropout).call(attn.call(query, key, value, options).output)); // (B, L, E)
}
