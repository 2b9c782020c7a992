// A/B of two versions of the fused attention forward in one process, on the process CPU clock,
// calls interleaved sample by sample (a loaded machine shifts both sides alike): the kernel of
// this tree (native/attention.cpp, namespace avx512) against another version of the same file
// compiled into namespace avx512old (e.g. `git show <commit>:native/attention.cpp`). No profiling
// code in either (bench/attention-tile.cpp's rdtsc phases add timing code inside the tile loop).
//
//   git show 5a8f42e:native/attention.cpp > /tmp/attention-old.cpp
//   F="-O3 -std=c++17 -fno-math-errno -mavx512f -mavx512bw -mavx512vl -mavx512vnni -mfma -mavx2 -mprefer-vector-width=512 -Inative"
//   g++ $F -DHEED_NS=avx512old -c /tmp/attention-old.cpp -o /tmp/att-old.o
//   g++ $F -DHEED_NS=avx512 -c native/attention.cpp -o /tmp/att-new.o
//   g++ $F -DHEED_NS=avx512 '-DHEED_ISA_NAME="avx512"' bench/attention-ab.cpp native/threadpool.cpp /tmp/att-old.o /tmp/att-new.o -o /tmp/attention-ab -lpthread
//   /tmp/attention-ab [--threads 1] [--heads 12] [--batch 1] [--causal] [--tiny] [--rounds 9] [L ...]
//   (--tiny: the training step's calls, (B, L, H·d) strides, dropout 0.1, key lengths; e.g. --batch 64 --heads 4 --tiny 12)
//
// Prints one JSON object: per L, each side's median CPU ms per call, and % of the FMA peak probed
// in the same process on the same clock (the median of probes taken between rounds; per core).
#include <time.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "../native/peak.cpp"
#include "attention-bench.h"

namespace heed {
namespace avx512 {
void attentionForward(const AttentionParams& p, const float* q, const float* k, const float* v, float* out, float* lse);
}
namespace avx512old {
void attentionForward(const AttentionParams& p, const float* q, const float* k, const float* v, float* out, float* lse);
}
}  // namespace heed

using namespace heed;
using heed_bench::cpuSeconds;
using heed_bench::median;
using heed_bench::randoms;

int main(int argc, char** argv) {
  heed_bench::Args defaults;
  defaults.lengths = {1024, 2048, 4096};
  // --tiny: the training step's calls: (B, L, H·d) strides, dropout 0.1, key lengths
  const heed_bench::Args args = heed_bench::parseArgs(argc, argv, defaults, {"--causal", "--tiny"});
  const int threads = args.threads, rounds = args.rounds;
  const int64_t H = args.heads, B = args.batch;
  const bool causal = args.has("--causal"), tiny = args.has("--tiny");
  const std::vector<int64_t>& lengths = args.lengths;
  poolResize(threads);
  const int64_t D = 64;
  auto peak = [&] { return heed_bench::cpuPeak([&] { return avx512::peakFlops(threads); }); };  // per core, CPU clock
  std::printf("{\"threads\": %d, \"B\": %lld, \"H\": %lld, \"D\": %lld, \"causal\": %s, \"tiny\": %s, \"rows\": [", threads,
              (long long)B, (long long)H, (long long)D, causal ? "true" : "false", tiny ? "true" : "false");
  for (size_t li = 0; li < lengths.size(); li++) {
    const int64_t L = lengths[li];
    AttentionParams p{};
    p.B = B; p.H = H; p.Hkv = H; p.Lq = L; p.Lk = L; p.D = D; p.Dv = D;
    p.qL = {H * L * D, L * D, D}; p.kL = p.qL; p.vL = p.qL; p.oL = p.qL;
    p.scale = 0.125f;
    p.causal = causal;
    std::vector<int32_t> lens(B);
    if (tiny) {  // as bench/attention-tile.cpp --tiny
      p.qL = {L * H * D, D, H * D}; p.kL = p.qL; p.vL = p.qL; p.oL = p.qL;
      p.dropoutP = 0.1f;
      p.dropoutSeed = 7;
      for (int64_t b = 0; b < B; b++) lens[b] = int32_t(std::max<int64_t>(1, L - (b * 7) % (2 * L / 3 + 1)));
      p.keyLengths = lens.data();
    }
    const size_t n = size_t(B * H * L * D);
    auto q = randoms(n, 1), k = randoms(n, 2), v = randoms(n, 3);
    std::vector<float> outA(n), outB(n), lse(B * H * L);
    auto fOld = [&] { avx512old::attentionForward(p, q.data(), k.data(), v.data(), outA.data(), lse.data()); };
    auto fNew = [&] { avx512::attentionForward(p, q.data(), k.data(), v.data(), outB.data(), lse.data()); };
    fOld();
    fNew();
    double maxDiff = 0;
    for (size_t i = 0; i < n; i++) maxDiff = std::max(maxDiff, double(std::fabs(outA[i] - outB[i])));
    double t0 = cpuSeconds();
    fNew();
    const double one = std::max(1e-6, cpuSeconds() - t0);
    const double budget = std::getenv("HEED_AB_SAMPLE_S") ? std::atof(std::getenv("HEED_AB_SAMPLE_S")) : 0.05;
    const int reps = std::max(1, int(budget / one));  // calls per sample: ~budget s of CPU
    std::vector<double> a, b, peaks{peak()};
    heed_bench::interleave(rounds, reps, fOld, fNew, a, b, [&](int r) {
      if (r % 3 == 2) peaks.push_back(peak());
    });
    const double flops = 4.0 * double(B * H) * double(L) * double(L) * double(D) / (causal ? 2.0 : 1.0);
    const double pk = median(peaks), ma = median(a), mb = median(b);
    // CPU time is summed over threads: GFLOP/s per core = flops / CPU seconds
    std::printf("%s\n {\"L\": %lld, \"oldMs\": %.4f, \"newMs\": %.4f, \"newOverOld\": %.4f, \"oldMinMs\": %.4f, \"newMinMs\": %.4f, \"oldPctPeak\": %.1f, \"newPctPeak\": %.1f, "
                "\"peakGflopsCpu\": %.1f, \"reps\": %d, \"maxAbsDiff\": %.3g, \"oldSamples\": [",
                li ? "," : "", (long long)L, ma * 1e3, mb * 1e3, mb / ma, *std::min_element(a.begin(), a.end()) * 1e3, *std::min_element(b.begin(), b.end()) * 1e3, 100.0 * flops / ma / 1e9 / pk, 100.0 * flops / mb / 1e9 / pk, pk,
                reps, maxDiff);
    for (size_t i = 0; i < a.size(); i++) std::printf("%s%.4f", i ? ", " : "", a[i] * 1e3);
    std::printf("], \"newSamples\": [");
    for (size_t i = 0; i < b.size(); i++) std::printf("%s%.4f", i ? ", " : "", b[i] * 1e3);
    std::printf("], \"peaks\": [");
    for (size_t i = 0; i < peaks.size(); i++) std::printf("%s%.1f", i ? ", " : "", peaks[i]);
    std::printf("]}");
    std::fflush(stdout);
  }
  std::printf("\n]}\n");
  return 0;
}
