// Chooses the kernel table at load from the CPU's features (cpuid via
// __builtin_cpu_supports). HEED_ISA=avx512|avx2|generic forces a narrower one
// (a wider one than the CPU supports is ignored).
#include <cstdlib>
#include <cstring>
#include "kernels.h"

namespace heed {

bool cpuHasAvx512() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni") &&
         __builtin_cpu_supports("fma");
}

bool cpuHasAvx2() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

static const KernelTable& choose() {
  const char* want = std::getenv("HEED_ISA");
  bool has512 = cpuHasAvx512(), has2 = cpuHasAvx2();
  if (want && std::strcmp(want, "generic") == 0) return generic::table();
  if (want && std::strcmp(want, "avx2") == 0 && has2) return avx2::table();
  if (has512) return avx512::table();
  if (has2) return avx2::table();
  return generic::table();
}

const KernelTable& active() {
  static const KernelTable& t = choose();
  return t;
}

}  // namespace heed
