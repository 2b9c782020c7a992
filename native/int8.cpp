// int8 weight quantization and the int8 GEMM. Semantics: src/backend/js/int8.ts.
//
// out (m, n) = sx_i · sw_j · Σ_c qx_ic · qw_jc + bias_j, x quantized per row here.
// int8GemmPacked's epilogue also applies an activation (relu, gelu) and adds a residual:
// out = act(that) + residual, so a decoder layer's FFN and output projections need no
// separate pass over the output (residual may be out itself: each element is read once,
// then written).
// With AVX-512 VNNI the dot products use vpdpbusd, which multiplies unsigned by
// signed bytes: x is stored as u8 = qx + 128 and the extra 128 · Σ_c qw_jc is
// subtracted afterwards, so the int32 sums equal the reference exactly. W is packed
// (once, int8PackWeights) into 32-column panels of 4-byte k-quads, the layout vpdpbusd
// wants; the dequantizing epilogue runs on the accumulator registers. Elsewhere a
// portable int32 loop computes the same integers.
#include <chrono>
#include "common.h"
#include "kernels.h"
#include "threadpool.h"
#if defined(__AVX512VNNI__) && defined(__AVX512BW__)
#include <immintrin.h>
#define HEED_VNNI 1
#endif

namespace heed {
namespace HEED_NS {

namespace {

// Symmetric per-row quantization, bit-identical to the reference (double division
// for the scale, float product, round half away from zero, clamp ±127).
// rowScale: the row's scale and its inverse.
HEED_INLINE float rowScale(const float* w, int64_t k, float* inv) {
  vf mv = vf{};
  int64_t c = 0;
  for (; c + W <= k; c += W) mv = vmax(mv, vabs(vload(w + c)));
  float maxAbs = hmax(mv);
  for (; c < k; c++) maxAbs = std::max(maxAbs, std::fabs(w[c]));
  float scale = maxAbs > 0.f ? float(double(maxAbs) / 127.0) : 1.f;
  *inv = float(1.0 / double(scale));
  return scale;
}

// W lanes of w · inv, rounded half away from zero and clamped to ±127.
HEED_INLINE vi quantizeLanes(const float* w, float inv) {
  const vf lim = vsplat(127.f);
  vf y = vload(w) * inv;
  vf t = __builtin_convertvector(__builtin_convertvector(y, vi), vf);  // toward zero
  vf f = y - t;                                                        // exact
  t += vselect(f >= 0.5f, vsplat(1.f), vf{}) - vselect(f <= -0.5f, vsplat(1.f), vf{});
  return __builtin_convertvector(vmin(vmax(t, -lim), lim), vi);
}

HEED_INLINE int8_t quantizeScalar(float x, float inv) {
  float r = std::round(x * inv);
  return int8_t(r > 127.f ? 127.f : (r < -127.f ? -127.f : r));
}

// Rounds w (k) with a given scale (its inverse as rowScale computes it); values clamp at ±127.
// Static quantization calls it with the calibrated scale; quantizeRow with the row's own.
HEED_INLINE float quantizeRowWith(const float* w, int8_t* q, int64_t k, float scale) {
  const float inv = float(1.0 / double(scale));
  int64_t c = 0;
  for (; c + W <= k; c += W) {
    vi r = quantizeLanes(w + c, inv);
    for (int e = 0; e < W; e++) q[c + e] = int8_t(r[e]);
  }
  for (; c < k; c++) q[c] = quantizeScalar(w[c], inv);
  return scale;
}

HEED_INLINE float quantizeRow(const float* w, int8_t* q, int64_t k) {
  float inv;
  return quantizeRowWith(w, q, k, rowScale(w, k, &inv));
}

struct Int8Scratch {
  Scratch xq, wp, misc;
};

}  // namespace

void quantizePerChannel(const float* w, int8_t* q, float* scales, int64_t n, int64_t k) {
  parallelChunks(n, std::max<int64_t>(1, 32768 / std::max<int64_t>(k, 1)), [&](int64_t lo, int64_t hi) {
    for (int64_t r = lo; r < hi; r++) scales[r] = quantizeRow(w + r * k, q + r * k, k);
  });
}

namespace {

// Packed layout (see src/backend/js/int8.ts): [panel][quad][NP columns][4 bytes], n padded
// to NP and k to 4 with zeros. Same on every ISA, so packed weights made once serve any table.
constexpr int NP = 32;

// Lays out already-quantized rows wq (n, k) into the packed layout and sums each row.
void packQuantized(const int8_t* wq, int8_t* wp, int32_t* colSum, int64_t n, int64_t k) {
  const int64_t kq = (k + 3) / 4, fullQuads = k / 4, kp = kq * 4;
  const int64_t panels = (n + NP - 1) / NP;
  parallelFor(panels, [&](int64_t pnl, int) {
    int8_t* dst = wp + pnl * NP * kp;
    for (int64_t jj = 0; jj < NP; jj++) {
      int64_t j = pnl * NP + jj;
      if (j >= n) {
        for (int64_t q = 0; q < kq; q++) std::memset(dst + (q * NP + jj) * 4, 0, 4);
        continue;
      }
      const int8_t* src = wq + j * k;
      int32_t s = 0;
      for (int64_t c = 0; c < k; c++) s += src[c];
      colSum[j] = s;
      for (int64_t q = 0; q < fullQuads; q++) std::memcpy(dst + (q * NP + jj) * 4, src + q * 4, 4);
      if (fullQuads < kq) {
        int8_t* cell = dst + (fullQuads * NP + jj) * 4;
        for (int e = 0; e < 4; e++) cell[e] = fullQuads * 4 + e < k ? src[fullQuads * 4 + e] : int8_t(0);
      }
    }
  });
}

// x (m, k) → per-row scales sx and quantized rows of kp bytes, stored as qx + offset
// (128 for vpdpbusd's unsigned operand, 0 for the portable loop); the pad is the offset (= 0).
// xScale > 0: every row with that scale (static quantization) instead of its own.
void quantizeActivations(const float* x, uint8_t* xq, float* sx, int64_t m, int64_t k, int64_t kp, int offset, float xScale) {
  parallelChunks(m, std::max<int64_t>(1, 16384 / std::max<int64_t>(k, 1)), [&](int64_t lo, int64_t hi) {
    static thread_local Scratch rowBuf;
    int8_t* row = reinterpret_cast<int8_t*>(rowBuf.get(k / 4 + 16));
    for (int64_t i = lo; i < hi; i++) {
      sx[i] = xScale > 0.f ? quantizeRowWith(x + i * k, row, k, xScale) : quantizeRow(x + i * k, row, k);
      uint8_t* d = xq + i * kp;
      for (int64_t c = 0; c < k; c++) d[c] = uint8_t(int(row[c]) + offset);
      for (int64_t c = k; c < kp; c++) d[c] = uint8_t(offset);
    }
  });
}

// Writes out rows [i0, i0 + rows) × panel columns from the int32 sums acc (rows × NP).
// act 0 none, 1 relu, 2 gelu (erf), as sgemm's epilogue; residual (m, n) or null.
HEED_INLINE void writeTile(const int32_t* acc, int64_t i0, int64_t rows, int64_t j0, int64_t cols, const float* sx,
                           const float* wScales, const int32_t* colSum, int32_t shift, const float* bias, int act,
                           const float* residual, float* out, int64_t n) {
  for (int64_t r = 0; r < rows; r++) {
    float* o = out + (i0 + r) * n + j0;
    const float* res = residual ? residual + (i0 + r) * n + j0 : nullptr;
    float s = sx[i0 + r];
    for (int64_t c = 0; c < cols; c++) {
      int32_t dot = acc[r * NP + c] - shift * colSum[j0 + c];
      float v = (s * wScales[j0 + c]) * float(dot);
      if (bias) v += bias[j0 + c];
      if (act == 1) v = relu_scalar(v);
      else if (act == 2) v = gelu_scalar(v);
      o[c] = res ? v + res[c] : v;
    }
  }
}

}  // namespace

#if HEED_VNNI

namespace {
// The row scales of x rows [lo, hi): sx_i = max_c |x_ic| / 127 (1 when the row is all zeros) and
// inv_i = 1 / sx_i, as rowScale computes them (double divisions, so bit-identical to the
// reference). Two passes: every row's max first, then the divisions, so that rows do not wait
// on each other's divide (one row's chain load → max → reduce → divide → divide took longer
// than quantizing it at K = 64).
void rowScalesVnni(const float* x, int64_t k, int64_t lo, int64_t hi, float* sx, float* inv) {
  for (int64_t i = lo; i < hi; i++) {
    const float* w = x + i * k;
    __m512 m0 = _mm512_setzero_ps(), m1 = _mm512_setzero_ps();
    int64_t c = 0;
    for (; c + 32 <= k; c += 32) {
      m0 = _mm512_max_ps(m0, _mm512_abs_ps(_mm512_loadu_ps(w + c)));
      m1 = _mm512_max_ps(m1, _mm512_abs_ps(_mm512_loadu_ps(w + c + 16)));
    }
    for (; c < k; c += 16) {
      const __mmask16 mk = k - c >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << (k - c)) - 1);
      m0 = _mm512_max_ps(m0, _mm512_abs_ps(_mm512_maskz_loadu_ps(mk, w + c)));
    }
    sx[i] = _mm512_reduce_max_ps(_mm512_max_ps(m0, m1));
  }
  for (int64_t i = lo; i < hi; i++) {
    const float maxAbs = sx[i];
    const float scale = maxAbs > 0.f ? float(double(maxAbs) / 127.0) : 1.f;
    sx[i] = scale;
    inv[i] = float(1.0 / double(scale));
  }
}

// 16 lanes of x · inv rounded half away from zero, clamped to ±127, as bytes u8 = q + 128
// (q + 128 ≡ q ^ 0x80 on a byte). trunc, then +sign(y) where |y − trunc(y)| ≥ 0.5: the
// reference's rounding (Math.round of |y|, signed), exactly.
HEED_INLINE __m128i quantizeToU8(__m512 v, __m512 inv) {
  const __m512 y = _mm512_mul_ps(v, inv);
  const __m512 t = _mm512_roundscale_ps(y, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
  const __mmask16 up = _mm512_cmp_ps_mask(_mm512_abs_ps(_mm512_sub_ps(y, t)), _mm512_set1_ps(0.5f), _CMP_GE_OQ);
  // ±1 with y's sign: (y & sign) | 1.0f
  const __m512 one = _mm512_castsi512_ps(_mm512_ternarylogic_epi32(_mm512_castps_si512(y), _mm512_set1_epi32(int(0x80000000u)),
                                                                  _mm512_set1_epi32(0x3f800000), 0xEA));
  // Clamped to ±127 as floats, before the conversion: a static scale can put y past the int32 range,
  // which cvttps would turn into INT_MIN (−127 after a clamp in integers, whatever y's sign).
  const __m512 r = _mm512_min_ps(_mm512_max_ps(_mm512_mask_add_ps(t, up, t, one), _mm512_set1_ps(-127.f)), _mm512_set1_ps(127.f));
  return _mm_xor_si128(_mm512_cvtepi32_epi8(_mm512_cvttps_epi32(r)), _mm_set1_epi8(char(0x80)));
}

// x (m, k) → per-row scales sx and rows of kp bytes u8 = qx + 128 (the pad is 128, i.e. qx = 0).
// xScale > 0: every row with that scale (static quantization) instead of its own.
// inv: scratch of m floats (the inverse scales).
void quantizeActivationsVnni(const float* x, uint8_t* xq, float* sx, float* inv, int64_t m, int64_t k, int64_t kp, float xScale) {
  parallelChunks(m, std::max<int64_t>(1, 16384 / std::max<int64_t>(k, 1)), [&](int64_t lo, int64_t hi) {
    if (xScale > 0.f) {
      const float i1 = float(1.0 / double(xScale));
      for (int64_t i = lo; i < hi; i++) { sx[i] = xScale; inv[i] = i1; }
    } else {
      rowScalesVnni(x, k, lo, hi, sx, inv);
    }
    for (int64_t i = lo; i < hi; i++) {
      const float* w = x + i * k;
      uint8_t* d = xq + i * kp;
      const __m512 vi = _mm512_set1_ps(inv[i]);
      int64_t c = 0;
      for (; c + 16 <= k; c += 16) _mm_storeu_si128(reinterpret_cast<__m128i*>(d + c), quantizeToU8(_mm512_loadu_ps(w + c), vi));
      if (c < kp) {  // the tail and the pad: lanes past k load 0, which quantizes to 128
        const __mmask16 mk = __mmask16((1u << (k - c)) - 1), mp = __mmask16((1u << (kp - c)) - 1);
        _mm_mask_storeu_epi8(d + c, mp, quantizeToU8(_mm512_maskz_loadu_ps(mk, w + c), vi));
      }
    }
  });
}

// What one tile writes: out (m, n) rows [i0, i0 + R) × columns [j0, j0 + cols), cols ≤ NP.
struct TileOut {
  const float* sx;
  const float* wScales;
  const int32_t* colSum;
  const float* bias;
  int act;                // 0 none, 1 relu, 2 gelu
  const float* residual;  // (m, n) or null; may be out
  float* out;
  int64_t n, i0, j0, cols;
};

// The dequantizing epilogue straight from the accumulator registers:
// out = act((sx_i · sw_j) · float(acc − 128 · colSum_j) + bias_j) + residual_ij, masked at the panel's edge.
template <int R, int NVT>
HEED_INLINE void storeTile(const __m512i (&c)[R][NVT], const TileOut& t) {
  __mmask16 mask[NVT];
  __m512 ws[NVT], bs[NVT];
  __m512i shift[NVT];
#pragma GCC unroll 4
  for (int v = 0; v < NVT; v++) {
    int64_t left = t.cols - v * 16;
    mask[v] = left >= 16 ? __mmask16(0xFFFF) : left <= 0 ? __mmask16(0) : __mmask16((1u << left) - 1);
    ws[v] = _mm512_maskz_loadu_ps(mask[v], t.wScales + t.j0 + v * 16);
    shift[v] = _mm512_slli_epi32(_mm512_maskz_loadu_epi32(mask[v], t.colSum + t.j0 + v * 16), 7);
    bs[v] = t.bias ? _mm512_maskz_loadu_ps(mask[v], t.bias + t.j0 + v * 16) : _mm512_setzero_ps();
  }
#pragma GCC unroll 16
  for (int r = 0; r < R; r++) {
    __m512 s = _mm512_set1_ps(t.sx[t.i0 + r]);
    float* o = t.out + (t.i0 + r) * t.n + t.j0;
    const float* res = t.residual ? t.residual + (t.i0 + r) * t.n + t.j0 : nullptr;
#pragma GCC unroll 4
    for (int v = 0; v < NVT; v++) {
      __m512 val = _mm512_mul_ps(_mm512_mul_ps(s, ws[v]), _mm512_cvtepi32_ps(_mm512_sub_epi32(c[r][v], shift[v])));
      if (t.bias) val = _mm512_add_ps(val, bs[v]);
      if (t.act == 1) val = __m512(vrelu(vf(val)));
      else if (t.act == 2) val = __m512(vgelu(vf(val)));
      if (res) val = _mm512_add_ps(val, _mm512_maskz_loadu_ps(mask[v], res + v * 16));
      _mm512_mask_storeu_ps(o + v * 16, mask[v], val);
    }
  }
}

// c += u8(a) · s8(b) per 4-byte group (vpdpbusd). Written as asm because GCC 12 compiles the
// intrinsic in the 24-accumulator kernel below with a register copy and a stack store per
// accumulator per step (it does not tie the accumulator to the destination); the asm operand
// "+v" does, and the loop becomes loads, broadcasts and vpdpbusd only.
HEED_INLINE void dpbusd(__m512i& c, __m512i a, __m512i b) { asm("vpdpbusd %2, %1, %0" : "+v"(c) : "v"(a), "v"(b)); }

// 12 rows × 32 columns of int32 accumulators (24 zmm). A 32-column W panel of k ≤ 1536
// bytes stays in L1 while every row block streams past it.
constexpr int MR = 12, NV = NP / 16;

// acc(rows × NP) = Σ_quads u8(x) · s8(w) for one NP-column panel.
template <int R>
void vnniKernel(int64_t kq, const uint8_t* x, int64_t ldx, const int8_t* wp, const TileOut& t) {
  __m512i c[R][NV];
#pragma GCC unroll 16
  for (int r = 0; r < R; r++)
#pragma GCC unroll 4
    for (int v = 0; v < NV; v++) c[r][v] = _mm512_setzero_si512();
  for (int64_t q = 0; q < kq; q++) {
    __m512i b[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; v++) b[v] = _mm512_loadu_si512(wp + (q * NV + v) * 64);
#pragma GCC unroll 16
    for (int r = 0; r < R; r++) {
      int32_t quad;
      std::memcpy(&quad, x + r * ldx + q * 4, 4);
      __m512i a = _mm512_set1_epi32(quad);
#pragma GCC unroll 4
      for (int v = 0; v < NV; v++) dpbusd(c[r][v], a, b[v]);
    }
  }
  // A copy for the epilogue: were `c` itself passed by reference, GCC would keep it in memory
  // and store all R·NV accumulators to the stack on every quad.
  __m512i acc[R][NV];
#pragma GCC unroll 16
  for (int r = 0; r < R; r++)
#pragma GCC unroll 4
    for (int v = 0; v < NV; v++) acc[r][v] = c[r][v];
  storeTile<R, NV>(acc, t);
}

// One row against one panel with 4 independent accumulator pairs over the quads, so the
// vpdpbusd latency chain does not bound the M = 1 (GEMV) case.
void vnniRow(int64_t kq, const uint8_t* x, const int8_t* wp, const TileOut& t) {
  __m512i c[4][NV];
  for (int u = 0; u < 4; u++)
    for (int v = 0; v < NV; v++) c[u][v] = _mm512_setzero_si512();
  int64_t q = 0;
  for (; q + 4 <= kq; q += 4) {
#pragma GCC unroll 4
    for (int u = 0; u < 4; u++) {
      int32_t quad;
      std::memcpy(&quad, x + (q + u) * 4, 4);
      __m512i a = _mm512_set1_epi32(quad);
#pragma GCC unroll 4
      for (int v = 0; v < NV; v++)
        dpbusd(c[u][v], a, _mm512_loadu_si512(wp + ((q + u) * NV + v) * 64));
    }
  }
  for (; q < kq; q++) {
    int32_t quad;
    std::memcpy(&quad, x + q * 4, 4);
    __m512i a = _mm512_set1_epi32(quad);
    for (int v = 0; v < NV; v++) dpbusd(c[0][v], a, _mm512_loadu_si512(wp + (q * NV + v) * 64));
  }
  __m512i sum[1][NV];
  for (int v = 0; v < NV; v++) sum[0][v] = _mm512_add_epi32(_mm512_add_epi32(c[0][v], c[1][v]), _mm512_add_epi32(c[2][v], c[3][v]));
  storeTile<1, NV>(sum, t);
}
}  // namespace

void int8GemmPacked(const float* x, const int8_t* wp, const float* wScales, const int32_t* colSum, float* out,
                    int64_t m, int64_t n, int64_t k, const float* bias, int act, const float* residual, float xScale) {
  if (m == 0 || n == 0) return;
  static thread_local Int8Scratch ws;
  const int64_t kp = (k + 3) / 4 * 4, kq = kp / 4;
  const int64_t panels = (n + NP - 1) / NP;
  uint8_t* xq = reinterpret_cast<uint8_t*>(ws.xq.get((m * kp + 3) / 4 + 16));
  float* sx = ws.misc.get(2 * m + 16);
  quantizeActivationsVnni(x, xq, sx, sx + m, m, k, kp, xScale);
  const int64_t rowBlocks = (m + MR - 1) / MR;
  // Consecutive tasks share a W panel (kept in L1) and walk the row blocks. Chunks of at
  // least ~2M multiply-adds: below that, waking the pool costs more than it saves (M = 1).
  const int64_t taskMacs = std::min<int64_t>(m, MR) * NP * kp;
  parallelChunks(rowBlocks * panels, std::max<int64_t>(1, (int64_t(1) << 21) / taskMacs), [&](int64_t lo, int64_t hi) {
   for (int64_t t = lo; t < hi; t++) {
    int64_t pnl = t / rowBlocks, rb = t % rowBlocks;
    int64_t i0 = rb * MR, rows = std::min<int64_t>(MR, m - i0);
    const uint8_t* xr = xq + i0 * kp;
    const int8_t* wpp = wp + pnl * NP * kp;
    const int64_t j0 = pnl * NP;
    const TileOut tile{sx, wScales, colSum, bias, act, residual, out, n, i0, j0, std::min<int64_t>(NP, n - j0)};
    using Kernel = void (*)(int64_t, const uint8_t*, int64_t, const int8_t*, const TileOut&);
    static constexpr Kernel kernels[MR + 1] = {nullptr, vnniKernel<1>, vnniKernel<2>, vnniKernel<3>, vnniKernel<4>,
                                              vnniKernel<5>, vnniKernel<6>, vnniKernel<7>, vnniKernel<8>,
                                              vnniKernel<9>, vnniKernel<10>, vnniKernel<11>, vnniKernel<12>};
    if (rows == 1) vnniRow(kq, xr, wpp, tile);
    else kernels[rows](kq, xr, kp, wpp, tile);
   }
  });
}

void int8Gemm(const float* x, const int8_t* wq, const float* wScales, float* out, int64_t m, int64_t n, int64_t k,
              const float* bias) {
  if (m == 0 || n == 0) return;
  static thread_local Int8Scratch ws;
  const int64_t kp = (k + 3) / 4 * 4, panels = (n + NP - 1) / NP;
  int8_t* wp = reinterpret_cast<int8_t*>(ws.wp.get((panels * NP * kp + 3) / 4 + 16));
  int32_t* colSum = reinterpret_cast<int32_t*>(ws.misc.get(n + 16));
  packQuantized(wq, wp, colSum, n, k);
  int8GemmPacked(x, wp, wScales, colSum, out, m, n, k, bias, 0, nullptr, 0.f);
}

#else

// Portable: the same integers from the packed layout, one row × one panel per task.
void int8GemmPacked(const float* x, const int8_t* wp, const float* wScales, const int32_t* colSum, float* out,
                    int64_t m, int64_t n, int64_t k, const float* bias, int act, const float* residual, float xScale) {
  if (m == 0 || n == 0) return;
  static thread_local Int8Scratch ws;
  const int64_t kp = (k + 3) / 4 * 4, kq = kp / 4;
  const int64_t panels = (n + NP - 1) / NP;
  uint8_t* xq = reinterpret_cast<uint8_t*>(ws.xq.get((m * kp + 3) / 4 + 16));
  float* sx = ws.misc.get(m + 16);
  quantizeActivations(x, xq, sx, m, k, kp, 0, xScale);
  parallelChunks(m * panels, std::max<int64_t>(1, (int64_t(1) << 18) / (NP * kp)), [&](int64_t lo, int64_t hi) {
   for (int64_t t = lo; t < hi; t++) {
    int64_t i = t / panels, pnl = t % panels;
    const int8_t* a = reinterpret_cast<const int8_t*>(xq + i * kp);
    const int8_t* b = wp + pnl * NP * kp;
    int32_t acc[NP] = {};
    for (int64_t q = 0; q < kq; q++)
      for (int jj = 0; jj < NP; jj++)
        for (int e = 0; e < 4; e++) acc[jj] += int32_t(a[q * 4 + e]) * int32_t(b[(q * NP + jj) * 4 + e]);
    int64_t j0 = pnl * NP;
    writeTile(acc, i, 1, j0, std::min<int64_t>(NP, n - j0), sx, wScales, colSum, 0, bias, act, residual, out, n);
   }
  });
}

void int8Gemm(const float* x, const int8_t* wq, const float* wScales, float* out, int64_t m, int64_t n, int64_t k,
              const float* bias) {
  if (m == 0 || n == 0) return;
  static thread_local Int8Scratch ws;
  int8_t* xq = reinterpret_cast<int8_t*>(ws.xq.get((m * k + 3) / 4 + 16));
  float* sx = ws.misc.get(m + 16);
  parallelChunks(m, std::max<int64_t>(1, 16384 / std::max<int64_t>(k, 1)), [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; i++) sx[i] = quantizeRow(x + i * k, xq + i * k, k);
  });
  parallelChunks(m * n, std::max<int64_t>(1, 65536 / std::max<int64_t>(k, 1)), [&](int64_t lo, int64_t hi) {
    for (int64_t t = lo; t < hi; t++) {
      int64_t i = t / n, j = t % n;
      const int8_t* a = xq + i * k;
      const int8_t* b = wq + j * k;
      int32_t dot = 0;
      for (int64_t c = 0; c < k; c++) dot += int32_t(a[c]) * int32_t(b[c]);
      float v = (sx[i] * wScales[j]) * float(dot);
      out[t] = bias ? v + bias[j] : v;
    }
  });
}

