// Fused cross-entropy with label smoothing, forward and backward.
// Semantics: src/backend/js/crossentropy.ts. Rows run in parallel.
#include "common.h"
#include "kernels.h"
#include "threadpool.h"
#include "row_split.h"

namespace heed {
namespace HEED_NS {

// An exp per element makes these rows ~4× the work of a copy: split at a quarter of row_split.h's size.
constexpr int64_t kExpGrain = kSplitFloats / 4;

void crossEntropyForward(const float* logits, const int32_t* targets, float* losses, float* lse, int64_t rows,
                         int64_t classes, int64_t ignoreIndex, float eps) {
  parallelRows(rows, classes, [&](int64_t, int64_t lo, int64_t hi) {
    for (int64_t r = lo; r < hi; r++) {
      const float* x = logits + r * classes;
      vf mv = vsplat(-INFINITY);
      int64_t c = 0;
      for (; c + W <= classes; c += W) mv = vmax(mv, vload(x + c));
      float mx = hmax(mv);
      for (; c < classes; c++) mx = (x[c] > mx || x[c] != x[c]) ? x[c] : mx;
      vf sv = vf{}, tv = vf{}, m = vsplat(mx);
      for (c = 0; c + W <= classes; c += W) {
        vf v = vload(x + c);
        sv += vexp(v - m);
        tv += v;
      }
      double sum = hsum(sv), total = hsum(tv);
      for (; c < classes; c++) { sum += std::exp(x[c] - mx); total += x[c]; }
      float l = mx + float(std::log(sum));
      lse[r] = l;
      int64_t t = targets[r];
      if (t == ignoreIndex) { losses[r] = 0.f; continue; }
      losses[r] = (1.f - eps) * (l - x[t]) + eps * (l - float(total / double(classes)));
    }
  }, kExpGrain);
}

void crossEntropyBackward(const float* logits, const int32_t* targets, const float* lse, const float* dLoss,
                          float* dLogits, int64_t rows, int64_t classes, int64_t ignoreIndex, float eps) {
  parallelRows(rows, classes, [&](int64_t, int64_t lo, int64_t hi) {
    for (int64_t r = lo; r < hi; r++) {
      const float* x = logits + r * classes;
      float* d = dLogits + r * classes;
      int64_t t = targets[r];
      if (t == ignoreIndex) { std::fill(d, d + classes, 0.f); continue; }
      const float g = dLoss[r], l = lse[r], u = eps / float(classes);
      vf gv = vsplat(g), lv = vsplat(l);
      int64_t c = 0;
      for (; c + W <= classes; c += W) vstore(d + c, gv * (vexp(vload(x + c) - lv) - u));
      for (; c < classes; c++) d[c] = g * (std::exp(x[c] - l) - u);
      d[t] = g * (std::exp(x[t] - l) - (1.f - eps) - u);
    }
  }, kExpGrain);
}

// Entry points: each kernel's Args struct (kernel_specs.gen.h) unpacked into the call above.
void crossEntropyForward(const CrossEntropyForwardArgs& p) { crossEntropyForward(p.logits, p.targets, p.losses, p.lse, p.rows, p.classes, p.ignoreIndex, p.labelSmoothing); }
void crossEntropyBackward(const CrossEntropyBackwardArgs& p) { crossEntropyBackward(p.logits, p.targets, p.lse, p.dLoss, p.dLogits, p.rows, p.classes, p.ignoreIndex, p.labelSmoothing); }

}  // namespace HEED_NS
}  // namespace heed
