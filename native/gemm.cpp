// Single-precision GEMM: C[b] = act(alpha · op(A[b]) · op(B[b]) + beta · C[b] + bias).
// Semantics are those of src/backend/js/gemm.ts (the oracle).
//
// Structure (Goto/BLIS): for each NC-wide column block of C, for each KC-deep slice
// of k, B is packed into NR-wide micro-panels; for each MC-tall row block, A is
// packed into MR-tall micro-panels; the MR×NR register-blocked microkernel then
// walks the panels. transA/transB are absorbed by the packing routines.
// Parallelism: the batch × (row or column slabs of C) are independent sub-problems,
// one per task, each with its own thread-local packing buffers.
// Tiny problems skip packing (direct); x·Wᵀ with few rows of x runs unpacked dot tiles (skinny).
#include "common.h"
#include "kernels.h"
#include "threadpool.h"
#include "gemm_tile.h"

namespace heed {
namespace HEED_NS {

namespace {

#if HEED_W == 16
constexpr int MR = 14, NV = 2;      // 28 zmm accumulators
constexpr int64_t KC = 256, MC = 14 * 12, NC = 2048;
#else
constexpr int MR = 6, NV = 2;       // 12 accumulators
constexpr int64_t KC = 256, MC = 6 * 24, NC = 2048;
#endif
constexpr int NR = NV * W;

struct Gemm {
  const float* a;
  const float* b;
  float* c;
  int64_t m, n, k;    // this sub-problem
  int64_t lda, ldb;   // row strides of the stored A and B
  int64_t ldc;
  bool transA, transB;
  float alpha, beta;
  const float* bias;  // already offset to this sub-problem's first column
  int act;
};

// op(A)(i, l) for i in [i0, i0+mc), l in [l0, l0+kc) → MR-row micro-panels, [panel][l][r].
void packA(const Gemm& g, int64_t i0, int64_t mc, int64_t l0, int64_t kc, float* dst) {
  for (int64_t ip = 0; ip < mc; ip += MR) {
    int64_t rows = std::min<int64_t>(MR, mc - ip);
    if (!g.transA) {
      const float* src = g.a + (i0 + ip) * g.lda + l0;
      for (int64_t l = 0; l < kc; l++) {
        int r = 0;
        for (; r < rows; r++) dst[l * MR + r] = src[r * g.lda + l];
        for (; r < MR; r++) dst[l * MR + r] = 0.f;
      }
    } else {
      const float* src = g.a + l0 * g.lda + i0 + ip;
      for (int64_t l = 0; l < kc; l++) {
        int r = 0;
        for (; r < rows; r++) dst[l * MR + r] = src[l * g.lda + r];
        for (; r < MR; r++) dst[l * MR + r] = 0.f;
      }
    }
    dst += kc * MR;
  }
}

// op(B)(l, j) for l in [l0, l0+kc), j in [j0, j0+nc) → NR-column micro-panels, [panel][l][c].
void packB(const Gemm& g, int64_t l0, int64_t kc, int64_t j0, int64_t nc, float* dst) {
  for (int64_t jp = 0; jp < nc; jp += NR) {
    int64_t cols = std::min<int64_t>(NR, nc - jp);
    if (!g.transB) {
      const float* src = g.b + l0 * g.ldb + j0 + jp;
      if (cols == NR) {
        for (int64_t l = 0; l < kc; l++)
          for (int v = 0; v < NV; v++) vstore(dst + l * NR + v * W, vload(src + l * g.ldb + v * W));
      } else {
        for (int64_t l = 0; l < kc; l++) {
          int c = 0;
          for (; c < cols; c++) dst[l * NR + c] = src[l * g.ldb + c];
          for (; c < NR; c++) dst[l * NR + c] = 0.f;
        }
      }
    } else {
      const float* src = g.b + (j0 + jp) * g.ldb + l0;
      for (int64_t c = 0; c < NR; c++) {
        if (c < cols) {
          for (int64_t l = 0; l < kc; l++) dst[l * NR + c] = src[c * g.ldb + l];
        } else {
          for (int64_t l = 0; l < kc; l++) dst[l * NR + c] = 0.f;
        }
      }
    }
    dst += kc * NR;
  }
}

// acc (MR×NR) = packed A panel · packed B panel over kc.
HEED_INLINE void microkernel(int64_t kc, const float* __restrict pa, const float* __restrict pb, float* __restrict acc) {
  vf c[MR][NV];
#pragma GCC unroll 32
  for (int r = 0; r < MR; r++)
#pragma GCC unroll 4
    for (int v = 0; v < NV; v++) c[r][v] = vf{};
  for (int64_t l = 0; l < kc; l++) {
    vf bv[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; v++) bv[v] = vload(pb + v * W);
#pragma GCC unroll 32
    for (int r = 0; r < MR; r++) {
      vf a = vsplat(pa[r]);
#pragma GCC unroll 4
      for (int v = 0; v < NV; v++) c[r][v] += a * bv[v];
    }
    pa += MR;
    pb += NR;
  }
#pragma GCC unroll 32
  for (int r = 0; r < MR; r++)
#pragma GCC unroll 4
    for (int v = 0; v < NV; v++) vstore(acc + r * NR + v * W, c[r][v]);
}

void blocked(const Gemm& g) {
  static thread_local Scratch bufA, bufB;
  float* pa = bufA.get(MC * KC);
  float* pb = bufB.get(KC * NC);
  alignas(64) float acc[MR * NR];
  for (int64_t j0 = 0; j0 < g.n; j0 += NC) {
    int64_t nc = std::min(NC, g.n - j0);
    for (int64_t l0 = 0; l0 < g.k; l0 += KC) {
      int64_t kc = std::min(KC, g.k - l0);
      bool first = l0 == 0, last = l0 + kc >= g.k;
      float beta = first ? g.beta : 1.f;
      bool readC = !first || g.beta != 0.f;
      const float* bias = last ? g.bias : nullptr;
      int act = last ? g.act : 0;
      packB(g, l0, kc, j0, nc, pb);
      for (int64_t i0 = 0; i0 < g.m; i0 += MC) {
        int64_t mc = std::min(MC, g.m - i0);
        packA(g, i0, mc, l0, kc, pa);
        for (int64_t jp = 0; jp < nc; jp += NR) {
          int64_t cols = std::min<int64_t>(NR, nc - jp);
          const float* bp = pb + (jp / NR) * kc * NR;
          for (int64_t ip = 0; ip < mc; ip += MR) {
            int64_t rows = std::min<int64_t>(MR, mc - ip);
            microkernel(kc, pa + (ip / MR) * kc * MR, bp, acc);
            float* cp = g.c + (i0 + ip) * g.ldc + j0 + jp;
            const float* bb = bias ? bias + j0 + jp : nullptr;
            for (int64_t r = 0; r < rows; r++)
              finishRow(cp + r * g.ldc, acc + r * NR, cols, g.alpha, beta, readC, bb, act);
          }
        }
      }
    }
  }
}

// Up to this many rows, x·Wᵀ runs unpacked (skinny): at K = N = 256 and 1024 it beats packing up to
// 32 rows (17 rows: 1.7× faster; 48 rows: 0.8–1×), measured on an AMD EPYC (Zen) on one thread.
constexpr int64_t kSkinnyRows = 32;

// No packing: for problems too small to amortize it.
// out (R×C, row stride ldo) = A rows (R×k, stride lda) · B rows (C×k, stride ldb)ᵀ: R·C vector
// accumulators over k, each B vector loaded once for R rows, reduced to scalars at the end.
template <int R, int C>
HEED_INLINE void dotTile(const float* a, int64_t lda, const float* b, int64_t ldb, int64_t k, float* out, int64_t ldo) {
  vf acc[R][C];
#pragma GCC unroll 8
  for (int r = 0; r < R; r++)
#pragma GCC unroll 8
    for (int c = 0; c < C; c++) acc[r][c] = vf{};
  int64_t l = 0;
  for (; l + W <= k; l += W) {
    vf bv[C];
#pragma GCC unroll 8
    for (int c = 0; c < C; c++) bv[c] = vload(b + c * ldb + l);
#pragma GCC unroll 8
    for (int r = 0; r < R; r++) {
      vf av = vload(a + r * lda + l);
#pragma GCC unroll 8
      for (int c = 0; c < C; c++) acc[r][c] += av * bv[c];
    }
  }
  for (int r = 0; r < R; r++)
    for (int c = 0; c < C; c++) {
      float s = hsum(acc[r][c]);
      for (int64_t t = l; t < k; t++) s += a[r * lda + t] * b[c * ldb + t];
      out[r * ldo + c] = s;
    }
}

// Few rows of A against the rows of B (x·Wᵀ of a Linear at small batch, the GEMV of decoding):
// no packing, B streamed once per block of up to 4 rows of A in C-row groups that stay in L1.
// R rows and C columns per tile keep R·C ≥ 8 independent FMA chains.
template <int R, int C>
void skinnyRows(const Gemm& g, int64_t i0, float* rows) {
  int64_t j = 0;
  for (; j + C <= g.n; j += C) dotTile<R, C>(g.a + i0 * g.lda, g.lda, g.b + j * g.ldb, g.ldb, g.k, rows + j, g.n);
  for (; j < g.n; j++) dotTile<R, 1>(g.a + i0 * g.lda, g.lda, g.b + j * g.ldb, g.ldb, g.k, rows + j, g.n);
}

void skinny(const Gemm& g) {
  static thread_local Scratch bufRows;
  float* rows = bufRows.get(4 * g.n + W);
  for (int64_t i0 = 0; i0 < g.m; i0 += 4) {
    int64_t r = std::min<int64_t>(4, g.m - i0);
    if (r == 4) skinnyRows<4, 4>(g, i0, rows);
    else if (r == 3) skinnyRows<3, 4>(g, i0, rows);
    else if (r == 2) skinnyRows<2, 6>(g, i0, rows);
    else skinnyRows<1, 8>(g, i0, rows);
    for (int64_t t = 0; t < r; t++)
      finishRow(g.c + (i0 + t) * g.ldc, rows + t * g.n, g.n, g.alpha, g.beta, g.beta != 0.f, g.bias, g.act);
  }
}

void direct(const Gemm& g) {
  static thread_local Scratch bufRow;
  float* row = bufRow.get(g.n + W);
  for (int64_t i = 0; i < g.m; i++) {
    std::fill(row, row + g.n, 0.f);
    for (int64_t l = 0; l < g.k; l++) {
      float av = g.transA ? g.a[l * g.lda + i] : g.a[i * g.lda + l];
      if (!g.transB) {
        const float* br = g.b + l * g.ldb;
        int64_t j = 0;
        vf a = vsplat(av);
        for (; j + W <= g.n; j += W) vstore(row + j, vload(row + j) + a * vload(br + j));
        for (; j < g.n; j++) row[j] += av * br[j];
      } else {
        for (int64_t j = 0; j < g.n; j++) row[j] += av * g.b[j * g.ldb + l];
      }
    }
    finishRow(g.c + i * g.ldc, row, g.n, g.alpha, g.beta, g.beta != 0.f, g.bias, g.act);
  }
}

void run(const Gemm& g) {
  if (g.m == 0 || g.n == 0) return;
  // x·Wᵀ with few rows: packing B (a strided transpose of all of W) would cost more than the product.
  if (!g.transA && g.transB && g.k > 0 && g.m <= kSkinnyRows) skinny(g);
  else if (g.k == 0 || g.m * g.n * g.k <= 16 * 16 * 16 || g.m < 4 || g.n < 4) direct(g);
  else blocked(g);
}

}  // namespace

void sgemm(const float* a, const float* b, float* c, int64_t batch, int64_t m, int64_t n, int64_t k, bool transA,
           bool transB, float alpha, float beta, int64_t strideA, int64_t strideB, int64_t strideC,
           const float* bias, int activation) {
  if (batch == 0 || m == 0 || n == 0) return;
  int threads = poolSize();
  double work = double(m) * double(n) * double(k) * double(batch);
  // Split each matrix into slabs when the batch alone cannot feed every thread.
  int64_t slabs = 1;
  bool splitN = n >= m;
  if (batch < threads && work >= kMinParallelWork) {
    slabs = (threads + batch - 1) / batch;
    int64_t unit = splitN ? NR : MR;
    int64_t dim = splitN ? n : m;
    slabs = std::max<int64_t>(1, std::min<int64_t>(slabs, (dim + unit - 1) / unit));
  }
  if (work < kMinParallelWork) threads = 1;
  int64_t dimS = splitN ? n : m, unit = splitN ? NR : MR;
  int64_t per = ((dimS + slabs - 1) / slabs + unit - 1) / unit * unit;
  auto task = [&](int64_t t, int) {
    int64_t p = t / slabs, s = t % slabs;
    int64_t lo = s * per, hi = std::min(dimS, lo + per);
    if (lo >= hi) return;
    Gemm g;
    g.a = a + p * strideA;
    g.b = b + p * strideB;
    g.c = c + p * strideC;
    g.m = m; g.n = n; g.k = k;
    g.lda = transA ? m : k;
    g.ldb = transB ? k : n;
    g.ldc = n;
    g.transA = transA; g.transB = transB;
    g.alpha = alpha; g.beta = beta;
    g.bias = bias; g.act = activation;
    if (splitN) {
      g.n = hi - lo;
      g.b += transB ? lo * g.ldb : lo;
      g.c += lo;
      if (g.bias) g.bias += lo;
    } else {
      g.m = hi - lo;
      g.a += transA ? lo : lo * g.lda;
      g.c += lo * g.ldc;
    }
    run(g);
  };
  int64_t ntasks = batch * slabs;
  if (threads == 1) {
    for (int64_t t = 0; t < ntasks; t++) task(t, 0);
  } else {
    parallelFor(ntasks, task);
  }
}

// Entry points: each kernel's Args struct (kernel_specs.gen.h) unpacked into the call above.
void sgemm(const SgemmArgs& p) { sgemm(p.a, p.b, p.c, p.batch, p.m, p.n, p.k, p.transA, p.transB, p.alpha, p.beta, p.strideA, p.strideB, p.strideC, p.bias, int(p.activation)); }

}  // namespace HEED_NS
}  // namespace heed
