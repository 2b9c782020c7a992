// Helpers shared by the attention benches in C++ (bench/attention-ab.cpp, bench/attention-tile.cpp):
// the process CPU clock, and the inputs (the same LCG, so both benches see the same q, k, v).
#pragma once
#include <time.h>

#include <cstdint>
#include <vector>

namespace heed_bench {

// Seconds of CPU time of the whole process (all threads).
inline double cpuSeconds() {
  timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return double(t.tv_sec) + 1e-9 * double(t.tv_nsec);
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
