// Single-precision GEMM: C[b] = act(alpha · op(A[b]) · op(B[b]) + beta · C[b] + bias).
// Semantics are those of src/backend/js/gemm.ts (the oracle).
//
// Structure (Goto/BLIS): for each NC-wide column block of C, for each KC-deep slice
// of k, B is packed into NR-wide micro-panels; for each MC-tall row block, A is
// packed into MR-tall micro-panels; the MR×NR register-blocked microkernel then
// walks the panels. transA/transB are absorbed by the packing routines.
// Parallelism: the batch × (row or column slabs of C) are independent sub-problems,
// one per task, each with its own thread-local packing buffers; the slabs of one matrix
// share one pack of their common operand (SharedPack) when it is small enough to keep whole.
// Tiny problems skip packing (direct); x·Wᵀ with few rows of x runs unpacked dot tiles (skinny).
#include "common.h"
#include "kernels.h"
#include "threadpool.h"
#include "gemm_tile.h"

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

// GCC 12 reports the shuffle intrinsics' internal _mm512_undefined_ps as "may be used uninitialized"
// where transpose16 is inlined (packA, packB): a false positive, silenced for this file.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

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
// SharedPack's claims (3 row panels of A, 2 column panels of B) never straddle an MC or NC block.
// The largest operand it packs whole: 4 MB (the training step's are 0.2–0.8 MB).
constexpr int64_t kMaxSharedFloats = int64_t(1) << 20;
// ...and only above this (2 MB). Below it each slab packs its own copy, as before SharedPack: on the
// 2-vCPU AMD EPYC VM the slabs reading one pack across cores were slower than packing it twice
// (quiet, alternating processes, bench/results/gemm-ab-2026-12-05T1532.txt: 2 threads, 256³ 0.088 →
// 0.114 ms and 512³ 0.69 → 0.78 ms with sharing; 0.086 and 0.69 ms without). No shape measured so
// far gains from sharing; the 2–4 MB window keeps the path for operands too big for one core's L2.
constexpr int64_t kMinSharedFloats = int64_t(1) << 19;
static_assert(MC % (3 * MR) == 0 && NC % (2 * NR) == 0, "shared-pack chunks must tile MC and NC");

// linearFused's dropout after the activation: the dropout kernel's hashed mask (layout.cpp).
struct DropResidual {
  bool drop;
  uint32_t thr, mixed;  // keep iff lowbias32(i ^ mixed) ≥ thr
  float scale;
};

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
  // linearFused's epilogue after act (null for a plain sgemm): dropout with the hashed mask, then
  // + residual. idx0 is the global element index of this sub-problem's C[0][0]; row r, column j
  // is element idx0 + r·idxLd + j of the whole output, the index the dropout kernel hashes.
  const DropResidual* extra;
  const float* residual;  // this sub-problem's residual (same layout as c), or null
  int64_t idx0, idxLd;
  // linearBackwardFused's bias gradient: colSums[i] += Σ_l op(A)(i, l) in float64, in l order, read
  // off the packed A panels (null: not asked). Only for a product run as one sub-problem.
  double* colSums;
  // linearBackwardFused's dX through the relu-dropout that produced x: C = C · maskScale where mask > 0,
  // else 0, on the last k block's tile (null: plain). mask has C's layout (this sub-problem's rows).
  const float* mask;
  float maskScale;
  // The operand every slab of a split product shares (A when C is cut into column slabs, B when
  // into row slabs), packed once for all of them; null when each sub-problem packs its own.
  struct SharedPack* shared;
};

// One operand of a product split into slabs, packed once and shared by the slabs' threads
// (BLIS packs the operand its threads share cooperatively in the same way). Panels are claimed in
// chunks: the first thread to need a chunk packs it, the others wait for it (a claimed chunk is
// being packed by a running thread, so the wait is short; nothing waits for a thread to show up).
// A slab whose thread starts late finds its chunks packed; a slab run alone packs them all.
struct SharedPack {
  bool isA;            // which operand: A (the column slabs' shared rows) or B
  float* buf;          // [k block][panel][l][MR or NR]: k block kb at kb · KC · panels · (MR or NR)
  std::atomic<int>* state;  // per (k block, chunk): 0 unpacked, 1 being packed, 2 packed
  int64_t panels;      // panels of the whole operand (over m for A, n for B)
  int64_t chunks;      // chunks per k block
  int64_t chunk;       // panels per chunk
};

