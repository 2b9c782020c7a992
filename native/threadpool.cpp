// Persistent thread pool, see threadpool.h.
#include "threadpool.h"

#include <sched.h>
#include <time.h>
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>
#include <algorithm>

namespace heed {
namespace {

inline void cpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

thread_local bool tInsideJob = false;

// HEED_POOL_RACE_PROBE (test builds only: test/native/pool-stress.test.ts compiles the pool with it)
// widens the windows of the publish/claim race with a short spin between a job's task count and
// its claim word (caller) and between reading them and claiming (worker), so that a stress test
// meets the race in every run instead of in one run in five on a loaded machine.
#ifdef HEED_POOL_RACE_PROBE
inline void raceProbe() {
  for (int i = 0; i < 64; i++) cpuRelax();
}
#else
inline void raceProbe() {}
#endif

int64_t cpuNowNs() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

// How long an idle worker spins (checking for a new job, with pause) before it sleeps on the
// condition variable, in pause instructions: HEED_POOL_SPIN_US (microseconds, 0 = sleep at once)
// converted with the measured cost of one pause, which varies ~10× across x86 cores (Skylake's is
// ~140 cycles, Zen's ~10–65). A sleeping worker costs the next job a futex wake-up, which on a VM is
// an inter-processor interrupt to a halted vCPU (bench/pool-wake.ts measures it); a spinning one
// costs a core's time while the JS between two kernels runs.
// The default covers the idle gaps between a training step's kernels: the main thread's CPU time
// between two pool jobs has a median of 68 µs and a 90th percentile of 174 µs in the G2P step
// (bench/train-threads.ts), so the former 4000 pauses (72 µs on the Zen 5 VM) let the worker fall
// asleep before half of the step's 243 jobs; 300 µs leaves 7 per step, for 8 ms more spin per step.
constexpr double kDefaultSpinUs = 300;
double spinUs() {
  double us = kDefaultSpinUs;
  if (const char* env = std::getenv("HEED_POOL_SPIN_US")) {
    char* end = nullptr;
    const double v = std::strtod(env, &end);
    if (end != env && v >= 0 && v <= 1e6) us = v;
  }
  return us;
}
int64_t spinPauses(double us) {
  if (us == 0) return 0;
  // one pause's cost: the fastest of 8 batches of 1000 (a batch the thread was descheduled in is slower)
  double ns = 1e9;
  for (int b = 0; b < 8; b++) {
    timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < 1000; i++) cpuRelax();
    clock_gettime(CLOCK_MONOTONIC, &t1);
    ns = std::min(ns, (double(t1.tv_sec - t0.tv_sec) * 1e9 + double(t1.tv_nsec - t0.tv_nsec)) / 1000);
  }
  return int64_t(us * 1000 / std::max(ns, 0.5)) + 1;
}

int64_t wallNowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

std::atomic<bool> gProfile{false};
std::atomic<int64_t> gClockReadNs{0};  // what one cpuNowNs() costs, measured when profiling is turned on

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

