// What a memory-bound kernel pays for data the other thread wrote: one thread (pinned to CPU 1)
// writes a 720 KB buffer (one 704×256 float activation of the G2P step), then the main thread (pinned
// to CPU 0) reads it, against the same read after writing it itself and after evicting it (a 64 MB
// sweep). Medians of 60 rounds, wall clock, one line of JSON.
//
//   g++ -O3 -march=native -pthread bench/pool-xcore.cpp -o /tmp/xcore && /tmp/xcore
//
// On the 2-vCPU VM of these sessions the other core's lines come about as slowly as memory's: a
// kernel whose rows the previous kernel wrote on the other thread reads them at DRAM speed, not L2's.
#include <pthread.h>
#include <sched.h>
#include <time.h>
#include <algorithm>
#include <cstdio>
#include <thread>
#include <vector>

namespace {
long nowNs() {
  timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1000000000L + t.tv_nsec;
}
void pin(int cpu) {
  cpu_set_t s;
  CPU_ZERO(&s);
  CPU_SET(cpu, &s);
  pthread_setaffinity_np(pthread_self(), sizeof(s), &s);
}
constexpr size_t kN = 704 * 256, kBig = size_t(64) << 18;  // floats: 720 KB, 64 MB
float* buf;
float* big;
volatile float sink;
double readUs() {
  const long t0 = nowNs();
  // the bits summed as integers: vectorized without reassociating float adds, so the loads, not a
  // chain of dependent adds, set the time
  const unsigned* u = reinterpret_cast<const unsigned*>(buf);
  unsigned s = 0;
  for (size_t i = 0; i < kN; i++) s += u[i];
  sink = float(s);
  return double(nowNs() - t0) / 1e3;
}
void write(float v) {
  for (size_t i = 0; i < kN; i++) buf[i] = v;
}
double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}
}  // namespace

int main() {
  buf = new float[kN];
  big = new float[kBig]();
  std::vector<double> own, other, memory;
  pin(0);
  for (int r = 0; r < 60; r++) {
    std::thread w([r] { pin(1); write(float(r)); });
    w.join();
    other.push_back(readUs());
    write(float(r));
    own.push_back(readUs());
    write(float(r));
    for (size_t i = 0; i < kBig; i += 16) big[i] += 1;
    memory.push_back(readUs());
  }
  std::printf("{\"bytes\": %zu, \"ownCoreUs\": %.1f, \"otherCoreUs\": %.1f, \"memoryUs\": %.1f}\n", kN * sizeof(float), median(own), median(other), median(memory));
}
