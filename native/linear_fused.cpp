// The training-path fused Linear's elementwise backward (spec: src/backend/specs/linear-fused.ts;
// reference: src/backend/js/linear-fused.ts). The forward, linearFused, is a GEMM epilogue and lives
// in gemm.cpp.
#include "common.h"
#include "kernels.h"
#include "threadpool.h"

namespace heed {
namespace HEED_NS {

// dz = dy · scale where y > 0, else 0: the gradient through dropout(relu(z)) read off its output.
void reluDropoutBackward(const ReluDropoutBackwardArgs& p) {
  const float* y = p.y;
  const float* dy = p.dy;
  float* dz = p.dz;
  const float s = p.scale;
  const vf sv = vsplat(s), zero = vsplat(0.f);
  parallelChunks(p.n, int64_t(1) << 15, [&](int64_t lo, int64_t hi) {
    int64_t i = lo;
    for (; i + W <= hi; i += W) vstore(dz + i, vload(y + i) > zero ? vload(dy + i) * sv : zero);
    for (; i < hi; i++) dz[i] = y[i] > 0.f ? dy[i] * s : 0.f;
  });
}

}  // namespace HEED_NS
}  // namespace heed
