// The CNN layers' per-channel kernels: batch normalization (optionally with the ReLU after it
// fused in), max pooling over fixed windows, and squeeze-and-excitation's per-channel rescaling. Semantics: src/backend/js/cnn.ts.
// x is (B, C, L): each channel is B runs of L contiguous values; the channels are split over
// the threads (statistics need a whole channel), pooling planes likewise.
#include "common.h"
#include "kernels.h"
#include "threadpool.h"

namespace heed {
namespace HEED_NS {

namespace {

// Runs f(c) for every channel, a few channels per task when the channels are small.
template <class F>
void forEachChannel(int64_t C, int64_t perChannel, F&& f) {
  parallelChunks(C, std::max<int64_t>(1, 32768 / std::max<int64_t>(perChannel, 1)), [&](int64_t lo, int64_t hi) {
    for (int64_t c = lo; c < hi; c++) f(c);
  });
}

}  // namespace

namespace {

// g = dy, or dy where y > 0 when the ReLU was fused (y non-null).
HEED_INLINE vf gradAt(const float* dy, const float* y, int64_t i) {
  const vf g = vload(dy + i);
  if (!y) return g;
  return vselect(vload(y + i) > vf{}, g, vf{});
}
HEED_INLINE float gradAt1(const float* dy, const float* y, int64_t i) { return y && !(y[i] > 0.f) ? 0.f : dy[i]; }

}  // namespace

void batchNormForward(const BatchNormForwardArgs& p) {
  const int64_t B = p.B, C = p.C, L = p.L;
  forEachChannel(C, B * L, [&](int64_t c) {
    if (p.training) {
      // two passes in double across the batch: the mean, then the centred sum of squares (no cancellation)
      double s = 0;
      for (int64_t b = 0; b < B; b++) s += sumRow(p.x + (b * C + c) * L, L);
      const double m = s / double(B * L);
      double ss = 0;
      for (int64_t b = 0; b < B; b++) ss += sumSqDev(p.x + (b * C + c) * L, L, float(m));
      p.mean[c] = float(m);
      p.invstd[c] = float(1.0 / std::sqrt(ss / double(B * L) + double(p.eps)));
    }
    const float scale = p.invstd[c] * (p.weight ? p.weight[c] : 1.f);
    const float shift = (p.bias ? p.bias[c] : 0.f) - p.mean[c] * scale;
    const vf sv = vsplat(scale), hv = vsplat(shift);
    for (int64_t b = 0; b < B; b++) {
      const float* x = p.x + (b * C + c) * L;
      float* y = p.y + (b * C + c) * L;
      int64_t i = 0;
      if (p.relu) {
        for (; i + W <= L; i += W) vstore(y + i, vmax(vload(x + i) * sv + hv, vf{}));
        for (; i < L; i++) { const float v = x[i] * scale + shift; y[i] = v > 0.f ? v : 0.f; }
      } else {
        for (; i + W <= L; i += W) vstore(y + i, vload(x + i) * sv + hv);
        for (; i < L; i++) y[i] = x[i] * scale + shift;
      }
    }
  });
}

void batchNormBackward(const BatchNormBackwardArgs& p) {
  const int64_t B = p.B, C = p.C, L = p.L;
  const double N = double(B * L);
  forEachChannel(C, B * L, [&](int64_t c) {
    const float m = p.mean[c], is = p.invstd[c], k = is * (p.weight ? p.weight[c] : 1.f);
    const vf mv = vsplat(m);
    double sg = 0, sgx = 0;
    for (int64_t b = 0; b < B; b++) {
      const int64_t o = (b * C + c) * L;
      const float* x = p.x + o;
      const float* dy = p.dy + o;
      const float* y = p.y ? p.y + o : nullptr;
      vf av = vf{}, qv = vf{};
      int64_t i = 0;
      for (; i + W <= L; i += W) { const vf g = gradAt(dy, y, i); av += g; qv += g * (vload(x + i) - mv); }
      float a = hsum(av), q = hsum(qv);
      for (; i < L; i++) { const float g = gradAt1(dy, y, i); a += g; q += g * (x[i] - m); }
      sg += a;
      sgx += double(q) * is;
    }
    if (p.dWeight) p.dWeight[c] = float(sgx);
    if (p.dBias) p.dBias[c] = float(sg);
    // training: dx = k·(g − mean(g) − xhat·mean(g·xhat)) = k·g − (k·mg − k·is·mgx·m) − k·is·mgx·x
    const float mg = p.training ? float(sg / N) : 0.f, mgx = p.training ? float(sgx / N) : 0.f;
    const float a1 = k, a2 = -k * is * mgx, a0 = -k * mg + k * is * mgx * m;
    const vf a1v = vsplat(a1), a2v = vsplat(a2), a0v = vsplat(a0);
    for (int64_t b = 0; b < B; b++) {
      const int64_t o = (b * C + c) * L;
      const float* x = p.x + o;
      const float* dy = p.dy + o;
      const float* y = p.y ? p.y + o : nullptr;
      float* dx = p.dx + o;
      int64_t i = 0;
      for (; i + W <= L; i += W) vstore(dx + i, a1v * gradAt(dy, y, i) + a2v * vload(x + i) + a0v);
      for (; i < L; i++) dx[i] = a1 * gradAt1(dy, y, i) + a2 * x[i] + a0;
    }
  });
}

namespace {

// 2×2 windows, stride 2, no padding (the CNN's pooling): each output reads x[2oh, 2ow], x[2oh, 2ow+1],
// x[2oh+1, 2ow], x[2oh+1, 2ow+1] in that (row-major) order, with the general path's rule: a later
// value wins only if strictly greater, or a NaN while the best so far is not one.
void maxPool2x2(const MaxPoolForwardArgs& p) {
  const int64_t H = p.H, W = p.W, Ho = p.Ho, Wo = p.Wo;
  forEachChannel(p.planes, H * W, [&](int64_t pl) {
    const float* x = p.x + pl * H * W;
    float* __restrict y = p.y + pl * Ho * Wo;
    int32_t* __restrict arg = p.argmax + pl * Ho * Wo;
    for (int64_t oh = 0; oh < Ho; oh++) {
      const float* r0 = x + 2 * oh * W;
      const float* r1 = r0 + W;
      const int32_t base = int32_t(2 * oh * W);
      for (int64_t ow = 0; ow < Wo; ow++) {
        float best = r0[2 * ow];
        int32_t at = base + int32_t(2 * ow);
        const float cand[3] = {r0[2 * ow + 1], r1[2 * ow], r1[2 * ow + 1]};
        const int32_t where[3] = {at + 1, at + int32_t(W), at + int32_t(W) + 1};
        for (int t = 0; t < 3; t++) {
          const bool take = best == best && (cand[t] > best || cand[t] != cand[t]);
          best = take ? cand[t] : best;
          at = take ? where[t] : at;
        }
        y[oh * Wo + ow] = best;
        arg[oh * Wo + ow] = at;
      }
    }
  });
}

}  // namespace

void maxPoolForward(const MaxPoolForwardArgs& p) {
  if (p.kh == 2 && p.kw == 2 && p.strideH == 2 && p.strideW == 2 && p.padH == 0 && p.padW == 0 && 2 * p.Ho <= p.H && 2 * p.Wo <= p.W) {
    maxPool2x2(p);
    return;
  }
  const int64_t H = p.H, W = p.W, Ho = p.Ho, Wo = p.Wo;
  forEachChannel(p.planes, H * W, [&](int64_t pl) {
    const float* x = p.x + pl * H * W;
    float* y = p.y + pl * Ho * Wo;
    int32_t* arg = p.argmax + pl * Ho * Wo;
    for (int64_t oh = 0; oh < Ho; oh++) {
      const int64_t h0 = oh * p.strideH - p.padH, i0 = std::max<int64_t>(h0, 0), i1 = std::min(h0 + p.kh, H);
      for (int64_t ow = 0; ow < Wo; ow++) {
        const int64_t w0 = ow * p.strideW - p.padW, j0 = std::max<int64_t>(w0, 0), j1 = std::min(w0 + p.kw, W);
        float best = -INFINITY;
        int64_t at = -1;
        // strict '>' keeps the first maximum; the first NaN wins and ends the search (PyTorch)
        for (int64_t i = i0; i < i1 && !(at >= 0 && std::isnan(best)); i++) {
          for (int64_t j = j0; j < j1; j++) {
            const float v = x[i * W + j];
            if (v > best || std::isnan(v) || at < 0) {
              best = v;
              at = i * W + j;
              if (std::isnan(v)) break;
            }
          }
        }
        y[oh * Wo + ow] = best;
        arg[oh * Wo + ow] = int32_t(at);
      }
    }
  });
}

void maxPoolBackward(const MaxPoolBackwardArgs& p) {
  const int64_t HW = p.H * p.W, P = p.Ho * p.Wo;
  forEachChannel(p.planes, HW, [&](int64_t pl) {
    float* dx = p.dx + pl * HW;
    std::memset(dx, 0, size_t(HW) * sizeof(float));
    for (int64_t o = 0; o < P; o++) dx[p.argmax[pl * P + o]] += p.dy[pl * P + o];
  });
}

// y = x · gate[row], row by row.
void channelScaleForward(const ChannelScaleForwardArgs& p) {
  const int64_t L = p.L;
  forEachChannel(p.rows, L, [&](int64_t r) {
    const float* x = p.x + r * L;
    float* y = p.y + r * L;
    const float s = p.gate[r];
    const vf sv = vsplat(s);
    int64_t i = 0;
    for (; i + W <= L; i += W) vstore(y + i, vload(x + i) * sv);
    for (; i < L; i++) y[i] = x[i] * s;
  });
}

// dx = dy · gate[row]; dGate[row] = Σ dy · x (float lanes, summed in double across the row's vectors).
void channelScaleBackward(const ChannelScaleBackwardArgs& p) {
  const int64_t L = p.L;
  forEachChannel(p.rows, L, [&](int64_t r) {
    const float* x = p.x + r * L;
    const float* dy = p.dy + r * L;
    float* dx = p.dx ? p.dx + r * L : nullptr;
    const float s = p.gate[r];
    const vf sv = vsplat(s);
    vf acc = vf{};
    int64_t i = 0;
    for (; i + W <= L; i += W) {
      const vf g = vload(dy + i);
      if (dx) vstore(dx + i, g * sv);
      acc += g * vload(x + i);
    }
    double tail = 0;
    for (; i < L; i++) {
      if (dx) dx[i] = dy[i] * s;
      tail += double(dy[i]) * x[i];
    }
    if (p.dGate) p.dGate[r] = float(double(hsum(acc)) + tail);
  });
}

namespace {

inline float sigmoid1(float v) { return 1.f / (1.f + std::exp(-v)); }

// out (C) = fc2W·relu(fc1W·d + fc1B) + fc2B: CBAM's shared channel MLP on one descriptor.
void channelMlp(const CbamPoolForwardArgs& p, const float* d, float* hidden, float* out) {
  for (int64_t r = 0; r < p.R; r++) {
    float s = p.fc1B ? p.fc1B[r] : 0.f;
    const float* w = p.fc1W + r * p.C;
    for (int64_t c = 0; c < p.C; c++) s += w[c] * d[c];
    hidden[r] = s > 0.f ? s : 0.f;
  }
  for (int64_t c = 0; c < p.C; c++) {
    float s = p.fc2B ? p.fc2B[c] : 0.f;
    const float* w = p.fc2W + c * p.R;
    for (int64_t r = 0; r < p.R; r++) s += w[r] * hidden[r];
    out[c] = s;
  }
}

// One image of cbamPoolForward: four passes over its (C, H, W) map, all in cache at these sizes.
void cbamImage(const CbamPoolForwardArgs& p, int64_t b) {
  const int64_t C = p.C, H = p.H, Wd = p.W, L = H * Wd, ks = p.ks, half = ks / 2, pool = p.pool;
  const int64_t Hp = H + 2 * half, Wp = Wd + 2 * half;
  static thread_local Scratch buf;
  // gate (C) | avg (C) | mx (C) | mlp outputs 2C | hidden R | maps (2, Hp, Wp) zero-padded | sGate (L) | a work area (≥ H·Wp ≥ L, ≥ (pool + 1)·Wd)
  const int64_t work = std::max(H * Wp, (pool + 1) * Wd);
  float* gate = buf.get(size_t(5 * C + p.R + 2 * Hp * Wp + L + work));
  float *avg = gate + C, *mx = avg + C, *oa = mx + C, *om = oa + C, *hidden = om + C, *maps = hidden + p.R, *sGate = maps + 2 * Hp * Wp;
  const float* x = p.x + b * C * L;

  // 1. channel descriptors: mean and max over the positions of each channel
  for (int64_t c = 0; c < C; c++) {
    const float* row = x + c * L;
    avg[c] = sumRow(row, L) / float(L);
    vf m = vsplat(-INFINITY);
    int64_t i = 0;
    for (; i + W <= L; i += W) m = vmax(m, vload(row + i));
    float ms = -INFINITY;
    for (int64_t l = 0; l < W; l++) ms = std::max(ms, m[l]);
    for (; i < L; i++) ms = std::max(ms, row[i]);
    mx[c] = ms;
  }
  channelMlp(p, avg, hidden, oa);
  channelMlp(p, mx, hidden, om);
  for (int64_t c = 0; c < C; c++) gate[c] = sigmoid1(oa[c] + om[c]);

  // 2. spatial descriptors of xc = x · gate: channel mean and max per position (row by row, so
  //    the inner loops run over contiguous positions and vectorize), into zero-padded maps
  std::memset(maps, 0, size_t(2 * Hp * Wp) * sizeof(float));
  float* __restrict sum = sGate;  // borrowed: the running channel sum per position
  for (int64_t q = 0; q < L; q++) sum[q] = 0.f;
  float* __restrict rowMax = sGate + L;  // the max map, unpadded (scratch has room: see the layout above)
  for (int64_t q = 0; q < L; q++) rowMax[q] = -INFINITY;
  for (int64_t c = 0; c < C; c++) {
    const float* __restrict xr = x + c * L;
    const float g = gate[c];
    for (int64_t q = 0; q < L; q++) {
      const float v = xr[q] * g;
      sum[q] += v;
      rowMax[q] = v > rowMax[q] ? v : rowMax[q];
    }
  }
  const float invC = 1.f / float(C);
  for (int64_t h = 0; h < H; h++)
    for (int64_t w = 0; w < Wd; w++) {
      maps[(half + h) * Wp + half + w] = sum[h * Wd + w] * invC;
      maps[Hp * Wp + (half + h) * Wp + half + w] = rowMax[h * Wd + w];
    }

  // 3. spatial gate: the ks×ks convolution of the two maps (no bias), then σ. Computed on the
  //    padded grid's rows (H rows of Wp, the last Wp − Wd columns of each unused) so that every tap
  //    is one long contiguous multiply-add; then the Wd used columns of each row are kept.
  {
    float* __restrict acc = sGate + L;  // H·Wp floats (scratch has room: see the layout above)
    const int64_t n = (H - 1) * Wp + Wd;  // the last row's unused tail is not computed (it would read past the maps)
    for (int64_t q = 0; q < n; q++) acc[q] = 0.f;
    for (int64_t m = 0; m < 2; m++)
      for (int64_t i = 0; i < ks; i++)
        for (int64_t j = 0; j < ks; j++) {
          const float wt = p.spatialW[(m * ks + i) * ks + j];
          const float* __restrict in = maps + m * Hp * Wp + i * Wp + j;
          for (int64_t q = 0; q < n; q++) acc[q] += wt * in[q];
        }
    for (int64_t h = 0; h < H; h++)
      for (int64_t w = 0; w < Wd; w++) sGate[h * Wd + w] = acc[h * Wp + w];
  }
  {
    int64_t q = 0;
    for (; q + W <= L; q += W) vstore(sGate + q, 1.f / (1.f + vexp(-vload(sGate + q))));
    for (; q < L; q++) sGate[q] = sigmoid1(sGate[q]);
  }

  // 4. y = maxpool(xc · sGate), and the mean of each pooled channel when asked: per output row,
  //    the window rows' gated values are maxed into `best` position by position (vectorizes), then
  //    the pool columns of each window
  const int64_t Ho = p.Ho, Wo = p.Wo;
  float* __restrict best = sGate + L;  // Wd floats of the work area
  float* __restrict z = best + Wd;      // pool·Wd floats of it
  for (int64_t c = 0; c < C; c++) {
    const float* __restrict row = x + c * L;
    const float g = gate[c];
    float* __restrict y = p.y + (b * C + c) * Ho * Wo;
    float total = 0.f;
    for (int64_t oh = 0; oh < Ho; oh++) {
      if (pool == 2 && Wd >= W) {
        // best = max of the two window rows' gated values, W columns at a time; the last chunk
        // overlaps the one before (it recomputes the same values) so no column runs scalar
        const float *r0 = row + 2 * oh * Wd, *r1 = r0 + Wd, *s0 = sGate + 2 * oh * Wd, *s1 = s0 + Wd;
        const vf gv = vsplat(g);
        for (int64_t w0 = 0; w0 < Wd; w0 += W) {
          const int64_t w = std::min(w0, Wd - W);
          vstore(best + w, vmax((vload(r0 + w) * gv) * vload(s0 + w), (vload(r1 + w) * gv) * vload(s1 + w)));
        }
      } else {
        // the window rows' gated values (pool·Wd contiguous floats), then their max per column
        const int64_t r = oh * pool * Wd, n = pool * Wd;
        const vf gv = vsplat(g);
        int64_t q = 0;
        for (; q + W <= n; q += W) vstore(z + q, (vload(row + r + q) * gv) * vload(sGate + r + q));
        for (; q < n; q++) z[q] = (row[r + q] * g) * sGate[r + q];
        for (int64_t w = 0; w < Wd; w++) {
          float m = z[w];
          for (int64_t i = 1; i < pool; i++) m = z[i * Wd + w] > m ? z[i * Wd + w] : m;
          best[w] = m;
        }
      }
      for (int64_t ow = 0; ow < Wo; ow++) {
        float m = best[ow * pool];
        for (int64_t j = 1; j < pool; j++) m = best[ow * pool + j] > m ? best[ow * pool + j] : m;
        y[oh * Wo + ow] = m;
        total += m;
      }
    }
    if (p.mean) p.mean[b * C + c] = total / float(Ho * Wo);
  }
}

}  // namespace

// CBAM (channel gate, spatial gate) + max pooling, one image per task.
void cbamPoolForward(const CbamPoolForwardArgs& p) {
  if (p.B >= 2 && poolSize() > 1) parallelFor(p.B, [&](int64_t b, int) { cbamImage(p, b); });
  else for (int64_t b = 0; b < p.B; b++) cbamImage(p, b);
}

}  // namespace HEED_NS
}  // namespace heed
