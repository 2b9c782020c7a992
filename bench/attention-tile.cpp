// The roofline of the fused attention forward on one core, measured on the process CPU clock in
// one process: the FMA peak (native/peak.cpp's chains), the whole forward (attentionForward), and
// its three per-tile parts alone at the kernel's tile sizes (BQF query rows × BK keys, d = D):
//   S = (scale·Q)·Kᵀ   tileGemm, bq × bkP × D          (FMA work)
//   online softmax    onlineSoftmaxTile: max, e^(S − m), row sums, rescale of O   (the non-FMA work)
//   O += P·V          tileGemm, bq × Dv × bk           (FMA work)
// The kernel's own functions run here (attention.cpp is included), on the same data sizes as one
// (b, h) head of length L, so the parts' sum bounds what the tile loop can reach.
//
//   g++ -O3 -std=c++17 -fno-math-errno -mavx512f -mavx512bw -mavx512vl -mavx512vnni -mfma -mavx2 \
//     -mprefer-vector-width=512 -DHEED_NS=avx512 '-DHEED_ISA_NAME="avx512"' -Inative \
//     bench/attention-tile.cpp native/threadpool.cpp -o /tmp/attention-tile -lpthread
//   /tmp/attention-tile [L ...]        (prints one JSON object)
//   /tmp/attention-tile --tiny [L ...] (the training step's shapes: B 64, H 4, d 64 through (B, L, H·d)
//                                       strides, dropout 0.1, key lengths; CPU µs per forward and
//                                       backward call, medians of 9 samples; 1 thread)
#include <time.h>
#include <x86intrin.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#define HEED_ATT_PROFILE 1
#ifndef HEED_TILE_DQ
#define HEED_TILE_DQ true
#endif
#include "../native/attention.cpp"
#include "../native/peak.cpp"
#include "attention-bench.h"

using namespace heed;
using heed_bench::cpuSeconds;
using heed_bench::randoms;
using namespace heed::HEED_NS;

namespace {

// Median over 7 samples of the CPU seconds per call of f, each sample `reps` calls.
template <class F>
double perCall(F&& f, int reps) {
  std::vector<double> xs;
  f();
  for (int s = 0; s < 7; s++) {
    double t0 = cpuSeconds();
    for (int i = 0; i < reps; i++) f();
    xs.push_back((cpuSeconds() - t0) / reps);
  }
  std::sort(xs.begin(), xs.end());
  return xs[3];
}

}  // namespace

// The training step's attention at tiny L (B 64, H 4, d 64, heads read through (B, L, H·d) strides,
// dropout 0.1, encoder-style key lengths): CPU µs per forward and backward call (medians of 9 samples,
// forward and backward alternating), and the forward's FLOPs.
int tinyMain(const std::vector<int64_t>& lengths) {
  std::printf("{\"mode\": \"tiny\", \"isa\": \"%s\", \"rows\": [", HEED_ISA_NAME);
  for (size_t li = 0; li < lengths.size(); li++) {
    const int64_t L = lengths[li], B = 64, H = 4, D = 64;
    AttentionParams p{};
    p.B = B; p.H = H; p.Hkv = H; p.Lq = L; p.Lk = L; p.D = D; p.Dv = D;
    p.qL = {L * H * D, D, H * D}; p.kL = p.qL; p.vL = p.qL; p.oL = p.qL;
    p.scale = 0.125f;
    p.dropoutP = 0.1f;
    p.dropoutSeed = 7;
    std::vector<int32_t> lens(B);
    for (int64_t b = 0; b < B; b++) lens[b] = int32_t(std::max<int64_t>(1, L - (b * 7) % (2 * L / 3 + 1)));
    p.keyLengths = lens.data();
    const size_t n = size_t(B * L * H * D);
    auto q = randoms(n, 1), k = randoms(n, 2), v = randoms(n, 3), dOut = randoms(n, 4);
    std::vector<float> out(n), lse(B * H * L), dq(n), dk(n), dv(n);
    auto fwd = [&] { attentionForward(p, q.data(), k.data(), v.data(), out.data(), lse.data()); };
    auto bwd = [&] { attentionBackward(p, q.data(), k.data(), v.data(), out.data(), dOut.data(), lse.data(), dq.data(), dk.data(), dv.data()); };
    std::vector<double> f, g;
    for (int s = 0; s < 9; s++) {
      f.push_back(perCall(fwd, 20));
      g.push_back(perCall(bwd, 10));
    }
    std::sort(f.begin(), f.end());
    std::sort(g.begin(), g.end());
    const double flops = 4.0 * double(B * H) * double(L) * double(L) * double(D);
    std::printf("%s\n {\"L\": %lld, \"B\": %lld, \"H\": %lld, \"D\": %lld, \"fwdUs\": %.2f, \"bwdUs\": %.2f, \"fwdGflop\": %.4f}",
                li ? "," : "", (long long)L, (long long)B, (long long)H, (long long)D, f[4] * 1e6, g[4] * 1e6, flops / 1e9);
  }
  std::printf("\n]}\n");
  return 0;
}

