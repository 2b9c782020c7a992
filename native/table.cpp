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

const KernelTable& table() {
  static const KernelTable t = [] {
    KernelTable k{};
    k.isa = HEED_ISA_NAME;
    k.sgemm = sgemm;
    k.peakFlops = peakFlops;
    k.attentionForward = attentionForward;
    k.attentionBackward = attentionBackward;
    return k;
  }();
  return t;
}

}  // namespace HEED_NS
}  // namespace heed
