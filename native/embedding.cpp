// Embedding lookup and its scatter-add gradient. Semantics: src/backend/js/embedding.ts.
// Indices are range-checked by the binding.
#include "common.h"
#include "kernels.h"
#include "threadpool.h"
#include "row_split.h"

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

// Entry points: each kernel's Args struct (kernel_specs.gen.h) unpacked into the call above.
void embeddingForward(const EmbeddingForwardArgs& p) { embeddingForward(p.weight, p.indices, p.out, p.count, p.dim); }
void embeddingBackward(const EmbeddingBackwardArgs& p) { embeddingBackward(p.dOut, p.indices, p.dWeight, p.count, p.dim, p.paddingIdx); }

}  // namespace HEED_NS
}  // namespace heed
