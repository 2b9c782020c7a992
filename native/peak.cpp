// Measures the sustained FMA rate: 12 independent (FMA latency × pipes ≤ 8 on current x86) multiply-add chains on the
// widest vector register, per thread, long enough to hide the FMA latency.
#include <chrono>
#include "common.h"
#include "kernels.h"
#include "threadpool.h"

namespace heed {
namespace HEED_NS {

namespace {
constexpr int kChains = 12;
float fmaChains(int64_t iters) {
  vf a0 = vsplat(0.f), a1 = vsplat(.1f), a2 = vsplat(.2f), a3 = vsplat(.3f), a4 = vsplat(.4f), a5 = vsplat(.5f);
  vf a6 = vsplat(.6f), a7 = vsplat(.7f), a8 = vsplat(.8f), a9 = vsplat(.9f), a10 = vsplat(1.f), a11 = vsplat(1.1f);
  const vf x = vsplat(0.999999f), y = vsplat(1e-7f);
  for (int64_t it = 0; it < iters; it++) {
#define HEED_STEP a0 = a0 * x + y; a1 = a1 * x + y; a2 = a2 * x + y; a3 = a3 * x + y; a4 = a4 * x + y; \
    a5 = a5 * x + y; a6 = a6 * x + y; a7 = a7 * x + y; a8 = a8 * x + y; a9 = a9 * x + y; a10 = a10 * x + y; a11 = a11 * x + y;
    HEED_STEP HEED_STEP
#undef HEED_STEP
    __asm__ volatile("" : "+v"(a0), "+v"(a1), "+v"(a2), "+v"(a3), "+v"(a4), "+v"(a5), "+v"(a6), "+v"(a7), "+v"(a8),
                     "+v"(a9), "+v"(a10), "+v"(a11));
  }
  return hsum(a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11);
}
}  // namespace

double peakFlops(int threads) {
  if (threads < 1) threads = 1;
  if (threads > poolSize()) threads = poolSize();
  const int64_t iters = 20000000;
  volatile float sink = 0.f;
  fmaChains(iters / 20);  // warm up the clocks
  auto t0 = std::chrono::steady_clock::now();
  float sums[kMaxThreads] = {};
  parallelFor(threads, [&](int64_t t, int) { sums[t] = fmaChains(iters); });
  auto t1 = std::chrono::steady_clock::now();
  for (int i = 0; i < threads; i++) sink = sink + sums[i];
  double sec = std::chrono::duration<double>(t1 - t0).count();
  return double(threads) * double(iters) * 2 * kChains * W * 2.0 / sec / 1e9;
}

}  // namespace HEED_NS
}  // namespace heed
