// Convolution: the window gather (im2col) and its scatter-add gradient (col2im) as kernels of
// their own, and a whole convolution forward/backward (conv2dForward / conv2dBackward) that
// never materialises the (B, Ho·Wo, C·kh·kw) matrix.
// Semantics: src/backend/js/conv.ts. x (B, C, H, W) <-> cols (B, Ho, Wo, C, kh, kw).
// Geometry (Ho, Wo against the padded, dilated kernel) is checked by the binding.
#include "common.h"
#include "kernels.h"
#include "threadpool.h"

#include <cstdlib>
#include <cstring>
#include <vector>

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


// ---------------------------------------------------------------------------------------------
// Whole convolution. Per image b and group g, the windows go into a per-thread scratch laid out
// (Cg·kh·kw, P), P = Ho·Wo — the transpose of im2col's rows — so that
//   y_bg (Og, P) = W_g (Og, Cg·K) · cols (Cg·K, P)
// lands directly in (B, O, Ho, Wo) order with no transpose, and the scratch (≤ a few hundred KB
// for small images) stays in cache between the gather and the GEMM. The batch is split over
// the threads; each image's GEMM runs on its thread (a nested sgemm runs serially).

void sgemm(const float* a, const float* b, float* c, int64_t batch, int64_t m, int64_t n, int64_t k, bool transA,
           bool transB, float alpha, float beta, int64_t strideA, int64_t strideB, int64_t strideC,
           const float* bias, int activation);

namespace {

struct ConvGeom {
  int64_t B, C, H, W, O, G, kh, kw, Ho, Wo, sH, sW, pH, pW, dH, dW;
  int64_t Cg() const { return C / G; }
  int64_t Og() const { return O / G; }
  int64_t K() const { return kh * kw; }
  int64_t P() const { return Ho * Wo; }
  int64_t rows() const { return Cg() * K(); }  // rows of one group's column matrix
  // 1×1, stride 1, no padding: the column matrix of a group is its input planes themselves.
  bool pointwise() const { return kh == 1 && kw == 1 && sH == 1 && sW == 1 && pH == 0 && pW == 0; }
};

template <class A>
ConvGeom geomOf(const A& p) {
  return {p.B, p.C, p.H, p.W, p.O, p.groups, p.kh, p.kw, p.Ho, p.Wo, p.strideH, p.strideW, p.padH, p.padW, p.dilationH, p.dilationW};
}

// Output columns ow whose tap at x0 + ow·s lands in [0, W): [lo, hi).
inline void validColumns(int64_t x0, int64_t s, int64_t Wo, int64_t W, int64_t& lo, int64_t& hi) {
  lo = x0 >= 0 ? 0 : (-x0 + s - 1) / s;
  hi = x0 > W - 1 ? 0 : (W - 1 - x0) / s + 1;
  lo = std::min(lo, Wo);
  hi = std::max(lo, std::min(hi, Wo));
}

// Visits every row of every tap's window: f(at, c, y, x0, lo, hi) for tap (c, i, j) and output
// row oh, where `at` = ((c·kh + i)·kw + j)·P + oh·Wo is where that row starts in the column matrix,
// y = oh·sH + i·dH − pH the input row it reads (outside [0, H) in the padding), x0 = j·dW − pW the
// input column of ow = 0, and [lo, hi) the output columns whose input column lies in the plane.
template <class F>
void forEachTapRow(const ConvGeom& g, F&& f) {
  const int64_t P = g.P();
  int64_t tap = 0;
  for (int64_t c = 0; c < g.Cg(); c++) {
    for (int64_t i = 0; i < g.kh; i++) {
      for (int64_t j = 0; j < g.kw; j++, tap++) {
        const int64_t x0 = j * g.dW - g.pW;
        int64_t lo, hi;
        validColumns(x0, g.sW, g.Wo, g.W, lo, hi);
        for (int64_t oh = 0; oh < g.Ho; oh++) f(tap * P + oh * g.Wo, c, oh * g.sH + i * g.dH - g.pH, x0, lo, hi);
      }
    }
  }
}

// cols[(c·kh + i)·kw + j][oh·Wo + ow] = planes[c][oh·sH + i·dH − pH][ow·sW + j·dW − pW], 0 in the padding.
void gather(const ConvGeom& g, const float* planes, float* cols) {
  forEachTapRow(g, [&](int64_t at, int64_t c, int64_t y, int64_t x0, int64_t lo, int64_t hi) {
    float* out = cols + at;
    if (y < 0 || y >= g.H) {
      std::memset(out, 0, size_t(g.Wo) * sizeof(float));
      return;
    }
    const float* row = planes + (c * g.H + y) * g.W + x0;  // column ow reads row[ow·sW], inside the plane for ow in [lo, hi)
    for (int64_t ow = 0; ow < lo; ow++) out[ow] = 0.f;
    if (g.sW == 1) std::memcpy(out + lo, row + lo, size_t(hi - lo) * sizeof(float));
    else for (int64_t ow = lo; ow < hi; ow++) out[ow] = row[ow * g.sW];
    for (int64_t ow = hi; ow < g.Wo; ow++) out[ow] = 0.f;
  });
}

// The adjoint of gather: planes[c][y][x] += cols[…] for every tap reading (y, x).
void scatterAdd(const ConvGeom& g, const float* cols, float* planes) {
  forEachTapRow(g, [&](int64_t at, int64_t c, int64_t y, int64_t x0, int64_t lo, int64_t hi) {
    if (y < 0 || y >= g.H) return;
    const float* in = cols + at;
    float* row = planes + (c * g.H + y) * g.W + x0;
    if (g.sW == 1) for (int64_t ow = lo; ow < hi; ow++) row[ow] += in[ow];
    else for (int64_t ow = lo; ow < hi; ow++) row[ow * g.sW] += in[ow];
  });
}

// Runs f(b, thread) for every image: spread over the pool when there are enough images to
// feed it, else serially on the caller (each image's GEMM may then use the pool itself).
template <class F>
void forEachImage(int64_t B, F&& f) {
  if (B >= 2 * poolSize() && poolSize() > 1) parallelFor(B, [&](int64_t b, int th) { f(b, th); });
  else for (int64_t b = 0; b < B; b++) f(b, 0);
}

}  // namespace

