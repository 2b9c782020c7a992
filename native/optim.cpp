// Fused AdamW step (PyTorch semantics), in place. Semantics: src/backend/js/optim.ts.
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

// Entry points: each kernel's Args struct (kernel_specs.gen.h) unpacked into the call above.
void adamwStep(const AdamwStepArgs& p) { adamwStep(p.param, p.grad, p.m, p.v, p.n, p.lr, p.beta1, p.beta2, p.eps, p.weightDecay, double(p.step)); }

}  // namespace HEED_NS
}  // namespace heed
