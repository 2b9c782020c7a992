// Shared helpers for the kernel translation units.
//
// Every kernel .cpp is compiled three times (see binding.gyp): once with AVX-512
// flags, once with AVX2+FMA, once with the x86-64 baseline. HEED_NS names the
// variant's namespace (heed::avx512, heed::avx2, heed::generic), so the three
// copies link side by side; dispatch.cpp picks one table at load.
//
// Vectors use GCC vector extensions: `vf` is W floats, W = 16 / 8 / 4 by ISA. The
// same source then compiles to zmm, ymm or xmm code. Loads and stores are unaligned.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <cstdlib>
#include <cmath>
#include <algorithm>
#include <type_traits>
#include <immintrin.h>

#ifndef HEED_NS
#error "HEED_NS must name the ISA namespace (avx512, avx2, generic)"
#endif

#if defined(__AVX512F__)
#define HEED_W 16
#elif defined(__AVX2__)
#define HEED_W 8
#else
#define HEED_W 4
#endif

#define HEED_INLINE inline __attribute__((always_inline))

namespace heed {
namespace HEED_NS {

constexpr int W = HEED_W;
typedef float vf __attribute__((vector_size(HEED_W * 4)));
typedef int32_t vi __attribute__((vector_size(HEED_W * 4)));
typedef uint32_t vu __attribute__((vector_size(HEED_W * 4)));
typedef float vf_u __attribute__((vector_size(HEED_W * 4), aligned(4)));

HEED_INLINE vf vload(const float* p) { return *reinterpret_cast<const vf_u*>(p); }
HEED_INLINE void vstore(float* p, vf v) { *reinterpret_cast<vf_u*>(p) = v; }
// (Not `vf{} + x`: x + 0 is not an identity for −0, so GCC would keep a scalar add.)
HEED_INLINE vf vsplat(float x) {
#if HEED_W == 16
  return (vf)_mm512_set1_ps(x);
#elif HEED_W == 8
  return (vf)_mm256_set1_ps(x);
#else
  return (vf)_mm_set1_ps(x);
#endif
}
// Chris Wellons' lowbias32 integer hash, on a uint32_t or on each lane of a vu: the dropout
// masks (attention and the dropout kernel) keep element i iff lowbias32(i ^ lowbias32(seed)) ≥ p·2³².
template <class U>
HEED_INLINE U lowbias32(U x) {
  static_assert(std::is_same<U, uint32_t>::value || std::is_same<U, vu>::value, "lowbias32 hashes uint32_t (or lanes of vu)");
  x ^= x >> 16;
  x *= 0x7feb352du;
  x ^= x >> 15;
  x *= 0x846ca68bu;
  x ^= x >> 16;
  return x;
}

HEED_INLINE vf vmax(vf a, vf b) { return a > b ? a : b; }
HEED_INLINE vf vmin(vf a, vf b) { return a < b ? a : b; }
HEED_INLINE vf vselect(vi m, vf a, vf b) { return m ? a : b; }
HEED_INLINE vf vabs(vf x) { return (vf)((vu)x & (vu{} + 0x7fffffffu)); }

// Horizontal reductions as log2(W) shuffle steps (a serial lane loop costs ~W adds of latency).
HEED_INLINE float hsum(vf v) {
#if HEED_W == 16
  return _mm512_reduce_add_ps((__m512)v);
#elif HEED_W == 8
  __m128 s = _mm_add_ps(_mm256_castps256_ps128((__m256)v), _mm256_extractf128_ps((__m256)v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 0x55));
  return _mm_cvtss_f32(s);
#else
  __m128 s = (__m128)v;
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 0x55));
  return _mm_cvtss_f32(s);
#endif
}

// Σ x over n values, two accumulators W lanes wide (one scalar sum would be a serial add chain).
HEED_INLINE float sumRow(const float* x, int64_t n) {
  vf s0 = vf{}, s1 = vf{};
  int64_t i = 0;
  for (; i + 2 * W <= n; i += 2 * W) { s0 += vload(x + i); s1 += vload(x + i + W); }
  for (; i + W <= n; i += W) s0 += vload(x + i);
  float s = hsum(s0 + s1);
  for (; i < n; i++) s += x[i];
  return s;
}

// Σ a·b over n values (one accumulator: callers run many of these side by side).
HEED_INLINE float dotRow(const float* a, const float* b, int64_t n) {
  vf acc = vf{};
  int64_t i = 0;
  for (; i + W <= n; i += W) acc += vload(a + i) * vload(b + i);
  float s = hsum(acc);
  for (; i < n; i++) s += a[i] * b[i];
  return s;
}

// Σ (x − m)² over n values.
HEED_INLINE float sumSqDev(const float* x, int64_t n, float m) {
  vf s0 = vf{}, mv = vsplat(m);
  int64_t i = 0;
  for (; i + W <= n; i += W) { vf d = vload(x + i) - mv; s0 += d * d; }
  float s = hsum(s0);
  for (; i < n; i++) { float d = x[i] - m; s += d * d; }
  return s;
}

// Max over lanes; NaN lanes are skipped (callers detect NaN through the sums).
HEED_INLINE float hmax(vf v) {
#if HEED_W == 16
  return _mm512_reduce_max_ps((__m512)v);
#elif HEED_W == 8
  __m128 s = _mm_max_ps(_mm256_castps256_ps128((__m256)v), _mm256_extractf128_ps((__m256)v, 1));
  s = _mm_max_ps(s, _mm_movehl_ps(s, s));
  s = _mm_max_ss(s, _mm_shuffle_ps(s, s, 0x55));
  return _mm_cvtss_f32(s);
#else
  __m128 s = (__m128)v;
  s = _mm_max_ps(s, _mm_movehl_ps(s, s));
  s = _mm_max_ss(s, _mm_shuffle_ps(s, s, 0x55));
  return _mm_cvtss_f32(s);
#endif
}

