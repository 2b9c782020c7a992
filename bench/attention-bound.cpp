// The measured bound of the fused attention forward (non-causal, d 64, B 1 H 12 as bench/index.ts
// runs it), in one process on the process CPU clock, samples interleaved round by round:
//   (a) the kernel as shipped: attentionForward (native/attention.cpp, included below, namespace avx512);
//   (b) the same kernel with the softmax work removed: native/attention.cpp compiled again with
//       -DHEED_ATT_NO_SOFTMAX into namespace avx512gemm. Its softmaxRows only stores the Q·Kᵀ
//       accumulators as P, so the call runs the kernel's two tile GEMMs (S = Q·Kᵀ in the fused
//       register blocks, O += P·V by tileGemm) with the same tiles, Kᵀ packing, hand-out, prefetches,
//       loads and stores; its outputs are not attention (P is not normalised);
//   (c) the softmax's per-element work alone: the kernel's own softmaxRows (mask, 2^(c·s − m) by the
//       kernel's exp2, row sums, the sum check, and on a query tile's first key tile the row max and
//       lazy-rescale test) on 3-row × 128-key blocks of real scores (c·s, as the FMA loop leaves them) loaded from an L1-resident 12 KB
//       source, storing P into a tile of the kernel's size, in the kernel's row blocking (3-row blocks,
//       4 leftover rows as 2 + 2), for as many (query tile, key tile) pairs as one call runs;
//   (d) the two GEMM micro-kernels alone on resident tiles (scoreBlock's 3 × 128 blocks, stored as P, and
//       tileGemm's P·V, on one Kᵀ and one V tile that stay put): what (b)'s GEMMs reach without Kᵀ and V
//       arriving from L2/L3, the transposition, the hand-out and the prefetches;
//   (p) the FMA probe (native/peak.cpp), per core on the CPU clock.
// (a), (b) and the probe on the process CPU clock (all threads, the pool's waits included); (c) and (d) on
// their thread's CPU clock. The bound: (b)'s CPU time (the GEMM FLOPs at the efficiency they reach inside this kernel) plus (c)'s
// (the softmax work at the rate it runs alone: added, as if it shared no cycle with the GEMMs).
//
//   F="-O3 -std=c++17 -fno-math-errno -mavx512f -mavx512bw -mavx512vl -mavx512vnni -mfma -mavx2 -mprefer-vector-width=512 -Inative"
//   g++ $F -DHEED_NS=avx512gemm -DHEED_ATT_NO_SOFTMAX -c native/attention.cpp -o /tmp/att-gemm.o
//   g++ $F -DHEED_NS=avx512gemm -c native/attention_small.cpp -o /tmp/att-small-gemm.o
//   g++ $F -DHEED_NS=avx512 -c native/attention_small.cpp -o /tmp/att-small.o
//   g++ $F -DHEED_NS=avx512 '-DHEED_ISA_NAME="avx512"' bench/attention-bound.cpp native/threadpool.cpp \
//     /tmp/att-gemm.o /tmp/att-small-gemm.o /tmp/att-small.o -o /tmp/attention-bound -lpthread
//   /tmp/attention-bound [--threads 1] [--heads 12] [--batch 1] [--rounds 11] [L ...]   (one JSON object)
//   HEED_AB_SAMPLE_S: CPU seconds per sample (default 0.05).
#include <time.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "../native/attention.cpp"
#include "../native/peak.cpp"
#include "attention-bench.h"

namespace heed {
namespace avx512gemm {
void attentionForward(const AttentionParams& p, const float* q, const float* k, const float* v, float* out, float* lse);
}
}  // namespace heed

using namespace heed;
using heed_bench::cpuSeconds;
using heed_bench::median;
using heed_bench::randoms;

