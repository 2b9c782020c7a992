// Process-wide malloc policy for tensor buffers.
//
// Every op output is a fresh ArrayBuffer (malloc'd by V8/Node, freed when the GC collects the
// tensor). With glibc's defaults, buffers of 128 KiB and more (the threshold then adapts) are
// mmap'd and munmap'd one by one, and freed memory at the top of the heap is returned to the
// kernel: in both cases the next buffer of that size page-faults on first write. On the
// shared 2-core machine that cost 0.18 ms per 64 KiB output, 3× the GEMM that filled it
// (bench/int8.ts, a 64×256 Linear). Keeping freed memory in the heap lets the next output
// reuse warm pages. HEED_MALLOC_TUNING=0 leaves glibc's defaults alone.
#include <cstdlib>
#include <cstring>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace heed {

void tuneAllocator() {
#if defined(__GLIBC__)
  const char* env = std::getenv("HEED_MALLOC_TUNING");
  if (env != nullptr && std::strcmp(env, "0") == 0) return;
  mallopt(M_MMAP_THRESHOLD, 64 << 20);  // buffers up to 64 MiB come from the heap, and are reused
  mallopt(M_TRIM_THRESHOLD, 512 << 20); // keep up to 512 MiB of freed heap instead of unmapping it
#endif
}

}  // namespace heed
