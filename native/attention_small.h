// Fused attention for short key ranges (attention_small.cpp): the training step's tiny heads.
// Needs kernels.h (AttentionParams).
#pragma once

namespace heed {
namespace HEED_NS {

// The forward / backward of attention.cpp's attentionForward / attentionBackward (same semantics and
// dropout hash; results agree with its to rounding, and are the same on any thread count) for calls
// whose keys fit one vector: Lk ≤ 16, Lq ≤ 64, D and Dv multiples of 16 up to 256, no additive mask,
// no ALiBi (causal, key lengths, dropout and GQA are covered), on AVX-512. The backward does not read
// out (D_i comes from P and dP).
// Returns false, having done nothing, for any other call (the caller takes the general path).
bool attentionForwardSmall(const AttentionParams& p, const float* q, const float* k, const float* v, float* out,
                           float* lse);
bool attentionBackwardSmall(const AttentionParams& p, const float* q, const float* k, const float* v,
                            const float* out, const float* dOut, const float* lse, float* dq, float* dk, float* dv);

}  // namespace HEED_NS
}  // namespace heed