namespace {

double threadSeconds() {
  timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return double(t.tv_sec) + 1e-9 * double(t.tv_nsec);
}

constexpr int64_t kKeys = 128;  // the kernel's key tile (BK) at d 64: 8 vectors, 3-row blocks
static_assert(avx512::BK == kKeys, "the softmax replay assumes 128-key tiles");
constexpr int kSrcRows = 24;
constexpr float kC = 0.125f * avx512::kLog2e;  // the score scale (base 2) at d 64  // rows of real scores the replay cycles through (12 KB)

// One block of R rows: the scores from the source (as the FMA loop leaves them in registers), then the
// kernel's softmax step.
template <int R>
HEED_INLINE void softmaxBlock(const float* src, const int64_t* lim, float* P, float* m, float* lv, float* O,
                              int64_t Dv, bool first) {
  __m512 acc[R][8];
#pragma GCC unroll 8
  for (int r = 0; r < R; r++)
#pragma GCC unroll 8
    for (int v = 0; v < 8; v++) {
      acc[r][v] = _mm512_loadu_ps(src + r * kKeys + v * 16);
      asm("" : "+v"(acc[r][v]));  // in a register, as after the FMA loop (no memory operand folded into the exp)
    }
  avx512::softmaxRows<R, 8, true, true>(acc, kC, lim, P, kKeys, m, lv, O, Dv, first);  // heads > 128 keys: Fold
}

// The softmax work of one query tile of bq rows over nkt key tiles, blocked as scoreSoftmaxNV<8> blocks them.
void softmaxQueryTile(const float* src, int64_t bq, int64_t nkt, const int64_t* lim, float* P, float* m, float* lv,
                      float* O, int64_t Dv) {
  for (int64_t t = 0; t < nkt; t++) {
    const bool first = t == 0;
    int64_t r = 0;
    while (r + 3 <= bq && bq - r != 4) {
      softmaxBlock<3>(src + (r % kSrcRows) * kKeys, lim + r, P + r * kKeys, m + r, lv + r * 16, O + r * Dv, Dv, first);
      r += 3;
    }
    switch (bq - r) {
      case 4:
        softmaxBlock<2>(src + (r % kSrcRows) * kKeys, lim + r, P + r * kKeys, m + r, lv + r * 16, O + r * Dv, Dv, first);
        r += 2;
        softmaxBlock<2>(src + (r % kSrcRows) * kKeys, lim + r, P + r * kKeys, m + r, lv + r * 16, O + r * Dv, Dv, first);
        break;
      case 3: softmaxBlock<3>(src + (r % kSrcRows) * kKeys, lim + r, P + r * kKeys, m + r, lv + r * 16, O + r * Dv, Dv, first); break;
      case 2: softmaxBlock<2>(src + (r % kSrcRows) * kKeys, lim + r, P + r * kKeys, m + r, lv + r * 16, O + r * Dv, Dv, first); break;
      case 1: softmaxBlock<1>(src + (r % kSrcRows) * kKeys, lim + r, P + r * kKeys, m + r, lv + r * 16, O + r * Dv, Dv, first); break;
      default: break;
    }
  }
}

// (d): the kernel's two GEMM micro-kernels on resident tiles: a query tile of bq rows (q, packed) over nkt
// key tiles that are all the same Kᵀ tile (kt, D × 128) and V tile (128 × D): S = Q·Kᵀ by scoreBlock in the
// fused pass's blocks (3 rows × 8 vectors, 4 leftover rows as 2 + 2) stored as P, then O (+)= P·V by tileGemm,
// as forwardTiles calls it. The kernel's per-key-tile working set, with no new Kᵀ or V arriving.
template <int R>
HEED_INLINE void gemmBlock(const float* q, int64_t D, const float* kt, float* P) {
  __m512 acc[R][8];
#pragma GCC unroll 8
  for (int r = 0; r < R; r++)
#pragma GCC unroll 8
    for (int v = 0; v < 8; v++) acc[r][v] = _mm512_setzero_ps();
  avx512::scoreBlock<R, 8>(q, D, D, kt, kKeys, acc);
#pragma GCC unroll 8
  for (int r = 0; r < R; r++)
#pragma GCC unroll 8
    for (int v = 0; v < 8; v++) _mm512_storeu_ps(P + r * kKeys + v * 16, acc[r][v]);
}

void gemmQueryTile(const float* q, const float* kt, const float* V, int64_t D, int64_t bq, int64_t nkt, float* P, float* O) {
  for (int64_t t = 0; t < nkt; t++) {
    int64_t r = 0;
    while (r + 3 <= bq && bq - r != 4) gemmBlock<3>(q + r * D, D, kt, P + r * kKeys), r += 3;
    for (; r + 2 <= bq; r += 2) gemmBlock<2>(q + r * D, D, kt, P + r * kKeys);
    if (r < bq) gemmBlock<1>(q + r * D, D, kt, P + r * kKeys);
    avx512::tileGemm(bq, D, kKeys, P, kKeys, 1, V, D, O, D, t > 0);
  }
}

}  // namespace

