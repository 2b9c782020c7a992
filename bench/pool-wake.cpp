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

int main(int argc, char** argv) {
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
