// A persistent thread pool: workers are created once (sized from the CPUs this
// process may run on, HEED_NUM_THREADS overrides) and wait between jobs, spinning
// briefly and then sleeping on a condition variable. The calling thread takes part
// in every job, so a pool of N threads has N−1 workers.
//
// run(n, f) calls f(task, thread) for every task in [0, n), handing tasks out
// dynamically, and returns when all are done. A nested call, or a call from a
// second JS thread while a job is running, runs serially on the caller.
#pragma once
#include <cstdint>
#include <type_traits>

namespace heed {

using TaskFn = void (*)(void* ctx, int64_t task, int thread);

void poolRun(int64_t ntasks, TaskFn fn, void* ctx);
int poolSize();
void poolResize(int threads);
// The thread count the pool starts with: HEED_NUM_THREADS, else the affinity mask.
int defaultThreads();

template <class F>
inline void parallelFor(int64_t ntasks, F&& f) {
  if (ntasks <= 0) return;
  using Fn = std::remove_reference_t<F>;
  poolRun(ntasks, [](void* ctx, int64_t t, int th) { (*static_cast<Fn*>(ctx))(t, th); }, const_cast<void*>(static_cast<const void*>(&f)));
}

// Upper bound on the `thread` index passed to tasks (for per-thread buffers).
constexpr int kMaxThreads = 256;

}  // namespace heed
