/**
 * Corpus BLEU computed the way sacreBLEU computes it (sacrebleu/metrics/bleu.py, sacreBLEU 2.x):
 * default settings give the same number as `sacrebleu.corpus_bleu(hyps, refs).score`.
 *
 * Each segment is lower-cased if asked, right-stripped and 13a-tokenized (./tokenizer-13a.ts).
 * For n = 1..N (N = 4):
 *   matches_n = Σ_segments Σ_{g ∈ n-grams(hyp)} min(count_hyp(g), max_r count_ref_r(g))   (clipping)
 *   totals_n  = Σ_segments (number of n-grams in hyp)
 *   p_n = 100 · matches_n / totals_n
 * The reference length of a segment is the reference length closest to the hypothesis length
 * (the shorter one on a tie); with c = Σ hyp lengths and r = Σ closest reference lengths,
 *   BP = 1 if c ≥ r, else exp(1 − r/c) (0 when c = 0),
 *   BLEU = BP · exp((1/N) Σ_n log p_n),   log 0 taken as −9999999999 (sacreBLEU's my_log).
 * If no n-gram matches at all, BLEU = 0. Smoothing for a zero p_n (Chen & Cherry 2014):
 *   'exp'   (default, mteval-v13a / NIST): the k-th zero precision becomes 100 / (2^k · totals_n);
 *   'floor' p_n = 100 · smoothValue / totals_n (smoothValue default 0.1);
 *   'add-k' matches_n and totals_n += smoothValue for n > 1 (default 1);
 *   'none'.
 * Orders with totals_n = 0 stop the loop (their p_n stays 0); with effectiveOrder the mean then
 * runs over the orders seen, as sacreBLEU's effective_order.
 *
 * References come in sacreBLEU's layout: a list of reference *streams*, each holding one string per
 * hypothesis. A null entry means "this segment has no reference in this stream".
 *
 *   corpusBleu(['the cat sat on the mat'], [['the cat sat on the mat']]).score;   // 100
 */
import { ShapeError, ValueError } from '../../errors.js';
import { pythonRstrip, pythonSplit, tokenize13a } from './tokenizer-13a.js';

export type BleuSmoothing = 'exp' | 'floor' | 'add-k' | 'none';
export const BLEU_SMOOTHING: readonly BleuSmoothing[] = ['exp', 'floor', 'add-k', 'none'];

export interface BleuOptions {
  /** Lower-case hypotheses and references first. Default false. */
  lowercase?: boolean;
  /** '13a' (sacreBLEU's default) or 'none' (split on whitespace only). */
  tokenize?: '13a' | 'none';
  /** Default 'exp', sacreBLEU's default. */
  smoothMethod?: BleuSmoothing;
  /** For 'floor' (default 0.1) and 'add-k' (default 1). */
  smoothValue?: number;
  /** Largest n-gram order N. Default 4. */
  maxNgramOrder?: number;
  /** Average over the orders that have any hypothesis n-gram only. Default false. */
  effectiveOrder?: boolean;
}

export interface BleuScore {
  /** BLEU in [0, 100]. */
  score: number;
  /** Clipped matches per order, matches_n. */
  counts: number[];
  /** Hypothesis n-grams per order, totals_n. */
  totals: number[];
  /** p_n in percent, after smoothing. */
  precisions: number[];
  /** Brevity penalty. */
  bp: number;
  /** c: total hypothesis length in tokens. */
  sysLen: number;
  /** r: total closest reference length in tokens. */
  refLen: number;
}

const SMOOTH_DEFAULTS: Record<BleuSmoothing, number> = { exp: 0, floor: 0.1, 'add-k': 1, none: 0 };

/** n-gram counts of every order 1..maxOrder, keyed by the words joined with a space. */
function wordNgrams(tokens: string[], maxOrder: number): Map<string, number>[] {
  const out: Map<string, number>[] = [];
  for (let n = 1; n <= maxOrder; n++) {
    const m = new Map<string, number>();
    for (let i = 0; i + n <= tokens.length; i++) {
      const g = tokens.slice(i, i + n).join(' ');
      m.set(g, (m.get(g) ?? 0) + 1);
    }
    out.push(m);
  }
  return out;
}

/** sacreBLEU's _get_closest_ref_len: closest length, the shorter one on a tie. */
function closestRefLen(hypLen: number, refLens: number[]): number {
  let bestDiff = -1, best = -1;
  for (const len of refLens) {
    const d = Math.abs(hypLen - len);
    if (bestDiff === -1 || d < bestDiff) {
      bestDiff = d;
      best = len;
    } else if (d === bestDiff && len < best) {
      best = len;
    }
  }
  return best;
}

