// Data movement and reductions: permute (a strided copy), reduceAxis (sum/max/min over one
// axis) and dropout (a hashed keep mask). References: src/backend/js/{layout,reduce,dropout}.ts.
#include "common.h"
#include "kernels.h"
#include "threadpool.h"
#include "column_sums.h"

namespace heed {
namespace HEED_NS {

namespace {

constexpr int64_t kGrain = 1 << 15;  // floats per task for memory-bound loops

}  // namespace

// out (shape permuted by perm) ← x (shape). Each output row (the last output dim) is either a
// contiguous block of x (the last dim stays last: splitting or merging attention heads) or a
// strided gather; rows are walked with an odometer over the leading output dims.
void permute(const float* x, float* out, const int64_t* shape, const int64_t* perm, int nd) {
  int64_t n = 1;
  for (int d = 0; d < nd; d++) n *= shape[d];
  if (n == 0) return;
  if (nd == 0) {
    out[0] = x[0];
    return;
  }
  int64_t inStride[16], outShape[16], st[16];
  int64_t s = 1;
  for (int d = nd - 1; d >= 0; d--) {
    inStride[d] = s;
    s *= shape[d];
  }
  for (int d = 0; d < nd; d++) {
    outShape[d] = shape[perm[d]];
    st[d] = inStride[perm[d]];
  }
  const int last = nd - 1;
  const int64_t inner = outShape[last], sl = st[last];
  const int64_t rows = n / inner;
  parallelChunks(rows, std::max<int64_t>(1, kGrain / inner), [&](int64_t lo, int64_t hi) {
    int64_t idx[16] = {};
    int64_t src = 0, rem = lo;
    for (int d = last - 1; d >= 0; d--) {
      idx[d] = rem % outShape[d];
      rem /= outShape[d];
      src += idx[d] * st[d];
    }
    for (int64_t r = lo; r < hi; r++) {
      float* o = out + r * inner;
      if (sl == 1) {
        std::memcpy(o, x + src, size_t(inner) * sizeof(float));
      } else {
        for (int64_t j = 0; j < inner; j++) o[j] = x[src + j * sl];
      }
      for (int d = last - 1; d >= 0; d--) {
        idx[d]++;
        src += st[d];
        if (idx[d] < outShape[d]) break;
        src -= st[d] * outShape[d];
        idx[d] = 0;
      }
    }
  });
}

// x viewed as (outer, size, inner) → out (outer, inner). op 0 sum (accumulated in float64, as
// the reference), 1 max, 2 min; max and min propagate NaN. inner > 1: rows of inner are combined
// in order across a block of columns (tasks = (o, block)). inner == 1: a contiguous run per o,
// in lane partials.
void reduceAxis(int op, const float* x, float* out, int64_t outer, int64_t size, int64_t inner) {
  const float init = op == 0 ? 0.f : op == 1 ? -INFINITY : INFINITY;
  if (inner == 1) {
    parallelChunks(outer, std::max<int64_t>(1, kGrain / std::max<int64_t>(size, 1)), [&](int64_t lo, int64_t hi) {
      for (int64_t o = lo; o < hi; o++) {
        const float* p = x + o * size;
        if (op == 0) {  // float64 lane partials, as the reference sums in float64
          double part[W] = {};
          int64_t i = 0;
          for (; i + W <= size; i += W)
            for (int l = 0; l < W; l++) part[l] += p[i + l];
          double s = 0;
          for (int l = 0; l < W; l++) s += part[l];
          for (; i < size; i++) s += p[i];
          out[o] = float(s);
          continue;
        }
        vf acc = vsplat(init);
        vi nan = vi{};
        int64_t i = 0;
        for (; i + W <= size; i += W) {
          vf v = vload(p + i);
          acc = op == 1 ? (v > acc ? v : acc) : (v < acc ? v : acc);
          nan |= v != v;
        }
        float lanes[W];
        std::memcpy(lanes, &acc, sizeof(lanes));
        float r = init;
        for (int l = 0; l < W; l++) r = op == 1 ? std::max(r, lanes[l]) : std::min(r, lanes[l]);
        bool anyNan = false;
        for (int l = 0; l < W; l++) anyNan |= nan[l] != 0;
        for (; i < size; i++) {
          float v = p[i];
          if (v != v) anyNan = true;
          else r = op == 1 ? std::max(r, v) : std::min(r, v);
        }
        out[o] = anyNan ? NAN : r;
      }
    });
    return;
  }
  if (op == 0 && outer == 1 && inner >= W) {
    // A bias gradient, (1, rows, features): swept in memory order, each row added into float64
    // column sums (tasks split by size alone, so the bits do not depend on the thread count).
    // Column blocks (below) read the matrix in strided 64–256-float pieces, which streams poorly
    // from memory when the matrix is cold, as it is in a training step's backward.
    rowsWithColumnSums(size, inner, out, [=](int64_t r, double* acc) {
      const float* row = x + r * inner;
      int64_t j = 0;
      for (; j + W <= inner; j += W) addWide(acc + j, vload(row + j));
      for (; j < inner; j++) acc[j] += row[j];
    });
    return;
  }
  constexpr int64_t kCols = 256;  // columns per task, at most
  // A bias gradient is one (1, rows, features) sum: with 256-column blocks, features ≤ 256 made
  // one task, and the reduction ran on one thread. Narrower blocks (down to one vector) give every
  // thread a few; each column is still summed alone, in order, so the result does not change.
  int64_t cols = kCols;
  const int64_t wanted = 4 * int64_t(poolSize());
  if (double(outer) * double(size) * double(inner) >= double(kGrain))
    while (cols > W && outer * ((inner + cols - 1) / cols) < wanted) cols /= 2;
  const int64_t blocks = (inner + cols - 1) / cols;
  const int64_t grain = std::max<int64_t>(1, kGrain / std::max<int64_t>(size * cols, 1));
  parallelChunks(outer * blocks, grain, [&](int64_t lo, int64_t hi) {
    double sum[kCols];  // sums accumulate in float64, as the reference's do
    for (int64_t t = lo; t < hi; t++) {
      const int64_t o = t / blocks, c0 = (t % blocks) * cols, c1 = std::min(inner, c0 + cols), nc = c1 - c0;
      const float* base = x + o * size * inner + c0;
      float* dst = out + o * inner + c0;
      if (op == 0) {
        for (int64_t j = 0; j < nc; j++) sum[j] = 0;
        for (int64_t i = 0; i < size; i++) {
          const float* row = base + i * inner;
          for (int64_t j = 0; j < nc; j++) sum[j] += row[j];
        }
        for (int64_t j = 0; j < nc; j++) dst[j] = float(sum[j]);
        continue;
      }
      for (int64_t j = 0; j < nc; j++) dst[j] = init;
      for (int64_t i = 0; i < size; i++) {
        const float* row = base + i * inner;
        int64_t j = 0;
        for (; j + W <= nc; j += W) {
          vf v = vload(row + j), a = vload(dst + j);
          a = op == 1 ? ((v > a) | (v != v) ? v : a) : ((v < a) | (v != v) ? v : a);
          vstore(dst + j, a);
        }
        for (; j < nc; j++) {
          float v = row[j];
          if ((op == 1 ? v > dst[j] : v < dst[j]) || v != v) dst[j] = v;
        }
      }
    }
  });
}

// out[i] = x[i] / (1 − p) where lowbias32(i ^ lowbias32(seed)) ≥ p·2³², else 0.
void dropout(const float* x, float* out, int64_t n, double p, uint32_t seed) {
  const double thr = std::ceil(p * 4294967296.0);
  if (thr > 4294967295.0) {  // p = 1 (or within 2⁻³² of it): nothing is kept
    std::memset(out, 0, size_t(n) * sizeof(float));
    return;
  }
  const uint32_t t = uint32_t(thr), mixed = lowbias32(seed);
  const float scale = float(1.0 / (1.0 - p));
  vu lane;
  for (int l = 0; l < W; l++) lane[l] = uint32_t(l);
  parallelChunks(n, kGrain, [&](int64_t lo, int64_t hi) {
    int64_t i = lo;
    for (; i + W <= hi; i += W) {
      vu h = lowbias32((lane + uint32_t(i)) ^ mixed);
      vi keep = h >= t;
      vstore(out + i, keep ? vload(x + i) * scale : vsplat(0.f));
    }
    for (; i < hi; i++) out[i] = lowbias32(uint32_t(i) ^ mixed) >= t ? x[i] * scale : 0.f;
  });
}

// Entry points: each kernel's Args struct (kernel_specs.gen.h) unpacked into the call above.
void permute(const PermuteArgs& p) { permute(p.x, p.out, p.shape, p.perm, int(p.nd)); }
void reduceAxis(const ReduceAxisArgs& p) { reduceAxis(int(p.op), p.x, p.out, p.outer, p.size, p.inner); }
void dropout(const DropoutArgs& p) { dropout(p.x, p.out, p.n, p.p, uint32_t(p.seed)); }

}  // namespace HEED_NS
}  // namespace heed
