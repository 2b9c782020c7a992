// Fused scaled-dot-product attention, forward and backward (FlashAttention-2 on
// CPU). Semantics are those of src/backend/js/attention.ts (the oracle); see that
// file for the score, mask, ALiBi and dropout definitions.
//
// Forward: for each (b, h, query tile of BQF rows), walk key tiles of BK keys:
//   S = scale · log2 e · Q_tile · K_tileᵀ (+ mask, ALiBi; disallowed keys → −∞), base-2 units
//   online softmax with a lazy reference max m (moved, and O rescaled, only when a row's max
//   grows by more than kRescaleLag): O ← O + 2^(S − m) · V_tile
// Causal and key-length limits end the walk early, so masked tiles cost nothing.
// Per thread the workspace is O(BQF·(BK + Dv) + D·Lk); no Lq×Lk buffer exists. The first query
// tile a thread runs for a kv head transposes that head's K into the thread's scratch key tile by
// key tile, just before using each (its rows prefetched the tile before), each key tile's Kᵀ a
// contiguous D × BK block; the thread's later tiles of the head reuse it. Long heads run a few
// query tiles together over chunks of keys (forwardTiles), so Kᵀ and V are read from L3 once per
// group rather than once per query tile. So S tiles are plain row-broadcast GEMMs and
// the whole call is one parallel region (one wake-up of the pool, which matters for tiny
// shapes). Long heads: each thread walks its own block of whole heads, stealing at the end
// (forwardBlocks); short ones: a task is a run of consecutive query tiles of one head (Kᵀ stays
// on one thread). bench/attention-tile.cpp times each phase inside the call, and each query tile.
//
// Layouts: q, k, v, out (and dq, dk, dv, dOut in the backward) are read and written through
// their (b, h, i) strides (AttentionLayout), so (B, L, H·d) projections, even the column
// blocks of one fused q|k|v buffer, are used in place, without head split/merge copies.
//
// Backward: the unit of work is (b, kv head, key tile). It transposes its K and V
// tile, recomputes P for the tile against every query tile of every query head in the
// group (keys past a step's last allowed key are left out), accumulates dK, dV in its
// own rows of dk, dv (no other task writes them, so GQA sums need no atomics), and adds dQ. With
// at least 4 (b, kv head) pairs per thread, a task is one pair walking all its key
// tiles, writing dq directly; otherwise a task is one key tile and dQ goes to
// per-thread partial buffers summed at the end.
#include <atomic>
#include <vector>

#include "common.h"
#include "gemm_tile.h"
#include "kernels.h"
#include "threadpool.h"
#include "tiny_tasks.h"
#include "transpose16.h"
#include "attention_small.h"

