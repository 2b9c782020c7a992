// Building blocks shared by the GEMM and the fused attention kernels.
#pragma once
#include "common.h"

namespace heed {
namespace HEED_NS {

// c[0..len) = act(alpha · acc + beta · c (when readC) + bias); act 0 none, 1 relu, 2 gelu.
HEED_INLINE void finishRow(float* c, const float* acc, int64_t len, float alpha, float beta, bool readC,
                           const float* bias, int act) {
  int64_t j = 0;
  for (; j + W <= len; j += W) {
    vf v = alpha * vload(acc + j);
    if (readC) v += beta * vload(c + j);
    if (bias) v += vload(bias + j);
    if (act == 1) v = vrelu(v);
    else if (act == 2) v = vgelu(v);
    vstore(c + j, v);
  }
  for (; j < len; j++) {
    float v = alpha * acc[j];
    if (readC) v += beta * c[j];
    if (bias) v += bias[j];
    if (act == 1) v = relu_scalar(v);
    else if (act == 2) v = gelu_scalar(v);
    c[j] = v;
  }
}

// C (R×N, ldc) (+)= A (R×K, element (r,l) at a[r*ars + l*acs]) · B (K×N, row stride ldb).
// Rows are register-blocked by RB, columns by two vectors; the column tail is scalar.
// Used on L1/L2-resident tiles inside attention, where packing would not pay.
template <int RB>
HEED_INLINE void tileRows(int64_t N, int64_t K, const float* a, int64_t ars, int64_t acs, const float* b, int64_t ldb,
                          float* c, int64_t ldc, bool accumulate) {
  int64_t j = 0;
#if HEED_W == 16
  // 4 column vectors × RB rows = 24 accumulators: 4 loads + RB broadcasts per 4·RB FMAs.
  for (; j + 4 * W <= N; j += 4 * W) {
    vf acc[RB][4];
#pragma GCC unroll 8
    for (int r = 0; r < RB; r++)
#pragma GCC unroll 4
      for (int v = 0; v < 4; v++) acc[r][v] = accumulate ? vload(c + r * ldc + j + v * W) : vf{};
    const float* bp = b + j;
    const float* ap = a;
    for (int64_t l = 0; l < K; l++) {
      vf b0 = vload(bp), b1 = vload(bp + W), b2 = vload(bp + 2 * W), b3 = vload(bp + 3 * W);
#pragma GCC unroll 8
      for (int r = 0; r < RB; r++) {
        vf av = vsplat(ap[r * ars]);
        acc[r][0] += av * b0;
        acc[r][1] += av * b1;
        acc[r][2] += av * b2;
        acc[r][3] += av * b3;
      }
      bp += ldb;
      ap += acs;
    }
#pragma GCC unroll 8
    for (int r = 0; r < RB; r++)
#pragma GCC unroll 4
      for (int v = 0; v < 4; v++) vstore(c + r * ldc + j + v * W, acc[r][v]);
  }
#endif
  for (; j + 2 * W <= N; j += 2 * W) {
    vf acc[RB][2];
#pragma GCC unroll 8
    for (int r = 0; r < RB; r++) {
      acc[r][0] = accumulate ? vload(c + r * ldc + j) : vf{};
      acc[r][1] = accumulate ? vload(c + r * ldc + j + W) : vf{};
    }
    for (int64_t l = 0; l < K; l++) {
      vf b0 = vload(b + l * ldb + j), b1 = vload(b + l * ldb + j + W);
#pragma GCC unroll 8
      for (int r = 0; r < RB; r++) {
        vf av = vsplat(a[r * ars + l * acs]);
        acc[r][0] += av * b0;
        acc[r][1] += av * b1;
      }
    }
#pragma GCC unroll 8
    for (int r = 0; r < RB; r++) {
      vstore(c + r * ldc + j, acc[r][0]);
      vstore(c + r * ldc + j + W, acc[r][1]);
    }
  }
  for (; j + W <= N; j += W) {
    vf acc[RB];
    for (int r = 0; r < RB; r++) acc[r] = accumulate ? vload(c + r * ldc + j) : vf{};
    for (int64_t l = 0; l < K; l++) {
      vf b0 = vload(b + l * ldb + j);
#pragma GCC unroll 8
      for (int r = 0; r < RB; r++) acc[r] += vsplat(a[r * ars + l * acs]) * b0;
    }
    for (int r = 0; r < RB; r++) vstore(c + r * ldc + j, acc[r]);
  }
  for (; j < N; j++) {
    for (int r = 0; r < RB; r++) {
      float s = accumulate ? c[r * ldc + j] : 0.f;
      for (int64_t l = 0; l < K; l++) s += a[r * ars + l * acs] * b[l * ldb + j];
      c[r * ldc + j] = s;
    }
  }
}

inline void tileGemm(int64_t R, int64_t N, int64_t K, const float* a, int64_t ars, int64_t acs, const float* b,
                     int64_t ldb, float* c, int64_t ldc, bool accumulate) {
  int64_t r = 0;
  for (; r + 6 <= R; r += 6) tileRows<6>(N, K, a + r * ars, ars, acs, b, ldb, c + r * ldc, ldc, accumulate);
  switch (R - r) {
    case 5: tileRows<5>(N, K, a + r * ars, ars, acs, b, ldb, c + r * ldc, ldc, accumulate); break;
    case 4: tileRows<4>(N, K, a + r * ars, ars, acs, b, ldb, c + r * ldc, ldc, accumulate); break;
    case 3: tileRows<3>(N, K, a + r * ars, ars, acs, b, ldb, c + r * ldc, ldc, accumulate); break;
    case 2: tileRows<2>(N, K, a + r * ars, ars, acs, b, ldb, c + r * ldc, ldc, accumulate); break;
    case 1: tileRows<1>(N, K, a + r * ars, ars, acs, b, ldb, c + r * ldc, ldc, accumulate); break;
    default: break;
  }
}

}  // namespace HEED_NS
}  // namespace heed
