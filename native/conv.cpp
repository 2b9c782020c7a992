// Convolution window gather (im2col) and its scatter-add gradient (col2im).
// Semantics: src/backend/js/conv.ts. x (B, C, H, W) <-> cols (B, Ho, Wo, C, kh, kw).
// Geometry (Ho, Wo against the padded, dilated kernel) is checked by the binding.
#include "common.h"
#include "kernels.h"
#include "threadpool.h"

namespace heed {
namespace HEED_NS {

namespace {

// The range of kernel taps j in [0, kw) whose column ow·s + j·d − p lands in [0, W):
// taps outside it read the zero padding.
inline void validTaps(int64_t x0, int64_t d, int64_t kw, int64_t W, int64_t& jLo, int64_t& jHi) {
  jLo = 0;
  while (jLo < kw && x0 + jLo * d < 0) jLo++;
  jHi = kw;
  while (jHi > jLo && x0 + (jHi - 1) * d >= W) jHi--;
}

}  // namespace

// One task per output row (b, oh): it writes Wo·C·kh·kw contiguous floats of cols.
void im2col(const Im2colArgs& p) {
  const int64_t K = p.kh * p.kw, CK = p.C * K, rowLen = p.Wo * CK;
  parallelChunks(p.B * p.Ho, std::max<int64_t>(1, 16384 / std::max<int64_t>(rowLen, 1)), [&](int64_t lo, int64_t hi) {
    for (int64_t r = lo; r < hi; r++) {
      const int64_t b = r / p.Ho, oh = r % p.Ho;
      float* out = p.cols + r * rowLen;
      for (int64_t ow = 0; ow < p.Wo; ow++) {
        const int64_t x0 = ow * p.strideW - p.padW;
        int64_t jLo, jHi;
        validTaps(x0, p.dilationW, p.kw, p.W, jLo, jHi);
        for (int64_t c = 0; c < p.C; c++) {
          const float* plane = p.x + (b * p.C + c) * p.H * p.W;
          for (int64_t i = 0; i < p.kh; i++, out += p.kw) {
            const int64_t y = oh * p.strideH + i * p.dilationH - p.padH;
            if (y < 0 || y >= p.H) {
              std::memset(out, 0, size_t(p.kw) * sizeof(float));
              continue;
            }
            const float* row = plane + y * p.W;  // tap j reads row[x0 + j·dilationW], inside [0, W) for j in [jLo, jHi)
            for (int64_t j = 0; j < jLo; j++) out[j] = 0.f;
            for (int64_t j = jLo; j < jHi; j++) out[j] = row[x0 + j * p.dilationW];
            for (int64_t j = jHi; j < p.kw; j++) out[j] = 0.f;
          }
        }
      }
    }
  });
}

// One task per input plane (b, c): every tap reading that plane adds into it, so no two
// threads write the same dx element.
void col2im(const Col2imArgs& p) {
  const int64_t K = p.kh * p.kw, CK = p.C * K;
  parallelChunks(p.B * p.C, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t bc = lo; bc < hi; bc++) {
      const int64_t b = bc / p.C, c = bc % p.C;
      float* plane = p.dx + bc * p.H * p.W;
      for (int64_t oh = 0; oh < p.Ho; oh++) {
        for (int64_t ow = 0; ow < p.Wo; ow++) {
          const float* g = p.dCols + ((b * p.Ho + oh) * p.Wo + ow) * CK + c * K;
          const int64_t x0 = ow * p.strideW - p.padW;
          int64_t jLo, jHi;
          validTaps(x0, p.dilationW, p.kw, p.W, jLo, jHi);
          for (int64_t i = 0; i < p.kh; i++, g += p.kw) {
            const int64_t y = oh * p.strideH + i * p.dilationH - p.padH;
            if (y < 0 || y >= p.H) continue;
            float* row = plane + y * p.W;
            for (int64_t j = jLo; j < jHi; j++) row[x0 + j * p.dilationW] += g[j];
          }
        }
      }
    }
  });
}

}  // namespace HEED_NS
}  // namespace heed
