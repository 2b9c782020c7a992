// Fused attention for heads whose keys fit one vector (Lk ≤ 16): the training step's tiny heads
// (the G2P model: B 64, H 4, d 64, L 11–12, strided (B, L, H·d) operands, dropout, key lengths or a
// causal mask). Semantics are those of attention.cpp (and its oracle src/backend/js/attention.ts);
// attention.cpp's entry points call these first and take their general path when they decline.
//
// The general path walks query and key tiles with an online softmax, GEMM tiles and a workspace sized
// for long sequences; at L ≈ 12 its fixed cost per head (scaled q copies, Kᵀ and Vᵀ scratch, running
// max bookkeeping, tile GEMMs at 12–16 columns) is several times the head's ~37 kFLOP. Here a
// (b, head) is one short pass with the keys (backward) or the queries (forward) in the 16 lanes of one
// vector:
//
// Forward, per (b, h), 16 query rows at a time with the queries in the lanes: Qᵀ (D × 16, zero lanes
// past the block's last row) through 16×16 register transposes; Sᵀ[j, :] = Σ_d K[j, d]·Qᵀ[d, :] for the
// keys the block sees, up to 12 keys per pass (K broadcast where it lies); the softmax down the keys on
// whole vectors (the keys past a row's causal / key-length limit at −∞, exact max, exp, sum, lse = max +
// log sum by a vector log, the dropout factor per key), no horizontal reduction; then
// O[i, :] = Σ_j P[i, j]·V[j, :] / l_i with V rows read in place, 4 rows × 64 columns of accumulators.
//
// Backward, per (b, kv head), for each query head of its group: Kᵀ and Vᵀ (D × 16, zero lanes past the
// head's last key) through 16×16 register transposes; S = Q·Kᵀ for blocks of 8 query rows; P from lse and
// dP = dO·Vᵀ with keys in lanes, z the dropout factor, D_i = dO_i·O_i = Σ_j P_ij z_ij dP_ij (from the
// registers: out is not read), dS = P∘(z∘dP − D_i); then
// dQ = scale·dS·K, dV = (P∘z)ᵀ·dO, dK = scale·dSᵀ·Q as broadcast-FMA blocks over rows read in place
// (no transposed copy of dS or P: their columns are broadcast from a 16-float row). Heads of one GQA
// group add into the same dK, dV rows; only this task writes them, so no thread sums anything and
// results are the same on any thread count.
#include <cmath>
#include <utility>  // std::integer_sequence (laneRows12)

#include "common.h"
#include "dropout_mask.h"
#include "kernels.h"
#include "threadpool.h"
#include "tiny_tasks.h"
#include "transpose16.h"
#include "attention_small.h"