/** Checks sacreBLEU-layout references: streams of one string (or null) per hypothesis. */
export function checkReferenceStreams(op: string, hypotheses: readonly string[], references: readonly (readonly (string | null)[])[]): void {
  if (!Array.isArray(hypotheses) || hypotheses.some((h) => typeof h !== 'string')) {
    throw new ValueError(`${op}: hypotheses must be an array of strings, one per segment.`);
  }
  if (hypotheses.length === 0) throw new ValueError(`${op}: hypotheses is empty; expected at least one segment.`);
  if (!Array.isArray(references) || references.length === 0 || references.some((s) => !Array.isArray(s))) {
    throw new ValueError(`${op}: references must be a non-empty array of reference streams (string[][]), each with one reference per hypothesis, as sacreBLEU's corpus_score. Fix: for one reference per segment pass [refs].`);
  }
  references.forEach((stream, k) => {
    if (stream.length !== hypotheses.length) {
      throw new ShapeError(`${op}: reference stream ${k} has ${stream.length} segments but there are ${hypotheses.length} hypotheses; expected one reference per hypothesis in every stream.`);
    }
    stream.forEach((r: string | null, i: number) => {
      if (r !== null && typeof r !== 'string') throw new ValueError(`${op}: references[${k}][${i}] is ${JSON.stringify(r)}, expected a string or null.`);
    });
  });
  hypotheses.forEach((_, i) => {
    if (references.every((s) => s[i] === null)) throw new ValueError(`${op}: segment ${i} has no reference in any stream; expected at least one.`);
  });
}

/** BLEU from summed statistics (sacreBLEU's BLEU.compute_bleu). */
export function computeBleu(counts: number[], totals: number[], sysLen: number, refLen: number, options: BleuOptions = {}): BleuScore {
  const method = options.smoothMethod ?? 'exp';
  if (!BLEU_SMOOTHING.includes(method)) throw new ValueError(`computeBleu: smoothMethod '${String(method)}' is unknown; expected one of ${BLEU_SMOOTHING.join(', ')}.`);
  const smoothValue = options.smoothValue ?? SMOOTH_DEFAULTS[method];
  const N = options.maxNgramOrder ?? 4;
  counts = counts.slice();
  totals = totals.slice();
  let bp = 1;
  if (sysLen < refLen) bp = sysLen > 0 ? Math.exp(1 - refLen / sysLen) : 0;
  const precisions = new Array<number>(N).fill(0);
  const result = (score: number): BleuScore => ({ score, counts, totals, precisions, bp, sysLen, refLen });
  if (!counts.some((c) => c !== 0)) return result(0);

  let smoothMteval = 1;
  let effOrder = N;
  for (let n = 1; n <= N; n++) {
    if (method === 'add-k' && n > 1) {
      counts[n - 1] += smoothValue;
      totals[n - 1] += smoothValue;
    }
    if (totals[n - 1] === 0) break;
    if (options.effectiveOrder) effOrder = n;
    if (counts[n - 1] === 0) {
      if (method === 'exp') {
        smoothMteval *= 2;
        precisions[n - 1] = 100 / (smoothMteval * totals[n - 1]);
      } else if (method === 'floor') {
        precisions[n - 1] = (100 * smoothValue) / totals[n - 1];
      }
    } else {
      precisions[n - 1] = (100 * counts[n - 1]) / totals[n - 1];
    }
  }
  const myLog = (p: number): number => (p === 0 ? -9999999999 : Math.log(p));
  let logSum = 0;
  for (let n = 0; n < effOrder; n++) logSum += myLog(precisions[n]);
  return result(bp * Math.exp(logSum / effOrder));
}

/**
 * Corpus BLEU of `hypotheses` against reference streams, as sacrebleu.corpus_bleu.
 *
 * Args:
 *   hypotheses: one detokenized string per segment.
 *   references: reference streams; references[k][i] is the k-th reference of segment i (or null).
 * Returns: the score and its statistics.
 */
export function corpusBleu(hypotheses: readonly string[], references: readonly (readonly (string | null)[])[], options: BleuOptions = {}): BleuScore {
  checkReferenceStreams('corpusBleu', hypotheses, references);
  const N = options.maxNgramOrder ?? 4;
  if (!Number.isInteger(N) || N < 1) throw new ValueError(`corpusBleu: maxNgramOrder=${N}, expected a positive integer.`);
  const tokenize = options.tokenize ?? '13a';
  if (tokenize !== '13a' && tokenize !== 'none') throw new ValueError(`corpusBleu: tokenize '${String(tokenize)}' is unknown; expected '13a' or 'none'.`);
  const preprocess = (s: string): string[] => {
    if (options.lowercase) s = s.toLowerCase();
    s = pythonRstrip(s);
    return pythonSplit(tokenize === '13a' ? tokenize13a(s) : s);
  };

  const counts = new Array<number>(N).fill(0);
  const totals = new Array<number>(N).fill(0);
  let sysLen = 0, refLen = 0;
  hypotheses.forEach((hyp, i) => {
    // Reference side: per n-gram, the largest count over this segment's references.
    const refMax = new Map<string, number>();
    const refLens: number[] = [];
    for (const stream of references) {
      const ref = stream[i];
      if (ref === null) continue;
      const tokens = preprocess(ref);
      refLens.push(tokens.length);
      for (const m of wordNgrams(tokens, N)) for (const [g, c] of m) refMax.set(g, Math.max(refMax.get(g) ?? 0, c));
    }
    const hypTokens = preprocess(hyp);
    sysLen += hypTokens.length;
    refLen += closestRefLen(hypTokens.length, refLens);
    wordNgrams(hypTokens, N).forEach((m, n) => {
      for (const [g, c] of m) {
        totals[n] += c;
        counts[n] += Math.min(c, refMax.get(g) ?? 0);
      }
    });
  });
  return computeBleu(counts, totals, sysLen, refLen, options);
}
