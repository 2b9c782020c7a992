// The training-path fused Linear's elementwise kernels (spec: src/backend/specs/linear-fused.ts;
// reference: src/backend/js/linear-fused.ts). The forward GEMM, linearFused, is a GEMM epilogue and
// lives in gemm.cpp; GELU's forward runs here on the GEMM's output z, which is kept for the backward.
#include <cmath>

#include "common.h"
#include "kernels.h"
#include "threadpool.h"
#include "row_split.h"
#include "column_sums.h"
#include "dropout_mask.h"

namespace heed {
namespace HEED_NS {

namespace {

constexpr float kInvSqrt2Pi = 0.3989422804014327f;

// d gelu(z) / dz = Φ(z) + z·φ(z), the erf form (the same formula as unaryBackward's gelu).
HEED_INLINE vf vgeluGrad(vf z) { return 0.5f * (1.0f + verf(z * 0.70710678118654752f)) + z * kInvSqrt2Pi * vexp(-0.5f * z * z); }
HEED_INLINE float geluGradScalar(float z) {
  return 0.5f * (1.f + erf_scalar(z * 0.70710678118654752f)) + z * kInvSqrt2Pi * std::exp(-0.5f * z * z);
}

// out[i] = f(i) / (1 − p) where the dropout kernel's mask (layout.cpp) keeps element i, else 0:
// kept iff lowbias32(i ^ lowbias32(seed)) ≥ p·2³². fv(i) gives the W lanes from i, fs(i) one value.
template <class FV, class FS>
void maskedMap(int64_t n, double p, uint32_t seed, float* out, FV&& fv, FS&& fs) {
  const DropMask m(p, seed);
  const vf sv = vsplat(m.keep), zero = vsplat(0.f);
  parallelFlat(n, out, [&](int64_t lo, int64_t hi) {
    int64_t i = lo;
    for (; i + W <= hi; i += W) vstore(out + i, !m.drop ? fv(i) : m.kept(uint32_t(i)) ? fv(i) * sv : zero);
    for (; i < hi; i++) out[i] = !m.drop ? fs(i) : m.kept1(uint32_t(i)) ? fs(i) * m.keep : 0.f;
  });
}

}  // namespace

// dz = dropout backward of dy (the dropout kernel's mask: kept iff lowbias32(i ^ lowbias32(seed)) ≥ p·2³²,
// i = r·cols + c, scaled by 1/(1 − p)) and dbias = Σ_rows dz, in one pass over dy.
void dropoutBackwardBias(const DropoutBackwardBiasArgs& p) {
  const int64_t cols = p.cols;
  const DropMask m(p.p, uint32_t(p.seed));
  const vf sv = vsplat(m.keep), zero = vsplat(0.f);
  // by value: the stores into acc could alias anything captured by reference, forcing reloads
  rowsWithColumnSums(p.rows, cols, p.dbias, [=, dy = p.dy, dz = p.dz](int64_t r, double* acc) {
    const float* dyr = dy + r * cols;
    float* dzr = dz + r * cols;
    const uint32_t i0 = uint32_t(r * cols);
    int64_t c = 0;
    for (; c + W <= cols; c += W) {
      vf d = m.kept(i0 + uint32_t(c)) ? vload(dyr + c) * sv : zero;
      vstore(dzr + c, d);
      addWide(acc + c, d);
    }
    for (; c < cols; c++) {
      float d = m.kept1(i0 + uint32_t(c)) ? dyr[c] * m.keep : 0.f;
      dzr[c] = d;
      acc[c] += d;
    }
  });
}

// dz = dy · scale where y > 0, else 0: the gradient through dropout(relu(z)) read off its output.
void reluDropoutBackward(const ReluDropoutBackwardArgs& p) {
  const float* y = p.y;
  const float* dy = p.dy;
  float* dz = p.dz;
  const float s = p.scale;
  const vf sv = vsplat(s), zero = vsplat(0.f);
  parallelFlat(p.n, dz, [&](int64_t lo, int64_t hi) {
    int64_t i = lo;
    for (; i + W <= hi; i += W) vstore(dz + i, vload(y + i) > zero ? vload(dy + i) * sv : zero);
    for (; i < hi; i++) dz[i] = y[i] > 0.f ? dy[i] * s : 0.f;
  });
}

// y = dropout_p(gelu(z)), one pass over the GEMM's output z (kept for the backward).
void geluDropout(const GeluDropoutArgs& p) {
  const float* z = p.z;
  maskedMap(p.n, p.p, uint32_t(p.seed), p.y, [&](int64_t i) { return vgelu(vload(z + i)); },
            [&](int64_t i) { return gelu_scalar(z[i]); });
}

// dz = dy · gelu'(z) / (1 − p) where the forward kept the element, else 0 (the mask re-hashed from the seed).
void geluDropoutBackward(const GeluDropoutBackwardArgs& p) {
  const float* z = p.z;
  const float* dy = p.dy;
  maskedMap(p.n, p.p, uint32_t(p.seed), p.dz, [&](int64_t i) { return vload(dy + i) * vgeluGrad(vload(z + i)); },
            [&](int64_t i) { return dy[i] * geluGradScalar(z[i]); });
}

}  // namespace HEED_NS
}  // namespace heed