// c[0..len) = (kept(idx + j) ? act(alpha · acc + beta · c (when readC) + bias) · scale : 0) + res for one
// row of C (bias, res may be null): finishRow, then linearFused's dropout and residual, in one pass over a
// row of the last k block's tile while it is in L1 (C loaded and stored once; applied as a second pass
// over C's row it cost the relu +dropout products ~5% against ~2% this way, gemm-fused.ts).
HEED_INLINE void finishDropResidualRow(float* c, const float* acc, int64_t len, float alpha, float beta, bool readC,
                                       const float* bias, int act, const float* res, uint32_t idx, const DropResidual& e) {
  vu lane;
  for (int l = 0; l < W; l++) lane[l] = uint32_t(l);
  const vf scale = vsplat(e.scale), zero = vsplat(0.f);
  int64_t j = 0;
  for (; j + W <= len; j += W) {
    vf v = alpha * vload(acc + j);
    if (readC) v += beta * vload(c + j);
    if (bias) v += vload(bias + j);
    if (act == 1) v = vrelu(v);
    else if (act == 2) v = vgelu(v);
    if (e.drop) {
      vi keep = lowbias32((lane + (idx + uint32_t(j))) ^ e.mixed) >= e.thr;
      v = keep ? v * scale : zero;
    }
    if (res) v += vload(res + j);
    vstore(c + j, v);
  }
  for (; j < len; j++) {
    float v = alpha * acc[j];
    if (readC) v += beta * c[j];
    if (bias) v += bias[j];
    if (act == 1) v = relu_scalar(v);
    else if (act == 2) v = gelu_scalar(v);
    if (e.drop) v = lowbias32((idx + uint32_t(j)) ^ e.mixed) >= e.thr ? v * e.scale : 0.f;
    if (res) v += res[j];
    c[j] = v;
  }
}

// c[0..len) = mask > 0 ? (alpha · acc + beta · c (when readC)) · scale : 0 for one row of C: finishRow, then
// reluDropoutBackward's arithmetic on the value it would store (so the same bits as the two passes), while
// the row of the tile is in L1: linearBackwardFused's dX written as the gradient at the pre-activation of
// the Linear whose relu-dropout output is x (mask).
HEED_INLINE void finishMaskRow(float* c, const float* acc, int64_t len, float alpha, float beta, bool readC,
                               const float* mask, float scale) {
  const vf sv = vsplat(scale), zero = vsplat(0.f);
  int64_t j = 0;
  for (; j + W <= len; j += W) {
    vf v = alpha * vload(acc + j);
    if (readC) v += beta * vload(c + j);
    vstore(c + j, vload(mask + j) > zero ? v * sv : zero);
  }
  for (; j < len; j++) {
    float v = alpha * acc[j];
    if (readC) v += beta * c[j];
    c[j] = mask[j] > 0.f ? v * scale : 0.f;
  }
}

// The extra epilogue over a whole sub-problem (the unpacked paths, whose tiles are already written).
void dropResidualAll(const Gemm& g) {
  for (int64_t r = 0; r < g.m; r++)
    finishDropResidualRow(g.c + r * g.ldc, g.c + r * g.ldc, g.n, 1.f, 0.f, false, nullptr, 0,
                          g.residual ? g.residual + r * g.ldc : nullptr, uint32_t(g.idx0 + r * g.idxLd), *g.extra);
}

// acc[i] += Σ_l op(A)(i, l) for i < m, l < k, each column in l order in float64 (unpacked: the paths
// that do not pack A, and products split into several sub-problems). The same sequence of float64
// additions per column as the packed version below, so the same bits.
void columnSumsUnpacked(const float* a, int64_t lda, bool transA, int64_t m, int64_t k, double* acc) {
  if (transA) {
    for (int64_t l = 0; l < k; l++) {
      const float* row = a + l * lda;
      for (int64_t i = 0; i < m; i++) acc[i] += double(row[i]);
    }
  } else {
    for (int64_t i = 0; i < m; i++) {
      double s = acc[i];
      for (int64_t l = 0; l < k; l++) s += double(a[i * lda + l]);
      acc[i] = s;
    }
  }
}

#if HEED_W == 16
// r[0..16): 16 rows of 16 floats, transposed in registers (r[j] lane i ← r[i] lane j): the packing
// routines below move 16×16 blocks with it instead of one scalar per element.
HEED_INLINE void transpose16(__m512 r[16]) {
  __m512 t[16];
  for (int i = 0; i < 16; i += 2) {
    t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
    t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
  }
  for (int i = 0; i < 16; i += 4) {
    r[i] = _mm512_shuffle_ps(t[i], t[i + 2], 0x44);
    r[i + 1] = _mm512_shuffle_ps(t[i], t[i + 2], 0xEE);
    r[i + 2] = _mm512_shuffle_ps(t[i + 1], t[i + 3], 0x44);
    r[i + 3] = _mm512_shuffle_ps(t[i + 1], t[i + 3], 0xEE);
  }
  for (int i = 0; i < 4; i++) {
    t[i] = _mm512_shuffle_f32x4(r[i], r[i + 4], 0x88);
    t[i + 4] = _mm512_shuffle_f32x4(r[i], r[i + 4], 0xdd);
    t[i + 8] = _mm512_shuffle_f32x4(r[i + 8], r[i + 12], 0x88);
    t[i + 12] = _mm512_shuffle_f32x4(r[i + 8], r[i + 12], 0xdd);
  }
  for (int i = 0; i < 8; i++) {
    r[i] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0x88);
    r[i + 8] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0xdd);
  }
}

