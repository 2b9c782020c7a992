// Direct convolution for stride 1 (any padding, dilation and groups): a GEMM whose operands are
// read straight from zero-padded copies of the images, with no im2col matrix and no packing per
// image. conv.cpp's conv2dForward / conv2dBackward call these first and fall back to the window
// gather + sgemm when they decline (stride > 1).
//
//   forward   y[o][oh][ow] = Σ_(c,i,j) W[o][c][i][j] · xp[c][oh + i·dH][ow + j·dW]
//             register tile: ROWS ≤ MR consecutive output columns ow (GEMM rows, each a broadcast
//             of one padded-input value) × NR output channels (GEMM columns: vectors of packed
//             weights); the reduction runs over (c, i, j), the tile's inputs one offset apart.
//   dx        the same kernel: dx = conv(dy padded by dH·(kh−1) − pH, W flipped and transposed),
//             for stride 1 the transposed convolution is an ordinary one.
//   dWeight   dW[o][c][i][j] = Σ_(oh,ow) dy[o][oh][ow] · xp[c][oh + i·dH][ow + j·dW]
//             register tile: ROWS ≤ MR input channels c at one tap (i, j) × NR output channels;
//             the image goes into a padded channels-last copy xh[y][x][c] and dy into dyT[p][o],
//             so both operands of each step are contiguous; the reduction runs over the positions.
//
// Semantics: src/backend/js/conv.ts (conv2dForward / conv2dBackward); test/native/conv.test.ts.
#include "common.h"
#include "kernels.h"
#include "threadpool.h"

#include <array>
#include <utility>
#include <vector>

