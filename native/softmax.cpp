// Softmax / logSoftmax over one axis of an (outer, size, inner) view, forward and
// backward. Semantics: src/backend/js/softmax.ts (all −∞ rows give 0 / −∞).
// inner == 1 (the last axis, the common case) is vectorized along the row; other
// axes are vectorized across `inner`.
#include "common.h"
#include "kernels.h"
#include "threadpool.h"
#include "row_split.h"

namespace heed {
namespace HEED_NS {

namespace {

void rowForward(const float* x, float* y, int64_t n, bool log) {
  vf mv = vsplat(-INFINITY);
  int64_t i = 0;
  for (; i + W <= n; i += W) mv = vmax(mv, vload(x + i));
  float mx = hmax(mv);
  for (; i < n; i++) mx = x[i] > mx ? x[i] : mx;
  if (mx == -INFINITY) {
    std::fill(y, y + n, log ? -INFINITY : 0.f);
    return;
  }
  vf sv = vf{}, m = vsplat(mx);
  for (i = 0; i + W <= n; i += W) {
    vf e = vexp(vload(x + i) - m);
    sv += e;
    if (!log) vstore(y + i, e);
  }
  float sum = hsum(sv);
  for (; i < n; i++) {
    float e = std::exp(x[i] - mx);
    sum += e;
    if (!log) y[i] = e;
  }
  if (log) {
    float lse = mx + std::log(sum);
    for (i = 0; i + W <= n; i += W) vstore(y + i, vload(x + i) - lse);
    for (; i < n; i++) y[i] = x[i] - lse;
  } else {
    float inv = 1.f / sum;
    for (i = 0; i + W <= n; i += W) vstore(y + i, vload(y + i) * inv);
    for (; i < n; i++) y[i] *= inv;
  }
}

void rowBackward(const float* y, const float* dy, float* dx, int64_t n, bool log) {
  vf sv = vf{};
  int64_t i = 0;
  if (log) {
    for (; i + W <= n; i += W) sv += vload(dy + i);
  } else {
    for (; i + W <= n; i += W) sv += vload(dy + i) * vload(y + i);
  }
  float s = hsum(sv);
  for (; i < n; i++) s += log ? dy[i] : dy[i] * y[i];
  vf S = vsplat(s);
  for (i = 0; i + W <= n; i += W) {
    vf yv = vload(y + i), d = vload(dy + i);
    vstore(dx + i, log ? d - vexp(yv) * S : yv * (d - S));
  }
  for (; i < n; i++) dx[i] = log ? dy[i] - std::exp(y[i]) * s : y[i] * (dy[i] - s);
}

// Strided (inner > 1): one scalar column at a time (simple; the hot path is inner == 1).
void colForward(const float* x, float* y, int64_t size, int64_t inner, bool log) {
  float mx = -INFINITY;
  for (int64_t i = 0; i < size; i++) {
    float v = x[i * inner];
    if (v > mx || v != v) mx = v;
  }
  if (mx == -INFINITY) {
    for (int64_t i = 0; i < size; i++) y[i * inner] = log ? -INFINITY : 0.f;
    return;
  }
  double sum = 0;
  for (int64_t i = 0; i < size; i++) sum += std::exp(x[i * inner] - mx);
  if (log) {
    float lse = mx + float(std::log(sum));
    for (int64_t i = 0; i < size; i++) y[i * inner] = x[i * inner] - lse;
  } else {
    float inv = float(1.0 / sum);
    for (int64_t i = 0; i < size; i++) y[i * inner] = std::exp(x[i * inner] - mx) * inv;
  }
}

void colBackward(const float* y, const float* dy, float* dx, int64_t size, int64_t inner, bool log) {
  double s = 0;
  for (int64_t i = 0; i < size; i++) s += log ? dy[i * inner] : dy[i * inner] * y[i * inner];
  float sf = float(s);
  for (int64_t i = 0; i < size; i++) {
    int64_t k = i * inner;
    dx[k] = log ? dy[k] - std::exp(y[k]) * sf : y[k] * (dy[k] - sf);
  }
}

}  // namespace

void softmaxForward(const float* x, float* y, int64_t outer, int64_t size, int64_t inner, bool log) {
  if (inner == 1) {
    parallelRows(outer, size, [&](int64_t, int64_t lo, int64_t hi) {
      for (int64_t o = lo; o < hi; o++) rowForward(x + o * size, y + o * size, size, log);
    }, kSplitFloats / 2);
    return;
  }
  int64_t cols = outer * inner;
  parallelChunks(cols, std::max<int64_t>(1, 16384 / std::max<int64_t>(size, 1)), [&](int64_t lo, int64_t hi) {
    for (int64_t c = lo; c < hi; c++) {
      int64_t o = c / inner, j = c % inner, base = o * size * inner + j;
      colForward(x + base, y + base, size, inner, log);
    }
  });
}

void softmaxBackward(const float* y, const float* dy, float* dx, int64_t outer, int64_t size, int64_t inner,
                     bool log) {
  if (inner == 1) {
    parallelRows(outer, size, [&](int64_t, int64_t lo, int64_t hi) {
      for (int64_t o = lo; o < hi; o++) rowBackward(y + o * size, dy + o * size, dx + o * size, size, log);
    }, kSplitFloats / 2);
    return;
  }
  int64_t cols = outer * inner;
  parallelChunks(cols, std::max<int64_t>(1, 16384 / std::max<int64_t>(size, 1)), [&](int64_t lo, int64_t hi) {
    for (int64_t c = lo; c < hi; c++) {
      int64_t o = c / inner, j = c % inner, base = o * size * inner + j;
      colBackward(y + base, dy + base, dx + base, size, inner, log);
    }
  });
}

// Entry points: each kernel's Args struct (kernel_specs.gen.h) unpacked into the call above.
void softmaxForward(const SoftmaxForwardArgs& p) { softmaxForward(p.x, p.y, p.outer, p.size, p.inner, p.log); }
void softmaxBackward(const SoftmaxBackwardArgs& p) { softmaxBackward(p.y, p.dy, p.dx, p.outer, p.size, p.inner, p.log); }

}  // namespace HEED_NS
}  // namespace heed