// Per query tile, inside whole calls of the forward (B 1, H heads, d 64, non-causal unless --causal): each
// tile's ticks and thread CPU time, which thread ran it in which order, whether it transposed Kᵀ, and
// each key tile's ticks. Writes one CSV line per tile (--csv FILE) and prints each group's
// median CPU µs: the tail's tiles by what they have in common (first tile of a head on a thread, the
// k-th tile after it, position of the key tile, preempted or not).
int tilesMain(int argc, char** argv) {
  int threads = 1, calls = 20;
  int64_t H = 12;
  bool causal = false;
  std::string csv;
  std::vector<int64_t> lengths;
  for (int i = 2; i < argc; i++) {
    std::string a = argv[i];
    if (a == "--threads") threads = std::atoi(argv[++i]);
    else if (a == "--heads") H = std::atoll(argv[++i]);
    else if (a == "--calls") calls = std::atoi(argv[++i]);
    else if (a == "--causal") causal = true;
    else if (a == "--csv") csv = argv[++i];
    else lengths.push_back(std::atoll(a.c_str()));
  }
  if (lengths.empty()) lengths = {1024};
  poolResize(threads);
  FILE* f = csv.empty() ? nullptr : std::fopen(csv.c_str(), "w");
  if (f) std::fprintf(f, "L,call,thread,bh,qt,seq,ktNew,startUs,tscUs,cpuUs,ktUs,preUs,qkUs,pvUs,keyTileUs\n");
  // rdtsc ticks per µs, against CLOCK_MONOTONIC
  timespec w0, w1;
  clock_gettime(CLOCK_MONOTONIC, &w0);
  const double tsc0 = double(__rdtsc());
  { volatile float sink = fmaChains(2000000); (void)sink; }
  clock_gettime(CLOCK_MONOTONIC, &w1);
  const double cyc = (double(__rdtsc()) - tsc0) / (double(w1.tv_sec - w0.tv_sec) * 1e6 + 1e-3 * double(w1.tv_nsec - w0.tv_nsec));
  std::printf("{\"mode\": \"tiles\", \"threads\": %d, \"H\": %lld, \"calls\": %d, \"tscPerUs\": %.1f, \"rows\": [", threads, (long long)H, calls, cyc);
  for (size_t li = 0; li < lengths.size(); li++) {
    const int64_t L = lengths[li], D = 64;
    AttentionParams p{};
    p.B = 1; p.H = H; p.Hkv = H; p.Lq = L; p.Lk = L; p.D = D; p.Dv = D;
    p.qL = {H * L * D, L * D, D}; p.kL = p.qL; p.vL = p.qL; p.oL = p.qL;
    p.scale = 0.125f;
    p.causal = causal;
    auto q = randoms(H * L * D, 1), k = randoms(H * L * D, 2), v = randoms(H * L * D, 3);
    std::vector<float> out(H * L * D), lse(H * L);
    auto fwd = [&] { attentionForward(p, q.data(), k.data(), v.data(), out.data(), lse.data()); };
    for (int i = 0; i < 3; i++) fwd();
    const int64_t nqt = (L + BQF - 1) / BQF;
    tileRecords.assign(size_t(calls * H * nqt), TileRecord{});
    std::vector<size_t> callEnd;
    tileRecordCount = 0;
    std::vector<double> callCpu;
    for (int c = 0; c < calls; c++) {
      const double c0 = cpuSeconds();
      fwd();
      callCpu.push_back(1e6 * (cpuSeconds() - c0));
      callEnd.push_back(tileRecordCount.load());
    }
    const size_t n = std::min(tileRecords.size(), tileRecordCount.load());
    // µs on each clock; "preempted": the tile's wall time exceeds its CPU time by > 20 µs
    std::vector<double> all, clean, cpuAll;
    std::vector<std::vector<double>> byAfterSwitch(17), byKeyTileFirst(64), byKeyTileOther(64);
    std::vector<int32_t> lastBh(kMaxThreads, -1), sinceSwitch(kMaxThreads, 0);
    size_t preempted = 0, ci = 0;
    for (size_t i = 0; i < n; i++) {
      while (ci < callEnd.size() && i >= callEnd[ci]) ci++;
      const TileRecord& r = tileRecords[i];
      const double wall = double(r.tsc) / cyc, cpu = 1e-3 * double(r.cpuNs);
      // tiles per thread in order: the k-th tile since this thread last changed head
      if (r.bh != lastBh[r.thread]) sinceSwitch[r.thread] = 0, lastBh[r.thread] = r.bh;
      else sinceSwitch[r.thread]++;
      const int k = std::min(sinceSwitch[r.thread], 16);
      if (f) {
        std::fprintf(f, "%lld,%zu,%d,%d,%d,%d,%d,%.3f,%.3f,%.3f,%.3f,%.3f,%.3f,%.3f,", (long long)L, ci, r.thread, r.bh, r.qt, r.seq,
                     r.ktNew, double(r.start) / cyc, wall, cpu, double(r.ktTicks) / cyc, double(r.preTicks) / cyc,
                     double(r.qkTicks) / cyc, double(r.pvTicks) / cyc);
        for (int j = 0; j < r.nkt; j++) std::fprintf(f, "%s%.3f", j ? " " : "", double(r.keyTile[j]) / cyc);
        std::fprintf(f, "\n");
      }
      cpuAll.push_back(cpu);
      if (wall - cpu > 20) { preempted++; continue; }
      all.push_back(cpu);
      byAfterSwitch[k].push_back(cpu);
      for (int j = 0; j < r.nkt; j++) (r.ktNew ? byKeyTileFirst : byKeyTileOther)[j].push_back(double(r.keyTile[j]) / cyc);
    }
    auto q10 = [](std::vector<double> x, double fr) {
      if (x.empty()) return 0.0;
      std::sort(x.begin(), x.end());
      return x[std::min(x.size() - 1, size_t(fr * double(x.size())))];
    };
    double sum = 0;
    for (double x : cpuAll) sum += x;
    std::printf("%s\n {\"L\": %lld, \"tiles\": %zu, \"preempted\": %zu, \"callCpuUsMedian\": %.1f, \"tileCpuUsSum\": %.1f, "
                "\"tileCpuUs\": [%.2f, %.2f, %.2f, %.2f], \"afterHeadSwitchCpuUsP50P90\": [",
                li ? "," : "", (long long)L, n, preempted, q10(callCpu, 0.5), sum / calls, q10(all, 0.1), q10(all, 0.5),
                q10(all, 0.9), q10(all, 0.99));
    for (int k = 0; k <= 16; k++)
      if (!byAfterSwitch[k].empty())
        std::printf("%s[%d, %zu, %.2f, %.2f]", k ? ", " : "", k, byAfterSwitch[k].size(), q10(byAfterSwitch[k], 0.5), q10(byAfterSwitch[k], 0.9));
    std::printf("], \"keyTileUsP50P90\": {\"ktNew\": [");
    for (int j = 0; j < 64 && !byKeyTileFirst[j].empty(); j++)
      std::printf("%s[%.2f, %.2f]", j ? ", " : "", q10(byKeyTileFirst[j], 0.5), q10(byKeyTileFirst[j], 0.9));
    std::printf("], \"other\": [");
    for (int j = 0; j < 64 && !byKeyTileOther[j].empty(); j++)
      std::printf("%s[%.2f, %.2f]", j ? ", " : "", q10(byKeyTileOther[j], 0.5), q10(byKeyTileOther[j], 0.9));
    std::printf("]}}");
    std::fflush(stdout);
  }
  std::printf("\n]}\n");
  if (f) std::fclose(f);
  return 0;
}

