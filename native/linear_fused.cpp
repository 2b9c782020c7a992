// The training-path fused Linear's elementwise kernels (spec: src/backend/specs/linear-fused.ts;
// reference: src/backend/js/linear-fused.ts). The forward GEMM, linearFused, is a GEMM epilogue and
// lives in gemm.cpp; GELU's forward runs here on the GEMM's output z, which is kept for the backward.
#include <cmath>

#include "common.h"
#include "kernels.h"
#include "threadpool.h"

namespace heed {
namespace HEED_NS {

namespace {

constexpr int64_t kGrain = int64_t(1) << 15;  // floats per task for these memory-bound loops
constexpr float kInvSqrt2Pi = 0.3989422804014327f;

// d gelu(z) / dz = Φ(z) + z·φ(z), the erf form (the same formula as unaryBackward's gelu).
HEED_INLINE vf vgeluGrad(vf z) { return 0.5f * (1.0f + verf(z * 0.70710678118654752f)) + z * kInvSqrt2Pi * vexp(-0.5f * z * z); }
HEED_INLINE float geluGradScalar(float z) {
  return 0.5f * (1.f + erf_scalar(z * 0.70710678118654752f)) + z * kInvSqrt2Pi * std::exp(-0.5f * z * z);
}

// The dropout kernel's mask (layout.cpp): keep element i iff lowbias32(i ^ lowbias32(seed)) ≥ thr.
struct Mask {
  bool drop, none;  // none: p within 2⁻³² of 1, nothing is kept
  uint32_t thr, mixed;
  float scale;
  Mask(double p, uint32_t seed) {
    const double t = std::ceil(p * 4294967296.0);
    drop = p > 0;
    none = t > 4294967295.0;
    thr = none ? 0xffffffffu : uint32_t(t);
    mixed = lowbias32(seed);
    scale = none ? 0.f : float(1.0 / (1.0 - p));
  }
  HEED_INLINE bool keep(int64_t i) const { return !drop || (!none && lowbias32(uint32_t(i) ^ mixed) >= thr); }
  HEED_INLINE vi keepv(vu lane, int64_t i) const {
    if (!drop) return vi{} == vi{};
    if (none) return vi{} != vi{};
    return lowbias32((lane + uint32_t(i)) ^ mixed) >= thr;
  }
};

HEED_INLINE vu laneIds() {
  vu lane;
  for (int l = 0; l < W; l++) lane[l] = uint32_t(l);
  return lane;
}

}  // namespace

// dz = dy · scale where y > 0, else 0: the gradient through dropout(relu(z)) read off its output.
void reluDropoutBackward(const ReluDropoutBackwardArgs& p) {
  const float* y = p.y;
  const float* dy = p.dy;
  float* dz = p.dz;
  const float s = p.scale;
  const vf sv = vsplat(s), zero = vsplat(0.f);
  parallelChunks(p.n, kGrain, [&](int64_t lo, int64_t hi) {
    int64_t i = lo;
    for (; i + W <= hi; i += W) vstore(dz + i, vload(y + i) > zero ? vload(dy + i) * sv : zero);
    for (; i < hi; i++) dz[i] = y[i] > 0.f ? dy[i] * s : 0.f;
  });
}

// y = dropout_p(gelu(z)), one pass over the GEMM's output z (kept for the backward).
void geluDropout(const GeluDropoutArgs& p) {
  const float* z = p.z;
  float* y = p.y;
  const Mask m(p.p, uint32_t(p.seed));
  const vu lane = laneIds();
  const vf sv = vsplat(m.drop ? m.scale : 1.f), zero = vsplat(0.f);
  const float s = m.drop ? m.scale : 1.f;
  parallelChunks(p.n, kGrain, [&](int64_t lo, int64_t hi) {
    int64_t i = lo;
    for (; i + W <= hi; i += W) vstore(y + i, m.keepv(lane, i) ? vgelu(vload(z + i)) * sv : zero);
    for (; i < hi; i++) y[i] = m.keep(i) ? gelu_scalar(z[i]) * s : 0.f;
  });
}

// dz = dy · scale · gelu'(z) where the forward kept the element, else 0 (the mask re-hashed from the seed).
void geluDropoutBackward(const GeluDropoutBackwardArgs& p) {
  const float* z = p.z;
  const float* dy = p.dy;
  float* dz = p.dz;
  const Mask m(p.p, uint32_t(p.seed));
  const vu lane = laneIds();
  const vf sv = vsplat(m.drop ? m.scale : 1.f), zero = vsplat(0.f);
  const float s = m.drop ? m.scale : 1.f;
  parallelChunks(p.n, kGrain, [&](int64_t lo, int64_t hi) {
    int64_t i = lo;
    for (; i + W <= hi; i += W) vstore(dz + i, m.keepv(lane, i) ? vload(dy + i) * sv * vgeluGrad(vload(z + i)) : zero);
    for (; i < hi; i++) dz[i] = m.keep(i) ? dy[i] * s * geluGradScalar(z[i]) : 0.f;
  });
}

}  // namespace HEED_NS
}  // namespace heed
