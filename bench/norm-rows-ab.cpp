// A/B of two versions of native/norm.cpp's layer norm kernels in one process, 1 thread, on the thread
// CPU clock, old and new called alternately sample by sample (a loaded machine shifts both alike):
// this tree's norm.cpp (namespace avx512) against another version compiled into namespace avx512old.
// Per case, each side's median µs per call, the median of the paired ratios old/new, and in how many
// pairs new was faster. Cases: layerNormForward and layerNormBackwardDropout (the step's +dyAdd +dxAdd
// +dz call) at rows × 256, with operands in L1/L2 (rows 64), from L3 (704 rows, one buffer set) and
// from memory (704 rows, a ring of buffer sets larger than the L3). It also checks both sides' outputs
// are the same bits.
//
//   git show main:native/norm.cpp > /tmp/norm-old.cpp
//   F="-O3 -std=c++17 -fno-math-errno -mavx512f -mavx512bw -mavx512vl -mavx512vnni -mfma -mavx2 -mprefer-vector-width=512 -Inative"
//   g++ $F -DHEED_NS=avx512old -c /tmp/norm-old.cpp -o /tmp/norm-old.o
//   g++ $F -DHEED_NS=avx512 -c native/norm.cpp -o /tmp/norm-new.o
//   g++ $F -DHEED_NS=avx512 bench/norm-rows-ab.cpp native/threadpool.cpp /tmp/norm-old.o /tmp/norm-new.o -o /tmp/norm-rows-ab -lpthread
//   nice -n 19 /tmp/norm-rows-ab [--samples 41] [--ring 40]
#include <time.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "../native/kernels.h"
#include "../native/threadpool.h"

namespace heed {
namespace avx512 {
void layerNormForward(const LayerNormForwardArgs& p);
void layerNormBackwardDropout(const LayerNormBackwardDropoutArgs& a);
}  // namespace avx512
namespace avx512old {
void layerNormForward(const LayerNormForwardArgs& p);
void layerNormBackwardDropout(const LayerNormBackwardDropoutArgs& a);
}  // namespace avx512old
}  // namespace heed

using namespace heed;

static double nowUs() {
  timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return double(t.tv_sec) * 1e6 + double(t.tv_nsec) * 1e-3;
}

struct Set {  // one call's operands
  std::vector<float> x, w, b, y, mean, rstd, dy, dyAdd, dx, dxAdd, dw, db, dz;
};

static uint32_t rng = 12345;
static float rnd() {
  rng = rng * 1664525u + 1013904223u;
  return float(rng >> 8) / float(1 << 24) - 0.5f;
}

static Set makeSet(int64_t rows, int64_t cols) {
  Set s;
  auto fill = [](std::vector<float>& v, size_t n) {
    v.resize(n);
    for (auto& e : v) e = rnd();
  };
  const size_t n = size_t(rows * cols);
  fill(s.x, n), fill(s.w, size_t(cols)), fill(s.b, size_t(cols)), fill(s.y, n), fill(s.dy, n), fill(s.dyAdd, n);
  fill(s.dx, n), fill(s.dxAdd, n), fill(s.dz, n), fill(s.dw, size_t(cols)), fill(s.db, size_t(cols));
  s.mean.resize(size_t(rows)), s.rstd.resize(size_t(rows));
  return s;
}

template <bool OLD>
static void forward(Set& s, int64_t rows, int64_t cols) {
  LayerNormForwardArgs a{s.x.data(), s.w.data(), s.b.data(), s.y.data(), s.mean.data(), s.rstd.data(), rows, cols, 1e-5f};
  if (OLD) avx512old::layerNormForward(a);
  else avx512::layerNormForward(a);
}
template <bool OLD>
static void backward(Set& s, int64_t rows, int64_t cols) {
  LayerNormBackwardDropoutArgs a{s.x.data(),  s.w.data(),  s.mean.data(), s.rstd.data(), s.dy.data(),
                                 s.dyAdd.data(), s.dx.data(), s.dxAdd.data(), s.dw.data(),   s.db.data(),
                                 s.dz.data(),  rows,       cols,          0.1,           77};
  if (OLD) avx512old::layerNormBackwardDropout(a);
  else avx512::layerNormBackwardDropout(a);
}

static double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

