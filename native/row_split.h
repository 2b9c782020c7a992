// How the memory-bound kernels of a training step (layer norms, the fused dropout/bias backward,
// cross-entropy, embedding, elementwise) cut their rows into pool tasks. One rule for all of them:
//
//   - the task count depends on the size alone, never on the pool size, so a kernel that sums
//     partial results per task (a norm's weight gradient, a bias gradient) groups its sums the same
//     way on 1, 2 or 3 threads: the same bits at every thread count;
//   - below 2 tasks' worth of work (2 × kSplitFloats floats) the kernel runs on its caller: waking a
//     worker and moving the cache lines it writes costs about as much as the work;
//   - the count is even, and rows are dealt out evenly (task t gets rows [t·n/T, (t+1)·n/T)), so two
//     threads get equal halves (a 704-row norm in 5 tasks gave one thread 3 and the other 2);
//   - flat splits start every task on a cache line of the output, so two threads never write the
//     same 64-byte line (row splits of ≥ 64-byte rows do so whenever the output does).
// Included by the kernel files that use it; needs common.h and threadpool.h.
#pragma once

namespace heed {
namespace HEED_NS {

// Floats per task at least: 128 KB of each operand, ~5–10 µs at memory speed — several pool wake-ups.
constexpr int64_t kSplitFloats = int64_t(1) << 15;
// Bounds the per-task partial buffers of huge inputs.
constexpr int64_t kMaxSplitTasks = 64;

// Tasks for `items` items of `itemFloats` floats: by size alone, 1 below 2 tasks' worth, else even.
HEED_INLINE int64_t evenTasks(int64_t items, int64_t itemFloats, int64_t minFloats = kSplitFloats,
                              int64_t maxTasks = kMaxSplitTasks) {
  const int64_t bySize = items * std::max<int64_t>(itemFloats, 1) / std::max<int64_t>(minFloats, 1);
  const int64_t t = std::min<int64_t>({items, bySize, maxTasks});
  if (t <= 1) return 1;
  return std::min<int64_t>(items, (t + 1) & ~int64_t(1));
}

// The first item of task t (t = tasks: n), dealt evenly.
HEED_INLINE int64_t evenSplit(int64_t n, int64_t tasks, int64_t t) { return t >= tasks ? n : n * t / tasks; }

// f(task, lo, hi) over rows [0, rows) in evenTasks(rows, rowFloats) tasks; one call on the caller when small.
template <class F>
void parallelRows(int64_t rows, int64_t rowFloats, F&& f, int64_t minFloats = kSplitFloats) {
  const int64_t tasks = evenTasks(rows, rowFloats, minFloats);
  if (tasks == 1) {
    if (rows > 0) f(int64_t(0), int64_t(0), rows);
    return;
  }
  parallelFor(tasks, [&](int64_t t, int) {
    const int64_t lo = evenSplit(rows, tasks, t), hi = evenSplit(rows, tasks, t + 1);
    if (lo < hi) f(t, lo, hi);
  });
}

// f(lo, hi) over [0, n) floats of an output `out`: even tasks whose boundaries fall on out's cache lines.
template <class F>
void parallelFlat(int64_t n, const float* out, F&& f, int64_t minFloats = kSplitFloats) {
  const int64_t tasks = evenTasks(n, 1, minFloats);
  if (tasks == 1) {
    if (n > 0) f(int64_t(0), n);
    return;
  }
  // floats from out to the next 64-byte line (out is at least 4-byte aligned)
  const int64_t lead = int64_t((64 - (reinterpret_cast<uintptr_t>(out) & 63)) & 63) / 4;
  auto at = [&](int64_t t) {
    if (t <= 0) return int64_t(0);
    if (t >= tasks) return n;
    const int64_t p = evenSplit(n, tasks, t);
    return std::min(n, std::max<int64_t>(0, (p - lead) / 16 * 16 + lead));  // a line boundary of out
  };
  parallelFor(tasks, [&](int64_t t, int) {
    const int64_t lo = at(t), hi = at(t + 1);
    if (lo < hi) f(lo, hi);
  });
}

}  // namespace HEED_NS
}  // namespace heed
