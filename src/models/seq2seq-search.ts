/**
 * The search loops of Seq2SeqTransformer on the fused decoding step (./seq2seq-step.ts):
 * greedy decoding that drops finished rows, and batched beam search whose beams reorder the
 * caches in place. One step of beam bookkeeping (selectBeams) is shared with the module path.
 *
 * Letters: B inputs, K beam size, R rows decoded (B, or B·K with beams), V target vocabulary.
 */
import type { FusedDecoder } from './seq2seq-step.js';
import type { GreedyResult } from './greedy.js';

/** A finished or returned hypothesis: ids without BOS and EOS, and its score. */
export interface ScoredTokens {
  tokens: number[];
  score: number;
}

/** log Σ exp over row r of (R, V) logits, in float64. */
export function rowLogSumExp(logits: ArrayLike<number>, r: number, V: number): number {
  const o = r * V;
  let m = -Infinity;
  for (let v = 0; v < V; v++) if (logits[o + v] > m) m = logits[o + v];
  if (m === -Infinity) return m;
  let s = 0;
  for (let v = 0; v < V; v++) s += Math.exp(logits[o + v] - m);
  return m + Math.log(s);
}

/**
 * Greedy decoding on a fused decoder holding B rows: the most probable token until EOS or
 * maxLen. A finished row takes the caches of the last live row (one row moves per finished
 * sequence), so each step runs on the sequences still going. Same result as greedyLoop on the module path.
 */
export function fusedGreedy(dec: FusedDecoder, bos: number, eos: number, maxLen: number): GreedyResult {
  try {
    return greedyOn(dec, bos, eos, maxLen);
  } finally {
    dec.release(); // the decode is over: its buffers serve the next one
  }
}

function greedyOn(dec: FusedDecoder, bos: number, eos: number, maxLen: number): GreedyResult {
  const B = dec.rows, V = dec.vocab;
  const tokens: number[][] = Array.from({ length: B }, () => []);
  const scores = new Array<number>(B).fill(0);
  const seq = Int32Array.from({ length: B }, (_, i) => i); // row → sequence
  const last = new Int32Array(B).fill(bos);
  const live = new Uint8Array(B), index = new Int32Array(B);
  for (let t = 0; t < maxLen && dec.rows > 0; t++) {
    const R = dec.rows;
    const logits = dec.step(last, t); // (R, V)
    let n = 0;
    for (let r = 0; r < R; r++) {
      let best = 0;
      for (let v = 1; v < V; v++) if (logits[r * V + v] > logits[r * V + best]) best = v;
      const s = seq[r];
      scores[s] += logits[r * V + best] - rowLogSumExp(logits, r, V);
      live[r] = best === eos ? 0 : 1;
      if (best !== eos) { tokens[s].push(best); last[r] = best; n++; }
    }
    if (n < R) {
      // Each finished row among the first n takes the last live row beyond them.
      let tail = R - 1;
      for (let i = 0; i < n; i++) {
        if (live[i]) { index[i] = i; continue; }
        while (!live[tail]) tail--;
        index[i] = tail--;
        seq[i] = seq[index[i]];
        last[i] = last[index[i]];
      }
      dec.gather(index, n);
    }
  }
  return { tokens, scores };
}

/** The beam state of B inputs × K beams (row b·K + k). */
export class BeamState {
  beams: number[][];
  logps: Float64Array;
  readonly finished: ScoredTokens[][];
  readonly done: boolean[];

  constructor(readonly B: number, readonly K: number) {
    this.beams = Array.from({ length: B * K }, () => []);
    this.logps = Float64Array.from({ length: B * K }, (_, i) => (i % K === 0 ? 0 : -Infinity));
    this.finished = Array.from({ length: B }, () => []);
    this.done = new Array<boolean>(B).fill(false);
  }

  get live(): boolean {
    return this.done.some((d) => !d);
  }

  /** The last token of every row (BOS before the first step). */
  lastTokens(bos: number): Int32Array {
    return Int32Array.from(this.beams, (b) => (b.length === 0 ? bos : b[b.length - 1]));
  }

