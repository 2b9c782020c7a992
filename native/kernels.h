// The kernel table: one plain C-style function per kernel, one table per ISA.
//
// Arguments are already validated by binding.cpp (types, lengths, dims), so the
// kernels trust them. Dims are int64_t; pointers may be null only where noted.
#pragma once
#include <cstdint>

namespace heed {

// Parameters of one attention call, shared by forward and backward.
// q (B,H,Lq,D), k (B,Hkv,Lk,D), v (B,Hkv,Lk,Dv), out (B,H,Lq,Dv), lse (B,H,Lq).
struct AttentionParams {
  int64_t B, H, Hkv, Lq, Lk, D, Dv;
  float scale;
  bool causal;
  int64_t causalOffset;        // key j is disallowed when causal && j > i + causalOffset
  const int32_t* keyLengths;   // (B) or null
  const float* mask;           // additive, indexed b*maskStrideB + h*maskStrideH + i*Lk + j, or null
  int64_t maskStrideB, maskStrideH;
  const float* alibiSlopes;    // (H) or null
  float dropoutP;
  uint32_t dropoutSeed;
};

struct KernelTable {
  const char* isa;
  void (*sgemm)(const float* a, const float* b, float* c, int64_t batch, int64_t m, int64_t n, int64_t k,
                bool transA, bool transB, float alpha, float beta, int64_t strideA, int64_t strideB,
                int64_t strideC, const float* bias, int activation);
  void (*attentionForward)(const AttentionParams& p, const float* q, const float* k, const float* v,
                           float* out, float* lse);
  void (*attentionBackward)(const AttentionParams& p, const float* q, const float* k, const float* v,
                            const float* out, const float* dOut, const float* lse, float* dq, float* dk,
                            float* dv);
  void (*softmaxForward)(const float* x, float* y, int64_t outer, int64_t size, int64_t inner, bool log);
  void (*softmaxBackward)(const float* y, const float* dy, float* dx, int64_t outer, int64_t size,
                          int64_t inner, bool log);
  void (*layerNormForward)(const float* x, const float* w, const float* b, float* y, float* mean, float* rstd,
                           int64_t rows, int64_t cols, float eps);
  void (*layerNormBackward)(const float* x, const float* w, const float* mean, const float* rstd,
                            const float* dy, float* dx, float* dw, float* db, int64_t rows, int64_t cols);
  void (*rmsNormForward)(const float* x, const float* w, float* y, float* rstd, int64_t rows, int64_t cols,
                         float eps);
  void (*rmsNormBackward)(const float* x, const float* w, const float* rstd, const float* dy, float* dx,
                          float* dw, int64_t rows, int64_t cols);
  void (*unary)(int op, const float* x, float* out, int64_t n);
  void (*unaryBackward)(int op, const float* x, const float* y, const float* dy, float* dx, int64_t n);
  void (*binarySame)(int op, const float* a, const float* b, float* out, int64_t n);
  // Strides and shape have nd entries (nd <= 16); out is contiguous over shape.
  void (*binaryBroadcast)(int op, const float* a, const int64_t* aStrides, const float* b,
                          const int64_t* bStrides, float* out, const int64_t* shape, int nd);
  void (*embeddingForward)(const float* weight, const int32_t* idx, float* out, int64_t count, int64_t dim);
  void (*embeddingBackward)(const float* dOut, const int32_t* idx, float* dWeight, int64_t count, int64_t dim,
                            int64_t paddingIdx);
  void (*crossEntropyForward)(const float* logits, const int32_t* targets, float* losses, float* lse,
                              int64_t rows, int64_t classes, int64_t ignoreIndex, float labelSmoothing);
  void (*crossEntropyBackward)(const float* logits, const int32_t* targets, const float* lse,
                               const float* dLoss, float* dLogits, int64_t rows, int64_t classes,
                               int64_t ignoreIndex, float labelSmoothing);
  void (*adamwStep)(float* p, const float* g, float* m, float* v, int64_t n, float lr, float beta1, float beta2,
                    float eps, float weightDecay, double step);
  void (*quantizePerChannel)(const float* w, int8_t* q, float* scales, int64_t n, int64_t k);
  void (*int8Gemm)(const float* x, const int8_t* wq, const float* wScales, float* out, int64_t m, int64_t n,
                   int64_t k, const float* bias);
  // out = x permuted: out's dim d is x's dim perm[d]; shape and perm have nd entries (nd <= 16).
  void (*permute)(const float* x, float* out, const int64_t* shape, const int64_t* perm, int nd);
  // x viewed as (outer, size, inner) → out (outer, inner); op 0 sum, 1 max, 2 min.
  void (*reduceAxis)(int op, const float* x, float* out, int64_t outer, int64_t size, int64_t inner);
  // out[i] = x[i]/(1−p) where lowbias32(i ^ lowbias32(seed)) ≥ p·2³², else 0.
  void (*dropout)(const float* x, float* out, int64_t n, double p, uint32_t seed);
  // Sustained fp32 FMA rate of this ISA's widest vectors, GFLOP/s, on `threads` threads.
  double (*peakFlops)(int threads);
};

namespace avx512 { const KernelTable& table(); }
namespace avx2 { const KernelTable& table(); }
namespace generic { const KernelTable& table(); }

// The table chosen at load (dispatch.cpp), overridable with HEED_ISA=avx512|avx2|generic.
const KernelTable& active();
bool cpuHasAvx512();
bool cpuHasAvx2();

}  // namespace heed