int main(int argc, char** argv) {
  poolResize(1);
  if (argc > 1 && std::string(argv[1]) == "--tiles") return tilesMain(argc, argv);
  if (argc > 1 && std::string(argv[1]) == "--tiny") {
    std::vector<int64_t> lengths;
    for (int i = 2; i < argc; i++) lengths.push_back(std::atoll(argv[i]));
    if (lengths.empty()) lengths = {12, 32};
    return tinyMain(lengths);
  }
  std::vector<int64_t> lengths;
  for (int i = 1; i < argc; i++) lengths.push_back(std::atoll(argv[i]));
  if (lengths.empty()) lengths = {1024, 2048};
  const int64_t D = 64;
  // FMA peak on this clock: 12 chains × W lanes × 2 flops, 2 steps per iteration
  const int64_t iters = 20000000;
  double peak = 0;
  {
    volatile float sink = fmaChains(iters / 20);
    std::vector<double> g;
    for (int s = 0; s < 3; s++) {
      double t0 = cpuSeconds();
      sink = sink + fmaChains(iters);
      g.push_back(double(iters) * 2 * kChains * W * 2.0 / (cpuSeconds() - t0) / 1e9);
    }
    std::sort(g.begin(), g.end());
    peak = g[1];
  }
  std::printf("{\"isa\": \"%s\", \"W\": %d, \"BQF\": %lld, \"BK\": %lld, \"D\": %lld, \"peakGflopsCpu\": %.1f, \"rows\": [", HEED_ISA_NAME, W,
              (long long)BQF, (long long)BK, (long long)D, peak);
  for (size_t li = 0; li < lengths.size(); li++) {
    const int64_t L = lengths[li];
    AttentionParams p{};
    p.B = 1; p.H = std::getenv("HEED_TILE_H") ? std::atoll(std::getenv("HEED_TILE_H")) : 4; p.Hkv = p.H; p.Lq = L; p.Lk = L; p.D = D; p.Dv = D;
    p.qL = {p.H * L * D, L * D, D}; p.kL = p.qL; p.vL = p.qL; p.oL = p.qL;
    p.scale = 0.125f;
    auto q = randoms(p.H * L * D, 1), k = randoms(p.H * L * D, 2), v = randoms(p.H * L * D, 3);
    std::vector<float> out(p.H * L * D), lse(p.H * L);
    const double flops = 4.0 * double(p.H) * double(L) * double(L) * double(D);
    // the whole forward, alternating the softmax's exp2 (DQ reduce + degree 5 vs round + degree 7) sample by sample
    std::vector<double> fullDq, fullNoDq;
    for (int s = 0; s < 5; s++) {
      useDq = true;
      fullDq.push_back(perCall([&] { attentionForward(p, q.data(), k.data(), v.data(), out.data(), lse.data()); }, 1));
      useDq = false;
      fullNoDq.push_back(perCall([&] { attentionForward(p, q.data(), k.data(), v.data(), out.data(), lse.data()); }, 1));
    }
    std::sort(fullDq.begin(), fullDq.end());
    std::sort(fullNoDq.begin(), fullNoDq.end());
    useDq = HEED_TILE_DQ;
    const double full = HEED_TILE_DQ ? fullDq[2] : fullNoDq[2];
    // The whole forward's time by phase: rdtsc around each phase inside forwardTile, the median
    // sample of each phase (per key tile for qk, softmax, pv; per query tile for the rest)
    fwdProfile = ForwardProfile{};
    for (int i = 0; i < 5; i++) attentionForward(p, q.data(), k.data(), v.data(), out.data(), lse.data());
    ForwardProfile fp = fwdProfile;
    auto total = [](const std::vector<uint64_t>& x) {
      double t = 0;
      for (uint64_t v : x) t += double(v);
      return t;
    };
    // every phase's summed ticks per query tile (preemptions included), beside the call's CPU time
    const double nqTiles = double(fp.setup.size());
    const double sumPerQueryTile = (total(fp.setup) + total(fp.kt) + total(fp.qk) + total(fp.soft) + total(fp.pv) + total(fp.finish)) / nqTiles;
    auto med = [](std::vector<uint64_t>& x) {
      std::sort(x.begin(), x.end());
      return x.empty() ? 0.0 : double(x[x.size() / 2]);
    };
    // mean of the samples under 3× the median: preemptions (ms) left out, slow minorities kept
    auto trimmed = [&](std::vector<uint64_t>& x) {
      const double m = med(x);
      double t = 0, n = 0;
      for (uint64_t v : x) if (double(v) < 3 * m) t += double(v), n++;
      return n ? t / n : 0.0;
    };
    const double keyTilesPerQueryTile = double(fp.qk.size()) / double(fp.setup.size());
    // Kᵀ is transposed key tile by key tile during each head's first query tile (the other tiles
    // find it cached): the median of the samples that transposed (> 500 ticks), times their count
    std::vector<uint64_t> ktBusy;
    for (uint64_t x : fp.kt) if (x > 500) ktBusy.push_back(x);
    const double ktPerQueryTile = med(ktBusy) * double(ktBusy.size()) / double(fp.setup.size());
    // (rdtsc is a wall clock: calibrate it against CLOCK_MONOTONIC)
    timespec w0, w1;
    clock_gettime(CLOCK_MONOTONIC, &w0);
    const double tsc0 = double(__rdtsc());
    { volatile float sink2 = fmaChains(iters / 10); (void)sink2; }
    clock_gettime(CLOCK_MONOTONIC, &w1);
    const double tscPerSec = (double(__rdtsc()) - tsc0) / (double(w1.tv_sec - w0.tv_sec) + 1e-9 * double(w1.tv_nsec - w0.tv_nsec));
    // The parts, on one head's data: Kᵀ (D × ldkt), a query tile scaled, all key tiles of the head
    const int64_t ldkt = transposedLd(L), bkP = BK, bq = BQF;
    std::vector<float> kt(D * ldkt);
    transposePad(k.data(), L, D, D, kt.data(), ldkt);
    std::vector<float> qs(bq * D), S(bq * bkP), O(bq * D, 0.f), ml(bq + bq * W);
    scaleRows(q.data(), bq * D, p.scale, qs.data());
    const int64_t tiles = L / BK;
    const double tS = perCall([&] {
      for (int64_t j0 = 0; j0 < L; j0 += BK) tileGemm(bq, bkP, D, qs.data(), D, 1, kt.data() + j0, ldkt, S.data(), bkP, false);
    }, 20) / double(tiles);
    const double tPV = perCall([&] {
      for (int64_t j0 = 0; j0 < L; j0 += BK) tileGemm(bq, D, BK, S.data(), bkP, 1, v.data() + j0 * D, D, O.data(), D, true);
    }, 20) / double(tiles);
    // the fused score + softmax pass alone (the kernel's path without mask or ALiBi; unscaled Kᵀ: the short heads' variant), all key tiles of the head
    double tFused = 0;
    if (kFusedScores) {
      std::vector<int64_t> lims(bq, BK);
      std::vector<float> m2(bq, -INFINITY), lv2(bq * W, 0.f), P2(bq * bkP);
      scoreSoftmaxTile<HEED_TILE_DQ, false>(q.data(), D, D, p.scale * kLog2e, kt.data(), ldkt, bq, bkP, lims.data(), P2.data(), m2.data(), lv2.data(), O.data(), D, true);
      tFused = perCall([&] {
        for (int64_t j0 = 0; j0 < L; j0 += BK)
          scoreSoftmaxTile<HEED_TILE_DQ, false>(q.data(), D, D, p.scale * kLog2e, kt.data() + j0, ldkt, bq, bkP, lims.data(), P2.data(), m2.data(), lv2.data(), O.data(), D, false);
      }, 20) / double(tiles);
    }
    // softmax on real scores: recompute S once, then time the step with every row's reference max
    // far below its scores (every row rescales O: the worst case) and at the row's max (the steady
    // state: no rescale), the latter also with the other exp2 (DQ or not)
    tileGemm(bq, bkP, D, qs.data(), D, 1, kt.data(), ldkt, S.data(), bkP, false);
    std::vector<float> S0 = S, rowMax(bq);
    for (int64_t r = 0; r < bq; r++) rowMax[r] = *std::max_element(S0.begin() + r * bkP, S0.begin() + (r + 1) * bkP);
    float* m = ml.data();
    float* lv = m + bq;
    std::fill(lv, lv + bq * W, 1.f);
    const double tSoftReset = perCall([&] {
      std::copy(S0.begin(), S0.end(), S.begin());
      std::fill(m, m + bq, -100.f);
      onlineSoftmaxTile<HEED_TILE_DQ>(S.data(), bq, bkP, m, lv, O.data(), D, false);
    }, 200);
    const double tCopy = perCall([&] { std::copy(S0.begin(), S0.end(), S.begin()); }, 200);
    std::copy(rowMax.begin(), rowMax.end(), m);
    const double tSoftSteady = perCall([&] {
      std::copy(S0.begin(), S0.end(), S.begin());
      onlineSoftmaxTile<HEED_TILE_DQ>(S.data(), bq, bkP, m, lv, O.data(), D, false);
    }, 200);
    const double tSoftSteadyNoDq = perCall([&] {
      std::copy(S0.begin(), S0.end(), S.begin());
      onlineSoftmaxTile<!HEED_TILE_DQ>(S.data(), bq, bkP, m, lv, O.data(), D, false);
    }, 200);
    const double tileFlops = 2.0 * double(bq) * double(BK) * double(D) * 2.0;
    const double soft = tSoftSteady - tCopy, softWorst = tSoftReset - tCopy;
    const double cyc = tscPerSec * 1e-6;  // TSC ticks per µs
    std::printf("%s\n {\"L\": %lld, \"inCallMedianUs\": {\"tscPerUs\": %.1f, \"keyTilesPerQueryTile\": %.0f, "
                "\"qkPerTile\": %.4f, \"softPerTile\": %.4f, \"pvPerTile\": %.4f, \"setupPerQueryTile\": %.4f, "
                "\"ktPerQueryTile\": %.4f, \"finishPerQueryTile\": %.4f, \"phaseSumsPerQueryTile\": %.4f, \"cpuPerQueryTile\": %.4f, "
                "\"trimmedMeanUs\": {\"tilePerQueryTile\": %.4f, \"prefetchPerKeyTile\": %.4f, \"ktPerKeyTile\": %.4f, \"qkPerTile\": %.4f, \"softPerTile\": %.4f, \"pvPerTile\": %.4f, \"setupPerQueryTile\": %.4f, \"finishPerQueryTile\": %.4f}},",
                li ? "," : "", (long long)L, cyc, keyTilesPerQueryTile, med(fp.qk) / cyc, med(fp.soft) / cyc, med(fp.pv) / cyc,
                med(fp.setup) / cyc, ktPerQueryTile / cyc, med(fp.finish) / cyc, sumPerQueryTile / cyc,
                full * 1e6 / (double(p.H) * double((L + BQF - 1) / BQF)), trimmed(fp.tile) / cyc, trimmed(fp.pre) / cyc, trimmed(fp.kt) / cyc, trimmed(fp.qk) / cyc, trimmed(fp.soft) / cyc,
                trimmed(fp.pv) / cyc, trimmed(fp.setup) / cyc, trimmed(fp.finish) / cyc);
    // each phase's distribution (µs): p10 / p50 / p90 / p99 / mean of all samples / count, to see tails
    auto dist = [&](const char* name, std::vector<uint64_t> x, bool last) {
      std::sort(x.begin(), x.end());
      double t = 0;
      for (uint64_t v : x) t += double(v);
      auto at = [&](double f) { return x.empty() ? 0.0 : double(x[std::min(x.size() - 1, size_t(f * double(x.size())))]) / cyc; };
      std::printf("\"%s\": [%.3f, %.3f, %.3f, %.3f, %.3f, %zu]%s", name, at(0.1), at(0.5), at(0.9), at(0.99),
                  x.empty() ? 0.0 : t / double(x.size()) / cyc, x.size(), last ? "}," : ", ");
    };
    std::printf(" \"distUs\": {");
    dist("tile", fp.tile, false);
    dist("qk", fp.qk, false);
    dist("soft", fp.soft, false);
    dist("pv", fp.pv, false);
    dist("pre", fp.pre, false);
    dist("kt", fp.kt, false);
    dist("setup", fp.setup, false);
    dist("finish", fp.finish, true);
    std::printf(" \"abExp2\": {\"fullMsDq\": %.4f, \"fullMsNoDq\": %.4f, \"softUsSteadyOther\": %.4f},",
                fullDq[2] * 1e3, fullNoDq[2] * 1e3, (tSoftSteadyNoDq - tCopy) * 1e6);
    std::printf(" \"heads\": %lld, \"fullMs\": %.4f, \"fullPctPeak\": %.1f, "
                "\"perTileUs\": {\"qk\": %.4f, \"softmaxSteady\": %.4f, \"softmaxRescaleAll\": %.4f, \"pv\": %.4f, \"fusedQkSoftmax\": %.4f}, "
                "\"gemmPartsPctPeak\": %.1f, \"tileBoundPctPeak\": %.1f, \"fusedTileBoundPctPeak\": %.1f, \"softmaxShareOfTile\": %.3f, "
                "\"softmaxNsPerScore\": %.4f, \"fmaNsPerScoreAtPeak\": %.4f}",
                (long long)p.H, full * 1e3, 100.0 * flops / full / 1e9 / peak, tS * 1e6, soft * 1e6,
                softWorst * 1e6, tPV * 1e6, tFused * 1e6, 100.0 * tileFlops / (tS + tPV) / 1e9 / peak,
                100.0 * tileFlops / (tS + soft + tPV) / 1e9 / peak, tFused > 0 ? 100.0 * tileFlops / (tFused + tPV) / 1e9 / peak : 0.0, soft / (tS + soft + tPV), soft * 1e9 / double(bq * BK),
                4.0 * double(D) / peak);
  }
  std::printf("\n]}\n");
  return 0;
}
