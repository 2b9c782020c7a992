// The kernel table: one function per kernel, one table per ISA.
//
// Each kernel takes its Args struct (kernel_specs.gen.h), whose fields are the
// kernel spec's args in order. Arguments are already validated by binding.cpp
// against the spec (types, lengths, dims, ranges), so the kernels trust them.
// Dims are int64_t; pointers are null only for the spec's optional arrays.
#pragma once
#include <cstdint>

#include "kernel_specs.gen.h"

namespace heed {

// Where element (b, h, i, d) of a q/k/v/out array lies: b·b + h·h + i·l + d (d contiguous).
// (B, H, L, w) contiguous is {H·L·w, L·w, w}; heads side by side, (B, L, H·w), is {L·H·w, w, H·w}.
struct AttentionLayout {
  int64_t b, h, l;
  const float* at(const float* x, int64_t bi, int64_t hi, int64_t i) const { return x + bi * b + hi * h + i * l; }
  float* at(float* x, int64_t bi, int64_t hi, int64_t i) const { return x + bi * b + hi * h + i * l; }
};

// Parameters of one attention call, shared by forward and backward (attention.cpp
// builds it from the Attention*Args structs). Logical shapes: q (B,H,Lq,D), k (B,Hkv,Lk,D),
// v (B,Hkv,Lk,Dv), out (B,H,Lq,Dv), lse (B,H,Lq) contiguous; the others as their layouts say.
// In the backward dq, dk, dv have the layouts of q, k, v and dOut that of out.
struct AttentionParams {
  int64_t B, H, Hkv, Lq, Lk, D, Dv;
  AttentionLayout qL, kL, vL, oL;
  float scale;
  bool causal;
  int64_t causalOffset;        // key j is disallowed when causal && j > i + causalOffset
  const int32_t* keyLengths;   // (B) or null
  const float* mask;           // additive, indexed b*maskStrideB + h*maskStrideH + i*Lk + j, or null
  int64_t maskStrideB, maskStrideH;
  const float* alibiSlopes;    // (H) or null
  float dropoutP;
  uint32_t dropoutSeed;
};

// One entry per kernel of HEED_KERNEL_LIST (kernel_specs.gen.h, from src/backend/specs):
// each takes its generated Args struct. A null entry means this ISA lacks the kernel.
struct KernelTable {
  const char* isa;
#define HEED_TABLE_ENTRY(name, ArgsT) void (*name)(const ArgsT&);
  HEED_KERNEL_LIST(HEED_TABLE_ENTRY)
#undef HEED_TABLE_ENTRY
  // Sustained fp32 FMA rate of this ISA's widest vectors, GFLOP/s, on `threads` threads.
  double (*peakFlops)(int threads);
  // Sustained int8 VNNI (vpdpbusd) rate, GOP/s, on `threads` threads; 0 without VNNI.
  double (*int8PeakOps)(int threads);
};

namespace avx512 { const KernelTable& table(); }
namespace avx2 { const KernelTable& table(); }
namespace generic { const KernelTable& table(); }

// The table chosen at load (dispatch.cpp), overridable with HEED_ISA=avx512|avx2|generic.
const KernelTable& active();
bool cpuHasAvx512();
bool cpuHasAvx2();

}  // namespace heed
