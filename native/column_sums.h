// Column sums in float64 of a (rows, cols) array swept row by row (memory order): the bias
// gradient Σ_rows dz of a Linear, read in the pass that writes dz (linear_fused.cpp) or alone
// (reduceAxis, layout.cpp), and layerNormBackwardDropout's dz bias sums (norm.cpp: addWide only).
// Needs common.h and threadpool.h.
#pragma once
#include "row_split.h"

namespace heed {
namespace HEED_NS {

// Elements per task, at least: the caller adds every task's float64 partials (tasks × cols) after
// the job, alone, so fewer tasks than row_split.h's default (704×1024 in 12 tasks, not 22).
constexpr int64_t kColumnSumGrain = int64_t(1) << 16;
constexpr int64_t kColumnSumMaxTasks = 64;  // bounds the float64 partials (tasks × cols) on huge inputs

// Column sums in float64 of a (rows, cols) gradient written row by row: row(r, acc) writes row r of
// dz and adds it into acc (cols doubles). Rows are split into tasks by size alone (not by the
// thread count), each with its own float64 partials, added in task order: the same sums on 1 or 2
// threads, and equal to reduceAxis's row-order float64 sums up to float64 rounding.
template <class Row>
void rowsWithColumnSums(int64_t rows, int64_t cols, float* dbias, Row&& row) {
  static thread_local Scratch partBuf;
  // evenTasks (row_split.h): by size alone and even, so 2 threads get equal halves
  const int64_t tasks = evenTasks(rows, cols, kColumnSumGrain, kColumnSumMaxTasks);
  const int64_t stride = (cols + 7) / 8 * 8;  // each task's partials start on their own cache line
  double* part = reinterpret_cast<double*>(partBuf.get(size_t(std::max<int64_t>(1, 2 * tasks * stride))));
  if (rows == 0) std::fill(part, part + stride, 0.0);  // no task runs: the sums are 0
  parallelRows(rows, cols, [&](int64_t t, int64_t lo, int64_t hi) {
    double* acc = part + t * stride;
    std::fill(acc, acc + cols, 0.0);  // in the task: the caller alone would pay for every task's
    for (int64_t r = lo; r < hi; r++) row(r, acc);
  }, kColumnSumGrain);
  // task 0's partials += the others', in task order (each column summed in the same order as a
  // scalar loop), a row of columns at a time so the compiler vectorizes it: this runs on the caller alone
  for (int64_t t = 1; t < tasks; t++) {
    const double* pt = part + t * stride;
    for (int64_t c = 0; c < cols; c++) part[c] += pt[c];
  }
  for (int64_t c = 0; c < cols; c++) dbias[c] = float(part[c]);
}

// acc[0..W) += v, widened to float64 (the reference's sums are float64). Written with the ISA's
// intrinsics: GCC's generic 2W-double vector went through the stack (two extra stores per vector).
// (Adding four rows in float64 before one read-modify-write of acc measured slower: 0.5-0.9x.)
HEED_INLINE void addWide(double* acc, vf v) {
#if HEED_W == 16
  const __m512 f = (__m512)v;
  const __m512d lo = _mm512_cvtps_pd(_mm512_castps512_ps256(f));
  const __m512d hi = _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(f), 1)));
  _mm512_storeu_pd(acc, _mm512_add_pd(_mm512_loadu_pd(acc), lo));
  _mm512_storeu_pd(acc + 8, _mm512_add_pd(_mm512_loadu_pd(acc + 8), hi));
#elif HEED_W == 8
  const __m256 f = (__m256)v;
  _mm256_storeu_pd(acc, _mm256_add_pd(_mm256_loadu_pd(acc), _mm256_cvtps_pd(_mm256_castps256_ps128(f))));
  _mm256_storeu_pd(acc + 4, _mm256_add_pd(_mm256_loadu_pd(acc + 4), _mm256_cvtps_pd(_mm256_extractf128_ps(f, 1))));
#else
  const __m128 f = (__m128)v;
  _mm_storeu_pd(acc, _mm_add_pd(_mm_loadu_pd(acc), _mm_cvtps_pd(f)));
  _mm_storeu_pd(acc + 2, _mm_add_pd(_mm_loadu_pd(acc + 2), _mm_cvtps_pd(_mm_movehl_ps(f, f))));
#endif
}

}  // namespace HEED_NS
}  // namespace heed