#endif

// Quantizes w per row, then packs; done once per weight, so a plain row buffer is fine.
void int8PackWeights(const float* w, int8_t* wp, float* scales, int32_t* colSum, int64_t n, int64_t k) {
  if (n == 0) return;
  static thread_local Int8Scratch ws;
  int8_t* q = reinterpret_cast<int8_t*>(ws.xq.get((n * k + 3) / 4 + 16));
  quantizePerChannel(w, q, scales, n, k);
  packQuantized(q, wp, colSum, n, k);
}

// Sustained vpdpbusd rate on `threads` threads, GOP/s (a multiply-add of a u8 and an s8 byte =
// 2 ops): 16 independent accumulator chains (vpdpbusd latency × pipes ≤ 16), the int8
// counterpart of peakFlops, so that bench/int8.ts quotes the int8 kernel against the machine.
// 0 on builds without VNNI.
double int8PeakOps(int threads) {
#if HEED_VNNI
  if (threads < 1) threads = 1;
  if (threads > poolSize()) threads = poolSize();
  const int64_t iters = 10000000;
  // asm blocks of vpdpbusd on named accumulators: as an array, GCC kept them on the stack.
  auto chains = [](int64_t n) {
    __m512i c0 = _mm512_set1_epi32(0), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0;
    __m512i c8 = c0, c9 = c0, c10 = c0, c11 = c0, c12 = c0, c13 = c0, c14 = c0, c15 = c0;
    const __m512i a = _mm512_set1_epi8(3), b = _mm512_set1_epi8(-2);
    for (int64_t it = 0; it < n; it++) {
      asm volatile("vpdpbusd %9, %8, %0\n\tvpdpbusd %9, %8, %1\n\tvpdpbusd %9, %8, %2\n\tvpdpbusd %9, %8, %3\n\tvpdpbusd %9, %8, %4\n\tvpdpbusd %9, %8, %5\n\tvpdpbusd %9, %8, %6\n\tvpdpbusd %9, %8, %7"
                   : "+v"(c0), "+v"(c1), "+v"(c2), "+v"(c3), "+v"(c4), "+v"(c5), "+v"(c6), "+v"(c7)
                   : "v"(a), "v"(b));
      asm volatile("vpdpbusd %9, %8, %0\n\tvpdpbusd %9, %8, %1\n\tvpdpbusd %9, %8, %2\n\tvpdpbusd %9, %8, %3\n\tvpdpbusd %9, %8, %4\n\tvpdpbusd %9, %8, %5\n\tvpdpbusd %9, %8, %6\n\tvpdpbusd %9, %8, %7"
                   : "+v"(c8), "+v"(c9), "+v"(c10), "+v"(c11), "+v"(c12), "+v"(c13), "+v"(c14), "+v"(c15)
                   : "v"(a), "v"(b));
    }
    __m512i s = _mm512_add_epi32(_mm512_add_epi32(_mm512_add_epi32(c0, c1), _mm512_add_epi32(c2, c3)), _mm512_add_epi32(_mm512_add_epi32(c4, c5), _mm512_add_epi32(c6, c7)));
    s = _mm512_add_epi32(s, _mm512_add_epi32(_mm512_add_epi32(_mm512_add_epi32(c8, c9), _mm512_add_epi32(c10, c11)), _mm512_add_epi32(_mm512_add_epi32(c12, c13), _mm512_add_epi32(c14, c15))));
    return _mm512_reduce_add_epi32(s);
  };
  chains(iters / 20);  // warm up the clocks
  volatile int sink = 0;
  auto t0 = std::chrono::steady_clock::now();
  int sums[kMaxThreads] = {};
  parallelFor(threads, [&](int64_t t, int) { sums[t] = chains(iters); });
  auto t1 = std::chrono::steady_clock::now();
  for (int i = 0; i < threads; i++) sink = sink + sums[i];
  const double sec = std::chrono::duration<double>(t1 - t0).count();
  return double(threads) * double(iters) * 16 * 64 * 2 / sec / 1e9;
#else
  (void)threads;
  return 0.0;
#endif
}

// Entry points: each kernel's Args struct (kernel_specs.gen.h) unpacked into the call above.
void quantizePerChannel(const QuantizePerChannelArgs& p) { quantizePerChannel(p.w, p.q, p.scales, p.n, p.k); }
void int8Gemm(const Int8GemmArgs& p) { int8Gemm(p.x, p.wq, p.wScales, p.out, p.m, p.n, p.k, p.bias); }
void int8PackWeights(const Int8PackWeightsArgs& p) { int8PackWeights(p.w, p.packed, p.scales, p.colSums, p.n, p.k); }
void int8GemmPacked(const Int8GemmPackedArgs& p) {
  int8GemmPacked(p.x, p.packed, p.wScales, p.colSums, p.out, p.m, p.n, p.k, p.bias, int(p.activation), p.residual, p.xScale);
}

}  // namespace HEED_NS
}  // namespace heed
