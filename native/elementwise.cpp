// Elementwise kernels: unary (with backward) and binary ops, op codes as in
// src/backend/js/elementwise.ts. Hot ops are vectorized with the ISA's vectors;
// the rest (log, tanh, pow) call libm per element.
#include "common.h"
#include "kernels.h"
#include "threadpool.h"
#include "row_split.h"

namespace heed {
namespace HEED_NS {

namespace {

HEED_INLINE vf vsigmoid(vf x) {
  vf e = vexp(-vabs(x));
  vf inv = 1.0f / (1.0f + e);
  return vselect(x >= 0, inv, e * inv);
}
HEED_INLINE float sigmoidScalar(float x) {
  float e = std::exp(-std::fabs(x));
  return x >= 0 ? 1.f / (1.f + e) : e / (1.f + e);
}
HEED_INLINE vf vtanh(vf x) {  // 1 − 2/(e^{2|x|} + 1), signed; absolute error ~1e-7
  vf e = vexp(2.0f * vabs(x));
  vf t = 1.0f - 2.0f / (e + 1.0f);
  t = vselect(e == INFINITY, vsplat(1.f), t);
  return vselect(x < 0, -t, t);
}
constexpr float kSqrt2OverPi = 0.7978845608028654f;
constexpr float kInvSqrt2Pi = 0.3989422804014327f;
HEED_INLINE vf vgeluTanh(vf x) { return 0.5f * x * (1.0f + vtanh(kSqrt2OverPi * (x + 0.044715f * x * x * x))); }
HEED_INLINE float geluTanhScalar(float x) {
  return 0.5f * x * (1.f + std::tanh(kSqrt2OverPi * (x + 0.044715f * x * x * x)));
}
HEED_INLINE float geluGradScalar(float x) {
  return 0.5f * (1.f + erf_scalar(x * 0.70710678118654752f)) + x * kInvSqrt2Pi * std::exp(-0.5f * x * x);
}
HEED_INLINE vf vgeluGrad(vf x) {
  return 0.5f * (1.0f + verf(x * 0.70710678118654752f)) + x * kInvSqrt2Pi * vexp(-0.5f * x * x);
}
HEED_INLINE float geluTanhGradScalar(float x) {
  float u = kSqrt2OverPi * (x + 0.044715f * x * x * x);
  float t = std::tanh(u);
  float du = kSqrt2OverPi * (1.f + 3.f * 0.044715f * x * x);
  return 0.5f * (1.f + t) + 0.5f * x * (1.f - t * t) * du;
}

// Applies a vector body and a scalar tail over [lo, hi).
template <class V, class S>
HEED_INLINE void each(int64_t lo, int64_t hi, V&& vec, S&& sca) {
  int64_t i = lo;
  for (; i + W <= hi; i += W) vec(i);
  for (; i < hi; i++) sca(i);
}

void unaryRange(int op, const float* x, float* o, int64_t lo, int64_t hi) {
  switch (op) {
    case 0: each(lo, hi, [&](int64_t i) { vstore(o + i, -vload(x + i)); }, [&](int64_t i) { o[i] = -x[i]; }); break;
    case 1: each(lo, hi, [&](int64_t i) { vstore(o + i, vexp(vload(x + i))); }, [&](int64_t i) { o[i] = std::exp(x[i]); }); break;
    case 2: for (int64_t i = lo; i < hi; i++) o[i] = std::log(x[i]); break;
    case 3: for (int64_t i = lo; i < hi; i++) o[i] = std::sqrt(x[i]); break;
    case 4: for (int64_t i = lo; i < hi; i++) o[i] = std::tanh(x[i]); break;
    case 5: each(lo, hi, [&](int64_t i) { vstore(o + i, vsigmoid(vload(x + i))); }, [&](int64_t i) { o[i] = sigmoidScalar(x[i]); }); break;
    case 6: each(lo, hi, [&](int64_t i) { vstore(o + i, vrelu(vload(x + i))); }, [&](int64_t i) { o[i] = relu_scalar(x[i]); }); break;
    case 7: each(lo, hi, [&](int64_t i) { vstore(o + i, vgelu(vload(x + i))); }, [&](int64_t i) { o[i] = gelu_scalar(x[i]); }); break;
    case 8: each(lo, hi, [&](int64_t i) { vstore(o + i, vgeluTanh(vload(x + i))); }, [&](int64_t i) { o[i] = geluTanhScalar(x[i]); }); break;
    case 9: each(lo, hi, [&](int64_t i) { vf v = vload(x + i); vstore(o + i, v * vsigmoid(v)); }, [&](int64_t i) { o[i] = x[i] * sigmoidScalar(x[i]); }); break;
    case 10: each(lo, hi, [&](int64_t i) { vstore(o + i, vabs(vload(x + i))); }, [&](int64_t i) { o[i] = std::fabs(x[i]); }); break;
    default: break;
  }
}

void unaryBackwardRange(int op, const float* x, const float* y, const float* dy, float* dx, int64_t lo, int64_t hi) {
  switch (op) {
    case 0: for (int64_t i = lo; i < hi; i++) dx[i] = -dy[i]; break;
    case 1: for (int64_t i = lo; i < hi; i++) dx[i] = dy[i] * y[i]; break;
    case 2: for (int64_t i = lo; i < hi; i++) dx[i] = dy[i] / x[i]; break;
    case 3: for (int64_t i = lo; i < hi; i++) dx[i] = dy[i] * 0.5f / y[i]; break;
    case 4: for (int64_t i = lo; i < hi; i++) dx[i] = dy[i] * (1.f - y[i] * y[i]); break;
    case 5: for (int64_t i = lo; i < hi; i++) dx[i] = dy[i] * y[i] * (1.f - y[i]); break;
    case 6: for (int64_t i = lo; i < hi; i++) dx[i] = x[i] > 0 ? dy[i] : 0.f; break;
    case 7: each(lo, hi, [&](int64_t i) { vstore(dx + i, vload(dy + i) * vgeluGrad(vload(x + i))); },
                 [&](int64_t i) { dx[i] = dy[i] * geluGradScalar(x[i]); }); break;
    case 8: for (int64_t i = lo; i < hi; i++) dx[i] = dy[i] * geluTanhGradScalar(x[i]); break;
    case 9: each(lo, hi, [&](int64_t i) {
                   vf v = vload(x + i), s = vsigmoid(v);
                   vstore(dx + i, vload(dy + i) * s * (1.0f + v * (1.0f - s)));
                 },
                 [&](int64_t i) { float s = sigmoidScalar(x[i]); dx[i] = dy[i] * s * (1.f + x[i] * (1.f - s)); }); break;
    case 10: for (int64_t i = lo; i < hi; i++) dx[i] = dy[i] * float((x[i] > 0) - (x[i] < 0)) + (x[i] != x[i] ? x[i] : 0.f); break;
    default: break;
  }
}

HEED_INLINE float apply2(int op, float x, float y) {
  switch (op) {
    case 0: return x + y;
    case 1: return x - y;
    case 2: return x * y;
    case 3: return x / y;
    case 4: return float(std::pow(double(x), double(y)));
    case 5: return (x != x || y != y) ? NAN : (x > y ? x : y);
    default: return (x != x || y != y) ? NAN : (x < y ? x : y);
  }
}

HEED_INLINE vf apply2v(int op, vf x, vf y) {
  switch (op) {
    case 0: return x + y;
    case 1: return x - y;
    case 2: return x * y;
    case 3: return x / y;
    case 5: return vselect((x != x) | (y != y), vsplat(NAN), vmax(x, y));
    default: return vselect((x != x) | (y != y), vsplat(NAN), vmin(x, y));
  }
}

// out[j] = a[j·sa] (op) b[j·sb] for j < n, with sa, sb ∈ {0, 1} vectorized.
HEED_INLINE void binaryRow(int op, const float* a, int64_t sa, const float* b, int64_t sb, float* out, int64_t n) {
  int64_t j = 0;
  if (op != 4 && (sa == 0 || sa == 1) && (sb == 0 || sb == 1)) {
    vf as = vsplat(a[0]), bs = vsplat(b[0]);
    for (; j + W <= n; j += W) {
      vf x = sa ? vload(a + j) : as, y = sb ? vload(b + j) : bs;
      vstore(out + j, apply2v(op, x, y));
    }
  }
  for (; j < n; j++) out[j] = apply2(op, a[j * sa], b[j * sb]);
}

}  // namespace

void unary(int op, const float* x, float* out, int64_t n) {
  parallelFlat(n, out, [&](int64_t lo, int64_t hi) { unaryRange(op, x, out, lo, hi); });
}

void unaryBackward(int op, const float* x, const float* y, const float* dy, float* dx, int64_t n) {
  parallelFlat(n, dx, [&](int64_t lo, int64_t hi) { unaryBackwardRange(op, x, y, dy, dx, lo, hi); });
}

void binarySame(int op, const float* a, const float* b, float* out, int64_t n) {
  parallelFlat(n, out, [&](int64_t lo, int64_t hi) { binaryRow(op, a + lo, 1, b + lo, 1, out + lo, hi - lo); });
}

void binaryBroadcast(int op, const float* a, const int64_t* aStrides, const float* b, const int64_t* bStrides,
                     float* out, const int64_t* shape, int nd) {
  int64_t n = 1;
  for (int d = 0; d < nd; d++) n *= shape[d];
  if (n == 0) return;
  if (nd == 0) {
    out[0] = apply2(op, a[0], b[0]);
    return;
  }
  const int last = nd - 1;
  const int64_t inner = shape[last], sa = aStrides[last], sb = bStrides[last];
  const int64_t rows = n / inner;
  parallelRows(rows, inner, [&](int64_t, int64_t lo, int64_t hi) {
    // multi-index of row `lo` over dims [0, last)
    int64_t idx[16] = {};
    int64_t ao = 0, bo = 0, rem = lo;
    for (int d = last - 1; d >= 0; d--) {
      idx[d] = rem % shape[d];
      rem /= shape[d];
      ao += idx[d] * aStrides[d];
      bo += idx[d] * bStrides[d];
    }
    for (int64_t r = lo; r < hi; r++) {
      binaryRow(op, a + ao, sa, b + bo, sb, out + r * inner, inner);
      for (int d = last - 1; d >= 0; d--) {
        idx[d]++;
        ao += aStrides[d];
        bo += bStrides[d];
        if (idx[d] < shape[d]) break;
        ao -= aStrides[d] * shape[d];
        bo -= bStrides[d] * shape[d];
        idx[d] = 0;
      }
    }
  });
}

// Entry points: each kernel's Args struct (kernel_specs.gen.h) unpacked into the call above.
void unary(const UnaryArgs& p) { unary(int(p.op), p.x, p.out, p.n); }
void unaryBackward(const UnaryBackwardArgs& p) { unaryBackward(int(p.op), p.x, p.y, p.dy, p.dx, p.n); }
void binarySame(const BinarySameArgs& p) { binarySame(int(p.op), p.a, p.b, p.out, p.n); }
void binaryBroadcast(const BinaryBroadcastArgs& p) { binaryBroadcast(int(p.op), p.a, p.aStrides, p.b, p.bStrides, p.out, p.outShape, int(p.nd)); }

}  // namespace HEED_NS
}  // namespace heed
