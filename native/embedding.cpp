// Embedding lookup and its scatter-add gradient. Semantics: src/backend/js/embedding.ts.
// Indices are range-checked by the binding.
#include <cmath>

#include "common.h"
#include "kernels.h"
#include "threadpool.h"
#include "row_split.h"
#include "dropout_mask.h"

namespace heed {
namespace HEED_NS {

void embeddingForward(const float* weight, const int32_t* idx, float* out, int64_t count, int64_t dim) {
  parallelRows(count, dim, [&](int64_t, int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; i++) std::memcpy(out + i * dim, weight + int64_t(idx[i]) * dim, size_t(dim) * 4);
  });
}

// dWeight[idx[i]] += dOut[i]. Rows may repeat, so threads split the columns, not the indices.
void embeddingBackward(const float* dOut, const int32_t* idx, float* dWeight, int64_t count, int64_t dim,
                       int64_t paddingIdx) {
  const int64_t colChunk = std::max<int64_t>(W, (dim / std::max(1, poolSize()) + W - 1) / W * W);
  int64_t chunks = (dim + colChunk - 1) / colChunk;
  auto body = [&](int64_t t, int) {
    int64_t c0 = t * colChunk, c1 = std::min(dim, c0 + colChunk);
    for (int64_t i = 0; i < count; i++) {
      if (idx[i] == paddingIdx) continue;
      float* d = dWeight + int64_t(idx[i]) * dim;
      const float* s = dOut + i * dim;
      int64_t c = c0;
      for (; c + W <= c1; c += W) vstore(d + c, vload(d + c) + vload(s + c));
      for (; c < c1; c++) d[c] += s[c];
    }
  };
  if (count * dim < 65536) {
    for (int64_t t = 0; t < chunks; t++) body(t, 0);
  } else {
    parallelFor(chunks, body);
  }
}

// x, opaque to the optimizer: a product passed through it is rounded to float32 before the sum that
// follows (no FMA contraction), as the composed kernels (embedding, mul, add, dropout) round each step.
template <class T>
HEED_INLINE T rounded(T x) {
#if defined(__x86_64__) || defined(__i386__)
  asm("" : "+v"(x));
#elif defined(__aarch64__)
  asm("" : "+w"(x));
#endif
  return x;
}

// out[i, c] = dropout_p(weight[idx[i], c] · scale + positions[offset + i mod seqLen, c]) in one pass over rows.
void embedPositionsForward(const EmbedPositionsForwardArgs& a) {
  const int64_t dim = a.dim, seqLen = a.seqLen, offset = a.offset;
  const float* weight = a.weight;
  const float* positions = a.positions;  // null: no positions
  const int32_t* idx = a.indices;
  float* out = a.out;
  const float s = a.scale;
  const DropMask m(a.p, uint32_t(a.seed));
  const vf sv = vsplat(s), kv = vsplat(m.keep), zero = vsplat(0.f);
  parallelRows(a.count, dim, [&](int64_t, int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; i++) {
      const float* w = weight + int64_t(idx[i]) * dim;
      const float* pe = positions ? positions + (offset + i % seqLen) * dim : nullptr;
      float* o = out + i * dim;
      const uint32_t e0 = uint32_t(i * dim);
      int64_t c = 0;
      for (; c + W <= dim; c += W) {
        vf v = rounded(vload(w + c) * sv);
        if (pe) v = v + vload(pe + c);
        if (m.drop) v = m.kept(e0 + uint32_t(c)) ? v * kv : zero;
        vstore(o + c, v);
      }
      for (; c < dim; c++) {
        float v = rounded(w[c] * s);
        if (pe) v = v + pe[c];
        if (m.drop) v = m.kept1(e0 + uint32_t(c)) ? v * m.keep : 0.f;
        o[c] = v;
      }
    }
  });
}

// dWeight[idx[i], c] += dropout_p(dOut[i, c]) · scale (the forward's mask). Rows may repeat, so threads
// split the columns, not the indices (as embeddingBackward).
void embedPositionsBackward(const EmbedPositionsBackwardArgs& a) {
  const int64_t dim = a.dim, count = a.count, paddingIdx = a.paddingIdx;
  const float* dOut = a.dOut;
  const int32_t* idx = a.indices;
  float* dWeight = a.dWeight;
  const float s = a.scale;
  const DropMask m(a.p, uint32_t(a.seed));
  const vf sv = vsplat(s), kv = vsplat(m.keep), zero = vsplat(0.f);
  const int64_t colChunk = std::max<int64_t>(W, (dim / std::max(1, poolSize()) + W - 1) / W * W);
  const int64_t chunks = (dim + colChunk - 1) / colChunk;
  auto body = [&](int64_t t, int) {
    const int64_t c0 = t * colChunk, c1 = std::min(dim, c0 + colChunk);
    for (int64_t i = 0; i < count; i++) {
      if (idx[i] == paddingIdx) continue;
      float* d = dWeight + int64_t(idx[i]) * dim;
      const float* g = dOut + i * dim;
      const uint32_t e0 = uint32_t(i * dim);
      int64_t c = c0;
      for (; c + W <= c1; c += W) {
        vf v = vload(g + c);
        if (m.drop) v = m.kept(e0 + uint32_t(c)) ? v * kv : zero;
        vstore(d + c, vload(d + c) + rounded(v * sv));
      }
      for (; c < c1; c++) {
        float v = g[c];
        if (m.drop) v = m.kept1(e0 + uint32_t(c)) ? v * m.keep : 0.f;
        d[c] += rounded(v * s);
      }
    }
  };
  if (count * dim < 65536) {
    for (int64_t t = 0; t < chunks; t++) body(t, 0);
  } else {
    parallelFor(chunks, body);
  }
}

// Entry points: each kernel's Args struct (kernel_specs.gen.h) unpacked into the call above.
void embeddingForward(const EmbeddingForwardArgs& p) { embeddingForward(p.weight, p.indices, p.out, p.count, p.dim); }
void embeddingBackward(const EmbeddingBackwardArgs& p) { embeddingBackward(p.dOut, p.indices, p.dWeight, p.count, p.dim, p.paddingIdx); }

}  // namespace HEED_NS
}  // namespace heed