// GCC 12 reports the shuffle intrinsics' internal _mm512_undefined_ps as "may be used uninitialized"
// where the transpose is inlined (as in attention.cpp and gemm.cpp): a false positive.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace heed {
namespace HEED_NS {

#if HEED_W == 16
namespace {

constexpr int64_t kMaxLq = 64, kMaxD = 256;

bool covered(const AttentionParams& p) {
  return p.Lk >= 1 && p.Lk <= 16 && p.Lq >= 1 && p.Lq <= kMaxLq && p.D > 0 && p.D % 16 == 0 && p.D <= kMaxD &&
         p.Dv > 0 && p.Dv % 16 == 0 && p.Dv <= kMaxD && !p.mask && !p.alibiSlopes && p.Hkv > 0 && p.H % p.Hkv == 0;
}

// The keys a (b, ·) head has at all (key lengths), and row i's prefix of them (causal).
struct KeyLimits {
  int64_t n, off;
  bool causal;
  KeyLimits(const AttentionParams& p, int64_t b)
      : n(std::max<int64_t>(0, p.keyLengths ? std::min<int64_t>(p.Lk, p.keyLengths[b]) : p.Lk)),
        off(p.causalOffset), causal(p.causal) {}
  HEED_INLINE int64_t end(int64_t i) const { return causal ? std::clamp<int64_t>(i + off + 1, 0, n) : n; }
};

// Rows [0, n) of x (row stride ldx, D columns) → xt (D rows of 16 floats): xt[d·16 + j] = x[j·ldx + d],
// zero for j ≥ n. One 16×16 register transpose per 16 columns.
void transposeKeys(const float* x, int64_t ldx, int64_t n, int64_t D, float* xt) {
  for (int64_t d0 = 0; d0 < D; d0 += 16) transpose16(x + d0, ldx, xt + d0 * 16, 16, int(n));
}

// dst row r (16 floats) = Σ_l x[r·ldx + l] · xt[l·16 .. +16] for R rows of x (the keys in lanes). The
// accumulators end in memory, not in an array the caller indexes: GCC kept such an array partly on
// the stack, inside the FMA loop (a store-forwarding chain per step). The backward's S and dP: a
// laneRows12 with both products in one pass (24 accumulators) was 5% faster alone but not in the
// step (BENCHMARKS.md).
template <int R>
HEED_INLINE void laneRows(const float* x, int64_t ldx, const float* xt, int64_t n, float* dst) {
  __m512 acc[R];
#pragma GCC unroll 8
  for (int r = 0; r < R; r++) acc[r] = _mm512_setzero_ps();
  for (int64_t l = 0; l < n; l++) {
    const __m512 kv = _mm512_load_ps(xt + l * 16);
#pragma GCC unroll 8
    for (int r = 0; r < R; r++) acc[r] = _mm512_fmadd_ps(_mm512_set1_ps(x[r * ldx + l]), kv, acc[r]);
  }
#pragma GCC unroll 8
  for (int r = 0; r < R; r++) _mm512_store_ps(dst + r * 16, acc[r]);
}

// acc += broadcast(float at p + k·sb bytes + off bytes) · m, k in {0, 1, 2}: one instruction whose
// address is base + index·{1, 2} + displacement. Written as asm because GCC, given the same address in C,
// kept a register (or a stack slot) per row and column offset, and ran out of registers in laneRows12.
// The rows are only read while laneRows12 runs, so the asm needs no memory operand.
template <int K, int OFF>
HEED_INLINE void fmaRow(__m512& acc, __m512 m, const float* p, int64_t sb) {
  if constexpr (K == 0) asm("vfmadd231ps %c3(%2)%{1to16%}, %1, %0" : "+v"(acc) : "v"(m), "r"(p), "i"(OFF));
  else asm("vfmadd231ps %c3(%2,%4,%c5)%{1to16%}, %1, %0" : "+v"(acc) : "v"(m), "r"(p), "i"(OFF), "r"(sb), "i"(K));
}

// Rows r… of one column (OFF bytes into the rows): acc[r] += broadcast(row r's float) · m.
template <int OFF, int... r>
HEED_INLINE void fmaRows(__m512* acc, __m512 m, const float* const* pb, int64_t sb, std::integer_sequence<int, r...>) {
  (fmaRow<r % 3, OFF>(acc[r], m, pb[r / 3], sb), ...);
}

// laneRows12's 16 columns of one 16-column chunk, unrolled (the column is the displacement).
template <class Rows, int... l>
HEED_INLINE void columns16(__m512* a, const float* kc, const float* const* xb, int64_t sx, Rows rows,
                           std::integer_sequence<int, l...>) {
  (fmaRows<l * 4>(a, _mm512_load_ps(kc + l * 16), xb, sx, rows), ...);
}

// laneRows for up to 12 rows: s[r] = Σ_d x[r·ldx + d]·xt[d, :] (the forward's Sᵀ, the keys as rows). 12
// independent accumulators keep both FMA pipes busy (laneRows' 4-row block is bound by the FMA latency).
// The rows are addressed three per base pointer (p, p + ldx, p + 2·ldx: the byte stride register
// scaled by 1 and 2) and the loop over 16 columns is unrolled, so 12 rows need 4 pointers.
template <int R>
__attribute__((noinline)) void laneRows12(const float* x, int64_t ldx, const float* xt, int64_t D, float* s) {
  constexpr int G = (R + 2) / 3;
  const int64_t sx = ldx * 4;  // bytes
  __m512 a[R];
#pragma GCC unroll 12
  for (int r = 0; r < R; r++) a[r] = _mm512_setzero_ps();
  const float* xb[G];
#pragma GCC unroll 4
  for (int g = 0; g < G; g++) xb[g] = x + 3 * g * ldx;
  for (int64_t c = 0; c < D; c += 16) {
    columns16(a, xt + c * 16, xb, sx, std::make_integer_sequence<int, R>{}, std::make_integer_sequence<int, 16>{});
#pragma GCC unroll 4
    for (int g = 0; g < G; g++) xb[g] += 16;
  }
#pragma GCC unroll 12
  for (int r = 0; r < R; r++) _mm512_store_ps(s + r * 16, a[r]);
}

// Calls f(i0, R) with R a compile-time constant for blocks of up to RB (≤ 12) rows covering [0, rows).
template <int RB, class F>
HEED_INLINE void rowBlocks(int64_t rows, F&& f) {
  for (int64_t i0 = 0; i0 < rows; i0 += RB) {
    switch (std::min<int64_t>(RB, rows - i0)) {
      case 1: f(i0, std::integral_constant<int, 1>{}); break;
      case 2: f(i0, std::integral_constant<int, 2>{}); break;
      case 3: f(i0, std::integral_constant<int, 3>{}); break;
      case 4: f(i0, std::integral_constant<int, 4>{}); break;
      case 5: if constexpr (RB >= 5) f(i0, std::integral_constant<int, 5>{}); break;
      case 6: if constexpr (RB >= 6) f(i0, std::integral_constant<int, 6>{}); break;
      case 7: if constexpr (RB >= 7) f(i0, std::integral_constant<int, 7>{}); break;
      case 8: if constexpr (RB >= 8) f(i0, std::integral_constant<int, 8>{}); break;
      case 9: if constexpr (RB >= 9) f(i0, std::integral_constant<int, 9>{}); break;
      case 10: if constexpr (RB >= 10) f(i0, std::integral_constant<int, 10>{}); break;
      case 11: if constexpr (RB >= 11) f(i0, std::integral_constant<int, 11>{}); break;
      default: if constexpr (RB >= 12) f(i0, std::integral_constant<int, 12>{}); break;
    }
  }
}

// c rows r < R, columns [0, NC·16): c[r] (=, or += when add) s[r] · Σ_{t<n} a[r·ars + t·ats] · bm[t·ldb ..]:
// a row block of a small GEMM whose left factor's entries are broadcast from wherever they lie.
template <int R, int NC>
HEED_INLINE void bcastRows(const float* a, int64_t ars, int64_t ats, int64_t n, const float* bm, int64_t ldb, float* c,
                           int64_t ldc, const float* s, bool add) {
  __m512 acc[R][NC];
#pragma GCC unroll 8
  for (int r = 0; r < R; r++)
#pragma GCC unroll 4
    for (int v = 0; v < NC; v++) acc[r][v] = _mm512_setzero_ps();
  for (int64_t t = 0; t < n; t++) {
    __m512 bv[NC];
#pragma GCC unroll 4
    for (int v = 0; v < NC; v++) bv[v] = _mm512_loadu_ps(bm + t * ldb + v * 16);
#pragma GCC unroll 8
    for (int r = 0; r < R; r++) {
      const __m512 av = _mm512_set1_ps(a[r * ars + t * ats]);
#pragma GCC unroll 4
      for (int v = 0; v < NC; v++) acc[r][v] = _mm512_fmadd_ps(av, bv[v], acc[r][v]);
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < R; r++) {
    const __m512 sv = _mm512_set1_ps(s[r]);
#pragma GCC unroll 4
    for (int v = 0; v < NC; v++) {
      __m512 x = _mm512_mul_ps(acc[r][v], sv);
      if (add) x = _mm512_add_ps(x, _mm512_loadu_ps(c + r * ldc + v * 16));
      _mm512_storeu_ps(c + r * ldc + v * 16, x);
    }
  }
}

// bcastRows over `cols` columns (a multiple of 16): 64 at a time, then 16 at a time.
template <int R>
HEED_INLINE void bcastRowsCols(const float* a, int64_t ars, int64_t ats, int64_t n, const float* bm, int64_t ldb, float* c,
                               int64_t ldc, int64_t cols, const float* s, bool add) {
  int64_t c0 = 0;
  for (; c0 + 64 <= cols; c0 += 64) bcastRows<R, 4>(a, ars, ats, n, bm + c0, ldb, c + c0, ldc, s, add);
  for (; c0 < cols; c0 += 16) bcastRows<R, 1>(a, ars, ats, n, bm + c0, ldb, c + c0, ldc, s, add);
}

constexpr float kNegInf = -INFINITY;

// log x for finite x ≥ 1 (a softmax row's sum: its largest term is exp 0 = 1, at most 16 terms), Cephes'
// logf: x = m·2^e with m in [√½, √2), log m by its degree-9 polynomial in m − 1. Within ~1 ulp of logf.
HEED_INLINE __m512 logAtLeastOne(__m512 x) {
  __m512 m = _mm512_getmant_ps(x, _MM_MANT_NORM_1_2, _MM_MANT_SIGN_zero);  // [1, 2)
  __m512 e = _mm512_getexp_ps(x);
  const __mmask16 big = _mm512_cmp_ps_mask(m, _mm512_set1_ps(1.41421356237f), _CMP_GT_OQ);
  m = _mm512_mask_mul_ps(m, big, m, _mm512_set1_ps(0.5f));
  e = _mm512_mask_add_ps(e, big, e, _mm512_set1_ps(1.f));
  const __m512 f = _mm512_sub_ps(m, _mm512_set1_ps(1.f)), z = _mm512_mul_ps(f, f);
  __m512 y = _mm512_set1_ps(7.0376836292E-2f);
  y = _mm512_fmadd_ps(y, f, _mm512_set1_ps(-1.1514610310E-1f));
  y = _mm512_fmadd_ps(y, f, _mm512_set1_ps(1.1676998740E-1f));
  y = _mm512_fmadd_ps(y, f, _mm512_set1_ps(-1.2420140846E-1f));
  y = _mm512_fmadd_ps(y, f, _mm512_set1_ps(1.4249322787E-1f));
  y = _mm512_fmadd_ps(y, f, _mm512_set1_ps(-1.6668057665E-1f));
  y = _mm512_fmadd_ps(y, f, _mm512_set1_ps(2.0000714765E-1f));
  y = _mm512_fmadd_ps(y, f, _mm512_set1_ps(-2.4999993993E-1f));
  y = _mm512_fmadd_ps(y, f, _mm512_set1_ps(3.3333331174E-1f));
  y = _mm512_mul_ps(_mm512_mul_ps(y, f), z);
  y = _mm512_fmadd_ps(e, _mm512_set1_ps(-2.12194440e-4f), y);
  y = _mm512_fnmadd_ps(z, _mm512_set1_ps(0.5f), y);
  return _mm512_fmadd_ps(e, _mm512_set1_ps(0.693359375f), _mm512_add_ps(f, y));
}

// Brings `rows` rows (width floats each) of head (b, h) of x (layout L) into L1: a head the task runs
// later, while this one computes. A head's operands are a few KB of (B, L, H·d) rows, past L2 in the
// step (each call moves 3–6 MB), and without this each head waited on them (perf: the first loads of
// q, K and out rows; in the step, one head ahead took about 1 ms off the backward and 0.2 ms off the
// forward per step, two heads ahead a little more; a prefetch to L2 only was slower: BENCHMARKS.md).
HEED_INLINE void prefetchHead(const float* x, const AttentionLayout& L, int64_t b, int64_t h, int64_t rows, int64_t width,
                              bool write) {
  for (int64_t i = 0; i < rows; i++) {
    const char* r = reinterpret_cast<const char*>(L.at(x, b, h, i));
    for (int64_t o = 0; o < width * 4; o += 64) {
      if (write) __builtin_prefetch(r + o, 1, 3);
      else __builtin_prefetch(r + o, 0, 3);
    }
  }
}

// The (b, head) a task runs two heads from now, if any (its rows are prefetched).
struct NextHead {
  bool has;
  int64_t b, h;
};

// The dropout factors of row `row` of a head's (Lq × Lk) probabilities: 0 or 1/(1 − p) per key lane.
HEED_INLINE __m512 dropFactors(const DropMask& dm, const AttentionParams& p, int64_t bh, int64_t i) {
  const uint32_t base = uint32_t(uint64_t(bh * p.Lq + i) * uint64_t(p.Lk));
  const vi kept = dm.kept(base);
  return (__m512)(kept ? vsplat(dm.keep) : vsplat(0.f));
}

// dropFactors for one key j of 16 query rows i0 … i0 + 15 in the lanes (the transposed forward): the
// elements (bh·Lq + i0 + lane)·Lk + j, i.e. base + lane·Lk with base = (bh·Lq + i0)·Lk + j.
HEED_INLINE __m512 dropFactorsT(const DropMask& dm, vu laneLk, uint32_t base) {
  const vi kept = lowbias32((laneLk + base) ^ dm.mixed) >= dm.thr;
  return (__m512)((dm.none ? vi{} : kept) ? vsplat(dm.keep) : vsplat(0.f));
}

// Forward of one (b, h), 16 query rows at a time with the queries in the lanes: Qᵀ by register
// transposes, Sᵀ[j, :] = Σ_d K[j, d]·Qᵀ[d, :] for the block's keys (K rows broadcast in place), and the
// softmax down the keys: max, exp, sum and the dropout hash on whole vectors, no horizontal reduction
// per row (the per-row reduce-max and reduce-add with their scalar bookkeeping were a quarter of this
// function). The sum adds the keys in _mm512_reduce_add_ps's tree order and S's products run in the
// same order as with the keys in the lanes, so results are bit for bit those of that layout.
void forwardHead(const AttentionParams& p, const DropMask& dm, const float* q, const float* k, const float* v,
                 float* out, float* lse, int64_t b, int64_t h, const NextHead& next) {
  alignas(64) float qt[kMaxD * 16];
  alignas(64) float PT[16 * 16];  // row j: key j's scores, then probabilities, for the block's 16 query lanes
  alignas(64) float inv[16];
  const int64_t hk = h / (p.H / p.Hkv), bh = b * p.H + h;
  const KeyLimits keys(p, b);
  float* lrow = lse + bh * p.Lq;
  const float* kRows = p.kL.at(k, b, hk, 0);
  const float* vRows = p.vL.at(v, b, hk, 0);
  const int64_t nhk = next.h / (p.H / p.Hkv);
  const __m512 scale = _mm512_set1_ps(p.scale), ninf = _mm512_set1_ps(kNegInf), zero = _mm512_setzero_ps();
  const __m512i lanes = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  const vu laneLk = dm.lane * uint32_t(p.Lk);
  for (int64_t i0 = 0; i0 < p.Lq; i0 += 16) {
    const int64_t nq = std::min<int64_t>(16, p.Lq - i0);
    const __mmask16 qm = __mmask16(nq == 16 ? 0xffffu : (1u << nq) - 1);
    const int64_t kn = keys.end(i0 + nq - 1);  // the keys any row of the block sees (limits grow with i)
    if (kn == 0) {  // no key at all: zeros, lse −∞
      for (int64_t i = i0; i < i0 + nq; i++) {
        float* o = p.oL.at(out, b, h, i);
        std::fill(o, o + p.Dv, 0.f);
      }
      _mm512_mask_storeu_ps(lrow + i0, qm, ninf);
      continue;
    }
    transposeKeys(p.qL.at(q, b, h, i0), p.qL.l, nq, p.D, qt);
    if (next.has && i0 == 0) prefetchHead(k, p.kL, next.b, nhk, KeyLimits(p, next.b).n, p.D, false);
    rowBlocks<12>(kn, [&](int64_t j0, auto rc) {
      laneRows12<decltype(rc)::value>(kRows + j0 * p.kL.l, p.kL.l, qt, p.D, PT + j0 * 16);
    });
    // key j is allowed to query row i0 + lane iff j < its end: j < kn ≤ n, and under a causal mask
    // j ≤ i0 + lane + off, i.e. lane ≥ j − off − i0
    __m512 mx = ninf;
    for (int64_t j = 0; j < kn; j++) {
      const __mmask16 allowed =
          p.causal ? _mm512_cmp_epi32_mask(lanes, _mm512_set1_epi32(int32_t(std::clamp<int64_t>(j - keys.off - i0, -1, 16))), _MM_CMPINT_NLT)
                   : __mmask16(0xffff);
      const __m512 sj = _mm512_mask_blend_ps(allowed, ninf, _mm512_mul_ps(_mm512_load_ps(PT + j * 16), scale));
      _mm512_store_ps(PT + j * 16, sj);
      mx = _mm512_max_ps(mx, sj);
    }
    const __mmask16 none = _mm512_cmp_ps_mask(mx, ninf, _CMP_EQ_OQ);  // rows with no allowed key
    const __m512 mxe = _mm512_mask_blend_ps(none, mx, zero);  // there exp(−∞ − 0) = 0
    for (int64_t j = 0; j < 16; j++)
      _mm512_store_ps(PT + j * 16, j < kn ? (__m512)vexp((vf)_mm512_sub_ps(_mm512_load_ps(PT + j * 16), mxe)) : zero);
    // l = Σ_j e_j in _mm512_reduce_add_ps's order: halves of 8, 4, 2, 1 keys
    __m512 a[8];
    for (int j = 0; j < 8; j++) a[j] = _mm512_add_ps(_mm512_load_ps(PT + (j + 8) * 16), _mm512_load_ps(PT + j * 16));
    for (int j = 0; j < 4; j++) a[j] = _mm512_add_ps(a[j + 4], a[j]);
    const __m512 l = _mm512_add_ps(_mm512_add_ps(a[0], a[2]), _mm512_add_ps(a[1], a[3]));
    _mm512_store_ps(inv, _mm512_maskz_div_ps(__mmask16(~none), _mm512_set1_ps(1.f), l));  // 0 for rows with no key
    if (dm.drop) {
      const uint32_t base = uint32_t(uint64_t(bh * p.Lq + i0) * uint64_t(p.Lk));
      for (int64_t j = 0; j < kn; j++)
        _mm512_store_ps(PT + j * 16, _mm512_mul_ps(_mm512_load_ps(PT + j * 16), dropFactorsT(dm, laneLk, base + uint32_t(j))));
    }
    // lse = max + log sum (−∞ for rows with no key)
    _mm512_mask_storeu_ps(lrow + i0, qm, _mm512_add_ps(mx, logAtLeastOne(_mm512_mask_blend_ps(none, l, _mm512_set1_ps(1.f)))));
    if (next.has && i0 == 0) {
      prefetchHead(q, p.qL, next.b, next.h, p.Lq, p.D, false);
      prefetchHead(v, p.vL, next.b, nhk, KeyLimits(p, next.b).n, p.Dv, false);
      prefetchHead(out, p.oL, next.b, next.h, p.Lq, p.Dv, true);
    }
    // O = P·V / l: P[i, j] broadcast from Pᵀ's row j, lane i; a row block's keys end at its last row's limit
    rowBlocks<4>(nq, [&](int64_t r0, auto rc) {
      constexpr int R = decltype(rc)::value;
      bcastRowsCols<R>(PT + r0, 1, 16, keys.end(i0 + r0 + R - 1), vRows, p.vL.l, p.oL.at(out, b, h, i0 + r0), p.oL.l, p.Dv,
                       inv + r0, false);
    });
  }
}

void backwardPair(const AttentionParams& p, const DropMask& dm, const float* q, const float* k, const float* v,
                  const float* dOut, const float* lse, float* dq, float* dk, float* dv, int64_t b,
                  int64_t hk, const NextHead& next) {
  alignas(64) float kt[kMaxD * 16], vt[kMaxD * 16];
  alignas(64) float PZ[kMaxLq * 16], DS[kMaxLq * 16];
  float ones[16], scales[16];
  std::fill(ones, ones + 16, 1.f);
  std::fill(scales, scales + 16, p.scale);
  const int64_t group = p.H / p.Hkv;
  const KeyLimits keys(p, b);
  const float* kRows = p.kL.at(k, b, hk, 0);
  const float* vRows = p.vL.at(v, b, hk, 0);
  // keys no query may see (past the key length) get zero gradients
  for (int64_t j = keys.n; j < p.Lk; j++) {
    std::fill(p.kL.at(dk, b, hk, j), p.kL.at(dk, b, hk, j) + p.D, 0.f);
    std::fill(p.vL.at(dv, b, hk, j), p.vL.at(dv, b, hk, j) + p.Dv, 0.f);
  }
  if (keys.n == 0) {
    for (int64_t h = hk * group; h < (hk + 1) * group; h++)
      for (int64_t i = 0; i < p.Lq; i++) std::fill(p.qL.at(dq, b, h, i), p.qL.at(dq, b, h, i) + p.D, 0.f);
    return;
  }
  transposeKeys(kRows, p.kL.l, keys.n, p.D, kt);
  transposeKeys(vRows, p.vL.l, keys.n, p.Dv, vt);
  const int64_t nn = next.has ? KeyLimits(p, next.b).n : 0;  // next.h: that pair's kv head
  if (next.has) {
    prefetchHead(k, p.kL, next.b, next.h, nn, p.D, false);
    prefetchHead(v, p.vL, next.b, next.h, nn, p.Dv, false);
  }
  for (int64_t h = hk * group; h < (hk + 1) * group; h++) {
    const int64_t bh = b * p.H + h;
    const float* lrow = lse + bh * p.Lq;
    // P (from lse), dP = dO·Vᵀ, dS = P∘(z∘dP − D_i) and P∘z, a row of 16 keys each
    rowBlocks<8>(p.Lq, [&](int64_t i0, auto rc) {
      constexpr int R = decltype(rc)::value;
      laneRows<R>(p.qL.at(q, b, h, i0), p.qL.l, kt, p.D, PZ + i0 * 16);  // S, then P∘z
      laneRows<R>(p.oL.at(dOut, b, h, i0), p.oL.l, vt, p.Dv, DS + i0 * 16);  // dP, then dS
    });
    for (int64_t i = 0; i < p.Lq; i++) {
      const int64_t end = keys.end(i);
      const float l = lrow[i];
      if (end == 0 || l == kNegInf) {
        _mm512_store_ps(PZ + i * 16, _mm512_setzero_ps());
        _mm512_store_ps(DS + i * 16, _mm512_setzero_ps());
        continue;
      }
      const __m512 x = _mm512_fmsub_ps(_mm512_load_ps(PZ + i * 16), _mm512_set1_ps(p.scale), _mm512_set1_ps(l));
      __m512 pr = _mm512_maskz_mov_ps(__mmask16((1u << end) - 1), (__m512)vexp((vf)x));
      __m512 dpr = _mm512_load_ps(DS + i * 16);
      __m512 pz = pr;
      if (dm.drop) {
        const __m512 z = dropFactors(dm, p, bh, i);
        dpr = _mm512_mul_ps(dpr, z);
        pz = _mm512_mul_ps(pr, z);
      }
      // D_i = dO_i·O_i = Σ_j P_ij z_ij (dO_i·V_j): from the row in the register, without reading out's row
      // (the general path's dotRow: an eighth of the pair's traffic, and its first touch of out)
      const float di = _mm512_reduce_add_ps(_mm512_mul_ps(pr, dpr));
      _mm512_store_ps(PZ + i * 16, pz);
      _mm512_store_ps(DS + i * 16, _mm512_mul_ps(pr, _mm512_sub_ps(dpr, _mm512_set1_ps(di))));
    }
    if (next.has && h == hk * group) {  // that pair's query-side rows, during this pair's first head
      for (int64_t nh = next.h * group; nh < (next.h + 1) * group; nh++) {
        prefetchHead(q, p.qL, next.b, nh, p.Lq, p.D, false);
        prefetchHead(dOut, p.oL, next.b, nh, p.Lq, p.Dv, false);
        prefetchHead(dq, p.qL, next.b, nh, p.Lq, p.D, true);
      }
      prefetchHead(dk, p.kL, next.b, next.h, p.Lk, p.D, true);
      prefetchHead(dv, p.vL, next.b, next.h, p.Lk, p.Dv, true);
    }
    // dQ = scale · dS·K (a row block's keys end at its last row's limit)
    rowBlocks<4>(p.Lq, [&](int64_t i0, auto rc) {
      constexpr int R = decltype(rc)::value;
      bcastRowsCols<R>(DS + i0 * 16, 16, 1, keys.end(i0 + R - 1), kRows, p.kL.l, p.qL.at(dq, b, h, i0), p.qL.l, p.D,
                       scales, false);
    });
    // dV (+)= (P∘z)ᵀ·dO, dK (+)= scale · dSᵀ·Q over the keys the head has; under a causal mask the
    // queries before a key block's first key's diagonal contribute nothing and are skipped
    const bool add = h > hk * group;
    rowBlocks<4>(keys.n, [&](int64_t j0, auto rc) {
      constexpr int R = decltype(rc)::value;
      const int64_t iFirst = p.causal ? std::clamp<int64_t>(j0 - p.causalOffset, 0, p.Lq) : 0;
      const int64_t n = p.Lq - iFirst;
      bcastRowsCols<R>(PZ + iFirst * 16 + j0, 1, 16, n, p.oL.at(dOut, b, h, iFirst), p.oL.l, p.vL.at(dv, b, hk, j0), p.vL.l,
                       p.Dv, ones, add);
      bcastRowsCols<R>(DS + iFirst * 16 + j0, 1, 16, n, p.qL.at(q, b, h, iFirst), p.qL.l, p.kL.at(dk, b, hk, j0), p.kL.l,
                       p.D, scales, add);
    });
  }
}

}  // namespace

bool attentionForwardSmall(const AttentionParams& p, const float* q, const float* k, const float* v, float* out,
                           float* lse) {
  if (!covered(p)) return false;
  const DropMask dm(p.dropoutP, p.dropoutSeed);
  const TinyTasks tt(p.B * p.H, poolSize());
  const double work = double(p.B * p.H) * double(p.Lq) * double(p.Lk) * double(p.D + p.Dv);
  parallelForWork(tt.tasks, work, [&](int64_t task, int) {
    for (int64_t t = tt.lo(task); t < tt.hi(task); t++)
      forwardHead(p, dm, q, k, v, out, lse, t / p.H, t % p.H, {t + 2 < tt.n, (t + 2) / p.H, (t + 2) % p.H});
  });
  return true;
}

bool attentionBackwardSmall(const AttentionParams& p, const float* q, const float* k, const float* v, const float*,
                            const float* dOut, const float* lse, float* dq, float* dk, float* dv) {
  if (!covered(p)) return false;  // out is not read: D_i comes from P and dP (backwardPair)
  const DropMask dm(p.dropoutP, p.dropoutSeed);
  const TinyTasks tt(p.B * p.Hkv, poolSize());
  const double work = 2.0 * double(p.B * p.H) * double(p.Lq) * double(p.Lk) * double(p.D + p.Dv);
  parallelForWork(tt.tasks, work, [&](int64_t task, int) {
    for (int64_t t = tt.lo(task); t < tt.hi(task); t++)
      backwardPair(p, dm, q, k, v, dOut, lse, dq, dk, dv, t / p.Hkv, t % p.Hkv,
                   {t + 2 < tt.n, (t + 2) / p.Hkv, (t + 2) % p.Hkv});
  });
  return true;
}

#else
bool attentionForwardSmall(const AttentionParams&, const float*, const float*, const float*, float*, float*) {
  return false;
}
bool attentionBackwardSmall(const AttentionParams&, const float*, const float*, const float*, const float*, const float*,
                            const float*, float*, float*, float*) {
  return false;
}
#endif

}  // namespace HEED_NS
}  // namespace heed