// A full MR (= 14) row panel of row-major A → [l][14]: 16 columns at a time through transpose16
// (rows 14 and 15 zero), stored 14 lanes wide. The scalar loop it replaces was ~10% of a GEMM with n = 256.
HEED_INLINE void packAPanelRows(const float* src, int64_t lda, int64_t kc, float* dst) {
  static_assert(MR == 14, "packAPanelRows transposes 14 rows");
  const __mmask16 m = 0x3FFF;
  int64_t l = 0;
  for (; l + 16 <= kc; l += 16) {
    __m512 r[16];
    for (int i = 0; i < 14; i++) r[i] = _mm512_loadu_ps(src + i * lda + l);
    r[14] = r[15] = _mm512_setzero_ps();
    transpose16(r);
    for (int j = 0; j < 16; j++) _mm512_mask_storeu_ps(dst + (l + j) * MR, m, r[j]);
  }
  for (; l < kc; l++)
    for (int i = 0; i < MR; i++) dst[l * MR + i] = src[i * lda + l];
}

// A full NR (= 32) column panel of op(B) = Bᵀ (B row-major, n × k) → [l][32], 16×16 blocks at a time.
HEED_INLINE void packBPanelTrans(const float* src, int64_t ldb, int64_t kc, float* dst) {
  static_assert(NR == 32, "packBPanelTrans transposes 2 × 16 columns");
  // 16 source rows at a time, each read start to end (16 streams, not 32)
  const int64_t kc16 = kc / 16 * 16;
  for (int cb = 0; cb < NR; cb += 16) {
    for (int64_t l = 0; l < kc16; l += 16) {
      __m512 r[16];
      for (int i = 0; i < 16; i++) r[i] = _mm512_loadu_ps(src + (cb + i) * ldb + l);
      transpose16(r);
      for (int j = 0; j < 16; j++) _mm512_storeu_ps(dst + (l + j) * NR + cb, r[j]);
    }
  }
  for (int64_t l = kc16; l < kc; l++)
    for (int c = 0; c < NR; c++) dst[l * NR + c] = src[c * ldb + l];
}
#endif

#if HEED_W == 16
// op(A) = Aᵀ (A stored k × m, row stride lda): the mc columns of A's rows l0.. → MR-row micro-panels.
// Row by row of the source, each row's mc floats scattered 14 at a time into the panels: every source
// cache line is read once. Panel by panel instead (14 floats from each of kc rows lda apart) read each
// line several times, and rows 1 KB apart fall into a few L1 sets that evict each other: that order cost
// the dW products (TN, m = 256) ~7% of the GEMM and a second time in each 2-thread slab.
HEED_INLINE void packATransAVX512(const float* src, int64_t lda, int64_t mc, int64_t kc, float* dst) {
  const int64_t panels = (mc + MR - 1) / MR;
  const int64_t tail = mc - (panels - 1) * MR;  // rows of the last panel, 1..MR
  const __mmask16 full = 0x3FFF, last = __mmask16((1u << tail) - 1);
  for (int64_t l = 0; l < kc; l++) {
    const float* row = src + l * lda;
    float* d = dst + l * MR;
    for (int64_t p = 0; p < panels; p++, row += MR, d += kc * MR)  // the tail panel's missing rows are zeros
      _mm512_mask_storeu_ps(d, full, _mm512_maskz_loadu_ps(p + 1 < panels ? full : last, row));
  }
}
#endif

