// layerNorm and rmsNorm over the last `cols` elements of each row, forward and
// backward. Semantics: src/backend/js/norm.ts. Rows run in parallel (row_split.h); the weight and
// bias gradients are summed per task and then across tasks in task order.
#include <cmath>

#include "common.h"
#include "kernels.h"
#include "threadpool.h"
#include "row_split.h"
#include "dropout_mask.h"

namespace heed {
namespace HEED_NS {

namespace {

// Rows split into evenTasks (row_split.h: by size alone, even); each task accumulates the
// parameter gradients of its rows into its own slice of `part`, a whole number of cache lines
// apart (no two threads write one line), and the slices are added in task order: the same bits
// on 1, 2 or 3 threads.
template <class F>
void rowsWithPartials(int64_t rows, int64_t cols, float* dw, float* db, F&& perRow) {
  static thread_local Scratch partBuf;
  const int64_t tasks = evenTasks(rows, cols);
  const int64_t half = (cols + 15) / 16 * 16;  // pw and pb of a task each start on a line
  float* part = partBuf.get(size_t(std::max<int64_t>(1, tasks * 2 * half)));
  if (rows == 0) std::fill(part, part + 2 * half, 0.f);  // no task runs: the sums are 0
  parallelRows(rows, cols, [&](int64_t t, int64_t lo, int64_t hi) {
    float* pw = part + t * 2 * half;
    float* pb = pw + half;
    std::fill(pw, pw + 2 * half, 0.f);  // in the task: the caller alone would pay for every task's
    for (int64_t r = lo; r < hi; r++) perRow(r, pw, pb);
  });
  // task 0's slices += the others', in task order (each column's sum in the same order as a scalar
  // loop, so the bits do not depend on W), a vector of columns at a time: this runs on the caller alone
  float* sw = part;
  float* sb = part + half;
  for (int64_t t = 1; t < tasks; t++) {
    const float* pw = part + t * 2 * half;
    const float* pb = pw + half;
    for (int64_t c = 0; c < half; c += W) {  // half is a multiple of 16 ≥ W
      vstore(sw + c, vload(sw + c) + vload(pw + c));
      vstore(sb + c, vload(sb + c) + vload(pb + c));
    }
  }
  if (dw) std::copy(sw, sw + cols, dw);
  if (db) std::copy(sb, sb + cols, db);
}

// Σ x and Σ (x − m)² over a row in four independent vector accumulators: a row of 256 floats is
// 16 vectors, and one accumulator made each sum a chain of 16 dependent adds (~4 cycles each), so
// the kernel waited on add latency rather than on memory (bench/norms.ts).
HEED_INLINE float sumRow4(const float* x, int64_t n) {
  vf s0 = vf{}, s1 = vf{}, s2 = vf{}, s3 = vf{};
  int64_t i = 0;
  for (; i + 4 * W <= n; i += 4 * W) {
    s0 += vload(x + i); s1 += vload(x + i + W); s2 += vload(x + i + 2 * W); s3 += vload(x + i + 3 * W);
  }
  for (; i + W <= n; i += W) s0 += vload(x + i);
  float s = hsum((s0 + s1) + (s2 + s3));
  for (; i < n; i++) s += x[i];
  return s;
}
HEED_INLINE float sumSqDev4(const float* x, int64_t n, float m) {
  const vf mv = vsplat(m);
  vf s0 = vf{}, s1 = vf{}, s2 = vf{}, s3 = vf{};
  int64_t i = 0;
  for (; i + 4 * W <= n; i += 4 * W) {
    vf d0 = vload(x + i) - mv, d1 = vload(x + i + W) - mv, d2 = vload(x + i + 2 * W) - mv, d3 = vload(x + i + 3 * W) - mv;
    s0 += d0 * d0; s1 += d1 * d1; s2 += d2 * d2; s3 += d3 * d3;
  }
  for (; i + W <= n; i += W) { vf d = vload(x + i) - mv; s0 += d * d; }
  float s = hsum((s0 + s1) + (s2 + s3));
  for (; i < n; i++) { float d = x[i] - m; s += d * d; }
  return s;
}

// Software prefetch of a row kAhead rows on. In a training step the norms' inputs come from memory
// (the forward wrote x long before its backward, and the GEMMs in between evict it); a row's
// reductions end in a horizontal sum whose latency keeps the core from running far enough ahead
// for the hardware prefetchers to hide that (bench/step-kernels-ab.ts, the cold rows).
constexpr int64_t kAhead = 4;
HEED_INLINE void prefetchRow(const float* row, int64_t cols) {
  for (int64_t c = 0; c < cols; c += 64 / int64_t(sizeof(float))) __builtin_prefetch(row + c);
}

// One row of layerNormForward: mean, rstd and y.
HEED_INLINE void layerNormForwardRow(const float* xr, const float* w, const float* b, float* yr, float& mean, float& rstd,
                                     int64_t cols, float eps) {
  float m = sumRow4(xr, cols) / float(cols);
  float s = 1.f / std::sqrt(sumSqDev4(xr, cols, m) / float(cols) + eps);
  mean = m;
  rstd = s;
  vf mv = vsplat(m), sv = vsplat(s);
  int64_t c = 0;
  for (; c + W <= cols; c += W) {
    vf t = (vload(xr + c) - mv) * sv;
    if (w) t *= vload(w + c);
    if (b) t += vload(b + c);
    vstore(yr + c, t);
  }
  for (; c < cols; c++) {
    float t = (xr[c] - m) * s;
    if (w) t *= w[c];
    if (b) t += b[c];
    yr[c] = t;
  }
}

#if HEED_W == 16
// One row of layerNormForward when cols = 4·W·K: the row is loaded once into 4·K registers and its
// mean, variance and output come from them (sumRow4's and sumSqDev4's order: the same bits).
template <int K>
HEED_INLINE void layerNormForwardReg(const float* xr, const float* w, const float* b, float* yr, float& mean, float& rstd,
                                     float eps) {
  constexpr int64_t cols = 4 * W * K;
  vf xv[4 * K];
  for (int i = 0; i < 4 * K; i++) xv[i] = vload(xr + i * W);
  vf s0 = vf{}, s1 = vf{}, s2 = vf{}, s3 = vf{};
  for (int k = 0; k < K; k++) { s0 += xv[4 * k]; s1 += xv[4 * k + 1]; s2 += xv[4 * k + 2]; s3 += xv[4 * k + 3]; }
  const float m = hsum((s0 + s1) + (s2 + s3)) / float(cols);
  const vf mv = vsplat(m);
  vf q0 = vf{}, q1 = vf{}, q2 = vf{}, q3 = vf{};
  for (int k = 0; k < K; k++) {
    vf d0 = xv[4 * k] - mv, d1 = xv[4 * k + 1] - mv, d2 = xv[4 * k + 2] - mv, d3 = xv[4 * k + 3] - mv;
    q0 += d0 * d0; q1 += d1 * d1; q2 += d2 * d2; q3 += d3 * d3;
  }
  const float s = 1.f / std::sqrt(hsum((q0 + q1) + (q2 + q3)) / float(cols) + eps);
  mean = m;
  rstd = s;
  // y as layerNormForwardRow's loop compiles: (x − m)·s·w + b with the last multiply-add fused
  // (fma(x − m, s, b) without a weight), spelled out so that the bits do not hang on contraction
  const __m512 sv = _mm512_set1_ps(s);
  if (w && b)
    for (int i = 0; i < 4 * K; i++)
      vstore(yr + i * W, (vf)_mm512_fmadd_ps(_mm512_mul_ps((__m512)(xv[i] - mv), sv), (__m512)vload(w + i * W), (__m512)vload(b + i * W)));
  else if (b)
    for (int i = 0; i < 4 * K; i++) vstore(yr + i * W, (vf)_mm512_fmadd_ps((__m512)(xv[i] - mv), sv, (__m512)vload(b + i * W)));
  else if (w)
    for (int i = 0; i < 4 * K; i++) vstore(yr + i * W, (vf)_mm512_mul_ps(_mm512_mul_ps((__m512)(xv[i] - mv), sv), (__m512)vload(w + i * W)));
  else
    for (int i = 0; i < 4 * K; i++) vstore(yr + i * W, (vf)_mm512_mul_ps((__m512)(xv[i] - mv), sv));
}
#endif

}  // namespace

void layerNormForward(const float* x, const float* w, const float* b, float* y, float* mean, float* rstd, int64_t rows,
                      int64_t cols, float eps) {
  parallelRows(rows, cols, [&](int64_t, int64_t lo, int64_t hi) {
    int64_t r = lo;
#if HEED_W == 16
    // rows of 64, 128, 192 or 256 floats in registers (the d 128 and d 256 models' norms)
    auto inRegs = [&](auto k) {
      for (; r < hi; r++) {
        if (r + kAhead < rows) prefetchRow(x + (r + kAhead) * cols, cols);
        layerNormForwardReg<decltype(k)::value>(x + r * cols, w, b, y + r * cols, mean[r], rstd[r], eps);
      }
    };
    if (cols == 4 * W) inRegs(std::integral_constant<int, 1>());
    else if (cols == 8 * W) inRegs(std::integral_constant<int, 2>());
    else if (cols == 12 * W) inRegs(std::integral_constant<int, 3>());
    else if (cols == 16 * W) inRegs(std::integral_constant<int, 4>());
#endif
    for (; r < hi; r++) {
      if (r + kAhead < rows) prefetchRow(x + (r + kAhead) * cols, cols);
      layerNormForwardRow(x + r * cols, w, b, y + r * cols, mean[r], rstd[r], cols, eps);
    }
  });
}

// One row of the layer norm backward. dyAdd (DYA) is added to dy and dxAdd (DXA) to dx in the same
// passes: a residual gradient that would otherwise be one more kernel over the whole tensor
// (src/ops/norm.ts). With DZ, dz = the dropout kernel's backward of dx (kept iff
// lowbias32(i ^ lowbias32(seed)) ≥ p·2³², i = i0 + c, scaled by 1/(1 − p)) is written from each
// vector of dx while it is in a register. Every operand is a by-value parameter, so the loops keep
// them in registers (values read through a lambda's captures were reloaded after stores that may
// alias them: the loops ran at ~40 cycles per vector, perf annotate, tenth session).
// NV > 0: cols = NV·W, the loops unrolled and dy (+ dyAdd) kept in NV registers from the first pass
// to the second (dy and dyAdd not read again); NV = 0: any cols. Both compute g = dy·w in the second
// pass in the same expression, so the compiler fuses the same multiply-adds: the same bits.
template <bool DYA, bool DXA, bool DZ, int NV>
HEED_INLINE void layerNormBackwardRow(const float* xr, const float* w, const float* dyr, const float* dar, float* dxr,
                                      const float* xar, const float m, const float s, const int64_t colsAny, float* pw,
                                      float* pb, float* dzr, const uint32_t i0, const DropMask dm) {
  const int64_t cols = NV > 0 ? int64_t(NV) * W : colsAny;
  auto dyv = [=](int64_t c) { return DYA ? vload(dyr + c) + vload(dar + c) : vload(dyr + c); };
  auto dys = [=](int64_t c) { return DYA ? dyr[c] + dar[c] : dyr[c]; };
  // xhat = (x − mean)·rstd, g = dy·w (w = ones when the norm has no weight: ·1 is exact);
  // dx = rstd·(g − mean(g) − xhat·mean(g·xhat)). Two accumulator pairs (even and odd vectors):
  // half the dependent-add chain of one pair
  const vf mv = vsplat(m), sv = vsplat(s);
  vf sg = vf{}, sgx = vf{}, sg1 = vf{}, sgx1 = vf{};
  vf dv[NV > 0 ? NV : 1];
  auto step = [&](int64_t c, vf& a, vf& ax) {
    vf xh = (vload(xr + c) - mv) * sv, d = dyv(c);
    vf g = d * vload(w + c);
    a += g;
    ax += g * xh;
    vstore(pw + c, vload(pw + c) + d * xh);
    vstore(pb + c, vload(pb + c) + d);
    return d;
  };
  int64_t c = 0;
  if (NV > 0) {
#pragma GCC unroll 32
    for (int i = 0; i < NV; i++) dv[i] = i % 2 == 0 ? step(i * W, sg, sgx) : step(i * W, sg1, sgx1);
    c = cols;
  } else {
    for (; c + 2 * W <= cols; c += 2 * W) { step(c, sg, sgx); step(c + W, sg1, sgx1); }
    for (; c + W <= cols; c += W) step(c, sg, sgx);
  }
  float sgS = hsum(sg + sg1), sgxS = hsum(sgx + sgx1);
  for (; c < cols; c++) {
    float xh = (xr[c] - m) * s, d = dys(c), g = d * w[c];
    sgS += g;
    sgxS += g * xh;
    pw[c] += d * xh;
    pb[c] += d;
  }
  const float mg = sgS / float(cols), mgx = sgxS / float(cols);
  const vf mgv = vsplat(mg), mgxv = vsplat(mgx), kv = vsplat(dm.keep), zero = vsplat(0.f);
  auto out = [&](int64_t c, vf d) {
    vf xh = (vload(xr + c) - mv) * sv;
    vf g = d * vload(w + c);
    vf v = sv * (g - mgv - xh * mgxv);
    if (DXA) v = v + vload(xar + c);
    vstore(dxr + c, v);
    if (DZ) vstore(dzr + c, dm.kept(i0 + uint32_t(c)) ? v * kv : zero);
  };
  if (NV > 0) {
#pragma GCC unroll 32
    for (int i = 0; i < NV; i++) out(i * W, dv[i]);
    return;
  }
  for (c = 0; c + W <= cols; c += W) out(c, dyv(c));
  for (; c < cols; c++) {
    float xh = (xr[c] - m) * s, d = dys(c), g = d * w[c];
    float v = s * (g - mg - xh * mgx);
    if (DXA) v = v + xar[c];
    dxr[c] = v;
    if (DZ) dzr[c] = dm.kept1(i0 + uint32_t(c)) ? v * dm.keep : 0.f;
  }
}

// The layer norm backward over all rows (layerNormBackward, and layerNormBackwardDropout when dz is
// not null: dz in the same pass).
template <bool DYA, bool DXA>
void layerNormBackwardRows(const float* x, const float* w, const float* mean, const float* rstd, const float* dy,
                           const float* dyAdd, float* dx, const float* dxAdd, float* dw, float* db, int64_t rows,
                           int64_t cols, float* dz, const DropMask& dm) {
  static thread_local Scratch onesBuf;
  if (!w) {
    float* ones = onesBuf.get(size_t(std::max<int64_t>(cols, 1)));
    std::fill(ones, ones + cols, 1.f);
    w = ones;
  }
  rowsWithPartials(rows, cols, dw, db, [&](int64_t r, float* pw, float* pb) {
    const int64_t o = r * cols;
    if (r + kAhead < rows) {
      const int64_t ahead = o + kAhead * cols;
      prefetchRow(x + ahead, cols);
      prefetchRow(dy + ahead, cols);
      if (DYA) prefetchRow(dyAdd + ahead, cols);
      if (DXA) prefetchRow(dxAdd + ahead, cols);
    }
    const float* dar = DYA ? dyAdd + o : nullptr;
    const float* xar = DXA ? dxAdd + o : nullptr;
    if (W == 16 && cols == 16 * W) {  // the d 256 model's rows; 32 vector registers (AVX2 has 16)
      if (dz) layerNormBackwardRow<DYA, DXA, true, 16>(x + o, w, dy + o, dar, dx + o, xar, mean[r], rstd[r], cols, pw, pb, dz + o, uint32_t(o), dm);
      else layerNormBackwardRow<DYA, DXA, false, 16>(x + o, w, dy + o, dar, dx + o, xar, mean[r], rstd[r], cols, pw, pb, nullptr, 0, dm);
    } else if (dz) {
      layerNormBackwardRow<DYA, DXA, true, 0>(x + o, w, dy + o, dar, dx + o, xar, mean[r], rstd[r], cols, pw, pb, dz + o, uint32_t(o), dm);
    } else {
      layerNormBackwardRow<DYA, DXA, false, 0>(x + o, w, dy + o, dar, dx + o, xar, mean[r], rstd[r], cols, pw, pb, nullptr, 0, dm);
    }
  });
}

void layerNormBackwardAny(const float* x, const float* w, const float* mean, const float* rstd, const float* dy,
                          const float* dyAdd, float* dx, const float* dxAdd, float* dw, float* db, int64_t rows,
                          int64_t cols, float* dz, const DropMask& dm) {
  if (dyAdd && dxAdd) layerNormBackwardRows<true, true>(x, w, mean, rstd, dy, dyAdd, dx, dxAdd, dw, db, rows, cols, dz, dm);
  else if (dyAdd) layerNormBackwardRows<true, false>(x, w, mean, rstd, dy, dyAdd, dx, dxAdd, dw, db, rows, cols, dz, dm);
  else if (dxAdd) layerNormBackwardRows<false, true>(x, w, mean, rstd, dy, dyAdd, dx, dxAdd, dw, db, rows, cols, dz, dm);
  else layerNormBackwardRows<false, false>(x, w, mean, rstd, dy, dyAdd, dx, dxAdd, dw, db, rows, cols, dz, dm);
}

void layerNormBackward(const float* x, const float* w, const float* mean, const float* rstd, const float* dy0,
                       const float* dyAdd, float* dx, const float* dxAdd, float* dw, float* db, int64_t rows,
                       int64_t cols) {
  layerNormBackwardAny(x, w, mean, rstd, dy0, dyAdd, dx, dxAdd, dw, db, rows, cols, nullptr, DropMask(0, 0));
}

// layerNormBackward, and dz = the dropout kernel's backward of dx, in the same pass.
void layerNormBackwardDropout(const LayerNormBackwardDropoutArgs& a) {
  layerNormBackwardAny(a.x, a.weight, a.mean, a.rstd, a.dy, a.dyAdd, a.dx, a.dxAdd, a.dweight, a.dbias, a.rows, a.cols,
                       a.dz, DropMask(a.p, uint32_t(a.seed)));
}

void rmsNormForward(const float* x, const float* w, float* y, float* rstd, int64_t rows, int64_t cols, float eps) {
  parallelRows(rows, cols, [&](int64_t, int64_t lo, int64_t hi) {
    for (int64_t r = lo; r < hi; r++) {
      const float* xr = x + r * cols;
      float* yr = y + r * cols;
      float s = 1.f / std::sqrt(sumSqDev(xr, cols, 0.f) / float(cols) + eps);
      rstd[r] = s;
      vf sv = vsplat(s);
      int64_t c = 0;
      for (; c + W <= cols; c += W) vstore(yr + c, w ? vload(xr + c) * sv * vload(w + c) : vload(xr + c) * sv);
      for (; c < cols; c++) yr[c] = w ? xr[c] * s * w[c] : xr[c] * s;
    }
  });
}

void rmsNormBackward(const float* x, const float* w, const float* rstd, const float* dy, float* dx, float* dw,
                     int64_t rows, int64_t cols) {
  rowsWithPartials(rows, cols, dw, nullptr, [&](int64_t r, float* pw, float*) {
    const float* xr = x + r * cols;
    const float* dyr = dy + r * cols;
    float* dxr = dx + r * cols;
    const float s = rstd[r];
    // xhat = x·rstd, g = dy·w; dx = rstd·(g − xhat·mean(g·xhat))
    vf sv = vsplat(s), sgx = vf{};
    int64_t c = 0;
    for (; c + W <= cols; c += W) {
      vf xh = vload(xr + c) * sv, d = vload(dyr + c);
      vf g = w ? d * vload(w + c) : d;
      sgx += g * xh;
      vstore(pw + c, vload(pw + c) + d * xh);
    }
    float sgxS = hsum(sgx);
    for (; c < cols; c++) {
      float xh = xr[c] * s, g = w ? dyr[c] * w[c] : dyr[c];
      sgxS += g * xh;
      pw[c] += dyr[c] * xh;
    }
    float mgx = sgxS / float(cols);
    vf mgxv = vsplat(mgx);
    for (c = 0; c + W <= cols; c += W) {
      vf xh = vload(xr + c) * sv, d = vload(dyr + c);
      vf g = w ? d * vload(w + c) : d;
      vstore(dxr + c, sv * (g - xh * mgxv));
    }
    for (; c < cols; c++) {
      float xh = xr[c] * s, g = w ? dyr[c] * w[c] : dyr[c];
      dxr[c] = s * (g - xh * mgx);
    }
  });
}

// Entry points: each kernel's Args struct (kernel_specs.gen.h) unpacked into the call above.
void layerNormForward(const LayerNormForwardArgs& p) { layerNormForward(p.x, p.weight, p.bias, p.y, p.mean, p.rstd, p.rows, p.cols, p.eps); }
void layerNormBackward(const LayerNormBackwardArgs& p) {
  layerNormBackward(p.x, p.weight, p.mean, p.rstd, p.dy, p.dyAdd, p.dx, p.dxAdd, p.dweight, p.dbias, p.rows, p.cols);
}
void rmsNormForward(const RmsNormForwardArgs& p) { rmsNormForward(p.x, p.weight, p.y, p.rstd, p.rows, p.cols, p.eps); }
void rmsNormBackward(const RmsNormBackwardArgs& p) { rmsNormBackward(p.x, p.weight, p.rstd, p.dy, p.dx, p.dweight, p.rows, p.cols); }

}  // namespace HEED_NS
}  // namespace heed