  /**
   * One step of beam bookkeeping from (R, V) scores: log p(v | row) = values[row·V + v] − lse[row]
   * (the module path passes log-probabilities and lse 0). Per input, the candidates are taken
   * best first (ties in row, then token order); an EOS candidate, or any at the last step,
   * finishes a hypothesis scored Σ log p / length^alpha; the first K that are not EOS become
   * the next beams. An input is done once it has K finished hypotheses or no beam left.
   * `rowOf(b·K + k)` maps a beam to its row in `values` (the fused path drops done inputs' rows).
   * Returns the parent beam (b·K + k index) of each next beam.
   */
  advance(values: ArrayLike<number>, lse: ArrayLike<number>, rowOf: (beam: number) => number, V: number, t: number, maxLen: number, eos: number, alpha: number): Int32Array {
    const { B, K } = this;
    const nextBeams: number[][] = new Array(B * K), nextLogps = new Float64Array(B * K).fill(-Infinity), order = new Int32Array(B * K);
    const top = 2 * K; // at most K candidates are EOS (one per beam), so 2K always yield K survivors
    const cScore = new Float64Array(top), cBeam = new Int32Array(top), cTok = new Int32Array(top);
    for (let b = 0; b < B; b++) {
      let nc = 0;
      if (!this.done[b]) {
        for (let k = 0; k < K; k++) {
          const bk = b * K + k, base = this.logps[bk];
          if (base === -Infinity) continue;
          const r = rowOf(bk), o = r * V, l = lse[r];
          for (let v = 0; v < V; v++) {
            const s = base + (values[o + v] - l);
            if (nc === top && !(s > cScore[nc - 1])) continue;
            let i = nc < top ? nc++ : nc - 1; // insert after every candidate scored ≥ s (a stable sort's order)
            while (i > 0 && cScore[i - 1] < s) { cScore[i] = cScore[i - 1]; cBeam[i] = cBeam[i - 1]; cTok[i] = cTok[i - 1]; i--; }
            cScore[i] = s; cBeam[i] = bk; cTok[i] = v;
          }
        }
      }
      let kept = 0;
      for (let c = 0; c < nc && kept < K; c++) {
        const s = cScore[c], bk = cBeam[c], v = cTok[c];
        if (v === eos || t === maxLen - 1) {
          this.finished[b].push({ tokens: v === eos ? [...this.beams[bk]] : [...this.beams[bk], v], score: s / Math.pow(t + 1, alpha) });
          if (v === eos) continue;
        }
        nextBeams[b * K + kept] = [...this.beams[bk], v];
        nextLogps[b * K + kept] = s;
        order[b * K + kept] = bk;
        kept++;
      }
      for (let k = kept; k < K; k++) { nextBeams[b * K + k] = []; order[b * K + k] = b * K; }
      if (this.finished[b].length >= K || kept === 0) this.done[b] = true;
    }
    this.beams = nextBeams;
    this.logps = nextLogps;
    return order;
  }

  /** Per input, its nBest finished hypotheses, best first. */
  results(nBest: number): ScoredTokens[][] {
    return this.finished.map((f) => [...f].sort((x, y) => y.score - x.score).slice(0, nBest));
  }
}

/**
 * Batched beam search on a fused decoder holding B·K rows (row b·K + k is beam k of input b):
 * one step decodes every live beam of every input; the caches then follow each beam's parent
 * (FusedDecoder.gather, in place), and the rows of finished inputs are dropped.
 */
export function fusedBeamSearch(dec: FusedDecoder, B: number, K: number, nBest: number, bos: number, eos: number, maxLen: number, alpha: number): ScoredTokens[][] {
  try {
    return beamsOn(dec, B, K, nBest, bos, eos, maxLen, alpha);
  } finally {
    dec.release();
  }
}

function beamsOn(dec: FusedDecoder, B: number, K: number, nBest: number, bos: number, eos: number, maxLen: number, alpha: number): ScoredTokens[][] {
  const V = dec.vocab, state = new BeamState(B, K);
  const rowOfBeam = Int32Array.from({ length: B * K }, (_, i) => i); // beam → decoder row (−1: dropped)
  const lse = new Float64Array(B * K);
  for (let t = 0; t < maxLen && state.live; t++) {
    const R = dec.rows, last = state.lastTokens(bos), tokens = new Int32Array(R);
    for (let bk = 0; bk < B * K; bk++) if (rowOfBeam[bk] >= 0) tokens[rowOfBeam[bk]] = last[bk];
    const logits = dec.step(tokens, t); // (R, V)
    for (let r = 0; r < R; r++) lse[r] = rowLogSumExp(logits, r, V);
    const order = state.advance(logits, lse, (bk) => rowOfBeam[bk], V, t, maxLen, eos, alpha);
    // Next rows: the beams of inputs still live, in order; each takes its parent's row.
    const index = new Int32Array(B * K);
    let n = 0;
    for (let bk = 0; bk < B * K; bk++) {
      if (state.done[Math.floor(bk / K)]) { rowOfBeam[bk] = -1; continue; }
      index[n] = rowOfBeam[order[bk]];
      n++;
    }
    let i = 0;
    for (let bk = 0; bk < B * K; bk++) if (!state.done[Math.floor(bk / K)]) rowOfBeam[bk] = i++;
    dec.gather(index, n);
  }
  return state.results(nBest);
}