int main(int argc, char** argv) {
  int samples = 41, ring = 40;
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    if (a == "--samples") samples = std::atoi(argv[++i]);
    else if (a == "--ring") ring = std::atoi(argv[++i]);
  }
  poolResize(1);
  // the same bits: forward then backward on one set, each side, with and without each optional operand,
  // at each row width the register paths take (and one they do not)
  for (const int64_t cols : {int64_t(64), int64_t(128), int64_t(192), int64_t(256), int64_t(320)}) {
    bool allSame = true;
    for (int opt = 0; opt < 32; opt++) {
      const bool hasW = opt & 1, hasB = opt & 2, hasDyAdd = opt & 4, hasDxAdd = opt & 8, hasDz = opt & 16;
      Set s0 = makeSet(704, cols), s1 = s0;
      for (int side = 0; side < 2; side++) {
        Set& s = side == 0 ? s0 : s1;
        LayerNormForwardArgs f{s.x.data(), hasW ? s.w.data() : nullptr, hasB ? s.b.data() : nullptr, s.y.data(), s.mean.data(),
                               s.rstd.data(), 704, cols, 1e-5f};
        side == 0 ? avx512old::layerNormForward(f) : avx512::layerNormForward(f);
        LayerNormBackwardDropoutArgs a{s.x.data(), hasW ? s.w.data() : nullptr, s.mean.data(), s.rstd.data(), s.dy.data(),
                                       hasDyAdd ? s.dyAdd.data() : nullptr, s.dx.data(), hasDxAdd ? s.dxAdd.data() : nullptr,
                                       s.dw.data(), s.db.data(), hasDz ? s.dz.data() : nullptr, 704, cols, 0.1, 77};
        side == 0 ? avx512old::layerNormBackwardDropout(a) : avx512::layerNormBackwardDropout(a);
      }
      const bool same = s0.y == s1.y && s0.mean == s1.mean && s0.rstd == s1.rstd && s0.dx == s1.dx && s0.dz == s1.dz &&
                        s0.dw == s1.dw && s0.db == s1.db;
      if (!same) std::printf("operands %d: NOT the same bits (y %d rstd %d dx %d dz %d dw %d db %d)\n", opt, s0.y == s1.y,
                             s0.rstd == s1.rstd, s0.dx == s1.dx, s0.dz == s1.dz, s0.dw == s1.dw, s0.db == s1.db);
      allSame = allSame && same;
    }
    std::printf("704 × %lld: same bits with every combination of weight, bias, dyAdd, dxAdd, dz: %s\n", (long long)cols,
                allSame ? "yes" : "NO");
  }
  const int64_t cols = 256;
  struct Case {
    const char* name;
    int64_t rows;
    int sets;
  };
  const Case cases[] = {{"16 rows (L1)", 16, 1}, {"64 rows (L1/L2)", 64, 1}, {"704 rows, one set (L3)", 704, 1}, {"704 rows, ring (memory)", 704, ring}};
  for (int kernel = 0; kernel < 2; kernel++) {
    for (const Case& c : cases) {
      std::vector<Set> sets;
      for (int i = 0; i < c.sets; i++) sets.push_back(makeSet(c.rows, cols));
      const int reps = c.rows <= 64 ? 50 : 1;
      std::vector<double> to, tn, ratio;
      int newFaster = 0, at = 0;
      for (int i = 0; i < samples + 2; i++) {
        double t[2];
        for (int k = 0; k < 2; k++) {
          const bool old = (i + k) % 2 == 0;  // alternate which side goes first
          Set& s = sets[size_t(at++ % c.sets)];
          const double t0 = nowUs();
          for (int r = 0; r < reps; r++) {
            if (kernel == 0) old ? forward<true>(s, c.rows, cols) : forward<false>(s, c.rows, cols);
            else old ? backward<true>(s, c.rows, cols) : backward<false>(s, c.rows, cols);
          }
          t[old ? 0 : 1] = (nowUs() - t0) / reps;
        }
        if (i < 2) continue;  // warm-up
        to.push_back(t[0]), tn.push_back(t[1]), ratio.push_back(t[0] / t[1]);
        newFaster += t[1] < t[0];
      }
      std::printf("%-26s %-22s old %7.2f µs  new %7.2f µs  old/new %.3f  new faster %d/%d\n",
                  kernel == 0 ? "layerNormForward" : "layerNormBackwardDropout", c.name, median(to), median(tn), median(ratio),
                  newFaster, samples);
    }
  }
  return 0;
}
