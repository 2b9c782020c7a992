// This ISA's kernel table. Each kernel family lives in its own .cpp and defines
// `void <name>(const <Name>Args&)` for every kernel of HEED_KERNEL_LIST (generated from
// src/backend/specs); this file only collects those entry points.
#include "common.h"
#include "kernels.h"

namespace heed {
namespace HEED_NS {

#define HEED_DECLARE(name, ArgsT) void name(const ArgsT&);
HEED_KERNEL_LIST(HEED_DECLARE)
#undef HEED_DECLARE
double peakFlops(int threads);
double int8PeakOps(int threads);

const KernelTable& table() {
  static const KernelTable t = [] {
    KernelTable k{};
    k.isa = HEED_ISA_NAME;
#define HEED_ENTRY(name, ArgsT) k.name = name;
    HEED_KERNEL_LIST(HEED_ENTRY)
#undef HEED_ENTRY
    k.peakFlops = peakFlops;
    k.int8PeakOps = int8PeakOps;
    return k;
  }();
  return t;
}

}  // namespace HEED_NS
}  // namespace heed
