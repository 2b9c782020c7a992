// Helpers shared by the attention benches in C++ (bench/attention-ab.cpp, bench/attention-tile.cpp,
// bench/attention-bound.cpp): the process CPU clock, the probe per core, medians, and the inputs (the same LCG, so both benches see the same q, k, v).
#pragma once
#include <time.h>

#include <algorithm>
#include <cstdint>
#include <vector>

namespace heed_bench {

// Seconds of CPU time of the whole process (all threads).
inline double cpuSeconds() {
  timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return double(t.tv_sec) + 1e-9 * double(t.tv_nsec);
}

// The FMA probe's GFLOP/s per core on the CPU clock: probe() returns GFLOP/s on the wall clock over its
// threads (e.g. peakFlops(threads)), rescaled by wall time over process CPU time.
template <class F>
double cpuPeak(F&& probe) {
  const double c0 = cpuSeconds();
  timespec w0, w1;
  clock_gettime(CLOCK_MONOTONIC, &w0);
  const double g = probe();
  clock_gettime(CLOCK_MONOTONIC, &w1);
  const double wall = double(w1.tv_sec - w0.tv_sec) + 1e-9 * double(w1.tv_nsec - w0.tv_nsec);
  return g * wall / (cpuSeconds() - c0);
}

inline double median(std::vector<double> x) {
  std::sort(x.begin(), x.end());
  return x.empty() ? 0.0 : x[x.size() / 2];
}

// n floats in [−0.5, 0.5) from a 32-bit LCG started at seed.
inline std::vector<float> randoms(size_t n, uint32_t seed) {
  std::vector<float> x(n);
  for (auto& v : x) {
    seed = seed * 1664525u + 1013904223u;
    v = float(seed) / 4294967296.f - 0.5f;
  }
  return x;
}

}  // namespace heed_bench
