// Pool tasks over n small, similar items (the training step's tiny attention heads: a microsecond
// or two each, about what a claim from the shared counter costs when two cores contend): `chunk`
// consecutive items per task, about 16 tasks per thread, except the last threads·chunk items, one per
// task. With chunk-sized tasks to the end, the thread that takes the last one finishes up to a chunk
// (~1/32 of the call at 2 threads) after the other; single items at the end leave at most one item
// between them. Used by attention.cpp and attention_small.cpp. Needs common.h.
#pragma once
#include <algorithm>
#include <cstdint>

namespace heed {
namespace HEED_NS {

struct TinyTasks {
  int64_t n, chunk, bulkTasks, bulk, tasks;
  TinyTasks(int64_t items, int threads) : n(items) {
    chunk = std::max<int64_t>(1, n / (16 * int64_t(threads)));
    bulkTasks = std::max<int64_t>(0, n - int64_t(threads) * chunk) / chunk;
    bulk = bulkTasks * chunk;
    tasks = bulkTasks + (n - bulk);
  }
  int64_t lo(int64_t task) const { return task < bulkTasks ? task * chunk : bulk + (task - bulkTasks); }
  int64_t hi(int64_t task) const { return task < bulkTasks ? (task + 1) * chunk : bulk + (task - bulkTasks) + 1; }
};

}  // namespace HEED_NS
}  // namespace heed