// exp(x), Cephes-style: x = n·ln2 + r, exp(r) by a degree-6 polynomial, 2^n by
// exponent arithmetic. Relative error ~2 ulp. exp(−∞) = 0 exactly (masked
// attention scores rely on it), exp(+∞) = +∞, NaN propagates.
#if HEED_W == 16
// AVX-512: vscalefps applies 2^n with correct overflow/underflow, so only the input
// clamp remains (max/min operand order keeps NaN: they return the second operand).
HEED_INLINE vf vexp(vf xv) {
  __m512 x = _mm512_max_ps(_mm512_set1_ps(-150.f), (__m512)xv);
  x = _mm512_min_ps(_mm512_set1_ps(128.f), x);
  __m512 fn = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(fn, _mm512_set1_ps(0.693359375f), x);
  r = _mm512_fnmadd_ps(fn, _mm512_set1_ps(-2.12194440e-4f), r);
  __m512 p = _mm512_set1_ps(1.9875691500E-4f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507E-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073E-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894E-2f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459E-1f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201E-1f));
  p = _mm512_fmadd_ps(_mm512_mul_ps(p, r), r, _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
  return (vf)_mm512_scalef_ps(p, fn);
}
#else
HEED_INLINE vf vexp(vf x) {
  const vf hi = vsplat(88.3762626647949f), lo = vsplat(-87.3365447505531f);
  vi under = x < lo;
  vi nan = x != x;
  vf xc = vmin(vmax(x, lo), hi);
  vf fx = xc * 1.44269504088896341f;
  // round to nearest
  vf fn = __builtin_convertvector(__builtin_convertvector(fx + vselect(fx >= 0, vsplat(0.5f), vsplat(-0.5f)), vi), vf);
  vf r = xc - fn * 0.693359375f;
  r = r - fn * -2.12194440e-4f;
  vf p = vsplat(1.9875691500E-4f);
  p = p * r + 1.3981999507E-3f;
  p = p * r + 8.3334519073E-3f;
  p = p * r + 4.1665795894E-2f;
  p = p * r + 1.6666665459E-1f;
  p = p * r + 5.0000001201E-1f;
  p = p * r * r + r + 1.0f;
  vi n = __builtin_convertvector(fn, vi);
  // 2^n in two halves so n = 128 (x near 88.7) does not overflow the exponent field
  vi n1 = n >> 1, n2 = n - n1;
  vf s1 = (vf)((n1 + 127) << 23), s2 = (vf)((n2 + 127) << 23);
  vf y = p * s1 * s2;
  y = vselect(under, vf{}, y);
  y = vselect(x > hi, vsplat(INFINITY), y);
  return vselect(nan, x, y);
}
#endif

// erf by the Numerical Recipes erfc Chebyshev form (|rel err| < 1.2e-7), the same
// formula as src/backend/js/scalar.ts so gelu matches the reference closely.
HEED_INLINE vf verf(vf x) {
  vf z = vabs(x);
  vf t = 1.0f / (1.0f + 0.5f * z);
  vf poly = t * (-0.82215223f + t * 0.17087277f);
  poly = t * (1.48851587f + poly);
  poly = t * (-1.13520398f + poly);
  poly = t * (0.27886807f + poly);
  poly = t * (-0.18628806f + poly);
  poly = t * (0.09678418f + poly);
  poly = t * (0.37409196f + poly);
  poly = t * (1.00002368f + poly);
  vf r = t * vexp(-z * z - 1.26551223f + poly);
  return vselect(x >= 0, 1.0f - r, r - 1.0f);
}

HEED_INLINE float erf_scalar(float x) {
  float z = std::fabs(x);
  float t = 1.0f / (1.0f + 0.5f * z);
  float r = t * std::exp(-z * z - 1.26551223f + t * (1.00002368f + t * (0.37409196f + t * (0.09678418f +
    t * (-0.18628806f + t * (0.27886807f + t * (-1.13520398f + t * (1.48851587f +
    t * (-0.82215223f + t * 0.17087277f)))))))));
  return x >= 0 ? 1 - r : r - 1;
}

HEED_INLINE vf vgelu(vf x) { return 0.5f * x * (1.0f + verf(x * 0.70710678118654752f)); }
HEED_INLINE float gelu_scalar(float x) { return 0.5f * x * (1.0f + erf_scalar(x * 0.70710678118654752f)); }

// relu that keeps NaN (as the reference does).
HEED_INLINE vf vrelu(vf x) { return vselect(x > 0, x, vselect(x != x, x, vf{})); }
HEED_INLINE float relu_scalar(float x) { return x > 0 ? x : (x != x ? x : 0.f); }

// Grow-only scratch buffer, one per thread, so hot paths never allocate after warm-up.
struct Scratch {
  float* ptr = nullptr;
  size_t cap = 0;
  float* get(size_t n) {
    if (n > cap) {
      std::free(ptr);
      size_t c = std::max(n, cap * 2);
      ptr = static_cast<float*>(std::aligned_alloc(64, ((c * 4 + 63) / 64) * 64));
      cap = c;
    }
    return ptr;
  }
  ~Scratch() { std::free(ptr); }
};

}  // namespace HEED_NS
}  // namespace heed