  // Tasks are claimed from claim_ = (job id << kTaskBits) | next task, so a worker that wakes
  // after its job ended (descheduled on a busy machine, or slow out of sleep) claims nothing,
  // and the caller waits for the job's tasks to be done, never for a worker to show up: a job
  // whose tasks the caller finished alone costs it no more than running them serially.
  void run(int64_t ntasks, TaskFn fn, void* ctx) {
    if (ntasks <= 0) return;
    std::unique_lock<std::mutex> job(jobMutex_, std::try_to_lock);
    if (!job.owns_lock() || tInsideJob || size_ == 1 || ntasks == 1 || ntasks >= (int64_t(1) << kTaskBits)) {
      bool was = tInsideJob;
      tInsideJob = true;
      for (int64_t t = 0; t < ntasks; t++) fn(ctx, t, 0);
      tInsideJob = was;
      return;
    }
    fn_ = fn;
    ctx_ = ctx;
    profileJob_ = gProfile.load(std::memory_order_relaxed);
    int64_t callerCpu0 = 0;
    if (profileJob_) {
      callerCpu0 = cpuNowNs();
      taskNs_.assign(size_t(std::min<int64_t>(ntasks, kProfiledTasks)), 0);
      jobTaskNs_.store(0, std::memory_order_relaxed);
      jobWorkerNs_.store(0, std::memory_order_relaxed);
      jobMaxTaskNs_.store(0, std::memory_order_relaxed);
      jobFirstClaimWall_.store(0, std::memory_order_relaxed);
      jobCallerTaskWall_ = 0;
      jobWorkerTaskWall_.store(0, std::memory_order_relaxed);
    }
    jobId_ = (jobId_ + 1) & kJobMask;
    // The task count carries its job's id: a worker still in the previous job (it found no task
    // left there, or claimed none) may read this count before the new claim word is published,
    // while claim_ still holds the old job's exhausted counter. Checked against the old count
    // alone, a larger new count made that counter look claimable, and the worker ran the new
    // job's function on a task index the new job then handed out again (a task run twice).
    jobTasks_.store((jobId_ << kTaskBits) | uint64_t(ntasks), std::memory_order_release);
    done_.store(0, std::memory_order_relaxed);
    raceProbe();
    const int64_t pubWall = profileJob_ ? wallNowNs() : 0;
    claim_.store(jobId_ << kTaskBits, std::memory_order_release);  // publishes fn_, ctx_, jobTasks_
    // No lock unless a worker sleeps. The worker about to sleep raises sleepers_ and then reads
    // generation_ (both seq_cst, under wakeMutex_); here generation_ is raised and then sleepers_
    // read (both seq_cst): at least one side sees the other's write, so either the worker sees
    // the new job and does not sleep, or this sees the sleeper and wakes it. The notify takes
    // wakeMutex_, which the sleeper holds from its count to its wait, so it cannot be missed.
    generation_.fetch_add(1, std::memory_order_seq_cst);
    const bool woke = sleepers_.load(std::memory_order_seq_cst) > 0;
    if (woke) {
      { std::lock_guard<std::mutex> lk(wakeMutex_); }
      wake_.notify_all();
    }
    tInsideJob = true;
    const int64_t others = ntasks - work(0, jobId_);
    tInsideJob = false;
    const int64_t callerDoneWall = profileJob_ ? wallNowNs() : 0;
    // Wait for the tasks other threads claimed. Spin briefly, then yield: on an oversubscribed
    // machine a descheduled worker must get the core back.
    for (int spin = 0; done_.load(std::memory_order_acquire) < others; spin++) {
      if (spin < 4000) cpuRelax();
      else std::this_thread::yield();
    }
    if (profileJob_) {
      const int64_t endWall = wallNowNs();
      recordJob(ntasks, cpuNowNs() - callerCpu0);
      const int64_t first = jobFirstClaimWall_.load(std::memory_order_relaxed);
      totals_.jobWallNs += double(endWall - pubWall);
      totals_.callerWaitWallNs += double(endWall - callerDoneWall);
      totals_.callerTaskWallNs += double(jobCallerTaskWall_);
      totals_.workerTaskWallNs += double(jobWorkerTaskWall_.load(std::memory_order_relaxed));
      totals_.jobsSleeperWoken += woke ? 1 : 0;
      if (lastEndWall_ != 0) {
        totals_.idleGapWallNs += double(pubWall - lastEndWall_);
        totals_.gapsOverSpin += double(pubWall - lastEndWall_) > spinUs_ * 1e3 ? 1 : 0;
      }
      lastEndWall_ = endWall;
      if (first != 0) {
        totals_.wakeWallNs += double(first - pubWall);
        totals_.jobsWakeOver20us += first - pubWall > 20000 ? 1 : 0;
      }
    }
  }

  PoolProfile profile() {
    std::lock_guard<std::mutex> job(jobMutex_);
    PoolProfile p = totals_;
    p.workerSleeps = double(workerSleeps_.load(std::memory_order_relaxed));
    p.workerSpinWallNs = double(workerSpinWallNs_.load(std::memory_order_relaxed));
    return p;
  }

 private:
  static constexpr int kTaskBits = 40;
  static constexpr uint64_t kTaskMask = (uint64_t(1) << kTaskBits) - 1, kJobMask = (uint64_t(1) << (64 - kTaskBits)) - 1;

  void start(int threads) {
    size_ = threads < 1 ? 1 : threads;
    spinUs_ = spinUs();
    spinPauses_ = spinPauses(spinUs_);
    quit_.store(false, std::memory_order_relaxed);
    // Each worker starts from the generation current now, so a job posted before the
    // thread first runs is not missed.
    uint64_t g = generation_.load(std::memory_order_acquire);
    for (int i = 1; i < size_; i++) workers_.emplace_back([this, i, g] { loop(i, g); });
  }

