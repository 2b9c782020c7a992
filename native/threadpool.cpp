// Persistent thread pool, see threadpool.h.
#include "threadpool.h"

#include <sched.h>
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>

namespace heed {
namespace {

inline void cpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

thread_local bool tInsideJob = false;

class Pool {
 public:
  explicit Pool(int threads) { start(threads); }
  ~Pool() { stop(); }

  int size() const { return size_; }

  void resize(int threads) {
    std::lock_guard<std::mutex> job(jobMutex_);
    stop();
    start(threads);
  }

  void run(int64_t ntasks, TaskFn fn, void* ctx) {
    if (ntasks <= 0) return;
    std::unique_lock<std::mutex> job(jobMutex_, std::try_to_lock);
    if (!job.owns_lock() || tInsideJob || size_ == 1 || ntasks == 1) {
      bool was = tInsideJob;
      tInsideJob = true;
      for (int64_t t = 0; t < ntasks; t++) fn(ctx, t, 0);
      tInsideJob = was;
      return;
    }
    fn_ = fn;
    ctx_ = ctx;
    ntasks_ = ntasks;
    next_.store(0, std::memory_order_relaxed);
    pending_.store(size_ - 1, std::memory_order_relaxed);
    {
      std::lock_guard<std::mutex> lk(wakeMutex_);
      generation_.fetch_add(1, std::memory_order_release);
    }
    wake_.notify_all();
    tInsideJob = true;
    work(0);
    tInsideJob = false;
    // Wait for the workers to finish their last task (they leave `work` when the counter runs out).
    // Spin briefly, then yield: on an oversubscribed machine a descheduled worker
    // must get the core back.
    for (int spin = 0; pending_.load(std::memory_order_acquire) != 0; spin++) {
      if (spin < 4000) cpuRelax();
      else std::this_thread::yield();
    }
  }

 private:
  void start(int threads) {
    size_ = threads < 1 ? 1 : threads;
    quit_ = false;
    // Each worker starts from the generation current now, so a job posted before the
    // thread first runs is not missed.
    uint64_t g = generation_.load(std::memory_order_acquire);
    for (int i = 1; i < size_; i++) workers_.emplace_back([this, i, g] { loop(i, g); });
  }

  void stop() {
    {
      std::lock_guard<std::mutex> lk(wakeMutex_);
      quit_ = true;
      generation_.fetch_add(1, std::memory_order_release);
    }
    wake_.notify_all();
    for (auto& t : workers_) t.join();
    workers_.clear();
  }

  void work(int thread) {
    for (;;) {
      int64_t t = next_.fetch_add(1, std::memory_order_relaxed);
      if (t >= ntasks_) break;
      fn_(ctx_, t, thread);
    }
  }

  void loop(int thread, uint64_t seen) {
    tInsideJob = true;
    for (;;) {
      // Spin a little: consecutive kernels (a training step) arrive microseconds apart.
      uint64_t g = seen;
      for (int spin = 0; spin < 4000; spin++) {
        g = generation_.load(std::memory_order_acquire);
        if (g != seen) break;
        cpuRelax();
      }
      if (g == seen) {
        std::unique_lock<std::mutex> lk(wakeMutex_);
        wake_.wait(lk, [&] { return generation_.load(std::memory_order_acquire) != seen; });
        g = generation_.load(std::memory_order_acquire);
      }
      seen = g;
      if (quit_) return;
      work(thread);
      pending_.fetch_sub(1, std::memory_order_acq_rel);
    }
  }

  int size_ = 1;
  std::vector<std::thread> workers_;
  std::mutex jobMutex_;  // one job at a time
  std::mutex wakeMutex_;
  std::condition_variable wake_;
  std::atomic<uint64_t> generation_{0};
  std::atomic<int64_t> next_{0};
  std::atomic<int> pending_{0};
  bool quit_ = false;
  TaskFn fn_ = nullptr;
  void* ctx_ = nullptr;
  int64_t ntasks_ = 0;
};

Pool& pool() {
  static Pool* p = new Pool(defaultThreads());  // never destroyed: workers may outlive static teardown
  return *p;
}

}  // namespace

int defaultThreads() {
  if (const char* env = std::getenv("HEED_NUM_THREADS")) {
    int n = std::atoi(env);
    if (n >= 1) return n > kMaxThreads ? kMaxThreads : n;
  }
  cpu_set_t set;
  CPU_ZERO(&set);
  int n = 0;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) n = CPU_COUNT(&set);
  if (n < 1) n = static_cast<int>(std::thread::hardware_concurrency());
  if (n < 1) n = 1;
  return n > kMaxThreads ? kMaxThreads : n;
}

void poolRun(int64_t ntasks, TaskFn fn, void* ctx) { pool().run(ntasks, fn, ctx); }
int poolSize() { return pool().size(); }
void poolResize(int threads) { pool().resize(threads > kMaxThreads ? kMaxThreads : threads); }

}  // namespace heed
