// A 16×16 float block transpose in AVX-512 registers with masked edges, for the attention kernels
// (attention.cpp's transposePad, attention_small.cpp's Kᵀ and Vᵀ). Needs common.h; empty below AVX-512.
#pragma once
#include <cstdint>

namespace heed {
namespace HEED_NS {

#if HEED_W == 16
// A 16×16 block transpose in registers: src rows (stride ls) → dst rows (stride ld). Only the first
// `rows` source rows and `cols` columns are read (masked loads; the rest count as zero), and `cols`
// destination rows of 16 floats are written, zeros past `rows`: so edge blocks (a head of 12 keys,
// the last key tile) take the same path as full ones and come out zero-padded (element-wise edges
// and padding cost 19% and 5% of the training step's attention at L = 12; perf, 2026-12-05).
HEED_INLINE void transpose16(const float* src, int64_t ls, float* dst, int64_t ld, int rows = 16, int cols = 16) {
  __m512 r[16], t[16];
  const __mmask16 cm = __mmask16((1u << cols) - 1);
  for (int i = 0; i < 16; i++) r[i] = i < rows ? _mm512_maskz_loadu_ps(cm, src + i * ls) : _mm512_setzero_ps();
  for (int i = 0; i < 8; i++) {
    t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  for (int i = 0; i < 4; i++) {
    r[4 * i + 0] = _mm512_shuffle_ps(t[4 * i], t[4 * i + 2], 0x44);
    r[4 * i + 1] = _mm512_shuffle_ps(t[4 * i], t[4 * i + 2], 0xEE);
    r[4 * i + 2] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0x44);
    r[4 * i + 3] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0xEE);
  }
  for (int i = 0; i < 4; i++) {
    t[i] = _mm512_shuffle_f32x4(r[i], r[4 + i], 0x88);
    t[4 + i] = _mm512_shuffle_f32x4(r[i], r[4 + i], 0xdd);
    t[8 + i] = _mm512_shuffle_f32x4(r[8 + i], r[12 + i], 0x88);
    t[12 + i] = _mm512_shuffle_f32x4(r[8 + i], r[12 + i], 0xdd);
  }
  for (int i = 0; i < 8; i++) {
    r[i] = _mm512_shuffle_f32x4(t[i], t[8 + i], 0x88);
    r[8 + i] = _mm512_shuffle_f32x4(t[i], t[8 + i], 0xdd);
  }
  for (int i = 0; i < cols; i++) _mm512_storeu_ps(dst + i * ld, r[i]);
}
#endif

}  // namespace HEED_NS
}  // namespace heed
