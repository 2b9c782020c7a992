// Fused AdamW step (PyTorch semantics), in place; the sum of squares and the scaling of gradient
// clipping by global norm. Semantics: src/backend/js/optim.ts.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "common.h"
#include "kernels.h"
#include "threadpool.h"

namespace heed {
namespace HEED_NS {

// One tensor's AdamW constants, rounded to float as the kernel's scalars are.
struct AdamwConsts {
  float beta1, beta2, eps, decay, stepSize, invBc2, b1c, b2c;
};

static AdamwConsts adamwConsts(float lr, float beta1, float beta2, float eps, float weightDecay, double step) {
  const float bc1 = float(1.0 - std::pow(double(beta1), step));
  const float bc2 = float(1.0 - std::pow(double(beta2), step));
  return {beta1, beta2, eps, 1.f - lr * weightDecay, lr / bc1, 1.f / bc2, 1.f - beta1, 1.f - beta2};
}

// Elements [lo, hi) of one tensor: the loop both adamwStep and adamwStepMulti run, so that they
// give the same bits.
static inline void adamwRange(float* p, const float* g, float* m, float* v, int64_t lo, int64_t hi, const AdamwConsts& c) {
  const float beta1 = c.beta1, beta2 = c.beta2, eps = c.eps, decay = c.decay, stepSize = c.stepSize, invBc2 = c.invBc2;
  const float b1c = c.b1c, b2c = c.b2c;
#pragma GCC ivdep
  for (int64_t i = lo; i < hi; i++) {
    float gi = g[i];
    float mi = beta1 * m[i] + b1c * gi;
    float vi = beta2 * v[i] + b2c * gi * gi;
    m[i] = mi;
    v[i] = vi;
    p[i] = p[i] * decay - stepSize * mi / (std::sqrt(vi * invBc2) + eps);
  }
}

constexpr int64_t kAdamwGrain = 1 << 15;  // elements per pool task (memory-bound: 28 bytes each)

void adamwStep(float* p, const float* g, float* m, float* v, int64_t n, float lr, float beta1, float beta2, float eps,
               float weightDecay, double step) {
  const AdamwConsts c = adamwConsts(lr, beta1, beta2, eps, weightDecay, step);
  parallelChunks(n, kAdamwGrain, [&](int64_t lo, int64_t hi) { adamwRange(p, g, m, v, lo, hi, c); });
}

// The elements of a list of tensors as one index space [0, start[n]): f(t, lo, hi) for each
// tensor t's part [lo, hi) (tensor-local) of every chunk, chunks of about `grain` elements split
// over the pool. Tensors below the grain share a task; a large tensor spans several.
template <class F>
static void forListChunks(const std::vector<int64_t>& start, int64_t grain, F&& f) {
  const int64_t total = start.back();
  parallelChunks(total, grain, [&](int64_t lo, int64_t hi) {
    // the tensor holding element lo: the last t with start[t] ≤ lo
    size_t t = size_t(std::upper_bound(start.begin(), start.end(), lo) - start.begin()) - 1;
    while (lo < hi) {
      const int64_t end = std::min(hi, start[t + 1]);
      if (end > lo) f(t, lo - start[t], end - start[t]);
      lo = end;
      t++;
    }
  });
}

template <class T>
static std::vector<int64_t> listStarts(const spec::List<T>& xs) {
  std::vector<int64_t> start(size_t(xs.size) + 1, 0);
  for (int64_t t = 0; t < xs.size; t++) start[size_t(t) + 1] = start[size_t(t)] + xs.len[t];
  return start;
}

void adamwStepMulti(const AdamwStepMultiArgs& a) {
  const int64_t n = a.params.size;
  std::vector<AdamwConsts> c(static_cast<size_t>(n));
  for (int64_t t = 0; t < n; t++) {
    const double* h = a.hyper + 6 * t;  // lr, beta1, beta2, eps, weightDecay, step
    c[size_t(t)] = adamwConsts(float(h[0]), float(h[1]), float(h[2]), float(h[3]), float(h[4]), h[5]);
  }
  forListChunks(listStarts(a.params), kAdamwGrain, [&](size_t t, int64_t lo, int64_t hi) {
    adamwRange(a.params.data[t], a.grads.data[t], a.m.data[t], a.v.data[t], lo, hi, c[t]);
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

// Σ over the entries of each entry's sumSquares, added in list order from 0: every block of
// every entry is one task of one pool job.
void sumSquaresMulti(const SumSquaresMultiArgs& a) {
  const int64_t n = a.xs.size;
  std::vector<int64_t> firstBlock(size_t(n) + 1, 0);
  for (int64_t t = 0; t < n; t++) firstBlock[size_t(t) + 1] = firstBlock[size_t(t)] + (a.xs.len[t] + kSumSqBlock - 1) / kSumSqBlock;
  const int64_t blocks = firstBlock.back();
  std::vector<double> partial(size_t(std::max<int64_t>(blocks, 1)), 0.0);
  parallelChunks(blocks, 16, [&](int64_t lo, int64_t hi) {
    size_t t = size_t(std::upper_bound(firstBlock.begin(), firstBlock.end(), lo) - firstBlock.begin()) - 1;
    for (int64_t b = lo; b < hi; b++) {
      while (b >= firstBlock[t + 1]) t++;
      const int64_t at = (b - firstBlock[t]) * kSumSqBlock;
      partial[size_t(b)] = blockSumSquares(a.xs.data[t] + at, std::min(kSumSqBlock, a.xs.len[t] - at));
    }
  });
  double total = 0;
  for (int64_t t = 0; t < n; t++) {
    double sum = 0;  // the entry's sumSquares, as that kernel adds its blocks
    for (int64_t b = firstBlock[size_t(t)]; b < firstBlock[size_t(t) + 1]; b++) sum += partial[size_t(b)];
    total += sum;
  }
  std::memcpy(a.out, &total, sizeof total);
}

// x[i] ← float(double(x[i]) · alpha), as `x[i] *= alpha` on a Float32Array.
static inline void scaleRange(float* x, int64_t lo, int64_t hi, double alpha) {
#pragma GCC ivdep
  for (int64_t i = lo; i < hi; i++) x[i] = float(double(x[i]) * alpha);
}

void scaleInPlace(float* x, int64_t n, double alpha) {
  parallelChunks(n, 1 << 15, [&](int64_t lo, int64_t hi) { scaleRange(x, lo, hi, alpha); });
}

void scaleInPlaceMulti(const ScaleInPlaceMultiArgs& a) {
  forListChunks(listStarts(a.xs), 1 << 15, [&](size_t t, int64_t lo, int64_t hi) { scaleRange(a.xs.data[t], lo, hi, a.alpha); });
}

// Entry points: each kernel's Args struct (kernel_specs.gen.h) unpacked into the call above.
void adamwStep(const AdamwStepArgs& p) { adamwStep(p.param, p.grad, p.m, p.v, p.n, p.lr, p.beta1, p.beta2, p.eps, p.weightDecay, double(p.step)); }
void sumSquares(const SumSquaresArgs& p) { sumSquares(p.x, p.out, p.n); }
void scaleInPlace(const ScaleInPlaceArgs& p) { scaleInPlace(p.x, p.n, p.alpha); }

}  // namespace HEED_NS
}  // namespace heed