int main(int argc, char** argv) {
  heed_bench::Args defaults;
  defaults.rounds = 11;
  defaults.lengths = {1024, 2048, 4096};
  const heed_bench::Args args = heed_bench::parseArgs(argc, argv, defaults, {});
  const int threads = args.threads, rounds = args.rounds;
  const int64_t H = args.heads, B = args.batch;
  const std::vector<int64_t>& lengths = args.lengths;
  if (!avx512::useDq) {
    std::fprintf(stderr, "attention-bound: the replay uses the AVX-512DQ exp2 (this CPU has no AVX-512DQ)\n");
    return 1;
  }
  poolResize(threads);
  const int64_t D = 64;
  auto peak = [&] { return heed_bench::cpuPeak([&] { return avx512::peakFlops(threads); }); };  // per core, CPU clock
  const double budget = std::getenv("HEED_AB_SAMPLE_S") ? std::atof(std::getenv("HEED_AB_SAMPLE_S")) : 0.05;
  std::printf("{\"threads\": %d, \"B\": %lld, \"H\": %lld, \"D\": %lld, \"rows\": [", threads, (long long)B, (long long)H, (long long)D);
  for (size_t li = 0; li < lengths.size(); li++) {
    const int64_t L = lengths[li];
    AttentionParams p{};
    p.B = B; p.H = H; p.Hkv = H; p.Lq = L; p.Lk = L; p.D = D; p.Dv = D;
    p.qL = {H * L * D, L * D, D}; p.kL = p.qL; p.vL = p.qL; p.oL = p.qL;
    p.scale = 0.125f;
    const size_t n = size_t(B * H * L * D);
    auto q = randoms(n, 1), k = randoms(n, 2), v = randoms(n, 3);
    std::vector<float> outA(n), outB(n), lse(B * H * L);
    // the kernel's query tile for this shape (attentionForward's choice)
    const bool longTiles = p.Lk * (p.D + p.Dv) * 4 > avx512::kLongTileBytes && (p.Lq + avx512::BQFLong - 1) / avx512::BQFLong >= avx512::kBlockMinTiles;
    const int64_t bq = longTiles ? avx512::BQFLong : avx512::BQF, nqt = (L + bq - 1) / bq, nkt = (L + kKeys - 1) / kKeys;
    const int64_t tilesPerCall = B * H * nqt;  // query tiles, each over nkt key tiles
    // (c)'s data: real raw scores q_i·k_j of the first kSrcRows query rows against the first key tile
    const float c = kC;  // p.scale · log2 e
    std::vector<float> src(kSrcRows * kKeys), P(bq * kKeys), m(bq), lv(bq * 16), O(bq * D, 0.f);
    for (int64_t i = 0; i < kSrcRows; i++)
      for (int64_t j = 0; j < kKeys; j++) {
        float s = 0;
        for (int64_t l = 0; l < D; l++) s += q[i * D + l] * k[j * D + l];
        src[i * kKeys + j] = c * s;  // as the FMA loop leaves them: c·s − m, and m = 0 here
      }
    std::vector<int64_t> lim(bq, kKeys);
    // (d)'s tiles: q rows of head 0, Kᵀ and V of its first key tile
    std::vector<float> ktTile(D * kKeys), vTile(kKeys * D), Pd(bq * kKeys), Od(bq * D);
    for (int64_t j = 0; j < kKeys; j++)
      for (int64_t l = 0; l < D; l++) ktTile[l * kKeys + j] = k[j * D + l], vTile[j * D + l] = v[j * D + l];
    auto fD = [&] {
      for (int64_t t = 0; t < tilesPerCall; t++) gemmQueryTile(q.data(), ktTile.data(), vTile.data(), D, bq, nkt, Pd.data(), Od.data());
    };
    auto fA = [&] { avx512::attentionForward(p, q.data(), k.data(), v.data(), outA.data(), lse.data()); };
    auto fB = [&] { avx512gemm::attentionForward(p, q.data(), k.data(), v.data(), outB.data(), lse.data()); };
    // one call's worth of softmax work, on one thread (its CPU time is what the call's threads share)
    auto fC = [&] {
      for (int64_t t = 0; t < tilesPerCall; t++) softmaxQueryTile(src.data(), bq, nkt, lim.data(), P.data(), m.data(), lv.data(), O.data(), D);
    };
    fA(), fB(), fC(), fD();
    auto repsFor = [&](auto& f) {
      const double t0 = cpuSeconds();
      f();
      return std::max(1, int(budget / std::max(1e-6, cpuSeconds() - t0)));
    };
    const int ra = repsFor(fA), rb = repsFor(fB), rc = repsFor(fC), rd = repsFor(fD);
    auto sample = [&](auto& f, int reps) {
      const double c0 = cpuSeconds();
      for (int r = 0; r < reps; r++) f();
      return (cpuSeconds() - c0) / reps;
    };
    // (c) runs on this thread alone: its own CPU clock (on 2 threads the process clock would add the
    // pool worker's wait)
    auto sampleT = [&](auto& f, int reps) {  // (c), (d): on this thread alone
      const double c0 = threadSeconds();
      for (int r = 0; r < reps; r++) f();
      return (threadSeconds() - c0) / reps;
    };
    std::vector<double> a, b, cs, ds, peaks{peak()}, ratio;
    for (int r = 0; r < rounds; r++) {
      // the order rotates so that no side always follows the probe or another side
      double ta = 0, tb = 0, tc = 0, td = 0;
      switch (r % 3) {
        case 0: ta = sample(fA, ra), tb = sample(fB, rb), tc = sampleT(fC, rc), td = sampleT(fD, rd); break;
        case 1: tb = sample(fB, rb), tc = sampleT(fC, rc), td = sampleT(fD, rd), ta = sample(fA, ra); break;
        default: tc = sampleT(fC, rc), td = sampleT(fD, rd), ta = sample(fA, ra), tb = sample(fB, rb); break;
      }
      a.push_back(ta), b.push_back(tb), cs.push_back(tc), ds.push_back(td), ratio.push_back(ta / (tb + tc));
      peaks.push_back(peak());
    }
    const double flops = 4.0 * double(B * H) * double(L) * double(L) * double(D);
    const double pk = median(peaks), ma = median(a), mb = median(b), mc = median(cs), md = median(ds);
    const double pct = 100.0 / 1e9 / pk;  // × flops / seconds: % of the per-core probe
    std::printf("%s\n {\"L\": %lld, \"queryRows\": %lld, \"queryTiles\": %lld, \"keyTiles\": %lld, "
                "\"kernelMs\": %.4f, \"gemmOnlyMs\": %.4f, \"softmaxMs\": %.4f, \"boundMs\": %.4f, "
                "\"kernelPctPeak\": %.1f, \"gemmOnlyPctPeak\": %.1f, \"boundPctPeak\": %.1f, \"softmaxShareOfBound\": %.3f, "
                "\"kernelOverBound\": %.4f, \"kernelOverBoundPaired\": %.4f, \"kernelOverGemmOnly\": %.4f, \"softmaxNsPerKeyTileRow\": %.3f, "
                "\"residentGemmMs\": %.4f, \"residentGemmPctPeak\": %.1f, \"peakGflopsCpu\": %.1f, \"reps\": [%d, %d, %d, %d],\n  \"kernelSamples\": [",
                li ? "," : "", (long long)L, (long long)bq, (long long)tilesPerCall, (long long)nkt, ma * 1e3, mb * 1e3, mc * 1e3,
                (mb + mc) * 1e3, flops / ma * pct, flops / mb * pct, flops / (mb + mc) * pct, mc / (mb + mc), ma / (mb + mc),
                median(ratio), ma / mb, mc * 1e9 / double(tilesPerCall * nkt * bq), md * 1e3, flops / md * pct, pk, ra, rb, rc, rd);
    auto list = [](const std::vector<double>& x, double s) {
      for (size_t i = 0; i < x.size(); i++) std::printf("%s%.4f", i ? ", " : "", x[i] * s);
    };
    list(a, 1e3);
    std::printf("], \"gemmOnlySamples\": [");
    list(b, 1e3);
    std::printf("], \"softmaxSamples\": [");
    list(cs, 1e3);
    std::printf("], \"residentGemmSamples\": [");
    list(ds, 1e3);
    std::printf("], \"peaks\": [");
    list(peaks, 1);
    std::printf("]}");
    std::fflush(stdout);
  }
  std::printf("\n]}\n");
  return 0;
}
