// This ISA's kernel table. Each kernel family lives in its own .cpp; this file only
// collects their entry points.
#include "common.h"
#include "kernels.h"

namespace heed {
namespace HEED_NS {

void sgemm(const float*, const float*, float*, int64_t, int64_t, int64_t, int64_t, bool, bool, float, float, int64_t,
           int64_t, int64_t, const float*, int);
double peakFlops(int threads);
void attentionForward(const AttentionParams&, const float*, const float*, const float*, float*, float*);
void attentionBackward(const AttentionParams&, const float*, const float*, const float*, const float*, const float*,
                       const float*, float*, float*, float*);

void softmaxForward(const float*, float*, int64_t, int64_t, int64_t, bool);
void softmaxBackward(const float*, const float*, float*, int64_t, int64_t, int64_t, bool);
void layerNormForward(const float*, const float*, const float*, float*, float*, float*, int64_t, int64_t, float);
void layerNormBackward(const float*, const float*, const float*, const float*, const float*, float*, float*, float*,
                       int64_t, int64_t);
void rmsNormForward(const float*, const float*, float*, float*, int64_t, int64_t, float);
void rmsNormBackward(const float*, const float*, const float*, const float*, float*, float*, int64_t, int64_t);
void unary(int, const float*, float*, int64_t);
void unaryBackward(int, const float*, const float*, const float*, float*, int64_t);
void binarySame(int, const float*, const float*, float*, int64_t);
void binaryBroadcast(int, const float*, const int64_t*, const float*, const int64_t*, float*, const int64_t*, int);
void embeddingForward(const float*, const int32_t*, float*, int64_t, int64_t);
void embeddingBackward(const float*, const int32_t*, float*, int64_t, int64_t, int64_t);
void crossEntropyForward(const float*, const int32_t*, float*, float*, int64_t, int64_t, int64_t, float);
void crossEntropyBackward(const float*, const int32_t*, const float*, const float*, float*, int64_t, int64_t, int64_t,
                          float);
void adamwStep(float*, const float*, float*, float*, int64_t, float, float, float, float, float, double);
void quantizePerChannel(const float*, int8_t*, float*, int64_t, int64_t);
void int8Gemm(const float*, const int8_t*, const float*, float*, int64_t, int64_t, int64_t, const float*);
void permute(const float*, float*, const int64_t*, const int64_t*, int);
void reduceAxis(int, const float*, float*, int64_t, int64_t, int64_t);
void dropout(const float*, float*, int64_t, double, uint32_t);

const KernelTable& table() {
  static const KernelTable t = [] {
    KernelTable k{};
    k.isa = HEED_ISA_NAME;
    k.sgemm = sgemm;
    k.peakFlops = peakFlops;
    k.attentionForward = attentionForward;
    k.attentionBackward = attentionBackward;
    k.softmaxForward = softmaxForward;
    k.softmaxBackward = softmaxBackward;
    k.layerNormForward = layerNormForward;
    k.layerNormBackward = layerNormBackward;
    k.rmsNormForward = rmsNormForward;
    k.rmsNormBackward = rmsNormBackward;
    k.unary = unary;
    k.unaryBackward = unaryBackward;
    k.binarySame = binarySame;
    k.binaryBroadcast = binaryBroadcast;
    k.embeddingForward = embeddingForward;
    k.embeddingBackward = embeddingBackward;
    k.crossEntropyForward = crossEntropyForward;
    k.crossEntropyBackward = crossEntropyBackward;
    k.adamwStep = adamwStep;
    k.quantizePerChannel = quantizePerChannel;
    k.int8Gemm = int8Gemm;
    k.permute = permute;
    k.reduceAxis = reduceAxis;
    k.dropout = dropout;
    return k;
  }();
  return t;
}

}  // namespace HEED_NS
}  // namespace heed
