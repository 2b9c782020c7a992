// What it costs the thread pool (native/threadpool.cpp) to get a worker onto a job, as a function of
// how long the pool sat idle before it (the JS between two kernels of a training step) and of how
// long an idle worker spins before it sleeps (HEED_POOL_SPIN_US).
//
// Each job has two tasks that each busy-run `work` µs; the caller claims the first at once, so the
// second starts on a worker only if one arrives within `work` µs. Per job: whether a worker took a
// task, the wake latency (publish → the worker's task starts, wall clock), and the job's wall time
// (ideal `work`, serial 2 × `work`). Per setting: the workers' CPU time per job (the process's CPU
// clock minus the caller's thread CPU clock), i.e. what the spinning costs while the pool is idle.
//
//   g++ -O2 -std=c++17 -Inative bench/pool-wake.cpp native/threadpool.cpp -o /tmp/pool-wake -lpthread
//   /tmp/pool-wake [--jobs 150] [--work 200] [--gaps 0,20,50,100,300,1000] [--spins 0,20,50,72,200,300]
// prints one JSON object (bench/pool-wake.ts runs it and writes bench/results/).
#include <time.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "threadpool.h"

using namespace heed;

namespace {

double nowUs(clockid_t clock) {
  timespec t;
  clock_gettime(clock, &t);
  return double(t.tv_sec) * 1e6 + double(t.tv_nsec) / 1e3;
}
double wallUs() { return nowUs(CLOCK_MONOTONIC); }

// Runs for `us` of the calling thread's CPU time (so that a descheduled thread still does all of it).
void busyCpu(double us) {
  const double end = nowUs(CLOCK_THREAD_CPUTIME_ID) + us;
  while (nowUs(CLOCK_THREAD_CPUTIME_ID) < end) {}
}

std::vector<double> parseList(const char* s) {
  std::vector<double> out;
  std::string str(s);
  size_t pos = 0;
  while (pos < str.size()) {
    size_t comma = str.find(',', pos);
    if (comma == std::string::npos) comma = str.size();
    out.push_back(std::atof(str.substr(pos, comma - pos).c_str()));
    pos = comma + 1;
  }
  return out;
}

double quantile(std::vector<double> v, double q) {
  if (v.empty()) return -1;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, size_t(q * double(v.size())))];
}

}  // namespace

// Spins for about `ns` nanoseconds of work without reading a clock (calibrated once).
double gLoopsPerNs = 1;
void spinWork(double ns) {
  volatile uint64_t x = 0;
  const uint64_t n = uint64_t(ns * gLoopsPerNs);
  for (uint64_t i = 0; i < n; i++) x = x + i;
}
void calibrate() {
  double best = 1e18;
  for (int r = 0; r < 20; r++) {
    const double t0 = wallUs();
    gLoopsPerNs = 1;
    spinWork(200000);
    best = std::min(best, (wallUs() - t0) * 1e3);
  }
  gLoopsPerNs = 200000 / best;
}

// --tiny: the serial overhead of a small job with a hot worker. Jobs of 2 tasks of `work` ns each,
// back to back with `gap` ns of caller work between them (the binding and JS between two kernel
// calls), on 2 threads. Per job, wall clock (CLOCK_MONOTONIC, vDSO): publish → return, minus one
// task's work = the job's overhead over a perfect split; also the same two tasks run inline
// (what the caller would take alone). Reports medians and p90 over `jobs` jobs per row, and the
// share of jobs a worker took a task in; for the jobs a worker took part in, when its task started
// (publish → start) and the job's overhead (on a loaded machine the worker is often off its core, and
// the caller runs both tasks: those jobs say nothing about the hot path).
int tinyMain(int jobs, const std::vector<double>& works, const std::vector<double>& gaps) {
  calibrate();
  poolResize(2);
  std::printf("{\"mode\": \"tiny\", \"jobs\": %d, \"rows\": [", jobs);
  bool firstRow = true;
  for (double work : works) {
    for (double gap : gaps) {
      std::vector<double> over, overJoined, serial, react;
      int joined = 0;
      for (int j = -200; j < jobs; j++) {
        spinWork(gap);
        int thread[2] = {0, 0};
        double start[2] = {0, 0};
        const double t0 = wallUs();
        parallelFor(2, [&](int64_t t, int th) {
          if (th != 0) start[t] = wallUs();
          thread[t] = th;
          spinWork(work);
        });
        const double t1 = wallUs();
        spinWork(gap);
        const double t2 = wallUs();
        spinWork(work);
        spinWork(work);
        const double t3 = wallUs();
        if (j < 0) continue;
        over.push_back((t1 - t0) * 1e3 - work);
        serial.push_back((t3 - t2) * 1e3);
        joined += (thread[0] | thread[1]) != 0;
        if ((thread[0] | thread[1]) != 0) overJoined.push_back((t1 - t0) * 1e3 - work);
        for (int t = 0; t < 2; t++)
          if (thread[t] != 0) react.push_back((start[t] - t0) * 1e3);
      }
      std::printf("%s\n {\"workNs\": %g, \"gapNs\": %g, \"joined\": %.3f, \"overheadP50Ns\": %.0f, \"overheadP90Ns\": %.0f, \"serialP50Ns\": %.0f, \"workerStartP50Ns\": %.0f, \"workerStartP10Ns\": %.0f, \"joinedOverheadP50Ns\": %.0f, \"joinedOverheadP10Ns\": %.0f}",
                  firstRow ? "" : ",", work, gap, double(joined) / jobs, quantile(over, 0.5), quantile(over, 0.9), quantile(serial, 0.5),
                  quantile(react, 0.5), quantile(react, 0.1), quantile(overJoined, 0.5), quantile(overJoined, 0.1));
      firstRow = false;
      std::fflush(stdout);
    }
  }
  std::printf("\n]}\n");
  return 0;
}

