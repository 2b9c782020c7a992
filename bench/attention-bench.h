// Helpers shared by the attention benches in C++ (bench/attention-ab.cpp, bench/attention-small-ab.cpp,
// bench/attention-tile.cpp, bench/attention-bound.cpp): the command line, the process CPU clock, the probe per
// core, medians, and the inputs (the same LCG, so every bench sees the same q, k, v).
#pragma once
#include <time.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <initializer_list>
#include <string>
#include <vector>

namespace heed_bench {

// The A/B and bound benches' command line: --threads N, --heads H, --batch B, --rounds R, the switches a
// bench accepts (e.g. "--causal"), and sequence lengths. An unknown flag, or a flag without its value,
// stops the bench with a message saying so (exit 2).
struct Args {
  int threads = 1;
  int rounds = 9;
  int64_t heads = 12, batch = 1;
  std::vector<int64_t> lengths;
  std::vector<std::string> switches;  // the accepted switches given
  bool has(const char* s) const { return std::find(switches.begin(), switches.end(), s) != switches.end(); }
};

// args: the bench's defaults (lengths: used when none is given).
inline Args parseArgs(int argc, char** argv, Args args, std::initializer_list<const char*> accepted) {
  const std::vector<int64_t> defaultLengths = args.lengths;
  args.lengths.clear();
  auto value = [&](int& i) -> const char* {
    if (i + 1 >= argc) {
      std::fprintf(stderr, "%s: %s needs a value\n", argv[0], argv[i]);
      std::exit(2);
    }
    return argv[++i];
  };
  for (int i = 1; i < argc; i++) {
    const std::string a = argv[i];
    if (a == "--threads") args.threads = std::atoi(value(i));
    else if (a == "--heads") args.heads = std::atoll(value(i));
    else if (a == "--batch") args.batch = std::atoll(value(i));
    else if (a == "--rounds") args.rounds = std::atoi(value(i));
    else if (std::find_if(accepted.begin(), accepted.end(), [&](const char* s) { return a == s; }) != accepted.end())
      args.switches.push_back(a);
    else if (!a.empty() && a[0] != '-') args.lengths.push_back(std::atoll(a.c_str()));
    else {
      std::fprintf(stderr, "%s: unknown flag %s (the flags: --threads N --heads H --batch B --rounds R", argv[0], a.c_str());
      for (const char* s : accepted) std::fprintf(stderr, " %s", s);
      std::fprintf(stderr, ", then lengths)\n");
      std::exit(2);
    }
  }
  if (args.lengths.empty()) args.lengths = defaultLengths;
  return args;
}

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

// Two functions' CPU seconds per call, sampled side by side `rounds` times (reps calls a sample) into
// oldS and newS; the order alternates by round so that neither always runs second. after(r) runs after
// round r (e.g. another probe).
template <class Old, class New, class After>
void interleave(int rounds, int reps, Old&& fOld, New&& fNew, std::vector<double>& oldS, std::vector<double>& newS,
                After&& after) {
  auto sample = [&](auto& f) {
    const double c0 = cpuSeconds();
    for (int r = 0; r < reps; r++) f();
    return (cpuSeconds() - c0) / reps;
  };
  for (int r = 0; r < rounds; r++) {
    if (r % 2) {
      oldS.push_back(sample(fOld));
      newS.push_back(sample(fNew));
    } else {
      newS.push_back(sample(fNew));
      oldS.push_back(sample(fOld));
    }
    after(r);
  }
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
