// A/B of two versions of native/attention_small.cpp (the training step's tiny-head attention) in one
// process, on the process CPU clock, calls interleaved sample by sample (a loaded machine shifts both
// sides alike): this tree's file (namespace avx512) against another version compiled into namespace
// avx512old (e.g. `git show main:native/attention_small.cpp`). The step's calls: B 64, H 4, d 64,
// (B, L, H·d) strides, dropout 0.1, key lengths (the encoder's and cross attention's) and, with
// --causal, the decoder's causal mask on top.
//
//   git show main:native/attention_small.cpp > /tmp/attention-small-old.cpp
//   F="-O3 -std=c++17 -fno-math-errno -mavx512f -mavx512bw -mavx512vl -mavx512vnni -mavx512dq -mfma -mavx2 -mprefer-vector-width=512 -Inative"
//   g++ $F -DHEED_NS=avx512old -c /tmp/attention-small-old.cpp -o /tmp/atts-old.o
//   g++ $F -DHEED_NS=avx512 -c native/attention_small.cpp -o /tmp/atts-new.o
//   g++ $F -DHEED_NS=avx512 '-DHEED_ISA_NAME="avx512"' bench/attention-small-ab.cpp native/threadpool.cpp /tmp/atts-old.o /tmp/atts-new.o -o /tmp/attention-small-ab -lpthread
//   /tmp/attention-small-ab [--threads 1] [--batch 64] [--heads 4] [--causal] [--forward] [--rounds 15] [L ...]
//
// Prints one JSON object: per L, each side's median CPU µs per (b, head) and per call, and the largest
// difference between the two sides' outputs (dq, dk, dv; or out and lse with --forward).
#include <time.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "../native/common.h"
#include "../native/kernels.h"
#include "../native/threadpool.h"
#include "attention-bench.h"

namespace heed {
namespace avx512 {
bool attentionForwardSmall(const AttentionParams& p, const float* q, const float* k, const float* v, float* out, float* lse);
bool attentionBackwardSmall(const AttentionParams& p, const float* q, const float* k, const float* v, const float* out,
                            const float* dOut, const float* lse, float* dq, float* dk, float* dv);
}  // namespace avx512
namespace avx512old {
bool attentionForwardSmall(const AttentionParams& p, const float* q, const float* k, const float* v, float* out, float* lse);
bool attentionBackwardSmall(const AttentionParams& p, const float* q, const float* k, const float* v, const float* out,
                            const float* dOut, const float* lse, float* dq, float* dk, float* dv);
}  // namespace avx512old
}  // namespace heed

using namespace heed;
using heed_bench::cpuSeconds;
using heed_bench::median;
using heed_bench::randoms;

namespace {
double maxDiff(const std::vector<float>& a, const std::vector<float>& b) {
  double m = 0;
  for (size_t i = 0; i < a.size(); i++)
    if (!(a[i] == b[i])) m = std::max(m, std::isfinite(a[i]) ? double(std::fabs(a[i] - b[i])) : INFINITY);
  return m;
}
}  // namespace

int main(int argc, char** argv) {
  heed_bench::Args defaults;
  defaults.rounds = 15;
  defaults.heads = 4;
  defaults.batch = 64;
  defaults.lengths = {12};
  const heed_bench::Args args = heed_bench::parseArgs(argc, argv, defaults, {"--causal", "--forward"});
  const int threads = args.threads, rounds = args.rounds;
  const int64_t H = args.heads, B = args.batch;
  const bool causal = args.has("--causal"), forward = args.has("--forward");
  const std::vector<int64_t>& lengths = args.lengths;
  poolResize(threads);
  const int64_t D = 64;
  std::printf("{\"threads\": %d, \"B\": %lld, \"H\": %lld, \"D\": %lld, \"causal\": %s, \"forward\": %s, \"rows\": [", threads,
              (long long)B, (long long)H, (long long)D, causal ? "true" : "false", forward ? "true" : "false");
  for (size_t li = 0; li < lengths.size(); li++) {
    const int64_t L = lengths[li];
    AttentionParams p{};
    p.B = B; p.H = H; p.Hkv = H; p.Lq = L; p.Lk = L; p.D = D; p.Dv = D;
    p.qL = {L * H * D, D, H * D}; p.kL = p.qL; p.vL = p.qL; p.oL = p.qL;
    p.scale = 0.125f;
    p.causal = causal;
    p.dropoutP = 0.1f;
    p.dropoutSeed = 7;
    std::vector<int32_t> lens(B);
    for (int64_t b = 0; b < B; b++) lens[b] = int32_t(std::max<int64_t>(1, L - (b * 7) % (L / 3 + 1)));
    p.keyLengths = lens.data();
    const size_t n = size_t(B * H * L * D);
    auto q = randoms(n, 1), k = randoms(n, 2), v = randoms(n, 3), dO = randoms(n, 4);
    std::vector<float> out(n), lse(B * H * L), outB(n), lseB(B * H * L);
    avx512old::attentionForwardSmall(p, q.data(), k.data(), v.data(), out.data(), lse.data());
    std::vector<float> dqA(n), dkA(n), dvA(n), dqB(n), dkB(n), dvB(n);
    auto fOld = [&] {
      if (forward) avx512old::attentionForwardSmall(p, q.data(), k.data(), v.data(), out.data(), lse.data());
      else avx512old::attentionBackwardSmall(p, q.data(), k.data(), v.data(), out.data(), dO.data(), lse.data(), dqA.data(), dkA.data(), dvA.data());
    };
    auto fNew = [&] {
      if (forward) avx512::attentionForwardSmall(p, q.data(), k.data(), v.data(), outB.data(), lseB.data());
      else avx512::attentionBackwardSmall(p, q.data(), k.data(), v.data(), out.data(), dO.data(), lse.data(), dqB.data(), dkB.data(), dvB.data());
    };
    fOld();
    fNew();
    double diff = forward ? std::max(maxDiff(out, outB), maxDiff(lse, lseB))
                          : std::max(maxDiff(dqA, dqB), std::max(maxDiff(dkA, dkB), maxDiff(dvA, dvB)));
    double t0 = cpuSeconds();
    for (int r = 0; r < 10; r++) fNew();
    const double one = std::max(1e-7, (cpuSeconds() - t0) / 10);
    const int reps = std::max(1, int(0.03 / one));  // calls per sample: ~30 ms of CPU
    std::vector<double> a, b;
    heed_bench::interleave(rounds, reps, fOld, fNew, a, b, [](int) {});
    int faster = 0;
    for (size_t i = 0; i < a.size(); i++) faster += b[i] < a[i];
    const double per = 1e6 / double(B * H), ma = median(a), mb = median(b);
    std::printf("%s\n {\"L\": %lld, \"oldUsPerHead\": %.4f, \"newUsPerHead\": %.4f, \"newOverOld\": %.4f, \"oldMsPerCall\": %.4f, "
                "\"newMsPerCall\": %.4f, \"newFasterRounds\": %d, \"rounds\": %d, \"reps\": %d, \"maxAbsDiff\": %.3g}",
                li ? "," : "", (long long)L, ma * per, mb * per, mb / ma, ma * 1e3, mb * 1e3, faster, rounds, reps, diff);
    std::fflush(stdout);
  }
  std::printf("\n]}\n");
  return 0;
}