namespace heed {
namespace HEED_NS {

namespace {

#if HEED_W == 16
constexpr int MR = 14;  // 28 zmm accumulators + 2 weight vectors + 1 broadcast
#else
constexpr int MR = 6;
#endif
constexpr int NV = 2;
constexpr int NR = NV * W;

inline int64_t roundUp(int64_t n, int64_t m) { return (n + m - 1) / m * m; }

// The register tile both GEMMs accumulate: ROWS rows × NV vectors of NR columns.
template <int ROWS>
struct Tile {
  vf c[ROWS][NV];
  HEED_INLINE Tile() {
#pragma GCC unroll 16
    for (int r = 0; r < ROWS; r++)
      for (int v = 0; v < NV; v++) c[r][v] = vf{};
  }
  // c[r][·] += a[r] · b[·]: one step of the reduction, ROWS broadcasts against NV column vectors.
  HEED_INLINE void step(const float* a, const float* b) {
    vf bv[NV];
    for (int v = 0; v < NV; v++) bv[v] = vload(b + v * W);
#pragma GCC unroll 16
    for (int r = 0; r < ROWS; r++) {
      const vf av = vsplat(a[r]);
      for (int v = 0; v < NV; v++) c[r][v] += av * bv[v];
    }
  }
  HEED_INLINE void store(float* acc) const {
#pragma GCC unroll 16
    for (int r = 0; r < ROWS; r++)
      for (int v = 0; v < NV; v++) vstore(acc + r * NR + v * W, c[r][v]);
  }
};

// acc (ROWS × NR) = Σ_t a0[kOff[t] + r] · pb[t·ldb + n]: ROWS output columns of one row.
template <int ROWS>
void forwardTile(int64_t steps, const int64_t* kOff, const float* a0, const float* pb, int64_t ldb, float* acc) {
  Tile<ROWS> t;
  for (int64_t k = 0; k < steps; k++, pb += ldb) t.step(a0 + kOff[k], pb);
  t.store(acc);
}

// acc (ROWS × NR) = Σ_(oh,ow) a[(oh·rowStride + ow·Cg) + r] · b[(oh·Wo + ow)·ldb + n]: ROWS channels at one tap.
template <int ROWS>
void weightTile(int64_t Ho, int64_t Wo, const float* a, int64_t rowStride, int64_t Cg, const float* b, int64_t ldb, float* acc) {
  Tile<ROWS> t;
  for (int64_t oh = 0; oh < Ho; oh++) {
    const float* ap = a + oh * rowStride;
    const float* bp = b + oh * Wo * ldb;
    for (int64_t ow = 0; ow < Wo; ow++, ap += Cg, bp += ldb) t.step(ap, bp);
  }
  t.store(acc);
}

using ForwardTileFn = void (*)(int64_t, const int64_t*, const float*, const float*, int64_t, float*);
using WeightTileFn = void (*)(int64_t, int64_t, const float*, int64_t, int64_t, const float*, int64_t, float*);

template <int... I>
constexpr std::array<ForwardTileFn, sizeof...(I)> forwardTiles(std::integer_sequence<int, I...>) { return {&forwardTile<I + 1>...}; }
template <int... I>
constexpr std::array<WeightTileFn, sizeof...(I)> weightTiles(std::integer_sequence<int, I...>) { return {&weightTile<I + 1>...}; }

// The tile for ROWS = index + 1.
constexpr auto kForwardTiles = forwardTiles(std::make_integer_sequence<int, MR>{});
constexpr auto kWeightTiles = weightTiles(std::make_integer_sequence<int, MR>{});

// One stride-1 convolution of one image and group, Cin planes (Hin × Win) → Cout planes (Hout × Wout).
struct Plane {
  int64_t Cin, Hin, Win, Cout, Hout, Wout, kh, kw, pH, pW, dH, dW;
  int64_t Hp() const { return Hout + dH * (kh - 1); }  // padded input rows the windows read
  int64_t Wp() const { return Wout + dW * (kw - 1); }
  int64_t steps() const { return Cin * kh * kw; }
};

// Zero-padded copy of Cin planes: dst[c][pH + y][pW + x] = src[c][y][x], Hp × Wp each, plus MR
// floats of slack (a partial tile's unused rows read past the last plane).
void padPlanes(const Plane& q, const float* src, float* dst) {
  const int64_t Hp = q.Hp(), Wp = q.Wp();
  std::memset(dst, 0, size_t(q.Cin * Hp * Wp + MR) * sizeof(float));
  const int64_t rows = std::min(q.Hin, Hp - q.pH), cols = std::min(q.Win, Wp - q.pW);
  for (int64_t c = 0; c < q.Cin; c++)
    for (int64_t y = 0; y < rows; y++)
      std::memcpy(dst + (c * Hp + q.pH + y) * Wp + q.pW, src + (c * q.Hin + y) * q.Win, size_t(cols) * sizeof(float));
}

// Where the weights of output channels [o0, o0 + NR) sit: panel o0 / NR starts at
// base + (o0 / NR)·panelStride, and step t of it at + t·ldb (NR floats, zero past Cout).
//   packed [Cout/NR][steps][NR]:  panelStride = steps·NR, ldb = NR
//   transposed (steps, Cout), Cout a multiple of NR:  panelStride = NR, ldb = Cout
struct Weights {
  const float* base;
  int64_t panelStride, ldb;
};

// out (Cout, Hout, Wout) = act(conv(in (Cin, Hin, Win)) + bias) with the weights at w in the (c, i, j)
// order of kOff; bias (Cout) or null; act = ReLU when relu.
void convolveImage(const Plane& q, const float* in, Weights w, const int64_t* kOff, const float* bias, bool relu, float* out) {
  static thread_local Scratch padBuf;
  const int64_t Hp = q.Hp(), Wp = q.Wp(), steps = q.steps(), P = q.Hout * q.Wout;
  float* xp = padBuf.get(size_t(q.Cin * Hp * Wp + MR));
  padPlanes(q, in, xp);
  alignas(64) float acc[MR * NR];
  for (int64_t o0 = 0; o0 < q.Cout; o0 += NR) {
    const int64_t cols = std::min<int64_t>(NR, q.Cout - o0);
    const float* pb = w.base + (o0 / NR) * w.panelStride;
    for (int64_t oh = 0; oh < q.Hout; oh++) {
      for (int64_t ow0 = 0; ow0 < q.Wout; ow0 += MR) {
        const int64_t rows = std::min<int64_t>(MR, q.Wout - ow0);
        kForwardTiles[rows - 1](steps, kOff, xp + oh * Wp + ow0, pb, w.ldb, acc);
        for (int64_t n = 0; n < cols; n++) {
          float* y = out + (o0 + n) * P + oh * q.Wout + ow0;
          const float b = bias ? bias[o0 + n] : 0.f;
          if (relu) for (int64_t r = 0; r < rows; r++) { const float v = acc[r * NR + n] + b; y[r] = v > 0.f ? v : 0.f; }
          else for (int64_t r = 0; r < rows; r++) y[r] = acc[r * NR + n] + b;
        }
      }
    }
  }
}

// kOff[(c·kh + i)·kw + j] = c·Hp·Wp + i·dH·Wp + j·dW: where tap (c, i, j) of a window sits in the padded planes.
std::vector<int64_t> tapOffsets(const Plane& q) {
  std::vector<int64_t> kOff(size_t(q.steps()));
  const int64_t Hp = q.Hp(), Wp = q.Wp();
  for (int64_t c = 0; c < q.Cin; c++)
    for (int64_t i = 0; i < q.kh; i++)
      for (int64_t j = 0; j < q.kw; j++) kOff[size_t((c * q.kh + i) * q.kw + j)] = c * Hp * Wp + i * q.dH * Wp + j * q.dW;
  return kOff;
}

bool applies(int64_t sH, int64_t sW) { return sH == 1 && sW == 1; }

}  // namespace

bool conv2dForwardDirect(const Conv2dForwardArgs& p) {
  if (!applies(p.strideH, p.strideW)) return false;
  const int64_t G = p.groups, Cg = p.C / G, Og = p.O / G, K = p.kh * p.kw, R = Cg * K, OgPad = roundUp(Og, NR);
  const Plane q{Cg, p.H, p.W, Og, p.Ho, p.Wo, p.kh, p.kw, p.padH, p.padW, p.dilationH, p.dilationW};
  // packed[g][o / NR][t][o % NR] = weight[g·Og + o][t], zero past Og
  std::vector<float> packed(size_t(G * OgPad * R), 0.f);
  for (int64_t g = 0; g < G; g++)
    for (int64_t o = 0; o < Og; o++)
      for (int64_t t = 0; t < R; t++) packed[size_t(((g * OgPad + o / NR * NR) * R) + t * NR + o % NR)] = p.weight[(g * Og + o) * R + t];
  const std::vector<int64_t> kOff = tapOffsets(q);
  const int64_t items = p.B * G;
  auto one = [&](int64_t bg, int) {
    const int64_t b = bg / G, g = bg % G;
    convolveImage(q, p.x + (b * p.C + g * Cg) * p.H * p.W, {packed.data() + g * OgPad * R, R * NR, NR}, kOff.data(), p.bias ? p.bias + g * Og : nullptr,
                  false, p.y + (b * p.O + g * Og) * p.Ho * p.Wo);
  };
  if (items >= 2 && poolSize() > 1) parallelFor(items, one);
  else for (int64_t bg = 0; bg < items; bg++) one(bg, 0);
  return true;
}

bool conv2dBackwardDirect(const Conv2dBackwardArgs& p) {
  if (!applies(p.strideH, p.strideW)) return false;
  // the transposed convolution as an ordinary one needs padding dH·(kh−1) − pH ≥ 0 (PyTorch's limit too)
  if (p.dx && (p.padH > p.dilationH * (p.kh - 1) || p.padW > p.dilationW * (p.kw - 1))) return false;
  const int64_t G = p.groups, Cg = p.C / G, Og = p.O / G, K = p.kh * p.kw, P = p.Ho * p.Wo;
  const int64_t OgPad = roundUp(Og, NR), CgPad = roundUp(Cg, NR);
  const int threads = poolSize();

  // dx: Og planes of dy (Ho × Wo) → Cg planes (H × W), weights packedT[g][c / NR][(o, i', j')][c % NR] = W[g·Og + o][c][kh−1−i'][kw−1−j']
  const Plane qT{Og, p.Ho, p.Wo, Cg, p.H, p.W, p.kh, p.kw, p.dilationH * (p.kh - 1) - p.padH, p.dilationW * (p.kw - 1) - p.padW, p.dilationH, p.dilationW};
  std::vector<float> packedT;
  std::vector<int64_t> kOffT;
  if (p.dx) {
    packedT.assign(size_t(G * CgPad * Og * K), 0.f);
    for (int64_t g = 0; g < G; g++)
      for (int64_t c = 0; c < Cg; c++)
        for (int64_t o = 0; o < Og; o++)
          for (int64_t i = 0; i < p.kh; i++)
            for (int64_t j = 0; j < p.kw; j++) {
              const int64_t t = (o * p.kh + i) * p.kw + j;
              packedT[size_t((g * CgPad + c / NR * NR) * Og * K + t * NR + c % NR)] =
                  p.weight[((g * Og + o) * Cg + c) * K + (p.kh - 1 - i) * p.kw + (p.kw - 1 - j)];
            }
    kOffT = tapOffsets(qT);
  }

  // dWeight: per-thread partial sums laid out [g][i][j][c][o] (o padded to OgPad), summed in thread order at the end
  const Plane q{Cg, p.H, p.W, Og, p.Ho, p.Wo, p.kh, p.kw, p.padH, p.padW, p.dilationH, p.dilationW};
  const int64_t Hp = q.Hp(), Wp = q.Wp(), partLen = G * K * Cg * OgPad;
  std::vector<float> parts(p.dWeight ? size_t(threads * partLen) : 0, 0.f), dB(p.dBias ? size_t(threads * p.O) : 0, 0.f);

  const int64_t items = p.B * G;
  auto one = [&](int64_t bg, int th) {
    const int64_t b = bg / G, g = bg % G;
    const float* dy = p.dy + (b * p.O + g * Og) * P;  // (Og, P)
    if (p.dBias) {
      float* db = dB.data() + th * p.O + g * Og;
      for (int64_t o = 0; o < Og; o++) db[o] += sumRow(dy + o * P, P);
    }
    if (p.dx) convolveImage(qT, dy, {packedT.data() + g * CgPad * Og * K, Og * K * NR, NR}, kOffT.data(), nullptr, false, p.dx + (b * p.C + g * Cg) * p.H * p.W);
    if (!p.dWeight) return;
    static thread_local Scratch xhBuf, dyBuf;
    // xh[y][x][c]: the padded image channels-last; dyT[pos][o]: dy transposed, o padded to OgPad
    float* xh = xhBuf.get(size_t(Hp * Wp * Cg + MR));
    std::memset(xh, 0, size_t(Hp * Wp * Cg + MR) * sizeof(float));
    const float* x = p.x + (b * p.C + g * Cg) * p.H * p.W;
    const int64_t rows = std::min(p.H, Hp - p.padH), cols = std::min(p.W, Wp - p.padW);
    for (int64_t c = 0; c < Cg; c++)
      for (int64_t y = 0; y < rows; y++) {
        const float* src = x + (c * p.H + y) * p.W;
        float* dst = xh + ((p.padH + y) * Wp + p.padW) * Cg + c;
        for (int64_t xx = 0; xx < cols; xx++) dst[xx * Cg] = src[xx];
      }
    float* dyT = dyBuf.get(size_t(P * OgPad));
    for (int64_t pos = 0; pos < P; pos++) {
      float* row = dyT + pos * OgPad;
      for (int64_t o = 0; o < Og; o++) row[o] = dy[o * P + pos];
      for (int64_t o = Og; o < OgPad; o++) row[o] = 0.f;
    }
    float* part = parts.data() + th * partLen + g * K * Cg * OgPad;
    alignas(64) float acc[MR * NR];
    for (int64_t i = 0; i < p.kh; i++)
      for (int64_t j = 0; j < p.kw; j++)
        for (int64_t c0 = 0; c0 < Cg; c0 += MR) {
          const int64_t n = std::min<int64_t>(MR, Cg - c0);
          const float* a = xh + (i * p.dilationH * Wp + j * p.dilationW) * Cg + c0;
          for (int64_t o0 = 0; o0 < OgPad; o0 += NR) {
            kWeightTiles[n - 1](p.Ho, p.Wo, a, Wp * Cg, Cg, dyT + o0, OgPad, acc);
            float* dst = part + ((i * p.kw + j) * Cg + c0) * OgPad + o0;
            for (int64_t r = 0; r < n; r++)
              for (int64_t v = 0; v < NV; v++) vstore(dst + r * OgPad + v * W, vload(dst + r * OgPad + v * W) + vload(acc + r * NR + v * W));
          }
        }
  };
  if (items >= 2 && threads > 1) parallelFor(items, one);
  else for (int64_t bg = 0; bg < items; bg++) one(bg, 0);

  if (p.dWeight) {
    for (int t = 1; t < threads; t++)
      for (int64_t e = 0; e < partLen; e++) parts[size_t(e)] += parts[size_t(t * partLen + e)];
    for (int64_t g = 0; g < G; g++)
      for (int64_t o = 0; o < Og; o++)
        for (int64_t c = 0; c < Cg; c++)
          for (int64_t tap = 0; tap < K; tap++)
            p.dWeight[((g * Og + o) * Cg + c) * K + tap] = parts[size_t(((g * K + tap) * Cg + c) * OgPad + o)];
  }
  if (p.dBias) {
    std::copy(dB.begin(), dB.begin() + p.O, p.dBias);
    for (int t = 1; t < threads; t++)
      for (int64_t o = 0; o < p.O; o++) p.dBias[o] += dB[size_t(t * p.O + o)];
  }
  return true;
}

// The inference convolution of ../src/backend/specs/conv.ts: weightT (C·kh·kw, O) is read in place
// when O is a multiple of NR, else copied once per call into (steps, O rounded up to NR) with zero columns.
void conv2dTransposedForward(const Conv2dTransposedForwardArgs& p) {
  const Plane q{p.C, p.H, p.W, p.O, p.Ho, p.Wo, p.kh, p.kw, p.padH, p.padW, 1, 1};
  const int64_t steps = q.steps(), OPad = roundUp(p.O, NR);
  std::vector<float> padded;
  Weights w{p.weightT, NR, p.O};
  if (OPad != p.O) {
    padded.assign(size_t(steps * OPad), 0.f);
    for (int64_t t = 0; t < steps; t++) std::copy(p.weightT + t * p.O, p.weightT + (t + 1) * p.O, padded.data() + t * OPad);
    w = {padded.data(), NR, OPad};
  }
  const std::vector<int64_t> kOff = tapOffsets(q);
  auto one = [&](int64_t b, int) {
    convolveImage(q, p.x + b * p.C * p.H * p.W, w, kOff.data(), p.bias, p.relu, p.y + b * p.O * p.Ho * p.Wo);
  };
  if (p.B >= 2 && poolSize() > 1) parallelFor(p.B, one);
  else for (int64_t b = 0; b < p.B; b++) one(b, 0);
}

}  // namespace HEED_NS
}  // namespace heed
