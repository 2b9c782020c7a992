// The dropout kernel's mask (layout.cpp dropout), for the kernels that apply it inside another pass
// (linear_fused.cpp, norm.cpp, embedding.cpp): element i of a call seeded with seed is kept iff
// lowbias32(i ^ lowbias32(seed)) ≥ ceil(p·2³²), and a kept element is multiplied by float(1/(1 − p)).
// Needs common.h.
#pragma once
#include <cmath>

namespace heed {
namespace HEED_NS {

struct DropMask {
  bool drop;   // p > 0
  bool none;   // p within 2⁻³² of 1: nothing is kept
  uint32_t thr, mixed;
  float keep;  // the kept elements' scale (0 when none)
  vu lane;
  DropMask(double p, uint32_t seed) : drop(p > 0), none(false), thr(0), mixed(lowbias32(seed)), keep(1.f) {
    const double t = std::ceil(p * 4294967296.0);
    none = t > 4294967295.0;
    thr = none ? 0xffffffffu : uint32_t(t);
    if (drop) keep = none ? 0.f : float(1.0 / (1.0 - p));
    for (int l = 0; l < W; l++) lane[l] = uint32_t(l);
  }
  // The W lanes of elements i0 … i0 + W − 1 (all false when none).
  HEED_INLINE vi kept(uint32_t i0) const {
    vi k = lowbias32((lane + i0) ^ mixed) >= thr;
    return none ? vi{} : k;
  }
  HEED_INLINE bool kept1(uint32_t i) const { return !none && lowbias32(i ^ mixed) >= thr; }
};

}  // namespace HEED_NS
}  // namespace heed
