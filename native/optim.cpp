// Fused AdamW step (PyTorch semantics), in place; the sum of squares and the scaling of gradient
// clipping by global norm. Semantics: src/backend/js/optim.ts.
#include <cstring>
#include <vector>

#include "common.h"
#include "kernels.h"
#include "threadpool.h"

namespace heed {
namespace HEED_NS {

void adamwStep(float* p, const float* g, float* m, float* v, int64_t n, float lr, float beta1, float beta2, float eps,
               float weightDecay, double step) {
  const float bc1 = float(1.0 - std::pow(double(beta1), step));
  const float bc2 = float(1.0 - std::pow(double(beta2), step));
  const float decay = 1.f - lr * weightDecay, stepSize = lr / bc1, invBc2 = 1.f / bc2;
  const float b1c = 1.f - beta1, b2c = 1.f - beta2;
  parallelChunks(n, 1 << 15, [&](int64_t lo, int64_t hi) {
#pragma GCC ivdep
    for (int64_t i = lo; i < hi; i++) {
      float gi = g[i];
      float mi = beta1 * m[i] + b1c * gi;
      float vi = beta2 * v[i] + b2c * gi * gi;
      m[i] = mi;
      v[i] = vi;
      p[i] = p[i] * decay - stepSize * mi / (std::sqrt(vi * invBc2) + eps);
    }
  });
}

// Σ x[i]² in double, in the fixed order of the reference (src/backend/js/optim.ts sumSquares):
// blocks of kSumSqBlock values, 16 lanes per block (value i of a block into lane i % 16), lanes
// added 0..15, blocks added in order. A float squared is exact in double, so FMA contraction
// changes nothing, and the result does not depend on the thread count: threads only decide who
// sums which blocks. The 16 lanes are two AVX-512 vectors of doubles.
constexpr int64_t kSumSqBlock = 4096;

static double blockSumSquares(const float* x, int64_t n) {
  double lane[16] = {0};
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
#pragma GCC ivdep
    for (int j = 0; j < 16; j++) lane[j] += double(x[i + j]) * double(x[i + j]);
  }
  for (int j = 0; i + j < n; j++) lane[j] += double(x[i + j]) * double(x[i + j]);
  double s = 0;
  for (int j = 0; j < 16; j++) s += lane[j];
  return s;
}

void sumSquares(const float* x, float* out, int64_t n) {
  const int64_t blocks = (n + kSumSqBlock - 1) / kSumSqBlock;
  std::vector<double> partial(size_t(std::max<int64_t>(blocks, 1)), 0.0);
  parallelChunks(blocks, 16, [&](int64_t lo, int64_t hi) {
    for (int64_t b = lo; b < hi; b++) partial[b] = blockSumSquares(x + b * kSumSqBlock, std::min(kSumSqBlock, n - b * kSumSqBlock));
  });
  double total = 0;
  for (int64_t b = 0; b < blocks; b++) total += partial[b];
  std::memcpy(out, &total, sizeof total);  // the 8 bytes of the double (little-endian, as the reference's DataView)
}

// x[i] ← float(double(x[i]) · alpha), as `x[i] *= alpha` on a Float32Array.
void scaleInPlace(float* x, int64_t n, double alpha) {
  parallelChunks(n, 1 << 15, [&](int64_t lo, int64_t hi) {
#pragma GCC ivdep
    for (int64_t i = lo; i < hi; i++) x[i] = float(double(x[i]) * alpha);
  });
}

// Entry points: each kernel's Args struct (kernel_specs.gen.h) unpacked into the call above.
void adamwStep(const AdamwStepArgs& p) { adamwStep(p.param, p.grad, p.m, p.v, p.n, p.lr, p.beta1, p.beta2, p.eps, p.weightDecay, double(p.step)); }
void sumSquares(const SumSquaresArgs& p) { sumSquares(p.x, p.out, p.n); }
void scaleInPlace(const ScaleInPlaceArgs& p) { scaleInPlace(p.x, p.n, p.alpha); }

}  // namespace HEED_NS
}  // namespace heed