// op(A)(i, l) for i in [i0, i0+mc), l in [l0, l0+kc) → MR-row micro-panels, [panel][l][r].
void packA(const Gemm& g, int64_t i0, int64_t mc, int64_t l0, int64_t kc, float* dst) {
  for (int64_t ip = 0; ip < mc; ip += MR) {
    int64_t rows = std::min<int64_t>(MR, mc - ip);
    if (!g.transA) {
      const float* src = g.a + (i0 + ip) * g.lda + l0;
#if HEED_W == 16
      if (rows == MR) {
        packAPanelRows(src, g.lda, kc, dst);
        dst += kc * MR;
        continue;
      }
#endif
      for (int64_t l = 0; l < kc; l++) {
        int r = 0;
        for (; r < rows; r++) dst[l * MR + r] = src[r * g.lda + l];
        for (; r < MR; r++) dst[l * MR + r] = 0.f;
      }
    } else {
#if HEED_W == 16
      packATransAVX512(g.a + l0 * g.lda + i0, g.lda, mc, kc, dst);
      return;
#endif
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
#if HEED_W == 16
      if (cols == NR) {
        packBPanelTrans(src, g.ldb, kc, dst);
        dst += kc * NR;
        continue;
      }
#endif
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

// acc (R×NR of the MR×NR tile) = the first R rows of a packed A panel · packed B panel over kc.
// R < MR serves a panel with fewer valid rows (the last of m), which would otherwise cost a full
// MR-row pass: with MR = 14, m = 256 leaves a 4-row panel, 3.8% of the products' FMAs.
// pf (PF): the epilogue's operand tile (R rows of 2 lines, row stride pfld), fetched into L1 one line every
// 8 steps of l while the tile is computed, so that its loads in the epilogue do not wait on memory.
template <int R, bool PF = false>
HEED_INLINE void microkernel(int64_t kc, const float* __restrict pa, const float* __restrict pb, float* __restrict acc,
                             const float* pf = nullptr, int64_t pfld = 0) {
  vf c[R][NV];
#pragma GCC unroll 32
  for (int r = 0; r < R; r++)
#pragma GCC unroll 4
    for (int v = 0; v < NV; v++) c[r][v] = vf{};
  for (int64_t l = 0; l < kc; l++) {
    vf bv[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; v++) bv[v] = vload(pb + v * W);
    if (PF && (l & 7) == 0 && (l >> 3) < 2 * R) {
      const int64_t q = l >> 3;
      _mm_prefetch(reinterpret_cast<const char*>(pf + (q >> 1) * pfld + (q & 1) * 16), _MM_HINT_T0);
    }
#pragma GCC unroll 32
    for (int r = 0; r < R; r++) {
      vf a = vsplat(pa[r]);
#pragma GCC unroll 4
      for (int v = 0; v < NV; v++) c[r][v] += a * bv[v];
    }
    pa += MR;
    pb += NR;
  }
#pragma GCC unroll 32
  for (int r = 0; r < R; r++)
#pragma GCC unroll 4
    for (int v = 0; v < NV; v++) vstore(acc + r * NR + v * W, c[r][v]);
}

// The microkernel for a panel of `rows` valid rows: the full one, or a shorter one for the last
// panel (R ≥ 4 keeps ≥ 8 independent FMA chains, what the FMA latency × pipes needs).
HEED_INLINE void microkernelRows(int64_t rows, int64_t kc, const float* pa, const float* pb, float* acc) {
#if HEED_W == 16
  if (rows <= 4) return microkernel<4>(kc, pa, pb, acc);
  if (rows <= 7) return microkernel<7>(kc, pa, pb, acc);
  if (rows <= 10) return microkernel<10>(kc, pa, pb, acc);
#else
  if (rows <= 4) return microkernel<4>(kc, pa, pb, acc);
#endif
  microkernel<MR>(kc, pa, pb, acc);
}

// The shared operand's panels [p0, p1) of k block l0 (kc deep), packed: claims and packs the
// unclaimed chunks that overlap them, then waits for the ones another thread is packing.
// Returns the k block's packed panels (panel P at P · kc · (MR or NR)).
float* ensureShared(const Gemm& g, int64_t l0, int64_t kc, int64_t p0, int64_t p1) {
  SharedPack& s = *g.shared;
  const int64_t kb = l0 / KC, unit = s.isA ? MR : NR;
  float* base = s.buf + kb * KC * s.panels * unit;
  std::atomic<int>* st = s.state + kb * s.chunks;
  const int64_t c0 = p0 / s.chunk, c1 = (p1 + s.chunk - 1) / s.chunk;
  const int64_t dim = s.isA ? g.m : g.n;
  for (int64_t c = c0; c < c1; c++) {
    int expect = 0;
    if (st[c].load(std::memory_order_relaxed) != 0 || !st[c].compare_exchange_strong(expect, 1, std::memory_order_acquire)) continue;
    const int64_t lo = c * s.chunk * unit, len = std::min(dim, (c + 1) * s.chunk * unit) - lo;
    if (s.isA) packA(g, lo, len, l0, kc, base + c * s.chunk * kc * MR);
    else packB(g, l0, kc, lo, len, base + c * s.chunk * kc * NR);
    st[c].store(2, std::memory_order_release);
  }
  for (int64_t c = c0; c < c1; c++)
    for (int spin = 0; st[c].load(std::memory_order_acquire) != 2; spin++) {
      if (spin < 2000) _mm_pause();
      else std::this_thread::yield();  // the packer was descheduled (a busy machine): let it run
    }
  return base;
}

// acc[i] += Σ_l pa(i, l) over the packed A of one MC block (mc rows in MR-row panels [panel][l][r], kc
// deep): each row i of op(A) summed in l order in float64, the bits of columnSumsUnpacked. Four panels
// at a time so the float64 additions of eight vectors overlap (each column's own chain stays in order).
void packedColumnSums(const float* pa, int64_t mc, int64_t kc, double* acc) {
  const int64_t panels = (mc + MR - 1) / MR;
  int64_t p = 0;
#if HEED_W == 16
  static_assert(MR <= 16, "one panel row fits 16 lanes");
  const __mmask16 rowMask = __mmask16((1u << MR) - 1);
  for (; p + 4 <= panels && (p + 4) * MR <= mc; p += 4) {
    __m512d lo[4], hi[4];
    for (int q = 0; q < 4; q++) {
      lo[q] = _mm512_loadu_pd(acc + (p + q) * MR);
      hi[q] = _mm512_maskz_loadu_pd(__mmask8((1u << (MR - 8)) - 1), acc + (p + q) * MR + 8);
    }
    const float* src = pa + p * kc * MR;
    for (int64_t l = 0; l < kc; l++) {
#pragma GCC unroll 4
      for (int q = 0; q < 4; q++) {
        const __m512 v = _mm512_maskz_loadu_ps(rowMask, src + q * kc * MR + l * MR);
        lo[q] = _mm512_add_pd(lo[q], _mm512_cvtps_pd(_mm512_castps512_ps256(v)));
        hi[q] = _mm512_add_pd(hi[q], _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1))));
      }
    }
    for (int q = 0; q < 4; q++) {
      _mm512_storeu_pd(acc + (p + q) * MR, lo[q]);
      _mm512_mask_storeu_pd(acc + (p + q) * MR + 8, __mmask8((1u << (MR - 8)) - 1), hi[q]);
    }
  }
#endif
  for (; p < panels; p++) {
    const int64_t rows = std::min<int64_t>(MR, mc - p * MR);
    const float* src = pa + p * kc * MR;
    double s[MR];
    for (int64_t r = 0; r < rows; r++) s[r] = acc[p * MR + r];
    for (int64_t l = 0; l < kc; l++)
      for (int64_t r = 0; r < rows; r++) s[r] += double(src[l * MR + r]);
    for (int64_t r = 0; r < rows; r++) acc[p * MR + r] = s[r];
  }
}

