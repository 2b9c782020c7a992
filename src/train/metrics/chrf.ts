/**
 * chrF computed the way sacreBLEU computes it (sacrebleu/metrics/chrf.py, sacreBLEU 2.x): default
 * settings (character order 6, word order 0, beta 2, whitespace removed) give the same number as
 * `sacrebleu.corpus_chrf(hyps, refs).score`; wordOrder 2 gives chrF++.
 *
 * Per segment and order n, character n-grams are taken from the string with all whitespace removed
 * (code points, as Python strings index them). Statistics per order are
 *   hyp_n = number of hypothesis n-grams (0 if the reference has none),
 *   ref_n = number of reference n-grams,
 *   match_n = Σ_g min(count_hyp(g), count_ref(g)).
 * With several references a segment keeps the statistics of the reference with the best
 * segment-level score. The corpus score sums the statistics over segments, then
 *   P = mean_n (match_n / hyp_n), R = mean_n (match_n / ref_n) over orders with hyp_n > 0 and ref_n > 0,
 *   chrF = 100 · (1 + β²) · P · R / (β² · P + R)   (0 when P + R = 0).
 *
 *   corpusChrf(['the cat'], [['the cat']]).score;   // 100
 */
import { ValueError } from '../../errors.js';
import { checkReferenceStreams } from './bleu.js';
import { pythonSplit } from './tokenizer-13a.js';

export interface ChrfOptions {
  /** Character n-gram order. Default 6. */
  charOrder?: number;
  /** Word n-gram order (2 for chrF++). Default 0. */
  wordOrder?: number;
  /** Recall weight β. Default 2. */
  beta?: number;
  /** Lower-case first. Default false. */
  lowercase?: boolean;
  /** Keep whitespace inside character n-grams. Default false. */
  whitespace?: boolean;
  /** sacreBLEU's eps_smoothing (chrF++.py / NLTK / Moses behaviour). Default false. */
  epsSmoothing?: boolean;
}

export interface ChrfScore {
  /** chrF in [0, 100]. */
  score: number;
  /** Summed [hyp, ref, match] per order: char orders 1..charOrder, then word orders. */
  statistics: number[];
}

/** sacreBLEU's CHRF._PUNCTS (string.punctuation). */
const PUNCTUATION = new Set('!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~');

function count(items: string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const x of items) m.set(x, (m.get(x) ?? 0) + 1);
  return m;
}

/** Character n-gram counters of orders 1..maxOrder over code points. */
function charNgrams(line: string, maxOrder: number, whitespace: boolean): Map<string, number>[] {
  const chars = Array.from(whitespace ? line : pythonSplit(line).join(''));
  const out: Map<string, number>[] = [];
  for (let n = 1; n <= maxOrder; n++) {
    const grams: string[] = [];
    for (let i = 0; i + n <= chars.length; i++) grams.push(chars.slice(i, i + n).join(''));
    out.push(count(grams));
  }
  return out;
}

/** chrF++'s word split: one punctuation mark is split off the end (else the start) of each word. */
function splitPunctuation(line: string): string[] {
  const out: string[] = [];
  for (const w of pythonSplit(line)) {
    const cps = Array.from(w);
    if (cps.length === 1) out.push(w);
    else if (PUNCTUATION.has(cps[cps.length - 1])) out.push(cps.slice(0, -1).join(''), cps[cps.length - 1]);
    else if (PUNCTUATION.has(cps[0])) out.push(cps[0], cps.slice(1).join(''));
    else out.push(w);
  }
  return out;
}

function ngramsOf(line: string, o: Required<Pick<ChrfOptions, 'charOrder' | 'wordOrder' | 'whitespace'>>): Map<string, number>[] {
  const all = charNgrams(line, o.charOrder, o.whitespace);
  if (o.wordOrder > 0) {
    const words = splitPunctuation(line);
    for (let n = 1; n <= o.wordOrder; n++) {
      const grams: string[] = [];
      for (let i = 0; i + n <= words.length; i++) grams.push(words.slice(i, i + n).join(' '));
      all.push(count(grams));
    }
  }
  return all;
}

/** chrF (0..100) from [hyp, ref, match] statistics per order (sacreBLEU's CHRF._compute_f_score). */
export function chrfFromStatistics(stats: readonly number[], beta = 2, epsSmoothing = false): number {
  const eps = 1e-16;
  const factor = beta ** 2;
  const order = stats.length / 3;
  let score = 0, avgPrec = 0, avgRec = 0, effective = 0;
  for (let i = 0; i < order; i++) {
    const [nHyp, nRef, nMatch] = [stats[3 * i], stats[3 * i + 1], stats[3 * i + 2]];
    const prec = nHyp > 0 ? nMatch / nHyp : eps;
    const rec = nRef > 0 ? nMatch / nRef : eps;
    const denom = factor * prec + rec;
    score += denom > 0 ? ((1 + factor) * prec * rec) / denom : eps;
    if (nHyp > 0 && nRef > 0) {
      avgPrec += prec;
      avgRec += rec;
      effective++;
    }
  }
  if (epsSmoothing) return (100 * score) / order;
  if (effective === 0) return 0;
  avgPrec /= effective;
  avgRec /= effective;
  if (avgPrec + avgRec === 0) return 0;
  return (100 * (1 + factor) * avgPrec * avgRec) / (factor * avgPrec + avgRec);
}

/**
 * Corpus chrF of `hypotheses` against reference streams (sacreBLEU layout: references[k][i] is the
 * k-th reference of segment i, or null), as sacrebleu.corpus_chrf.
 */
export function corpusChrf(hypotheses: readonly string[], references: readonly (readonly (string | null)[])[], options: ChrfOptions = {}): ChrfScore {
  checkReferenceStreams('corpusChrf', hypotheses, references);
  const o = { charOrder: options.charOrder ?? 6, wordOrder: options.wordOrder ?? 0, whitespace: options.whitespace ?? false };
  const beta = options.beta ?? 2;
  if (!Number.isInteger(o.charOrder) || o.charOrder < 0 || !Number.isInteger(o.wordOrder) || o.wordOrder < 0 || o.charOrder + o.wordOrder === 0) {
    throw new ValueError(`corpusChrf: charOrder=${o.charOrder}, wordOrder=${o.wordOrder}; expected non-negative integers with a positive sum.`);
  }
  if (!(beta >= 0)) throw new ValueError(`corpusChrf: beta=${beta}, expected a non-negative number.`);
  const prep = (s: string): string => (options.lowercase ? s.toLowerCase() : s);
  const eps = options.epsSmoothing ?? false;

  const total = new Array<number>(3 * (o.charOrder + o.wordOrder)).fill(0);
  hypotheses.forEach((hyp, i) => {
    const hypNgrams = ngramsOf(prep(hyp), o);
    let best: number[] = [];
    let bestF = -1;
    for (const stream of references) {
      const ref = stream[i];
      if (ref === null) continue;
      const refNgrams = ngramsOf(prep(ref), o);
      const stats: number[] = [];
      hypNgrams.forEach((h, n) => {
        const r = refNgrams[n];
        let hypCount = 0, match = 0, refCount = 0;
        for (const [g, c] of h) {
          hypCount += c;
          match += Math.min(c, r.get(g) ?? 0);
        }
        for (const c of r.values()) refCount += c;
        stats.push(r.size > 0 ? hypCount : 0, refCount, match);
      });
      const f = chrfFromStatistics(stats, beta, eps);
      if (f > bestF) {
        bestF = f;
        best = stats;
      }
    }
    best.forEach((v, k) => (total[k] += v));
  });
  return { score: chrfFromStatistics(total, beta, eps), statistics: total };
}