// conv_direct.cpp: stride-1 convolutions without the gather; false when they do not apply.
bool conv2dForwardDirect(const Conv2dForwardArgs& p);
bool conv2dBackwardDirect(const Conv2dBackwardArgs& p);

namespace {
// HEED_CONV_DIRECT=0 keeps every convolution on the gather + sgemm path (to compare the two).
bool directEnabled() {
  static const bool on = [] {
    const char* env = std::getenv("HEED_CONV_DIRECT");
    return env == nullptr || std::strcmp(env, "0") != 0;
  }();
  return on;
}
}  // namespace

void conv2dForward(const Conv2dForwardArgs& p) {
  if (directEnabled() && conv2dForwardDirect(p)) return;
  const ConvGeom g = geomOf(p);
  const int64_t P = g.P(), R = g.rows(), Og = g.Og();
  forEachImage(g.B, [&](int64_t b, int) {
    static thread_local Scratch colsBuf;
    float* cols = g.pointwise() ? nullptr : colsBuf.get(size_t(R * P));
    for (int64_t gi = 0; gi < g.G; gi++) {
      const float* planes = p.x + (b * g.C + gi * g.Cg()) * g.H * g.W;
      float* y = p.y + (b * g.O + gi * Og) * P;  // (Og, P)
      if (p.bias) for (int64_t o = 0; o < Og; o++) std::fill(y + o * P, y + (o + 1) * P, p.bias[gi * Og + o]);
      const float* a = cols;
      if (cols) gather(g, planes, cols);
      else a = planes;
      sgemm(p.weight + gi * Og * R, a, y, 1, Og, P, R, false, false, 1.f, p.bias ? 1.f : 0.f, 0, 0, 0, nullptr, 0);
    }
  });
}

void conv2dBackward(const Conv2dBackwardArgs& p) {
  if (directEnabled() && conv2dBackwardDirect(p)) return;
  const ConvGeom g = geomOf(p);
  const int64_t P = g.P(), R = g.rows(), Og = g.Og(), wLen = g.O * R;
  const int threads = poolSize();
  // Per-thread dWeight and dBias partial sums, added up at the end in thread order (deterministic
  // for a fixed image-to-thread assignment; the pool hands images out dynamically, so sums may
  // differ in the last bits between runs with more than one thread).
  std::vector<float> dW(p.dWeight ? size_t(threads * wLen) : 0, 0.f), dB(p.dBias ? size_t(threads * g.O) : 0, 0.f);
  forEachImage(g.B, [&](int64_t b, int th) {
    static thread_local Scratch colsBuf, dColsBuf;
    const bool direct = g.pointwise();
    float* cols = direct ? nullptr : colsBuf.get(size_t(R * P));
    float* dCols = direct ? nullptr : dColsBuf.get(size_t(R * P));
    if (p.dx) std::memset(p.dx + b * g.C * g.H * g.W, 0, size_t(g.C * g.H * g.W) * sizeof(float));
    for (int64_t gi = 0; gi < g.G; gi++) {
      const int64_t plane0 = (b * g.C + gi * g.Cg()) * g.H * g.W;
      const float* dy = p.dy + (b * g.O + gi * Og) * P;  // (Og, P)
      const float* w = p.weight + gi * Og * R;           // (Og, R)
      if (p.dBias) {
        float* db = dB.data() + th * g.O + gi * Og;
        for (int64_t o = 0; o < Og; o++) {
          float s = 0.f;
          for (int64_t q = 0; q < P; q++) s += dy[o * P + q];
          db[o] += s;
        }
      }
      if (p.dWeight) {
        // y = W·cols  →  dW += dy · colsᵀ   (Og, P)·(P, R)
        const float* a = p.x + plane0;
        if (cols) { gather(g, a, cols); a = cols; }
        sgemm(dy, a, dW.data() + th * wLen + gi * Og * R, 1, Og, R, P, false, true, 1.f, 1.f, 0, 0, 0, nullptr, 0);
      }
      if (p.dx) {
        // y = W·cols  →  dcols = Wᵀ · dy   (R, Og)·(Og, P), then scattered back onto the planes
        if (dCols) {
          sgemm(w, dy, dCols, 1, R, P, Og, true, false, 1.f, 0.f, 0, 0, 0, nullptr, 0);
          scatterAdd(g, dCols, p.dx + plane0);
        } else {
          sgemm(w, dy, p.dx + plane0, 1, R, P, Og, true, false, 1.f, 0.f, 0, 0, 0, nullptr, 0);
        }
      }
    }
  });
  if (p.dWeight) {
    std::copy(dW.begin(), dW.begin() + wLen, p.dWeight);
    for (int t = 1; t < threads; t++) for (int64_t i = 0; i < wLen; i++) p.dWeight[i] += dW[t * wLen + i];
  }
  if (p.dBias) {
    std::copy(dB.begin(), dB.begin() + g.O, p.dBias);
    for (int t = 1; t < threads; t++) for (int64_t o = 0; o < g.O; o++) p.dBias[o] += dB[t * g.O + o];
  }
}

}  // namespace HEED_NS
}  // namespace heed