void blocked(const Gemm& g) {
  static thread_local Scratch bufA, bufB;
  const bool sharedA = g.shared && g.shared->isA, sharedB = g.shared && !g.shared->isA;
  float* pa = sharedA ? nullptr : bufA.get(MC * KC);
  float* pb = sharedB ? nullptr : bufB.get(KC * NC);
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
      if (sharedB) pb = ensureShared(g, l0, kc, j0 / NR, (j0 + nc + NR - 1) / NR) + (j0 / NR) * kc * NR;
      else packB(g, l0, kc, j0, nc, pb);
      for (int64_t i0 = 0; i0 < g.m; i0 += MC) {
        int64_t mc = std::min(MC, g.m - i0);
        if (sharedA) pa = ensureShared(g, l0, kc, i0 / MR, (i0 + mc + MR - 1) / MR) + (i0 / MR) * kc * MR;
        else packA(g, i0, mc, l0, kc, pa);
        if (g.colSums && j0 == 0) packedColumnSums(pa, mc, kc, g.colSums + i0);  // A is packed again for each j0
        for (int64_t jp = 0; jp < nc; jp += NR) {
          int64_t cols = std::min<int64_t>(NR, nc - jp);
          const float* bp = pb + (jp / NR) * kc * NR;
          for (int64_t ip = 0; ip < mc; ip += MR) {
            int64_t rows = std::min<int64_t>(MR, mc - ip);
            if (last && g.mask && rows == MR && cols == NR)  // the mask tile fetched while the tile is computed
              microkernel<MR, true>(kc, pa + (ip / MR) * kc * MR, bp, acc, g.mask + (i0 + ip) * g.ldc + j0 + jp, g.ldc);
            else
              microkernelRows(rows, kc, pa + (ip / MR) * kc * MR, bp, acc);
            float* cp = g.c + (i0 + ip) * g.ldc + j0 + jp;
            const float* bb = bias ? bias + j0 + jp : nullptr;
            if (last && g.extra) {  // linearFused: act, dropout and residual in one pass over the tile
              const int64_t rowOff = (i0 + ip) * g.ldc + j0 + jp;
              for (int64_t r = 0; r < rows; r++)
                finishDropResidualRow(cp + r * g.ldc, acc + r * NR, cols, g.alpha, beta, readC, bb, act,
                                      g.residual ? g.residual + rowOff + r * g.ldc : nullptr,
                                      uint32_t(g.idx0 + (i0 + ip + r) * g.idxLd + j0 + jp), *g.extra);
            } else if (last && g.mask) {  // linearBackwardFused's masked dX (no bias, no act)
              const float* mp = g.mask + (i0 + ip) * g.ldc + j0 + jp;
              for (int64_t r = 0; r < rows; r++)
                finishMaskRow(cp + r * g.ldc, acc + r * NR, cols, g.alpha, beta, readC, mp + r * g.ldc, g.maskScale);
            } else {
              for (int64_t r = 0; r < rows; r++)
                finishRow(cp + r * g.ldc, acc + r * NR, cols, g.alpha, beta, readC, bb, act);
            }
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
  else return blocked(g);  // (applies linearFused's epilogue per tile, linearBackwardFused's sums and mask per pack/tile)
  if (g.extra) dropResidualAll(g);
  if (g.mask)
    for (int64_t r = 0; r < g.m; r++)
      finishMaskRow(g.c + r * g.ldc, g.c + r * g.ldc, g.n, 1.f, 0.f, false, g.mask + r * g.ldc, g.maskScale);
  if (g.colSums) columnSumsUnpacked(g.a, g.lda, g.transA, g.m, g.k, g.colSums);
}

}  // namespace

namespace {
// Rows the microkernel computes for a panel of `rows` valid rows (microkernelRows' choice).
HEED_INLINE int64_t kernelRows(int64_t rows) {
#if HEED_W == 16
  return rows <= 4 ? 4 : rows <= 7 ? 7 : rows <= 10 ? 10 : MR;
#else
  return rows <= 4 ? 4 : MR;
#endif
}
// Relative cost of a row slab of r rows: its panels' microkernel rows, + 3 per panel for the B loads
// and the loop (a full MR = 14 panel 17, the 4-row panel of m = 704's tail 7).
HEED_INLINE int64_t rowSlabCost(int64_t r) {
  return r / MR * (MR + 3) + (r % MR ? kernelRows(r % MR) + 3 : 0);
}

// Where the row slabs of an m-row matrix start (at[0] = 0 … at[slabs] = m): slabs of equal cost, not
// of whole MR panels. MR-rounded slabs gave the first of two a whole panel more: m = 704 in 364 + 340
// rows (cost 442 : 415, the first 6% longer), m = 768 in 392 + 376; the balanced cut is 352 + 352
// (432 : 432) and 384 + 384. Each boundary is chosen within half a panel of the even split.
void rowSlabStarts(int64_t m, int64_t slabs, int64_t* at) {
  at[0] = 0;
  for (int64_t s = 1; s < slabs; s++) {
    const int64_t prev = at[s - 1], left = slabs - s + 1;  // slabs still to cut from [prev, m)
    const int64_t ideal = prev + (m - prev) / left;
    int64_t best = ideal, bestMax = INT64_MAX, bestSum = INT64_MAX;
    for (int64_t b = std::max(prev + 1, ideal - MR / 2); b <= std::min(m - 1, ideal + MR / 2); b++) {
      const int64_t c0 = rowSlabCost(b - prev) * (left - 1), c1 = rowSlabCost(m - b);  // this slab × the rest's share
      const int64_t mx = std::max(c0, c1), sum = c0 + c1;
      if (mx < bestMax || (mx == bestMax && sum < bestSum)) best = b, bestMax = mx, bestSum = sum;
    }
    at[s] = best;
  }
  at[slabs] = m;
}

// extra/residual: linearFused's epilogue (null for a plain sgemm); residual has C's layout and strides.
void sgemmImpl(const float* a, const float* b, float* c, int64_t batch, int64_t m, int64_t n, int64_t k, bool transA,
               bool transB, float alpha, float beta, int64_t strideA, int64_t strideB, int64_t strideC,
               const float* bias, int activation, const DropResidual* extra, const float* residual, bool serial = false,
               double* colSums = nullptr, const float* mask = nullptr, float maskScale = 0.f) {
  // mask (batch 1, no bias, act or extra): C through the relu-dropout that wrote mask (finishMaskRow)
  // colSums (batch 1 only): Σ_l op(A)(i, l) per row i of op(A), float64, added into colSums
  if (batch == 0 || m == 0) return;
  if (n == 0) {
    if (colSums) columnSumsUnpacked(a, transA ? m : k, transA, m, k, colSums);
    return;
  }
  int threads = serial ? 1 : poolSize();
  double work = double(m) * double(n) * double(k) * double(batch);
  // Split each matrix into slabs when the batch alone cannot feed every thread.
  int64_t slabs = 1;
  bool splitN = n >= m;
  if (batch < threads && work >= kMinParallelWork) {
    slabs = (threads + batch - 1) / batch;
    int64_t unit = splitN ? NR : MR;
    int64_t dim = splitN ? n : m;
    slabs = std::max<int64_t>(1, std::min<int64_t>(slabs, (dim + unit - 1) / unit));
    // x·Wᵀ above kSkinnyRows rows runs blocked: its row slabs must too (skinny sums in another order)
    if (!splitN && !transA && transB && m > kSkinnyRows) slabs = std::max<int64_t>(1, std::min(slabs, m / (kSkinnyRows + 1)));
  }
  if (work < kMinParallelWork) threads = 1;
  const int64_t dimS = splitN ? n : m;
  // Slab s covers [at[s], at[s + 1]) of the split dimension: whole NR panels of columns, or rows of equal cost.
  int64_t at[kMaxThreads + 1];
  if (splitN) {
    const int64_t per = ((dimS + slabs - 1) / slabs + NR - 1) / NR * NR;
    for (int64_t s = 0; s <= slabs; s++) at[s] = std::min(dimS, s * per);
  } else {
    rowSlabStarts(m, slabs, at);
  }
  // One matrix cut into slabs: the operand they share (A for column slabs, B for row slabs) is
  // packed once, by whichever slab's thread gets to each chunk first (SharedPack), instead of once
  // per slab. The buffers are the caller's; workers use them only inside this call's job.
  // Kept whole (every k block), so only up to kMaxSharedFloats: a larger operand packs per slab,
  // as before, rather than hold a copy of a big weight in the caller's scratch for the process's life.
  SharedPack shared{};
  const int64_t sharedFloats = (k + KC - 1) / KC * KC * (splitN ? (m + MR - 1) / MR * MR : (n + NR - 1) / NR * NR);
  const bool share = threads > 1 && batch == 1 && slabs > 1 && k > 0 && sharedFloats > kMinSharedFloats && sharedFloats <= kMaxSharedFloats;
  if (share) {
    static thread_local Scratch bufShared;
    static thread_local std::unique_ptr<std::atomic<int>[]> state;
    static thread_local int64_t stateCap = 0;
    shared.isA = splitN;
    shared.panels = splitN ? (m + MR - 1) / MR : (n + NR - 1) / NR;
    shared.chunk = splitN ? 3 : 2;  // row panels of A, column panels of B per claim (MC and NC hold whole chunks)
    shared.chunks = (shared.panels + shared.chunk - 1) / shared.chunk;
    const int64_t kblocks = (k + KC - 1) / KC;
    shared.buf = bufShared.get(size_t(sharedFloats));
    if (kblocks * shared.chunks > stateCap) {
      stateCap = kblocks * shared.chunks;
      state.reset(new std::atomic<int>[size_t(stateCap)]);  // (set to 0 below, every call)
    }
    shared.state = state.get();
    for (int64_t i = 0; i < kblocks * shared.chunks; i++) shared.state[i].store(0, std::memory_order_relaxed);
  }
  // The column sums ride on the packing of A only when one sub-problem packs all of it; otherwise a
  // pass of their own after the product (the same additions in the same order: the same bits).
  const bool sumsInTask = colSums && batch * slabs == 1;
  auto task = [&](int64_t t, int) {
    const int64_t p = t / slabs, s = t % slabs, lo = at[s], hi = at[s + 1];
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
    g.extra = extra;
    g.residual = residual ? residual + p * strideC : nullptr;
    g.idx0 = p * strideC;
    g.idxLd = n;
    g.shared = share ? &shared : nullptr;
    g.colSums = sumsInTask ? colSums : nullptr;
    g.mask = mask;
    g.maskScale = maskScale;
    if (splitN) {
      g.n = hi - lo;
      g.b += transB ? lo * g.ldb : lo;
      g.c += lo;
      if (g.bias) g.bias += lo;
      if (g.residual) g.residual += lo;
      if (g.mask) g.mask += lo;
      g.idx0 += lo;
    } else {
      g.m = hi - lo;
      g.a += transA ? lo : lo * g.lda;
      g.c += lo * g.ldc;
      if (g.residual) g.residual += lo * g.ldc;
      if (g.mask) g.mask += lo * g.ldc;
      g.idx0 += lo * n;
    }
    run(g);
  };
  int64_t ntasks = batch * slabs;
  if (threads == 1) {
    for (int64_t t = 0; t < ntasks; t++) task(t, 0);
  } else {
    parallelFor(ntasks, task);
  }
  if (colSums && !sumsInTask) columnSumsUnpacked(a, transA ? m : k, transA, m, k, colSums);
}
}  // namespace

// The plain GEMM (also called by conv.cpp).
void sgemm(const float* a, const float* b, float* c, int64_t batch, int64_t m, int64_t n, int64_t k, bool transA,
           bool transB, float alpha, float beta, int64_t strideA, int64_t strideB, int64_t strideC,
           const float* bias, int activation) {
  sgemmImpl(a, b, c, batch, m, n, k, transA, transB, alpha, beta, strideA, strideB, strideC, bias, activation, nullptr, nullptr);
}

// A Linear's two gradients: gx = g·w (rows × inF) and gw = gᵀ·x (outF × inF). On a pool of exactly
// two threads, each product runs whole on one thread (a job of two tasks) instead of each being cut
// into two slabs one after the other: no slab edges, no operand packed by both slabs, one pool job
// instead of two. The products' FLOPs are equal (rows·inF·outF each), so the two tasks balance.
// Every element's arithmetic is that of sgemm, so the results are bit-identical to two sgemm calls
// at any thread count (test/native/linear-backward.test.ts). At other thread counts, or when either
// product is too small to split, it is those two calls.
// linearBackwardFused adds the bias gradient gb = Σ_rows g, summed in float64 in row order off the dW
// product's packed panels of gᵀ (no pass of its own over g), and lets either product be absent.
// maskScale > 0: gx is written through the relu-dropout that produced x (gx · maskScale where x > 0, else 0).
void linearBackward(const float* g, const float* x, const float* w, float* gx, float* gw, int64_t rows, int64_t inF,
                    int64_t outF, float* gb = nullptr, float maskScale = 0.f) {
  // gb = Σ_rows g in float64, summed off dW's packing of gᵀ (or alone when dW is not asked)
  static thread_local std::vector<double> sumsBuf;
  double* sums = nullptr;
  if (gb) {
    sumsBuf.assign(size_t(outF), 0.0);
    sums = sumsBuf.data();
  }
  auto dx = [&](bool serial) {
    if (gx)
      sgemmImpl(g, w, gx, 1, rows, inF, outF, false, false, 1.f, 0.f, 0, 0, 0, nullptr, 0, nullptr, nullptr, serial, nullptr,
                maskScale > 0.f ? x : nullptr, maskScale);
  };
  auto dw = [&](bool serial) {
    if (gw) sgemmImpl(g, x, gw, 1, outF, inF, rows, true, false, 1.f, 0.f, 0, 0, 0, nullptr, 0, nullptr, nullptr, serial, sums);
    else if (sums) columnSumsUnpacked(g, outF, true, outF, rows, sums);
  };
  const double work = double(rows) * double(inF) * double(outF);
  if (poolSize() == 2 && work >= kMinParallelWork && gx && gw) {
    parallelFor(2, [&](int64_t t, int) { t == 0 ? dx(true) : dw(true); });
  } else {
    dx(false);
    dw(false);
  }
  if (gb)
    for (int64_t c = 0; c < outF; c++) gb[c] = float(sums[c]);
}

// Entry points: each kernel's Args struct (kernel_specs.gen.h) unpacked into the call above.
void linearBackward(const LinearBackwardArgs& p) { linearBackward(p.g, p.x, p.w, p.gx, p.gw, p.rows, p.inF, p.outF); }
void linearBackwardFused(const LinearBackwardFusedArgs& p) {
  linearBackward(p.g, p.x, p.w, p.gx, p.gw, p.rows, p.inF, p.outF, p.gb, p.maskScale);
}
void sgemm(const SgemmArgs& p) { sgemm(p.a, p.b, p.c, p.batch, p.m, p.n, p.k, p.transA, p.transB, p.alpha, p.beta, p.strideA, p.strideB, p.strideC, p.bias, int(p.activation)); }
// y = residual + dropout(act(x·wᵀ + bias)): one GEMM, the dropout and residual in its epilogue.
void linearFused(const LinearFusedArgs& p) {
  DropResidual e{};
  const double thr = std::ceil(p.p * 4294967296.0);  // p < 1 (spec), so thr ≤ 2³² − 1 unless p is within 2⁻³² of 1
  e.drop = p.p > 0;
  e.thr = thr > 4294967295.0 ? 4294967295u : uint32_t(thr);
  e.mixed = lowbias32(uint32_t(p.seed));
  e.scale = thr > 4294967295.0 ? 0.f : float(1.0 / (1.0 - p.p));  // nothing is kept, as the dropout kernel
  sgemmImpl(p.x, p.w, p.y, 1, p.rows, p.outF, p.inF, false, true, 1.f, 0.f, 0, 0, 0, p.bias, int(p.activation),
            e.drop || p.residual ? &e : nullptr, p.residual);
}

}  // namespace HEED_NS
}  // namespace heed