// --stress: correctness, not speed. Jobs of 1–40 tasks back to back (some too small for the pool,
// some after a pause that lets the workers fall asleep) on 2 and 3 threads; every task must run
// exactly once. It caught a worker still in a finished job reading the next job's task count
// before the next job's claim word was published, and running a task the next job then ran again.
// Prints "ok" or the first failure; exit status 1 on failure.
int stressMain(int jobs) {
  for (int threads : {2, 3}) {
    poolResize(threads);
    for (int it = 0; it < jobs; it++) {
      const int64_t n = 1 + (int64_t(it) * 7919) % 40;
      std::vector<int> hit(size_t(n), 0);  // plain ints: each task writes its own (atomics would narrow the race's window)
      parallelFor(n, [&](int64_t t, int) { hit[size_t(t)]++; });
      for (int64_t t = 0; t < n; t++)
        if (hit[size_t(t)] != 1) {
          std::printf("%d threads, job %d of %ld tasks: task %ld ran %d times\n", threads, it, long(n), long(t), hit[size_t(t)]);
          return 1;
        }
      if (it % 4000 == 0) spinWork(300000);  // long enough for the workers to sleep
    }
  }
  std::printf("ok\n");
  return 0;
}

int main(int argc, char** argv) {
  for (int i = 1; i < argc; i++)
    if (!std::strcmp(argv[i], "--stress")) return stressMain(i + 1 < argc ? std::atoi(argv[i + 1]) : 20000);
  for (int i = 1; i < argc; i++)
    if (!std::strcmp(argv[i], "--tiny")) {
      int jobs = 4000;
      std::vector<double> works = {0, 1000, 5000}, gaps = {2000, 10000, 50000};
      for (int a = 1; a + 1 < argc; a++) {
        if (!std::strcmp(argv[a], "--jobs")) jobs = std::atoi(argv[a + 1]);
        else if (!std::strcmp(argv[a], "--work-ns")) works = parseList(argv[a + 1]);
        else if (!std::strcmp(argv[a], "--gap-ns")) gaps = parseList(argv[a + 1]);
      }
      return tinyMain(jobs, works, gaps);
    }
  int jobs = 150;
  double work = 200;
  std::vector<double> gaps = {0, 20, 50, 100, 300, 1000}, spins = {0, 20, 50, 72, 200, 300};
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--jobs")) jobs = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--work")) work = std::atof(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--gaps")) gaps = parseList(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--spins")) spins = parseList(argv[i + 1]);
  }
  std::printf("{\"jobs\": %d, \"workUs\": %g, \"rows\": [", jobs, work);
  bool firstRow = true;
  for (double spin : spins) {
    setenv("HEED_POOL_SPIN_US", std::to_string(spin).c_str(), 1);
    poolResize(1);
    poolResize(2);  // the workers start with the new spin budget
    for (double gap : gaps) {
      std::vector<double> latency, wall;
      int joined = 0, callerTasks = 0;
      double cpu0 = 0, caller0 = 0;
      for (int j = -5; j < jobs; j++) {  // 5 warm-up jobs
        busyCpu(gap);                    // the caller busy between jobs, as the JS of a step is
        double start[2] = {0, 0};
        int thread[2] = {0, 0};
        const double t0 = wallUs();
        parallelFor(2, [&](int64_t t, int th) {
          start[t] = wallUs();
          thread[t] = th;
          busyCpu(work);
        });
        const double t1 = wallUs();
        if (j < 0) {
          if (j == -1) cpu0 = nowUs(CLOCK_PROCESS_CPUTIME_ID), caller0 = nowUs(CLOCK_THREAD_CPUTIME_ID);
          continue;
        }
        wall.push_back(t1 - t0);
        for (int t = 0; t < 2; t++)
          if (thread[t] != 0) {
            joined++;
            latency.push_back(start[t] - t0);
          } else {
            callerTasks++;
          }
      }
      // the last job's tail (its gap comes first) and the clock reads count to the 150 jobs after warm-up
      const double callerCpu = nowUs(CLOCK_THREAD_CPUTIME_ID) - caller0;
      const double workersCpu = (nowUs(CLOCK_PROCESS_CPUTIME_ID) - cpu0) - callerCpu;
      // the caller's CPU beyond its busy gaps and the tasks it ran: publishing, waking, waiting
      const double callerOverhead = (callerCpu - jobs * gap - callerTasks * work) / jobs;
      const double workerOverhead = (workersCpu - (2 * jobs - callerTasks) * work) / jobs;
      std::printf("%s\n {\"spinUs\": %g, \"gapUs\": %g, \"joined\": %.3f, \"latencyP50Us\": %.1f, \"latencyP90Us\": %.1f, "
                  "\"wallP50Us\": %.1f, \"wallMeanUs\": %.1f, \"callerOverheadCpuUs\": %.1f, \"workerIdleCpuPerJobUs\": %.1f}",
                  firstRow ? "" : ",", spin, gap, double(joined) / jobs, quantile(latency, 0.5), quantile(latency, 0.9),
                  quantile(wall, 0.5), [&] { double s = 0; for (double w : wall) s += w; return s / double(wall.size()); }(),
                  callerOverhead, workerOverhead);
      firstRow = false;
      std::fflush(stdout);
    }
  }
  std::printf("\n]}\n");
  return 0;
}