// GCC 12 reports the shuffle intrinsics' internal _mm512_undefined_ps as "may be used uninitialized"
// where transpose16 is inlined (as in native/gemm.cpp): a false positive, silenced for this file.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace heed {
namespace HEED_NS {

namespace {

#ifndef HEED_ATT_BQF
#define HEED_ATT_BQF 64
#endif
#ifndef HEED_ATT_BKB
#define HEED_ATT_BKB 128
#endif
#ifndef HEED_ATT_BK
#define HEED_ATT_BK 128
#endif
// Forward: query rows per task, keys per tile. Backward: BQ query rows per step, BKB keys per task.
constexpr int64_t BQ = 64;
#ifndef HEED_ATT_SHORT_CAUSAL
#define HEED_ATT_SHORT_CAUSAL 256
#endif
constexpr int64_t kBwdShortCausal = HEED_ATT_SHORT_CAUSAL;  // see bqs in attentionBackward
constexpr int64_t BQF = HEED_ATT_BQF;
#ifndef HEED_ATT_BQF_LONG
#define HEED_ATT_BQF_LONG 128
#endif
// Non-causal calls long enough for the block hand-out (forwardBlocks), whose heads' Kᵀ and V exceed
// kLongTileBytes, take query tiles of BQFLong rows: each query tile streams its head's whole Kᵀ and V
// (1 MB at L 2048, d 64: more than the 1 MB L2 holds beside the rest), so twice the rows per tile
// halve that traffic per FLOP (L 2048: 0.8–1.9% less CPU time, interleaved A/B). At L 1024 (512 KB)
// they stay in L2 and 64-row tiles measured as well or better. Causal calls keep BQF: their diagonal
// key tile is partly masked, and 128-row tiles mask twice as much there (2.5–11% slower at L 512–2048).
constexpr int64_t BQFLong = HEED_ATT_BQF_LONG;
constexpr int64_t kLongTileBytes = 768 << 10;
constexpr int64_t kBQFMax = BQF > BQFLong ? BQF : BQFLong;
constexpr int64_t BK = HEED_ATT_BK;
constexpr int64_t BKB = HEED_ATT_BKB;
// Forward: at most this many queries per (b, h) take forwardRows (no Kᵀ copy) instead of tiles.
constexpr int64_t kRowsMaxLq = 4;

inline int64_t roundUp(int64_t x, int64_t m) { return (x + m - 1) / m * m; }

// Number of keys query i may see, as a prefix [0, end): causal and key-length limits.
HEED_INLINE int64_t keyEnd(const AttentionParams& p, int64_t b, int64_t i) {
  int64_t end = p.Lk;
  if (p.causal) end = std::min(end, i + p.causalOffset + 1);
  if (p.keyLengths) end = std::min<int64_t>(end, p.keyLengths[b]);
  return std::max<int64_t>(end, 0);
}

// Row stride of the transposed K/V buffers: a multiple of 16 floats holding Lk, and an
// odd number of 64-byte lines, so the D rows of a key tile spread over the L1 sets
// (a power-of-two stride would map them all to a few sets).
inline int64_t transposedLd(int64_t Lk) {
  int64_t ld = roundUp(std::max<int64_t>(Lk, 1), 16);
  if ((ld / 16) % 2 == 0) ld += 16;
  return ld;
}

// Row stride of the forward's Kᵀ tiles. Kᵀ is stored key tile by key tile, each tile a contiguous
// D × ldkt block (ldkt = BK when there are several tiles), so a key tile's Kᵀ is one 32 KB stream (d 64)
// rather than D rows a whole head apart (D pages, and D streams the prefetcher cannot follow).
inline int64_t kvTileLd(int64_t Lk) { return Lk > BK ? roundUp(BK, W) : transposedLd(Lk); }

// x (rows × cols, row stride ldx) → xt (cols rows, stride ldt): xt[c·ldt + r] = x[r·ldx + c] for
// r < rows, and 0 for rows ≤ r < roundUp(rows, W) (the padding a vector loop over keys reads), so
// ldt ≥ roundUp(rows, W).
void transposePad(const float* x, int64_t rows, int64_t cols, int64_t ldx, float* xt, int64_t ldt) {
  constexpr int64_t T = 16;
  for (int64_t r0 = 0; r0 < rows; r0 += T)
    for (int64_t c0 = 0; c0 < cols; c0 += T) {
#if HEED_W == 16
      transpose16(x + r0 * ldx + c0, ldx, xt + c0 * ldt + r0, ldt, int(std::min(T, rows - r0)), int(std::min(T, cols - c0)));
#else
      for (int64_t c = c0; c < std::min(cols, c0 + T); c++)
        for (int64_t r = r0; r < std::min(rows, r0 + T); r++) xt[c * ldt + r] = x[r * ldx + c];
#endif
    }
#if HEED_W != 16
  const int64_t padded = (rows + W - 1) / W * W;
  for (int64_t c = 0; c < cols; c++) std::fill(xt + c * ldt + rows, xt + c * ldt + padded, 0.f);
#endif
}

constexpr float kLog2e = 1.44269504088896341f, kLn2 = 0.693147180559945309f;

// Cycle counters of the forward's phases, compiled in only by bench/attention-tile.cpp
// (HEED_ATT_PROFILE): the shipped kernel has no timing code.
#ifdef HEED_ATT_PROFILE
// One vector of samples per phase (ticks), so the bench can take medians: on a shared machine a
// sample that spans a preemption is an outlier, not a shift of the mean.
struct ForwardProfile {
  std::vector<uint64_t> setup, kt, qk, soft, pv, finish, tile, pre;
};
thread_local ForwardProfile fwdProfile;
// One record per query tile, from every thread (bench/attention-tile.cpp --tiles): which tile, which
// thread ran it and in what order, whether it transposed Kᵀ, its ticks (wall) and its thread CPU
// time, and each key tile's ticks (scores + softmax + P·V), to find which tiles make the tail.
struct TileRecord {
  uint64_t tsc, start;
  int64_t cpuNs;
  int32_t bh, qt, thread, seq, ktNew, nkt;
  uint64_t ktTicks, preTicks, qkTicks, pvTicks;  // summed over the key tiles
  uint32_t keyTile[64];
};
std::vector<TileRecord> tileRecords;
std::atomic<size_t> tileRecordCount{0};
thread_local int32_t tileThread = -1, tileSeq = 0;
std::atomic<int32_t> tileThreads{0};
#define HEED_PROF_T(t) const uint64_t t = __rdtsc()
#define HEED_PROF_ADD(field, a, b) fwdProfile.field.push_back((b) - (a))
#else
#define HEED_PROF_T(t)
#define HEED_PROF_ADD(field, a, b)
#endif

// 2^x for the forward's softmax, whose arguments are ≤ 0 or −∞ (scores minus their running
// max, in base-2 units: the score scale carries log2 e, as FlashAttention's exp2).
//
// With AVX-512DQ (every AVX-512 VNNI CPU has it; checked at run time all the same, since the
// build flags do not include it): vreduceps gives r = x − ⌊x⌋ in [0, 1] in one op, 2^r is a
// degree-5 polynomial (a weighted Chebyshev fit; relative error < 1.8e-7 in float32, under 2
// ulp), and vscalefps multiplies by 2^⌊x⌋ itself, so −∞ needs no clamp (reduce(−∞) = 0 and
// scalef(p, −∞) = 0; NaN stays NaN). Eight vector ops in all.
// Without it: clamp (−∞ → 2^−160 = 0), round to nearest, r = x − n in [−½, ½], degree 7
// (relative error < 1e-8), scalef: twelve ops.
#ifndef HEED_ATT_EXP2_DEG
#define HEED_ATT_EXP2_DEG 5
#endif
#if HEED_W == 16
HEED_INLINE __m512 reduceFloor(__m512 x) {
  __m512 r;
  asm("vreduceps $9, %1, %0" : "=v"(r) : "v"(x));  // imm 9: keep 0 fraction bits, round down, no exceptions
  return r;
}
template <bool Dq>
HEED_INLINE vf vexp2(vf xv) {
  if constexpr (Dq) {
    const __m512 x = (__m512)xv;
    const __m512 r = reduceFloor(x);
#if HEED_ATT_EXP2_DEG == 4
    __m512 p = _mm512_set1_ps(1.3534139841794968e-2f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.201151967048645e-2f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(2.414427101612091e-1f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(6.930038332939148e-1f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0000026226043701f));
#else
    __m512 p = _mm512_set1_ps(1.8762329128e-3f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.9925844222e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.5823605508e-2f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(2.4015453458e-1f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(6.9315296412e-1f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(9.999999404e-1f));
#endif
#ifdef HEED_ATT_EXP2_NOSCALEF  // bench only: what vscalefps costs (wrong results)
    return (vf)p;
#endif
    return (vf)_mm512_scalef_ps(p, x);
  } else {
    __m512 x = _mm512_max_ps(_mm512_set1_ps(-160.f), (__m512)xv);  // NaN kept (second operand)
    __m512 n = _mm512_roundscale_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_sub_ps(x, n);
    __m512 p = _mm512_set1_ps(1.5252733804e-5f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.5403530393e-4f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3333558146e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(9.6181291076e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.5504108665e-2f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(2.4022650696e-1f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(6.9314718056e-1f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.f));
    return (vf)_mm512_scalef_ps(p, n);
  }
}
bool useDq = __builtin_cpu_supports("avx512dq");  // bench/attention-tile.cpp flips it for A/B
#else
template <bool Dq>
HEED_INLINE vf vexp2(vf x) { return vexp(x * kLn2); }
bool useDq = false;
#endif

// The score tile S (bq × bkP) of query rows i0.., keys j0.. for head (b, h), in units of
// `unit` (1: natural; log2 e: the forward's base-2 softmax): Qs·Kᵀ + unit·(mask + ALiBi), −∞
// for disallowed keys and padding columns. qs holds the query rows already multiplied by
// scale·unit (so a plain interior tile needs no pass); ktTile points at key j0's column of Kᵀ
// (row stride ldkt).
void scoreTile(const AttentionParams& p, const float* qs, const float* ktTile, int64_t ldkt, int64_t b, int64_t h,
               int64_t i0, int64_t bq, int64_t j0, int64_t bk, int64_t bkP, float* S, float unit) {
  tileGemm(bq, bkP, p.D, qs, p.D, 1, ktTile, ldkt, S, bkP, false);
  const float ninf = -INFINITY;
  vf iota;
  for (int c = 0; c < W; c++) iota[c] = float(c);
  for (int64_t r = 0; r < bq; r++) {
    int64_t i = i0 + r;
    int64_t lim = std::min(keyEnd(p, b, i) - j0, bk);
    if (lim < 0) lim = 0;
    if (!p.mask && !p.alibiSlopes && lim == bkP) continue;
    float* row = S + r * bkP;
    const float* mrow = p.mask ? p.mask + b * p.maskStrideB + h * p.maskStrideH + i * p.Lk + j0 : nullptr;
    float slope = p.alibiSlopes ? unit * p.alibiSlopes[h] : 0.f;
    float base = float(j0 - i - (p.Lk - p.Lq));
    const vf uv = vsplat(unit);
    int64_t c = 0;
    if (mrow || p.alibiSlopes) {
      for (; c + W <= lim; c += W) {
        vf v = vload(row + c);
        if (mrow) v += uv * vload(mrow + c);
        if (p.alibiSlopes) v += slope * (base + float(c) + iota);
        vstore(row + c, v);
      }
      for (; c < lim; c++) {
        float v = row[c];
        if (mrow) v += unit * mrow[c];
        if (p.alibiSlopes) v += slope * (base + float(c));
        row[c] = v;
      }
    }
    for (c = lim; c < bkP; c++) row[c] = ninf;
  }
}

// qs[0..n) = scale · q[0..n).
void scaleRows(const float* q, int64_t n, float scale, float* qs) {
  int64_t c = 0;
  vf sv = vsplat(scale);
  for (; c + W <= n; c += W) vstore(qs + c, vload(q + c) * sv);
  for (; c < n; c++) qs[c] = q[c] * scale;
}

// qs (rows × D, packed) = scale · the rows of q, ldq apart.
void scaleRowsStrided(const float* q, int64_t ldq, int64_t rows, int64_t D, float scale, float* qs) {
  for (int64_t r = 0; r < rows; r++) scaleRows(q + r * ldq, D, scale, qs + r * D);
}

// Kᵀ (D × ldkt) of one kv head in this thread's scratch, filled key tile by key tile while the
// head's first query tile walks its keys (a tile's K rows were prefetched during the tile before,
// so the transposition reads cache, not cold memory; transposing the whole head up front measured
// 2–4% of the forward at L = 1024). A thread keeps the last head it transposed (tagged by call id
// and address), so its other query tiles of that head find Kᵀ ready.
struct KeysT {
  Scratch buf;
  const float* src = nullptr;
  uint64_t call = 0;
  int64_t done = 0;  // keys [0, done) are transposed; done = Lk includes the zero padding
  float* kt = nullptr;

  void use(const AttentionParams& p, const float* kHead, int64_t ldkt, uint64_t callId) {
    kt = buf.get(std::max<int64_t>(1, (p.Lk + BK - 1) / BK * p.D * ldkt));
    if (call != callId || src != kHead) {
      call = callId;
      src = kHead;
      done = 0;
    }
  }
  // Makes keys [0, j1) ready (j1 ≤ Lk), times `factor` (the fused pass's score scale; 1: plain Kᵀ); at Lk
  // the padding columns up to roundUp(Lk, W) are zeroed too. factor must be the same for the whole call.
  void upTo(const AttentionParams& p, int64_t j1, int64_t ldkt, float factor) {
    for (; done < j1; done = std::min(j1, done + BK)) {  // done is a multiple of BK
      const int64_t e = std::min(j1, done + BK);
      float* t = tile(p, done, ldkt);
      transposePad(src + done * p.kL.l, e - done, p.D, p.kL.l, t, ldkt);
      if (factor != 1.f) {  // in L1 just after the transposition
        const vf fv = vsplat(factor);
        const int64_t cols = roundUp(e - done, W);
        for (int64_t l = 0; l < p.D; l++)
          for (int64_t c = 0; c < cols; c += W) vstore(t + l * ldkt + c, vload(t + l * ldkt + c) * fv);
      }
    }
  }
  // Kᵀ of the key tile starting at j0 (a multiple of BK): D rows, ldkt apart.
  HEED_INLINE float* tile(const AttentionParams& p, int64_t j0, int64_t ldkt) const { return kt + j0 / BK * p.D * ldkt; }
};

// Multiplies P tile entries by the dropout factor (0 or 1/(1−p)) of element (b,h,i,j): kept iff
// lowbias32(flat index ^ lowbias32(seed)) ≥ p·2³², W lanes at a time. Whole vectors up to
// roundUp(bk, W) (≤ ld): the padding columns hold P = 0 (or dP = 0), which any factor keeps at 0.
void applyDropout(const AttentionParams& p, int64_t b, int64_t h, int64_t i0, int64_t bq, int64_t j0, int64_t bk,
                  int64_t ld, float* P) {
  const uint32_t hs = lowbias32(p.dropoutSeed);
  // double(u) ≥ p·2³² ⇔ u ≥ ⌈p·2³²⌉ for an integer u; past 2³² − 1 nothing is kept
  const double thr = std::ceil(double(p.dropoutP) * 4294967296.0);
  const bool none = thr > 4294967295.0;
  const uint32_t t = none ? 0u : uint32_t(thr);
  const float keep = none ? 0.f : 1.0f / (1.0f - p.dropoutP);
  const vf keepV = vsplat(keep), zero = vsplat(0.f);
  vu lane;
  for (int l = 0; l < W; l++) lane[l] = uint32_t(l);
  const int64_t bkP = roundUp(bk, W);
  for (int64_t r = 0; r < bq; r++) {
    const uint32_t base = uint32_t(uint64_t(((b * p.H + h) * p.Lq + i0 + r)) * uint64_t(p.Lk) + uint64_t(j0));
    float* row = P + r * ld;
    for (int64_t c = 0; c < bkP; c += W) {
      const vu u = lowbias32((lane + (base + uint32_t(c))) ^ hs);
      const vi kept = u >= t;
      vstore(row + c, vload(row + c) * (kept ? keepV : zero));
    }
  }
}

// How far (base 2) a row's running max may lag its true max before O and the row sum are
// rescaled. FlashAttention-3's and ggml's lazy rescaling: while a new tile's max stays within
// 2^8 of the reference, P = 2^(S − m) ≤ 256 and nothing is rescaled; the result O / l is exact
// for any reference m, so only overflow bounds the lag (256 · Lk stays far below float's range).
constexpr float kRescaleLag = 8.f;
// The fused pass forms a row's max only when a lane of the row's P sum exceeds this (or is NaN): below
// it every P ≤ 2^7, so every score is at least 1 under m + kRescaleLag and the reference stays.
constexpr float kSumCheck = 128.f;

// A row's running sum (one vector) and its O row (Dv floats), times a: the lazy reference max moved.
HEED_INLINE void rescaleRow(float* lvRow, float* o, int64_t Dv, float a) {
  vstore(lvRow, vload(lvRow) * a);
  const vf av = vsplat(a);
  int64_t c = 0;
  for (; c + W <= Dv; c += W) vstore(o + c, vload(o + c) * av);
  for (; c < Dv; c++) o[c] *= a;
}

// The online-softmax step of one score tile S (bq × bkP) in the forward, in base-2 units (S and m
// carry log2 e): per row, when the tile's max exceeds the reference m by more than kRescaleLag,
// m moves to it and O's row and the running sum lv (one vector per row) are multiplied by
// 2^(m_old − m_new); then S ← P = 2^(S − m) (unnormalised) and lv += Σ P. On the first key tile
// (first) O and lv hold nothing yet: lv is set, and O is written by the P·V product that follows
// (without accumulating), so neither needs zeroing. The non-FMA work per score element (max,
// subtract, exp, sum, store) lives here; bench/attention-tile.cpp times it alone.
template <bool Dq>
void onlineSoftmaxTile(float* S, int64_t bq, int64_t bkP, float* m, float* lv, float* O, int64_t Dv, bool first) {
  for (int64_t r = 0; r < bq; r++) {
    float* row = S + r * bkP;
    vf mxv = vsplat(-INFINITY);
    for (int64_t c = 0; c < bkP; c += W) mxv = vmax(mxv, vload(row + c));
    const float mx = hmax(mxv);
    float mr = first ? -INFINITY : m[r];
    if (mx > mr + kRescaleLag) {  // false while the row has no allowed key (mx = −∞)
      // something accumulated under the old reference: rescale it
      if (mr != -INFINITY) rescaleRow(lv + r * W, O + r * Dv, Dv, std::exp2(mr - mx));
      mr = mx;
    }
    m[r] = mr;
    if (mr == -INFINITY) {  // nothing allowed yet in this row
      for (int64_t c = 0; c < bkP; c += W) vstore(row + c, vf{});
      if (first) vstore(lv + r * W, vf{});
      continue;
    }
    vf sum = vf{};
    const vf mv = vsplat(mr);
    for (int64_t c = 0; c < bkP; c += W) {
      vf e = vexp2<Dq>(vload(row + c) - mv);
      sum += e;
      vstore(row + c, e);
    }
    vstore(lv + r * W, first ? sum : vload(lv + r * W) + sum);
  }
}

// Rows of other arrays to bring into the cache while the score pass runs: `per` rows of each stream
// between two of its blocks. Spread over the FMA work the misses overlap it; a few hundred
// prefetches issued at once fill the miss buffers and stall the core (~1–2 µs per query tile).
struct RowPrefetch {
  struct Stream {
    const char* base;
    int64_t ld, bytes, r, end, per;  // row stride and width in bytes; rows [r, end) left
    bool write;
  };
  Stream s[6];
  int n = 0;
  // rows [r0, r1) of x (row stride ld floats, width floats each), over about `steps` steps
  void add(const float* x, int64_t ld, int64_t width, int64_t r0, int64_t r1, bool write, int64_t steps) {
    if (r1 <= r0 || n == 6) return;
    s[n++] = {reinterpret_cast<const char*>(x), ld * 4, width * 4, r0, r1, (r1 - r0 + steps - 1) / std::max<int64_t>(1, steps), write};
  }
  HEED_INLINE void step() {
    for (int i = 0; i < n; i++) {
      Stream& x = s[i];
      for (const int64_t e = std::min(x.end, x.r + x.per); x.r < e; x.r++) {
        const char* row = x.base + x.r * x.ld;
        for (int64_t o = 0; o < x.bytes; o += 64) {
          if (x.write) __builtin_prefetch(row + o, 1, 3);
          else __builtin_prefetch(row + o, 0, 3);
        }
      }
    }
  }
  void rest() {  // what the steps left
    for (int i = 0; i < n; i++) s[i].per = s[i].end - s[i].r;
    step();
  }
};

#if HEED_W == 16
// One row of a fused block: P = 2^x for its NV vectors of acc, stored at prow; returns their sum.
// x = acc (Mode 0), acc − d (1) or c·acc − d (2).
template <int NV, bool Dq, int Mode>
HEED_INLINE __m512 expRow(const __m512* acc, __m512 cv, float d, float* prow) {
  const __m512 dv = _mm512_set1_ps(d);
  __m512 sum = _mm512_setzero_ps();
#pragma GCC unroll 8
  for (int v = 0; v < NV; v++) {
    const __m512 x = Mode == 0 ? acc[v] : Mode == 1 ? _mm512_sub_ps(acc[v], dv) : _mm512_fmsub_ps(acc[v], cv, dv);
    const __m512 e = (__m512)vexp2<Dq>((vf)x);
    sum = _mm512_add_ps(sum, e);
    _mm512_storeu_ps(prow + v * W, e);
  }
  return sum;
}

// The online-softmax step of an RB × NV·W block of scores held in registers: the fused pass's non-FMA
// work (mask of the keys past lim, 2^(c·s − m), row sums, the lazy rescale). Fold (the tiled Kᵀ of
// heads longer than a key tile, which carries c): acc[r] holds c·s + base_r, where base_r = −m[r], the
// row's reference before this tile (0 on the first key tile or while the row has no reference,
// m = −∞): the FMA loop starts from it, so the usual case is P = 2^acc, one op per 16 scores fewer.
// Otherwise acc holds the raw s (short heads, whose Kᵀ is not worth a scaling pass: c·s − m by one
// FMA). bench/attention-bound.cpp times this function alone on L1-resident blocks. With
// HEED_ATT_NO_SOFTMAX (that bench's GEMM-only build, never shipped) it only stores acc as P: the
// kernel's two tile GEMMs with their tiles, loads and stores, and no softmax work.
template <int RB, int NV, bool Dq, bool Fold>
HEED_INLINE void softmaxRows(__m512 (&acc)[RB][NV], float c, const int64_t* lim, float* P, int64_t ldp, float* m,
                             float* lv, float* O, int64_t Dv, bool first) {
#ifdef HEED_ATT_NO_SOFTMAX
#pragma GCC unroll 8
  for (int r = 0; r < RB; r++) {
#pragma GCC unroll 8
    for (int v = 0; v < NV; v++) _mm512_storeu_ps(P + r * ldp + v * W, acc[r][v]);
    if (first) vstore(lv + r * W, vf{}), m[r] = 0.f;
  }
  (void)c, (void)lim, (void)O, (void)Dv;
#else
  const __m512 ninf = _mm512_set1_ps(-INFINITY), cv = _mm512_set1_ps(c);
#pragma GCC unroll 8
  for (int r = 0; r < RB; r++) {
    if (lim[r] < NV * W) {  // keys past the row's last allowed one, and the padding: −∞
#pragma GCC unroll 8
      for (int v = 0; v < NV; v++) {
        const int64_t keep = std::clamp<int64_t>(lim[r] - v * W, 0, W);
        acc[r][v] = _mm512_mask_blend_ps(__mmask16((1u << keep) - 1), ninf, acc[r][v]);
      }
    }
    float mr = first ? -INFINITY : m[r];
    float* prow = P + r * ldp;
    if (mr != -INFINITY) {
      // The usual case: the reference stays. P = 2^(c·s − m) (= 2^acc when Fold) from the accumulators,
      // and the row max is never formed: if every lane of the row sum is ≤ kSumCheck (each P ≤ 2^7,
      // so every c·s − m ≤ 7 + rounding < kRescaleLag) the reference would not have moved. Otherwise
      // (or NaN) the row is redone below as before, so the result is the same as with the max taken first.
      const __m512 sum = expRow<NV, Dq, Fold ? 0 : 2>(acc[r], cv, mr, prow);
      if (!_mm512_cmp_ps_mask(sum, _mm512_set1_ps(kSumCheck), _CMP_NLE_UQ)) {
        vstore(lv + r * W, vload(lv + r * W) + (vf)sum);
        continue;
      }
    }
    const float base = Fold && mr != -INFINITY ? -mr : 0.f;  // what acc started from
    __m512 mxv = acc[r][0];
#pragma GCC unroll 8
    for (int v = 1; v < NV; v++) mxv = _mm512_max_ps(mxv, acc[r][v]);
    if (!Fold) mxv = _mm512_mul_ps(mxv, cv);  // c > 0: the max of c·s is c·max(s)
    // as onlineSoftmaxTile, but the lanes are compared with m + lag first (Fold: c·s − m > lag ⟺ acc >
    // lag): the horizontal max (~8 shuffle/max ops and their latency, per row and key tile) runs only
    // when the reference moves
    if (_mm512_cmp_ps_mask(mxv, _mm512_set1_ps(mr == -INFINITY ? -INFINITY : (Fold ? 0.f : mr) + kRescaleLag), _CMP_GT_OQ)) {
      const float mx = _mm512_reduce_max_ps(mxv) - base;  // the max of c·s
      if (mr != -INFINITY) rescaleRow(lv + r * W, O + r * Dv, Dv, std::exp2(mr - mx));
      mr = mx;
    }
    m[r] = mr;
    if (mr == -INFINITY) {
#pragma GCC unroll 8
      for (int v = 0; v < NV; v++) _mm512_storeu_ps(prow + v * W, _mm512_setzero_ps());
      if (first) vstore(lv + r * W, vf{});
      continue;
    }
    const __m512 sum = Fold ? expRow<NV, Dq, 1>(acc[r], cv, mr + base, prow)  // 2^(c·s − m): d = 0 when m stayed
                            : expRow<NV, Dq, 2>(acc[r], cv, mr, prow);
    vstore(lv + r * W, first ? (vf)sum : vload(lv + r * W) + (vf)sum);
  }
#endif
}

// acc[r][v] += Σ_l q[r·ldq + l] · kt[l·ldkt + v·W ..]: the fused pass's RB × NV·W register block of Q·Kᵀ
// (bench/attention-bound.cpp also times it alone).
template <int RB, int NV>
HEED_INLINE void scoreBlock(const float* q, int64_t ldq, int64_t D, const float* kt, int64_t ldkt, __m512 (&acc)[RB][NV]) {
  for (int64_t l = 0; l < D; l++) {
    const float* kr = kt + l * ldkt;
    __m512 a[RB];
#pragma GCC unroll 8
    for (int r = 0; r < RB; r++) a[r] = _mm512_set1_ps(q[r * ldq + l]);
#pragma GCC unroll 8
    for (int v = 0; v < NV; v++) {
      __m512 bv = _mm512_loadu_ps(kr + v * W);
      asm("" : "+v"(bv));  // one load into a register, not RB memory operands (GCC's choice: load-port bound)
#pragma GCC unroll 8
      for (int r = 0; r < RB; r++) acc[r][v] = _mm512_fmadd_ps(a[r], bv, acc[r][v]);
    }
  }
}

// S = Q·Kᵀ and its online-softmax step in one pass, for tiles without a mask or ALiBi (every
// non-causal tile, and every causal one). An RB × NV·W block of scores stays in registers from the
// FMA loop to the exp, so S is never stored raw, re-read for the row max and re-read for 2^x (the two
// passes of scoreTile + onlineSoftmaxTile: their loads, stores and serial max/sum chains cost ~40%
// more than the exp's own ops). q is read where it lies (row stride ldq, unscaled, no copy): the
// score scale c = scale·log2 e (> 0, so max(c·s) = c·max(s)) goes into the FMA that subtracts m, or
// (Fold) is in Kᵀ (KeysT::upTo's factor) and each row's FMA chain starts from −m (softmaxRows).
// lim[r]: the keys of row r this tile allows (columns from lim[r] on, padding included, get P = 0).
// P rows are ldp apart; m, lv, O, first as in onlineSoftmaxTile.
template <int RB, int NV, bool Dq, bool Fold>
HEED_INLINE void scoreSoftmaxRows(const float* q, int64_t ldq, int64_t D, float c, const float* kt, int64_t ldkt,
                                  const int64_t* lim, float* P, int64_t ldp, float* m, float* lv, float* O,
                                  int64_t Dv, bool first) {
  __m512 acc[RB][NV];
#pragma GCC unroll 8
  for (int r = 0; r < RB; r++) {
    const __m512 base = _mm512_set1_ps(!Fold || first || m[r] == -INFINITY ? 0.f : -m[r]);
#pragma GCC unroll 8
    for (int v = 0; v < NV; v++) acc[r][v] = base;
  }
  scoreBlock<RB, NV>(q, ldq, D, kt, ldkt, acc);
  softmaxRows<RB, NV, Dq, Fold>(acc, c, lim, P, ldp, m, lv, O, Dv, first);
}

// The fused score + softmax step over bq query rows: blocks of RB rows (6 for up to 4 vectors of
// keys, 3 for up to 8: ≤ 24 accumulators, the B row and the broadcasts in the other registers),
// then the leftover rows.
template <int NV, bool Dq, bool Fold>
void scoreSoftmaxNV(const float* q, int64_t ldq, int64_t D, float c, const float* kt, int64_t ldkt, int64_t bq, const int64_t* lim,
                    float* P, int64_t ldp, float* m, float* lv, float* O, int64_t Dv, bool first, RowPrefetch* pf) {
  constexpr int RB = NV <= 4 ? 6 : 3;
  int64_t r = 0;
  auto rows = [&](auto rb) {
    constexpr int R = decltype(rb)::value;
    if (pf) pf->step();
    scoreSoftmaxRows<R, NV, Dq, Fold>(q + r * ldq, ldq, D, c, kt, ldkt, lim + r, P + r * ldp, ldp, m + r, lv + r * W,
                                O + r * Dv, Dv, first);
    r += R;
  };
  while (r + RB <= bq && !(RB == 3 && bq - r == 4)) rows(std::integral_constant<int, RB>{});
  // The leftover rows in one block (each block's FMA loop is a chain of D dependent steps, so at
  // one or two vectors of keys several small blocks are latency-bound: 11 rows run as 6 + 5, not
  // 6 + 3 + 2); with 3-row blocks, 4 leftover rows as 2 + 2 (a 1-row block of 8 vectors is
  // load-bound: 8 loads per 8 FMAs).
  switch (bq - r) {
    case 5:
      if constexpr (RB == 6) rows(std::integral_constant<int, 5>{});
      break;
    case 4:
      if constexpr (RB == 6) rows(std::integral_constant<int, 4>{});
      else {
        rows(std::integral_constant<int, 2>{});
        rows(std::integral_constant<int, 2>{});
      }
      break;
    case 3: rows(std::integral_constant<int, 3>{}); break;
    case 2: rows(std::integral_constant<int, 2>{}); break;
    case 1: rows(std::integral_constant<int, 1>{}); break;
    default: break;
  }
}

template <bool Dq, bool Fold>
void scoreSoftmaxTile(const float* q, int64_t ldq, int64_t D, float c, const float* kt, int64_t ldkt, int64_t bq, int64_t bkP,
                      const int64_t* lim, float* P, float* m, float* lv, float* O, int64_t Dv, bool first,
                      RowPrefetch* pf = nullptr) {
  switch (bkP / W) {
    case 1: scoreSoftmaxNV<1, Dq, Fold>(q, ldq, D, c, kt, ldkt, bq, lim, P, bkP, m, lv, O, Dv, first, pf); break;
    case 2: scoreSoftmaxNV<2, Dq, Fold>(q, ldq, D, c, kt, ldkt, bq, lim, P, bkP, m, lv, O, Dv, first, pf); break;
    case 3: scoreSoftmaxNV<3, Dq, Fold>(q, ldq, D, c, kt, ldkt, bq, lim, P, bkP, m, lv, O, Dv, first, pf); break;
    case 4: scoreSoftmaxNV<4, Dq, Fold>(q, ldq, D, c, kt, ldkt, bq, lim, P, bkP, m, lv, O, Dv, first, pf); break;
    case 5: scoreSoftmaxNV<5, Dq, Fold>(q, ldq, D, c, kt, ldkt, bq, lim, P, bkP, m, lv, O, Dv, first, pf); break;
    case 6: scoreSoftmaxNV<6, Dq, Fold>(q, ldq, D, c, kt, ldkt, bq, lim, P, bkP, m, lv, O, Dv, first, pf); break;
    case 7: scoreSoftmaxNV<7, Dq, Fold>(q, ldq, D, c, kt, ldkt, bq, lim, P, bkP, m, lv, O, Dv, first, pf); break;
    default: scoreSoftmaxNV<8, Dq, Fold>(q, ldq, D, c, kt, ldkt, bq, lim, P, bkP, m, lv, O, Dv, first, pf); break;
  }
}
constexpr bool kFusedScores = BK <= 8 * W;
#else
constexpr bool kFusedScores = false;
template <bool Dq, bool Fold>
void scoreSoftmaxTile(const float*, int64_t, int64_t, float, const float*, int64_t, int64_t, int64_t, const int64_t*, float*, float*,
                      float*, float*, int64_t, bool, RowPrefetch* = nullptr) {}
#endif

#ifndef HEED_ATT_WARM
#define HEED_ATT_WARM 1
#endif
#ifndef HEED_ATT_WARM_TILES
#define HEED_ATT_WARM_TILES 4
#endif
// A head's last kWarmHeadTiles query tiles prefetch the K and V rows of the thread's next head.
constexpr bool kWarm = HEED_ATT_WARM;
constexpr int64_t kWarmHeadTiles = HEED_ATT_WARM_TILES;

struct FwdScratch {
  Scratch S, O, ml, Q;
};

// Rows [r0, r1) of a kv head's K and V that a query tile warms for the thread's next head (nothing
// when r1 ≤ r0): spread over the tile's key tiles, so the next head's first tile finds them in L2.
struct WarmRows {
  const float* k = nullptr;
  const float* v = nullptr;
  int64_t r0 = 0, r1 = 0;
  // and rows [q0, q1) of the next head's q (the short heads' runs: the first query tile the thread runs next)
  const float* q = nullptr;
  int64_t q0 = 0, q1 = 0;
};

#ifndef HEED_ATT_GROUP
#define HEED_ATT_GROUP 4
#endif
#ifndef HEED_ATT_CHUNK
#define HEED_ATT_CHUNK 512
#endif
// Long heads (BQFLong-row tiles: Kᵀ and V beyond L2) run up to kGroupTiles query tiles of one head
// together, walking the keys in chunks of kChunkKeys: every tile of the group takes the chunk's key
// tiles while the chunk's Kᵀ and V (256 KB at d 64) are in L2, so a head's Kᵀ and V come from L3 (or
// memory) once per group, not once per query tile. Each row still sees its key tiles in the same
// order, so the results are those of one tile at a time, bit for bit.
constexpr int kGroupTiles = HEED_ATT_GROUP;
constexpr int64_t kChunkKeys = HEED_ATT_CHUNK;
static_assert(kChunkKeys % BK == 0, "a key chunk is whole key tiles");

// The query tiles forwardTiles runs together: tile g has rows i0[g]..i0[g]+bq[g] of one head.
struct QueryTiles {
  int n = 0;
  int64_t i0[kGroupTiles], bq[kGroupTiles];
};

// The query tiles qt of head (b, h), each against all the keys its rows may see; several tiles
// walk the keys chunk by chunk (kChunkKeys), one tile at a time within a chunk. nextI0 ≥ 0: the
// first row of the nextRows rows this thread runs next (same head), whose q rows are prefetched;
// warm: the rows of the next head's K and V this group prefetches.
// GMax: at most this many tiles (1: the short heads' single tiles, whose calls take a microsecond, compiled
// without the group's loops).
template <int GMax>
void forwardTiles(const AttentionParams& p, const float* q, const float* k, int64_t ldkt, uint64_t call, const float* v,
                  float* out, float* lse, int64_t b, int64_t h, const QueryTiles& qt, int64_t nextI0, int64_t nextRows,
                  const WarmRows& warm = WarmRows{}) {
  HEED_PROF_T(t0);
#ifdef HEED_ATT_PROFILE
  const int64_t cpu0 = int64_t(threadCpuNs());
  uint32_t keyTicks[64];
  int32_t ktNew = 0;
  uint64_t ktSum = 0, preSum = 0, qkSum = 0, pvSum = 0;
#endif
  static thread_local FwdScratch ws;
  const int G = GMax == 1 ? 1 : qt.n;
  const int64_t hk = h / (p.H / p.Hkv);
  const int64_t bkMaxP = roundUp(BK, W);
  float* S = ws.S.get(kBQFMax * bkMaxP);
  float* Og = ws.O.get(G * kBQFMax * p.Dv + W);
  // m: each row's reference max (base 2); lv: its running sum, kept as a vector per row and
  // reduced once at the end. Both, and O, are initialised by the first key tile.
  float* mg = ws.ml.get(G * (kBQFMax + kBQFMax * W));
  // Without a mask or ALiBi, scores and their softmax step are one fused pass that reads q in
  // place and applies the scale itself; otherwise q is scaled into scratch for scoreTile.
  const bool fused = kFusedScores && !p.mask && !p.alibiSlopes;
  const float* qRows[GMax];
  int64_t ldq = p.qL.l;
  float* qs = fused ? nullptr : ws.Q.get(G * kBQFMax * p.D + W);
  int64_t rowEnd[GMax][kBQFMax], jEnd[GMax], jEndAll = 0, steps = 0;
  for (int g = 0; g < G; g++) {
    const float* qTile = p.qL.at(q, b, h, qt.i0[g]);
    qRows[g] = qTile;
    if (!fused) {  // scoreTile takes the scaled rows
      scaleRowsStrided(qTile, p.qL.l, qt.bq[g], p.D, p.scale * kLog2e, qs + g * kBQFMax * p.D);  // base-2 scores
      qRows[g] = qs + g * kBQFMax * p.D;
    }
    jEnd[g] = 0;
    for (int64_t r = 0; r < qt.bq[g]; r++) jEnd[g] = std::max(jEnd[g], rowEnd[g][r] = keyEnd(p, b, qt.i0[g] + r));
    jEndAll = std::max(jEndAll, jEnd[g]);
    steps += (jEnd[g] + BK - 1) / BK;
  }
  if (!fused) ldq = p.D;
  // Heads longer than a key tile: the fused pass's Kᵀ carries the score scale (base 2; softmaxRows' Fold),
  // a scaling pass per key tile that the query tiles of the head share. Shorter heads (one key tile,
  // transposed per head for a few query tiles) keep c in the exp's FMA; scoreTile's q rows carry it.
  const bool fold = fused && p.Lk > BK;
  const float ktScale = fold ? p.scale * kLog2e : 1.f;
  static thread_local KeysT keysT;
  keysT.use(p, p.kL.at(k, b, hk, 0), ldkt, call);
  HEED_PROF_T(t1);
#ifdef HEED_ATT_PROFILE
  ktNew = keysT.done == 0;
#endif
  HEED_PROF_ADD(setup, t0, t1);
  const float* vHead = p.vL.at(v, b, hk, 0);
  int64_t lim[kBQFMax];
  // The rows each tile writes last (out) and the next tile reads first (q) are cold otherwise (the
  // key-tile loop touches only Kᵀ, V and scratch): they are prefetched a slice per key tile over the
  // tile's last kWarmTiles key tiles (the next q rows over the last tile's), spread over the score
  // pass (RowPrefetch).
  constexpr int64_t kWarmTiles = 4;
  const int64_t chunk = G > 1 ? kChunkKeys : std::max<int64_t>(BK, roundUp(jEndAll, BK));
  int64_t step = 0;  // key tiles run so far, over the group
  for (int g = 0; g < G; g++)
    if (jEnd[g] == 0) {  // no key tile at all: every row ends with zeros
      std::fill(mg + g * kBQFMax, mg + g * kBQFMax + qt.bq[g], -INFINITY);
      std::fill(mg + G * kBQFMax + g * kBQFMax * W, mg + G * kBQFMax + (g * kBQFMax + qt.bq[g]) * W, 0.f);
    }
  for (int64_t c0 = 0; c0 < jEndAll; c0 += chunk)
    for (int g = 0; g < G; g++) {
      const int64_t i0 = qt.i0[g], bq = qt.bq[g];
      float* O = Og + g * kBQFMax * p.Dv;
      float* m = mg + g * kBQFMax;
      float* lv = mg + G * kBQFMax + g * kBQFMax * W;
      const int64_t nkt = (jEnd[g] + BK - 1) / BK, warm0 = std::max<int64_t>(0, nkt - kWarmTiles), nWarm = nkt - warm0;
      const int64_t nextN = g == G - 1 && nextI0 >= 0 ? nextRows : 0;
      for (int64_t j0 = c0; j0 < std::min(c0 + chunk, jEnd[g]); j0 += BK, step++) {
        int64_t bk = std::min(BK, jEnd[g] - j0);
        int64_t bkP = roundUp(bk, W);
        HEED_PROF_T(k0);
        keysT.upTo(p, std::min(p.Lk, j0 + BK), ldkt, ktScale);
        HEED_PROF_T(k1);
        HEED_PROF_ADD(kt, k0, k1);
        const int64_t t = j0 / BK;
        // what this key tile's score pass prefetches between its blocks (~bq/3 of them)
        RowPrefetch pf;
        const int64_t pfSteps = bq / 3;
        if (t >= warm0) {  // a slice of the rows written last (out) and read first by the next tile (q)
          const int64_t w = t - warm0;
          pf.add(p.oL.at(out, b, h, 0), p.oL.l, p.Dv, i0 + bq * w / nWarm, i0 + bq * (w + 1) / nWarm, true, pfSteps);
          if (nextN > 0)
            pf.add(p.qL.at(q, b, h, 0), p.qL.l, p.D, nextI0 + nextN * w / nWarm, nextI0 + nextN * (w + 1) / nWarm, false, pfSteps);
        }
        if (j0 + BK < jEnd[g] && keysT.done < std::min(p.Lk, j0 + 2 * BK))  // K rows the next key tile will transpose
          pf.add(p.kL.at(k, b, hk, 0), p.kL.l, p.D, keysT.done, std::min(p.Lk, j0 + 2 * BK), false, pfSteps);
        if (kWarm && warm.q1 > warm.q0) {  // a slice of the next head's q rows
          const int64_t n = warm.q1 - warm.q0;
          pf.add(warm.q, p.qL.l, p.D, warm.q0 + n * step / steps, warm.q0 + n * (step + 1) / steps, false, pfSteps);
        }
        if (kWarm && warm.r1 > warm.r0) {  // a slice of the next head's K and V rows
          const int64_t n = warm.r1 - warm.r0, w0 = warm.r0 + n * step / steps, w1 = warm.r0 + n * (step + 1) / steps;
          pf.add(warm.k, p.kL.l, p.D, w0, w1, false, pfSteps);
          pf.add(warm.v, p.vL.l, p.Dv, w0, w1, false, pfSteps);
        }
        if (!fused) pf.rest();
        HEED_PROF_T(a0);
        const bool first = j0 == 0;
        const float* ktTile = keysT.tile(p, j0, ldkt);
        if (fused) {
          for (int64_t r = 0; r < bq; r++) lim[r] = std::clamp<int64_t>(rowEnd[g][r] - j0, 0, bk);
          RowPrefetch* pp = pf.n ? &pf : nullptr;
          const float c = p.scale * kLog2e;  // base-2 scores
          if (fold) {
            if (useDq) scoreSoftmaxTile<true, true>(qRows[g], ldq, p.D, c, ktTile, ldkt, bq, bkP, lim, S, m, lv, O, p.Dv, first, pp);
            else scoreSoftmaxTile<false, true>(qRows[g], ldq, p.D, c, ktTile, ldkt, bq, bkP, lim, S, m, lv, O, p.Dv, first, pp);
          } else if (useDq) {
            scoreSoftmaxTile<true, false>(qRows[g], ldq, p.D, c, ktTile, ldkt, bq, bkP, lim, S, m, lv, O, p.Dv, first, pp);
          } else {
            scoreSoftmaxTile<false, false>(qRows[g], ldq, p.D, c, ktTile, ldkt, bq, bkP, lim, S, m, lv, O, p.Dv, first, pp);
          }
          if (pp) pf.rest();
        } else {
          scoreTile(p, qRows[g], ktTile, ldkt, b, h, i0, bq, j0, bk, bkP, S, kLog2e);
        }
        HEED_PROF_T(a1);
        if (!fused) {
          if (useDq) onlineSoftmaxTile<true>(S, bq, bkP, m, lv, O, p.Dv, first);
          else onlineSoftmaxTile<false>(S, bq, bkP, m, lv, O, p.Dv, first);
        }
        if (p.dropoutP > 0.f) applyDropout(p, b, h, i0, bq, j0, bk, bkP, S);
        HEED_PROF_T(a2);
        tileGemm(bq, p.Dv, bk, S, bkP, 1, vHead + j0 * p.vL.l, p.vL.l, O, p.Dv, !first);
        HEED_PROF_T(a3);
        HEED_PROF_ADD(pre, k1, a0);
        HEED_PROF_ADD(qk, a0, a1);
        HEED_PROF_ADD(soft, a1, a2);
        HEED_PROF_ADD(pv, a2, a3);
#ifdef HEED_ATT_PROFILE
        if (step < 64) keyTicks[step] = uint32_t(a3 - k0);
        ktSum += k1 - k0, preSum += a0 - k1, qkSum += a2 - a0, pvSum += a3 - a2;
#endif
      }
    }
  HEED_PROF_T(t3);
  for (int g = 0; g < G; g++) {
    const float* O = Og + g * kBQFMax * p.Dv;
    const float* m = mg + g * kBQFMax;
    const float* lv = mg + G * kBQFMax + g * kBQFMax * W;
    for (int64_t r = 0; r < qt.bq[g]; r++) {
      float* o = p.oL.at(out, b, h, qt.i0[g] + r);
      float* lrow = lse + (b * p.H + h) * p.Lq + qt.i0[g] + r;
      const float l = hsum(vload(lv + r * W));
      if (l == 0.f || m[r] == -INFINITY) {
        std::fill(o, o + p.Dv, 0.f);
        *lrow = -INFINITY;
        continue;
      }
      float inv = 1.f / l;
      for (int64_t c = 0; c < p.Dv; c++) o[c] = O[r * p.Dv + c] * inv;
      *lrow = (m[r] + std::log2(l)) * kLn2;  // back to natural units
    }
  }
  HEED_PROF_T(t4);
  HEED_PROF_ADD(finish, t3, t4);
  HEED_PROF_ADD(tile, t0, t4);
#ifdef HEED_ATT_PROFILE
  const int64_t cpu1 = int64_t(threadCpuNs());
  if (tileThread < 0) tileThread = tileThreads++;
  const size_t ri = tileRecordCount++;
  if (ri < tileRecords.size()) {
    TileRecord& rec = tileRecords[ri];
    rec.tsc = t4 - t0;
    rec.start = t0;
    rec.cpuNs = cpu1 - cpu0;
    rec.bh = int32_t(b * p.H + h);
    rec.qt = int32_t(qt.i0[0] / qt.bq[0]);
    rec.thread = tileThread;
    rec.seq = tileSeq++;
    rec.ktNew = ktNew;
    rec.nkt = int32_t(std::min<int64_t>(steps, 64));
    rec.ktTicks = ktSum, rec.preTicks = preSum, rec.qkTicks = qkSum, rec.pvTicks = pvSum;
    std::copy(keyTicks, keyTicks + rec.nkt, rec.keyTile);
  }
#endif
}

// One query tile (the short heads' runs, and groups of one).
void forwardTile(const AttentionParams& p, const float* q, const float* k, int64_t ldkt, uint64_t call, const float* v,
                 float* out, float* lse, int64_t b, int64_t h, int64_t i0, int64_t bq, int64_t nextI0,
                 const WarmRows& warm = WarmRows{}) {
  QueryTiles qt;
  qt.n = 1;
  qt.i0[0] = i0;
  qt.bq[0] = bq;
  forwardTiles<1>(p, q, k, ldkt, call, v, out, lse, b, h, qt, nextI0, nextI0 >= 0 ? std::min(i0, p.Lq) - nextI0 : 0, warm);
}

// Few queries (a decoding step): one task per (b, h) scores each query against K's rows where
// they lie (a cache's rows a capacity apart), without the Kᵀ copy the tiled path makes: at Lq = 1
// that copy moves as many bytes as the whole attention reads. Softmax over the row, then
// O = Σ_j p_j · v_j. No dropout here (the caller keeps dropout on the tiled path).
void forwardRows(const AttentionParams& p, const float* q, const float* k, const float* v, float* out, float* lse,
                 int64_t b, int64_t h) {
  static thread_local Scratch sBuf, oBuf;
  const int64_t hk = h / (p.H / p.Hkv);
  float* s = sBuf.get(p.Lk + W);
  float* acc = oBuf.get(p.Dv + W);
  const float slope = p.alibiSlopes ? p.alibiSlopes[h] : 0.f;
  for (int64_t i = 0; i < p.Lq; i++) {
    const int64_t row = (b * p.H + h) * p.Lq + i;
    const float* qi = p.qL.at(q, b, h, i);
    float* o = p.oL.at(out, b, h, i);
    const int64_t end = keyEnd(p, b, i);
    const float* mrow = p.mask ? p.mask + b * p.maskStrideB + h * p.maskStrideH + i * p.Lk : nullptr;
    float mx = -INFINITY;
    for (int64_t j = 0; j < end; j++) {
      float sj = p.scale * dotRow(qi, p.kL.at(k, b, hk, j), p.D);
      if (mrow) sj += mrow[j];
      if (p.alibiSlopes) sj += slope * float(j - i - (p.Lk - p.Lq));
      s[j] = sj;
      mx = std::max(mx, sj);
    }
    if (mx == -INFINITY) {  // no allowed key: zeros, as the tiled path
      std::fill(o, o + p.Dv, 0.f);
      lse[row] = -INFINITY;
      continue;
    }
    float sum = 0.f;
    for (int64_t j = 0; j < end; j++) sum += (s[j] = std::exp(s[j] - mx));
    std::fill(acc, acc + p.Dv, 0.f);
    for (int64_t j = 0; j < end; j++) {
      const float* vj = p.vL.at(v, b, hk, j);
      const vf pj = vsplat(s[j]);
      int64_t c = 0;
      for (; c + W <= p.Dv; c += W) vstore(acc + c, vload(acc + c) + pj * vload(vj + c));
      for (; c < p.Dv; c++) acc[c] += s[j] * vj[c];
    }
    const float inv = 1.f / sum;
    for (int64_t c = 0; c < p.Dv; c++) o[c] = acc[c] * inv;
    lse[row] = mx + std::log(sum);
  }
}

// Long heads (at least kBlockMinTiles query tiles): the query tiles, head by head (each head from
// its last tile), are split into one contiguous block per thread, whole heads where there are at
// least as many heads as threads. A thread walks its own block from the front, one tile per claim;
// when it is empty, it moves the back half of the fullest other block into its own and goes on
// (work stealing: the block it took can be stolen from in turn). So a thread changes head only
// where its block does, each head's Kᵀ is made by one thread (the runs of the earlier hand-out
// split heads between threads: 18.6 head changes per call at B·H 12, L 1024 on 2 threads, now
// 12.8), the threads end within about a tile of each other, and a thread knows its next head: its
// last kWarmHeadTiles tiles of a head prefetch the next head's K and V rows, which the first tile
// of a head otherwise reads cold (that tile: +40 µs CPU on a 92 µs tile at L 1024, +22–25 µs with
// the prefetch; bench/attention-tile.cpp --tiles).
constexpr int64_t kBlockMinTiles = 8;

struct alignas(64) TileBlock {
  std::atomic<uint64_t> range{0};  // front (low 32 bits) and back (high 32): tiles [front, back) are unclaimed
};
inline uint64_t packRange(uint64_t f, uint64_t b) { return f | (b << 32); }

void forwardBlocks(const AttentionParams& p, const float* q, const float* k, const float* v, float* out, float* lse,
                   uint64_t call, int64_t ldkt, int64_t bqf, int64_t nqt) {
  const int64_t heads = p.B * p.H, units = heads * nqt;
  const int threads = int(std::min<int64_t>(poolSize(), units));
  std::vector<TileBlock> blocks(size_t(std::max(threads, 1)));
  for (int th = 0; th < threads; th++) {
    const int64_t lo = heads >= threads ? th * heads / threads * nqt : th * units / threads;
    const int64_t hi = heads >= threads ? (th + 1) * heads / threads * nqt : (th + 1) * units / threads;
    blocks[size_t(th)].range.store(packRange(uint64_t(lo), uint64_t(hi)), std::memory_order_relaxed);
  }
  const int64_t group = p.H / p.Hkv;
  // Long tiles go in groups (forwardTiles): up to kGroupTiles of one head per claim, fewer as the block
  // runs out (at most half of what is left, so the other threads still find tiles to steal).
  const int64_t want = bqf == BQFLong ? kGroupTiles : 1;
  // Claims the next tiles [u, u + n) of block `own` (one head's); refills the block from the fullest
  // other block when empty. −1: no tile left.
  auto claim = [&](int own, int64_t& back, int64_t& n) -> int64_t {
    TileBlock& mine = blocks[size_t(own)];
    for (;;) {
      uint64_t x = mine.range.load(std::memory_order_acquire);
      uint64_t f = x & 0xffffffffu, bk = x >> 32;
      if (f < bk) {
        const int64_t left = int64_t(bk - f);
        n = std::min({want, std::max<int64_t>(1, left / 2), nqt - int64_t(f) % nqt});
        if (mine.range.compare_exchange_weak(x, packRange(f + uint64_t(n), bk), std::memory_order_acq_rel)) {
          back = int64_t(bk);
          return int64_t(f);
        }
        continue;
      }
      // empty: steal the back half of the fullest other block
      int victim = -1;
      uint64_t most = 0;
      for (int o = 0; o < threads; o++) {
        if (o == own) continue;
        const uint64_t y = blocks[size_t(o)].range.load(std::memory_order_acquire);
        const uint64_t n = (y >> 32) > (y & 0xffffffffu) ? (y >> 32) - (y & 0xffffffffu) : 0;
        if (n > most) most = n, victim = o;
      }
      if (victim < 0) return -1;
      TileBlock& other = blocks[size_t(victim)];
      uint64_t y = other.range.load(std::memory_order_acquire);
      const uint64_t of = y & 0xffffffffu, ob = y >> 32;
      if (of >= ob) continue;
      const uint64_t take = (ob - of + 1) / 2;
      if (!other.range.compare_exchange_strong(y, packRange(of, ob - take), std::memory_order_acq_rel)) continue;
      // only this thread refills its own (empty) block; thieves skip an empty block, so a plain store is safe
      mine.range.store(packRange(ob - take, ob), std::memory_order_release);
    }
  };
  const double work = double(heads) * double(p.Lq) * double(p.Lk) * double(p.D + p.Dv);
  parallelForWork(threads, work, [&](int64_t task, int) {
    const int own = int(task);
    int64_t back = 0, n = 0;
    for (int64_t u = claim(own, back, n); u >= 0; u = claim(own, back, n)) {
      const int64_t bh = u / nqt, b = bh / p.H, h = bh % p.H;
      auto tileI0 = [&](int64_t unit) { return (nqt - 1 - unit % nqt) * bqf; };
      QueryTiles tiles;
      tiles.n = int(n);
      for (int g = 0; g < tiles.n; g++) tiles.i0[g] = tileI0(u + g), tiles.bq[g] = std::min(bqf, p.Lq - tiles.i0[g]);
      // the next tiles of this block are the next ones this thread runs, unless a thief takes them
      const int64_t un = u + n, nn = std::min({want, back - un, nqt - un % nqt});
      const bool next = un < back && un / nqt == bh;
      const int64_t nextI0 = next ? tileI0(un + nn - 1) : -1, nextRows = next ? tileI0(un) + bqf - nextI0 : 0;
      WarmRows warm;
      const int64_t nextBh = (bh + 1) * nqt < back ? bh + 1 : -1;
      const int64_t qtHi = nqt - 1 - u % nqt, qtLo = qtHi - n + 1;
      if (nextBh >= 0 && qtLo < kWarmHeadTiles) {
        const int64_t nb = nextBh / p.H, nhk = (nextBh % p.H) / group;
        if (nb != b || nhk != h / group) {  // a GQA group's heads share K and V
          const int64_t nw = std::min<int64_t>(kWarmHeadTiles, nqt);
          warm.k = p.kL.at(k, nb, nhk, 0);
          warm.v = p.vL.at(v, nb, nhk, 0);
          warm.r0 = p.Lk * (nw - 1 - std::min(qtHi, nw - 1)) / nw;
          warm.r1 = p.Lk * (nw - qtLo) / nw;
        }
      }
      forwardTiles<kGroupTiles>(p, q, k, ldkt, call, v, out, lse, b, h, tiles, nextI0, nextRows, warm);
    }
  });
}

}  // namespace

void attentionForward(const AttentionParams& p, const float* q, const float* k, const float* v, float* out,
                      float* lse) {
  if (p.B == 0 || p.H == 0 || p.Lq == 0) return;
  if (attentionForwardSmall(p, q, k, v, out, lse)) return;  // Lk ≤ 16: attention_small.cpp
  if (p.Lq <= kRowsMaxLq && p.dropoutP == 0.f) {
    const double rowWork = double(p.B * p.H) * double(p.Lq) * double(p.Lk) * double(p.D + p.Dv);
    parallelForWork(p.B * p.H, rowWork, [&](int64_t t, int) { forwardRows(p, q, k, v, out, lse, t / p.H, t % p.H); });
    return;
  }
  static std::atomic<uint64_t> calls{0};
  const uint64_t call = ++calls;  // tags each thread's cached Kᵀ with this call
  const int64_t ldkt = kvTileLd(p.Lk);
  // Long non-causal heads whose Kᵀ and V exceed kLongTileBytes take BQFLong-row tiles (when those
  // still make enough tiles for the block hand-out); everything else BQF.
  const bool longTiles = !p.causal && p.Lk * (p.D + p.Dv) * 4 > kLongTileBytes && (p.Lq + BQFLong - 1) / BQFLong >= kBlockMinTiles;
  const int64_t bqf = longTiles ? BQFLong : BQF;
  const int64_t nqt = (p.Lq + bqf - 1) / bqf;
  if (nqt >= kBlockMinTiles) {
    forwardBlocks(p, q, k, v, out, lse, call, ldkt, bqf, nqt);
    return;
  }
  // A task is a run of up to `run` consecutive query tiles of one head, walked from the last
  // (under a causal mask later tiles see more keys: the heaviest work is handed out first).
  // Runs keep a head's Kᵀ on one thread (transposed once, not once per thread that touches the
  // head) and let a tile prefetch its successor's q rows. About 16 runs per thread (not whole
  // heads: at B·H = 12 on 2 threads that made 6 tasks per thread, so one slowed thread left the
  // other idle for up to a sixth of the call), but at least 8 tiles (or the whole head), so each
  // thread's Kᵀ of a head serves several tiles: a thread that claims several runs of one head in a
  // row transposes its K once, two threads sharing a head transpose it twice.
  const int64_t run = std::clamp<int64_t>(p.B * p.H * nqt / (16 * int64_t(poolSize())), std::min<int64_t>(nqt, 8), nqt);
  const int64_t runsPerHead = (nqt + run - 1) / run;
  // Tiny heads (the training step's L ≈ 12–48 at B·H = 256) make runs of a microsecond: TinyTasks
  // hands them out.
  const TinyTasks tt(p.B * p.H * runsPerHead, poolSize());
  // Decoding (Lq = 1) and short sequences are far below a worker's wake-up cost.
  const double work = double(p.B * p.H) * double(p.Lq) * double(p.Lk) * double(p.D + p.Dv);
  // A run's last tile prefetches the first q rows of the task's next run and, when that is another kv
  // head whose K and V fit in L2 beside the rest, its K and V rows: short heads take a few µs each and
  // would read them cold (the forwardBlocks heads' warm rows, for the runs).
  const int64_t group = p.H / p.Hkv;
  const bool warmKv = p.Lk * (p.D + p.Dv) * 4 <= kLongTileBytes / 3;
  parallelForWork(tt.tasks, work, [&](int64_t task, int) {
    const int64_t tEnd = tt.hi(task);
    for (int64_t t = tt.lo(task); t < tEnd; t++) {
      const int64_t bh = t / runsPerHead, last = nqt - 1 - (t % runsPerHead) * run;
      const int64_t firstQt = std::max<int64_t>(0, last - run + 1);
      WarmRows warm;
      if (kWarm && t + 1 < tEnd) {
        const int64_t nbh = (t + 1) / runsPerHead, nb = nbh / p.H, nh = nbh % p.H;
        warm.q = p.qL.at(q, nb, nh, 0);
        warm.q0 = (nqt - 1 - ((t + 1) % runsPerHead) * run) * BQF;
        warm.q1 = std::min(p.Lq, warm.q0 + BQF);
        if (warmKv && (nb != bh / p.H || nh / group != (bh % p.H) / group)) {
          warm.k = p.kL.at(k, nb, nh / group, 0);
          warm.v = p.vL.at(v, nb, nh / group, 0);
          warm.r0 = 0;
          warm.r1 = p.Lk;
        }
      }
      for (int64_t qt = last; qt >= firstQt; qt--) {
        const int64_t i0 = qt * BQF;
        forwardTile(p, q, k, ldkt, call, v, out, lse, bh / p.H, bh % p.H, i0, std::min(BQF, p.Lq - i0),
                    qt > firstQt ? i0 - BQF : -1, qt == firstQt ? warm : WarmRows{});
      }
    }
  });
}

namespace {

struct BwdScratch {
  Scratch S, dP, Q, KT, VT;
};

// One key tile of one (b, kv head): dk, dv rows j0..j0+bk, and dQ contributions added to the
// rows of dqAcc (layout dqL: dq itself, or a thread's contiguous partial buffer).
void backwardTile(const AttentionParams& p, const float* q, const float* k, const float* v, const float* dOut,
                  const float* lse, const float* Dsum, float* dk, float* dv, float* dqAcc, const AttentionLayout& dqL,
                  int64_t b, int64_t hk, int64_t j0, int64_t bkT, int64_t bqs) {
  static thread_local BwdScratch ws;
  const int64_t bkTP = roundUp(bkT, W);
  float* S = ws.S.get(BQ * bkTP);
  float* dP = ws.dP.get(BQ * bkTP);
  // dK, dV accumulate in place in this key tile's rows of dk, dv (rows ldK, ldV apart): no task
  // but this one writes them, and a scratch copy written out at the end cost the training step's
  // tiny heads 5–8% (perf, L = 12)
  float* dK = p.kL.at(dk, b, hk, j0);
  float* dV = p.vL.at(dv, b, hk, j0);
  const int64_t ldK = p.kL.l, ldV = p.vL.l;
  for (int64_t j = 0; j < bkT; j++) {
    std::fill(dK + j * ldK, dK + j * ldK + p.D, 0.f);
    std::fill(dV + j * ldV, dV + j * ldV + p.Dv, 0.f);
  }
  const int64_t group = p.H / p.Hkv;
  const float* kRows = p.kL.at(k, b, hk, j0);  // rows p.kL.l apart
  // Kᵀ and Vᵀ of this key tile (D × bkP, Dv × bkP), transposed here where the rows are
  // cache-hot anyway; every query tile of every head in the group reuses them.
  float* KT = ws.KT.get(p.D * bkTP + W);
  float* VT = ws.VT.get(p.Dv * bkTP + W);
  transposePad(kRows, bkT, p.D, p.kL.l, KT, bkTP);
  transposePad(p.vL.at(v, b, hk, j0), bkT, p.Dv, p.vL.l, VT, bkTP);
  // Under a causal mask, queries i < j0 − causalOffset see none of these keys.
  int64_t iStart = p.causal ? std::max<int64_t>(0, j0 - p.causalOffset) : 0;
  iStart = iStart / bqs * bqs;
  if (p.keyLengths && j0 >= p.keyLengths[b]) iStart = p.Lq;
  for (int64_t h = hk * group; h < (hk + 1) * group; h++) {
    for (int64_t i0 = iStart; i0 < p.Lq; i0 += bqs) {
      int64_t bq = std::min(bqs, p.Lq - i0);
      const int64_t row0 = (b * p.H + h) * p.Lq + i0;  // index into lse and Dsum
      // Keys past the last row's limit (causal diagonal, key lengths) get P = 0 in every
      // row of this step: leave them out of all five products.
      const int64_t bk = std::min(bkT, keyEnd(p, b, i0 + bq - 1) - j0);
      if (bk <= 0) continue;
      const int64_t bkP = roundUp(bk, W);
      float* qRows = ws.Q.get(BQ * p.D + W);  // scale · Q, packed, so dK = dSᵀ·(scale·Q)
      scaleRowsStrided(p.qL.at(q, b, h, i0), p.qL.l, bq, p.D, p.scale, qRows);
      const float* dORows = p.oL.at(dOut, b, h, i0);  // rows p.oL.l apart
      scoreTile(p, qRows, KT, bkTP, b, h, i0, bq, j0, bk, bkP, S, 1.f);
      // P = exp(S − lse)
      bool any = false;
      for (int64_t r = 0; r < bq; r++) {
        float* row = S + r * bkP;
        float l = lse[row0 + r];
        if (l == -INFINITY) {
          for (int64_t c = 0; c < bkP; c += W) vstore(row + c, vf{});
          continue;
        }
        any = true;
        vf lv = vsplat(l);
        for (int64_t c = 0; c < bkP; c += W) vstore(row + c, vexp(vload(row + c) - lv));
      }
      if (!any) continue;
      // dP (undropped) = dO · Vᵀ
      tileGemm(bq, bkP, p.Dv, dORows, p.oL.l, 1, VT, bkTP, dP, bkP, false);
      if (p.dropoutP > 0.f) {
        // dv uses P∘z; ds uses P∘(z∘dP − D): scale dP by z, then P by z for dv only.
        applyDropout(p, b, h, i0, bq, j0, bk, bkP, dP);
        // dV += (P∘z)ᵀ · dO, with P∘z formed in a copy so S keeps P
        static thread_local Scratch pz;
        float* PZ = pz.get(BQ * bkP);
        std::copy(S, S + bq * bkP, PZ);
        applyDropout(p, b, h, i0, bq, j0, bk, bkP, PZ);
        tileGemm(bk, p.Dv, bq, PZ, 1, bkP, dORows, p.oL.l, dV, ldV, true);
      } else {
        tileGemm(bk, p.Dv, bq, S, 1, bkP, dORows, p.oL.l, dV, ldV, true);
      }
      // dS = P ∘ (dP − D_i), into dP (the factor scale is in qRows for dK, applied to dq at the end)
      for (int64_t r = 0; r < bq; r++) {
        vf Di = vsplat(Dsum[row0 + r]);
        float* pr = S + r * bkP;
        float* dr = dP + r * bkP;
        for (int64_t c = 0; c < bkP; c += W) vstore(dr + c, vload(pr + c) * (vload(dr + c) - Di));
      }
      // dK += dSᵀ · (scale·Q),  dQ += dS · K
      tileGemm(bk, p.D, bq, dP, 1, bkP, qRows, p.D, dK, ldK, true);
      tileGemm(bq, p.D, bk, dP, bkP, 1, kRows, p.kL.l, dqL.at(dqAcc, b, h, i0), dqL.l, true);
    }
  }
}

// Rows i of query head (b, h) with layout x: fill with zeros (op 0) or multiply by s (op 1).
void headRows(float* x, const AttentionLayout& xL, int64_t b, int64_t h, int64_t rows, int64_t width, int op, float s) {
  for (int64_t i = 0; i < rows; i++) {
    float* r = xL.at(x, b, h, i);
    if (op == 0) std::fill(r, r + width, 0.f);
    else scaleRows(r, width, s, r);
  }
}

}  // namespace

void attentionBackward(const AttentionParams& p, const float* q, const float* k, const float* v, const float* out,
                       const float* dOut, const float* lse, float* dq, float* dk, float* dv) {
  if (attentionBackwardSmall(p, q, k, v, out, dOut, lse, dq, dk, dv)) return;  // Lk ≤ 16: attention_small.cpp
  const int64_t nq = p.B * p.H * p.Lq;
  static thread_local Scratch dBuf, partBuf;
  // D_i = dO_i · O_i, i = (b·H + h)·Lq + row
  float* Dsum = dBuf.get(std::max<int64_t>(nq, 1));
  auto dsumRows = [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; i++) {
      const int64_t bh = i / p.Lq, r = i % p.Lq, b = bh / p.H, h = bh % p.H;
      Dsum[i] = dotRow(p.oL.at(dOut, b, h, r), p.oL.at(out, b, h, r), p.Dv);
    }
  };
  const int threads = poolSize();
  const int64_t nkt = (p.Lk + BKB - 1) / BKB;
  // Query rows per step. Under a causal mask a step covers keys up to its last row's diagonal, so
  // the upper triangle of each diagonal block is computed and thrown away: at 64 rows a third of
  // all the work at L = 128. Short causal sequences (Lk ≤ 256) take steps of 16 rows: the dK, dV
  // products then sum over 16 rows per pass instead of 64, which costs less than the triangle
  // saves there (measured on the CPU clock with bench/attention-roofline-cpu.ts: 38–54% → 43–54%
  // of peak at L = 128, 46–48% → 53% at 256; at 512, 64 rows stayed as good).
  const int64_t bqs = p.causal && p.Lk <= kBwdShortCausal ? BQ / 4 : BQ;
  const int64_t group = p.H / p.Hkv;
  if (p.B * p.Hkv >= 4 * int64_t(threads) || threads == 1 || nkt == 1) {
    // Enough (b, kv head) pairs to balance the threads: one pair walks all its key tiles, so the
    // dq rows of its query heads belong to it alone (no partial buffers, no reduction) and stay in
    // L2 from one key tile to the next. The pair computes its own heads' D_i first, so the whole
    // backward is one pool job; tiny pairs (the training step's L ≈ 12) are handed out as in the
    // forward (TinyTasks).
    const TinyTasks tt(p.B * p.Hkv, threads);
    const double work = 2.0 * double(p.B * p.H) * double(p.Lq) * double(p.Lk) * double(p.D + p.Dv);
    parallelForWork(tt.tasks, work, [&](int64_t task, int) {
      for (int64_t t = tt.lo(task); t < tt.hi(task); t++) {
        const int64_t b = t / p.Hkv, hk = t % p.Hkv;
        for (int64_t h = hk * group; h < (hk + 1) * group; h++) {
          dsumRows((b * p.H + h) * p.Lq, (b * p.H + h + 1) * p.Lq);
          headRows(dq, p.qL, b, h, p.Lq, p.D, 0, 0.f);
        }
        for (int64_t j0 = 0; j0 < p.Lk; j0 += BKB)
          backwardTile(p, q, k, v, dOut, lse, Dsum, dk, dv, dq, p.qL, b, hk, j0, std::min(BKB, p.Lk - j0), bqs);
        for (int64_t h = hk * group; h < (hk + 1) * group; h++) headRows(dq, p.qL, b, h, p.Lq, p.D, 1, p.scale);
      }
    });
    return;
  }
  parallelForWork((nq + 255) / 256, double(nq) * double(p.Dv),
                  [&](int64_t t, int) { dsumRows(t * 256, std::min(nq, t * 256 + 256)); });
  // Few heads: tasks are (b, kv head, key tile). dQ partials: each thread adds into its own
  // contiguous (B, H, Lq, D) buffer, and dq = scale · Σ partials at the end.
  const int64_t dqLen = nq * p.D;
  const AttentionLayout partL{p.H * p.Lq * p.D, p.Lq * p.D, p.D};
  float* parts = partBuf.get(std::max<int64_t>(1, threads * dqLen));
  bool used[kMaxThreads] = {};
  parallelFor(p.B * p.Hkv * nkt, [&](int64_t t, int th) {
    if (!used[th]) {
      std::fill(parts + th * dqLen, parts + (th + 1) * dqLen, 0.f);
      used[th] = true;
    }
    // Head major, so consecutive tasks of a thread reuse that head's Q, dO and dq rows
    // from L2; within a head the heaviest (first, under a causal mask) key tile goes first.
    int64_t bh = t / nkt, j0 = (t % nkt) * BKB;
    backwardTile(p, q, k, v, dOut, lse, Dsum, dk, dv, parts + th * dqLen, partL, bh / p.Hkv, bh % p.Hkv, j0,
                 std::min(BKB, p.Lk - j0), bqs);
  });
  // dq row i = scale · Σ_threads partial row i
  parallelFor((nq + 63) / 64, [&](int64_t t, int) {
    for (int64_t i = t * 64; i < std::min(nq, t * 64 + 64); i++) {
      const int64_t bh = i / p.Lq, r = i % p.Lq;
      float* dst = p.qL.at(dq, bh / p.H, bh % p.H, r);
      std::fill(dst, dst + p.D, 0.f);
      for (int th = 0; th < threads; th++) {
        if (!used[th]) continue;
        const float* src = parts + th * dqLen + i * p.D;
        for (int64_t c = 0; c < p.D; c++) dst[c] += src[c];
      }
      scaleRows(dst, p.D, p.scale, dst);
    }
  });
}

// Entry points: the Args structs (kernel_specs.gen.h) share every field of AttentionParams.
template <class A>
AttentionParams attentionParams(const A& a) {
  AttentionParams p{};
  p.B = a.B; p.H = a.H; p.Hkv = a.Hkv; p.Lq = a.Lq; p.Lk = a.Lk; p.D = a.D; p.Dv = a.Dv;
  p.scale = a.scale;
  p.causal = a.causal;
  p.causalOffset = a.causalOffset;
  p.keyLengths = a.keyLengths;
  p.mask = a.mask;
  p.maskStrideB = a.maskStrideB;
  p.maskStrideH = a.maskStrideH;
  p.alibiSlopes = a.alibiSlopes;
  p.dropoutP = a.dropoutP;
  p.dropoutSeed = static_cast<uint32_t>(a.dropoutSeed);
  return p;
}

// (B, heads, rows, width) contiguous.
AttentionLayout contiguousLayout(int64_t heads, int64_t rows, int64_t width) {
  return {heads * rows * width, rows * width, width};
}

template <class A>
void setStrides(AttentionParams& p, const A& a) {
  p.qL = {a.qStrideB, a.qStrideH, a.qStrideL};
  p.kL = {a.kStrideB, a.kStrideH, a.kStrideL};
  p.vL = {a.vStrideB, a.vStrideH, a.vStrideL};
  p.oL = {a.outStrideB, a.outStrideH, a.outStrideL};
}

void attentionForward(const AttentionForwardArgs& a) {
  AttentionParams p = attentionParams(a);
  p.qL = contiguousLayout(a.H, a.Lq, a.D);
  p.kL = contiguousLayout(a.Hkv, a.kvStride, a.D);  // a cache: kvStride rows per kv head, Lk read
  p.vL = contiguousLayout(a.Hkv, a.kvStride, a.Dv);
  p.oL = contiguousLayout(a.H, a.Lq, a.Dv);
  attentionForward(p, a.q, a.k, a.v, a.out, a.lse);
}
void attentionBackward(const AttentionBackwardArgs& a) {
  AttentionParams p = attentionParams(a);
  p.qL = contiguousLayout(a.H, a.Lq, a.D);
  p.kL = contiguousLayout(a.Hkv, a.Lk, a.D);
  p.vL = contiguousLayout(a.Hkv, a.Lk, a.Dv);
  p.oL = contiguousLayout(a.H, a.Lq, a.Dv);
  attentionBackward(p, a.q, a.k, a.v, a.out, a.dOut, a.lse, a.dq, a.dk, a.dv);
}
void attentionForwardStrided(const AttentionForwardStridedArgs& a) {
  AttentionParams p = attentionParams(a);
  setStrides(p, a);
  attentionForward(p, a.q, a.k, a.v, a.out, a.lse);
}
void attentionBackwardStrided(const AttentionBackwardStridedArgs& a) {
  AttentionParams p = attentionParams(a);
  setStrides(p, a);
  attentionBackward(p, a.q, a.k, a.v, a.out, a.dOut, a.lse, a.dq, a.dk, a.dv);
}

}  // namespace HEED_NS
}  // namespace heed