  void stop() {
    {
      std::lock_guard<std::mutex> lk(wakeMutex_);
      quit_.store(true, std::memory_order_relaxed);
      generation_.fetch_add(1, std::memory_order_seq_cst);
    }
    wake_.notify_all();
    for (auto& t : workers_) t.join();
    workers_.clear();
  }

  // Claims and runs tasks of job `job` until none are left or another job has started, and returns
  // how many it ran. A successful claim means the job is still running (its caller waits for that
  // task), so fn_ and ctx_ are the job's own. A worker reports its finished tasks to done_ in one
  // add, not one per task (every add pulls the line from the other threads): at once when it ran
  // the job's last task index, else when it finds nothing left to claim. The caller counts its own.
  int64_t work(int thread, uint64_t job) {
    int64_t finished = 0;
    for (;;) {
      uint64_t c = claim_.load(std::memory_order_acquire);
      const uint64_t jt = jobTasks_.load(std::memory_order_acquire);
      const int64_t n = int64_t(jt & kTaskMask);
      if ((c >> kTaskBits) != job || (jt >> kTaskBits) != job || int64_t(c & kTaskMask) >= n) break;
      raceProbe();
      if (!claim_.compare_exchange_weak(c, c + 1, std::memory_order_acq_rel, std::memory_order_relaxed)) continue;
      const int64_t task = int64_t(c & kTaskMask);
      if (profileJob_) {
        if (thread != 0 && finished == 0) {
          int64_t none = 0;
          jobFirstClaimWall_.compare_exchange_strong(none, wallNowNs(), std::memory_order_relaxed);
        }
        const int64_t t0 = cpuNowNs();
        const int64_t w0 = wallNowNs();  // inside the CPU clock's interval: the task's wall time excludes those reads
        fn_(ctx_, task, thread);
        const int64_t wall = wallNowNs() - w0;
        // minus one clock read's own cost, which the interval includes (a system call on some VMs)
        const int64_t ns = std::max<int64_t>(0, cpuNowNs() - t0 - gClockReadNs.load(std::memory_order_relaxed));
        if (thread == 0) jobCallerTaskWall_ += wall;
        else jobWorkerTaskWall_.fetch_add(wall, std::memory_order_relaxed);
        if (task < int64_t(taskNs_.size())) taskNs_[size_t(task)] = ns;
        jobTaskNs_.fetch_add(ns, std::memory_order_relaxed);
        if (thread != 0) jobWorkerNs_.fetch_add(ns, std::memory_order_relaxed);
        for (int64_t m = jobMaxTaskNs_.load(std::memory_order_relaxed); ns > m && !jobMaxTaskNs_.compare_exchange_weak(m, ns, std::memory_order_relaxed);) {}
      } else {
        fn_(ctx_, task, thread);
      }
      finished++;
      if (thread != 0 && task + 1 == n) {  // the last index: nothing left to claim, report now
        done_.fetch_add(finished, std::memory_order_release);
        return finished;
      }
    }
    if (thread != 0 && finished > 0) done_.fetch_add(finished, std::memory_order_release);
    return finished;
  }

  void loop(int thread, uint64_t seen) {
    tInsideJob = true;
    for (;;) {
      // Spin a little: consecutive kernels (a training step) arrive microseconds apart.
      uint64_t g = seen;
      const bool profile = gProfile.load(std::memory_order_relaxed);
      const int64_t spin0 = profile ? wallNowNs() : 0;
      for (int64_t spin = 0; spin < spinPauses_; spin++) {
        g = generation_.load(std::memory_order_acquire);
        if (g != seen) break;
        cpuRelax();
      }
      if (g == seen) {
        if (profile) {
          workerSleeps_.fetch_add(1, std::memory_order_relaxed);
          workerSpinWallNs_.fetch_add(wallNowNs() - spin0, std::memory_order_relaxed);
        }
        std::unique_lock<std::mutex> lk(wakeMutex_);
        sleepers_.fetch_add(1, std::memory_order_seq_cst);
        wake_.wait(lk, [&] { return generation_.load(std::memory_order_seq_cst) != seen; });
        sleepers_.fetch_sub(1, std::memory_order_relaxed);
        g = generation_.load(std::memory_order_acquire);
      }
      seen = g;
      if (quit_.load(std::memory_order_relaxed)) return;
      work(thread, claim_.load(std::memory_order_acquire) >> kTaskBits);
    }
  }

