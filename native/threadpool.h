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
#include <algorithm>

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

// Below this many multiply-adds (a few µs on one core) a job runs on its caller: waking a
// worker and sharing cache lines with it costs about as much as the work.
constexpr double kMinParallelWork = double(1 << 20);

// parallelFor for a job of known total cost `work` (multiply-adds or element operations):
// serial on the caller (thread index 0) when it is too small to share.
template <class F>
inline void parallelForWork(int64_t ntasks, double work, F&& f) {
  if (work < kMinParallelWork) {
    for (int64_t t = 0; t < ntasks; t++) f(t, 0);
    return;
  }
  parallelFor(ntasks, f);
}

// Upper bound on the `thread` index passed to tasks (for per-thread buffers).
constexpr int kMaxThreads = 256;

// Profiling counters of the pool, for measuring how well kernels scale on a machine whose
// wall clock is not trustworthy (other jobs share the cores). Off by default: when on, every
// task of a pool job is timed on its thread's CPU clock (a clock_gettime per task), and each
// job's tasks are replayed, in claim order, onto the pool's threads as if all were free (a
// greedy list schedule): the job's time on an idle machine. Counters only grow; read them
// before and after a kernel and subtract. CPU times are in nanoseconds.
struct PoolProfile {
  double jobs = 0;            // jobs run on the pool (≥ 2 tasks, more than one thread)
  double tasks = 0;           // their tasks
  double taskCpuNs = 0;       // CPU time of those tasks, summed over threads
  double workerTaskCpuNs = 0; // the part of taskCpuNs that workers (not the caller) ran
  double callerInJobCpuNs = 0;// the caller's CPU time inside those jobs (its tasks + waiting for the rest)
  double makespanNs = 0;      // Σ over jobs of the greedy schedule's length on poolSize() free threads
  double jobsWorkerJoined = 0;// jobs in which a worker ran at least one task
  // Where a job's wall time goes (CLOCK_MONOTONIC, ns), against makespanNs (its CPU-clock replay):
  double jobWallNs = 0;       // Σ publish → the caller's return (its tasks and its wait)
  double wakeWallNs = 0;      // Σ publish → a worker's first claim, over the jobs a worker joined
  double callerWaitWallNs = 0;// Σ the caller's wall time from finding no task left to the job's last task done
  double callerTaskWallNs = 0;// Σ wall time of the caller's tasks (taskCpuNs − workerTaskCpuNs on the CPU clock)
  double workerTaskWallNs = 0;// Σ wall time of the workers' tasks (against workerTaskCpuNs: descheduled time)
  double jobsSleeperWoken = 0;// jobs whose publish found a worker asleep (a futex wake)
  double jobsWakeOver20us = 0;// jobs a worker joined more than 20 µs after the publish
  double idleGapWallNs = 0;   // Σ the previous profiled job's end → this job's publish (the pool idle)
  double gapsOverSpin = 0;    // jobs whose idle gap before was longer than a worker's spin budget
  double workerSleeps = 0;    // times a worker's spin ran out and it went to sleep (while profiling is on)
  double workerSpinWallNs = 0;// Σ the wall time of those spins (the budget, plus time off its core)
};
void poolProfileEnable(bool on);
PoolProfile poolProfileRead();
// CPU time of the calling thread, nanoseconds (CLOCK_THREAD_CPUTIME_ID).
double threadCpuNs();

}  // namespace heed

namespace heed {

// Splits [0, n) into contiguous chunks of about `grain` items (at least one per
// thread when there is enough work) and runs f(lo, hi) on each. Small ranges run
// inline on the caller, without waking the pool.
template <class F>
inline void parallelChunks(int64_t n, int64_t grain, F&& f) {
  if (n <= 0) return;
  if (grain < 1) grain = 1;
  if (n <= grain || poolSize() == 1) {
    f(int64_t(0), n);
    return;
  }
  int64_t chunks = (n + grain - 1) / grain;
  int64_t per = (n + chunks - 1) / chunks;
  parallelFor(chunks, [&](int64_t t, int) {
    int64_t lo = t * per, hi = std::min(n, lo + per);
    if (lo < hi) f(lo, hi);
  });
}

}  // namespace heed