  // Adds a finished job to the profile totals. Its idle-machine time is the greedy list schedule
  // of its tasks, in claim (= index) order, on size_ threads that all start free; past
  // kProfiledTasks tasks, the bound max(Σ/threads, longest task).
  void recordJob(int64_t ntasks, int64_t callerNs) {
    const double sum = double(jobTaskNs_.load(std::memory_order_relaxed));
    const double workers = double(jobWorkerNs_.load(std::memory_order_relaxed));
    double makespan;
    if (ntasks <= kProfiledTasks) {
      std::vector<int64_t> freeAt(size_t(size_), 0);
      for (int64_t t = 0; t < ntasks; t++) *std::min_element(freeAt.begin(), freeAt.end()) += taskNs_[size_t(t)];
      makespan = double(*std::max_element(freeAt.begin(), freeAt.end()));
    } else {
      makespan = std::max(sum / size_, double(jobMaxTaskNs_.load(std::memory_order_relaxed)));
    }
    totals_.jobs += 1;
    totals_.tasks += double(ntasks);
    totals_.taskCpuNs += sum;
    totals_.workerTaskCpuNs += workers;
    totals_.callerInJobCpuNs += double(callerNs);
    totals_.makespanNs += makespan;
    totals_.jobsWorkerJoined += workers > 0 ? 1 : 0;
  }

  static constexpr int64_t kProfiledTasks = 1 << 16;
  std::vector<int64_t> taskNs_;
  std::atomic<int64_t> jobTaskNs_{0}, jobWorkerNs_{0}, jobMaxTaskNs_{0};
  std::atomic<int64_t> jobFirstClaimWall_{0}, jobWorkerTaskWall_{0};  // wall clock (wallNowNs)
  int64_t jobCallerTaskWall_ = 0, lastEndWall_ = 0;
  std::atomic<int64_t> workerSleeps_{0}, workerSpinWallNs_{0};  // counted while profiling is on
  double spinUs_ = 0;  // the spin budget spinPauses_ stands for, µs
  PoolProfile totals_;  // guarded by jobMutex_

  int size_ = 1;
  int64_t spinPauses_ = 0;  // an idle worker's spin before it sleeps (spinPauses())
  std::vector<std::thread> workers_;
  std::mutex jobMutex_;  // one job at a time
  std::mutex wakeMutex_;
  std::condition_variable wake_;
  // The words a job touches, on cache lines by who writes them, so that a spinning worker's reads
  // and the caller's writes do not pull unrelated data between cores (false sharing):
  // the job's description, written once by the caller when it publishes, read by the workers;
  alignas(64) std::atomic<uint64_t> generation_{0};
  std::atomic<uint64_t> jobTasks_{0};  // (job id << kTaskBits) | the job's task count
  TaskFn fn_ = nullptr;
  void* ctx_ = nullptr;
  uint64_t jobId_ = 0;
  bool profileJob_ = false;  // this job's tasks are timed (set before the job is published)
  std::atomic<bool> quit_{false};
  // the task counter every thread claims from; the completion counter every thread adds to;
  alignas(64) std::atomic<uint64_t> claim_{0};
  alignas(64) std::atomic<int64_t> done_{0};
  // workers waiting on wake_ (written under wakeMutex_, read without it by the caller; see run()).
  alignas(64) std::atomic<int> sleepers_{0};
  char pad_[64 - sizeof(std::atomic<int>)];
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
void poolProfileEnable(bool on) {
  if (on) {
    constexpr int kReads = 2000;
    const int64_t t0 = cpuNowNs();
    for (int i = 0; i < kReads; i++) cpuNowNs();
    gClockReadNs.store((cpuNowNs() - t0) / (kReads + 1), std::memory_order_relaxed);
  }
  gProfile.store(on, std::memory_order_relaxed);
}
PoolProfile poolProfileRead() { return pool().profile(); }
double threadCpuNs() { return double(cpuNowNs()); }
int poolSize() { return pool().size(); }
void poolResize(int threads) { pool().resize(threads > kMaxThreads ? kMaxThreads : threads); }

}  // namespace heed
