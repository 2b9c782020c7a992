/**
 * Which tag may follow which in a BIO (IOB2) or BIOES (IOBES) sequence, and Viterbi search over
 * per-token scores under those rules. Shared by nn.CRF (its optional constraints and decode) and by
 * the decode-time repair for taggers without a CRF (train/tag-repair.ts).
 *
 * Rules (a tag is 'O' or P-TYPE):
 *   BIO:   a sentence starts with O or B-X; I-X may only follow B-X or I-X; any tag may end it.
 *   BIOES: a sentence starts with O, B-X or S-X; after O, E-* or S-* come O, B-* or S-*;
 *          after B-X or I-X come I-X or E-X only; a sentence ends with O, E-* or S-*.
 *
 * Viterbi (letters: T tokens, K tags; scores are log-domain, −∞ forbids):
 *   δ_0(j) = start_j + e_0(j);  δ_t(j) = max_i δ_{t−1}(i) + A(i, j) + e_t(j);  best = max_j δ_{T−1}(j) + end_j,
 * then follow the back-pointers. Ties go to the lower tag index.
 *
 *   const allowed = allowedTransitions(['O', 'B-PER', 'I-PER'], 'BIO');
 *   allowed.transitions[0][2];   // false: O → I-PER is not BIO
 */
import { ShapeError, ValueError } from '../errors.js';

export type TransitionScheme = 'BIO' | 'IOB2' | 'BIOES' | 'IOBES';
export const TRANSITION_SCHEMES: readonly TransitionScheme[] = ['BIO', 'IOB2', 'BIOES', 'IOBES'];

export interface AllowedTransitions {
  /** start[j]: tag j may open a sentence. (K) */
  start: boolean[];
  /** end[j]: tag j may close a sentence. (K) */
  end: boolean[];
  /** transitions[i][j]: tag j may follow tag i. (K, K) */
  transitions: boolean[][];
}

/** A tag split into its prefix ('O', 'B', 'I', 'E', 'S') and type ('' for O). */
export interface ParsedTag {
  prefix: string;
  type: string;
}

function isBioes(scheme: TransitionScheme): boolean {
  if (!TRANSITION_SCHEMES.includes(scheme)) {
    throw new ValueError(`allowedTransitions: scheme '${String(scheme)}' is unknown; expected one of ${TRANSITION_SCHEMES.join(', ')}.`);
  }
  return scheme === 'BIOES' || scheme === 'IOBES';
}

/** Splits 'B-PER' into { prefix: 'B', type: 'PER' }; throws unless the tag belongs to the scheme. */
export function parseTag(tag: string, scheme: TransitionScheme): ParsedTag {
  const prefixes = isBioes(scheme) ? 'BIES' : 'BI';
  if (tag === 'O') return { prefix: 'O', type: '' };
  const ok = typeof tag === 'string' && tag.length > 2 && tag[1] === '-' && prefixes.includes(tag[0]);
  if (!ok) {
    const forms = [...prefixes].map((p) => `${p}-TYPE`).join(', ');
    throw new ValueError(`parseTag: tag ${JSON.stringify(tag)} is not a ${scheme} tag; expected 'O' or one of ${forms}.`);
  }
  return { prefix: tag[0], type: tag.slice(2) };
}

/** The allowed start tags, end tags and transitions of `tags` (the model's label list) under `scheme`. */
export function allowedTransitions(tags: readonly string[], scheme: TransitionScheme): AllowedTransitions {
  const bioes = isBioes(scheme);
  const parsed = tags.map((t) => parseTag(t, scheme));
  const closes = (p: ParsedTag) => p.prefix === 'O' || p.prefix === 'E' || p.prefix === 'S';
  const opens = (p: ParsedTag) => p.prefix === 'O' || p.prefix === 'B' || p.prefix === 'S';
  const follows = (a: ParsedTag, b: ParsedTag): boolean => {
    if (!bioes) return b.prefix !== 'I' || ((a.prefix === 'B' || a.prefix === 'I') && a.type === b.type);
    if (closes(a)) return opens(b);
    return (b.prefix === 'I' || b.prefix === 'E') && a.type === b.type; // a is B-X or I-X
  };
  return {
    start: parsed.map((p) => opens(p)),
    end: parsed.map((p) => (bioes ? closes(p) : true)),
    transitions: parsed.map((a) => parsed.map((b) => follows(a, b))),
  };
}

/**
 * Additive log-domain masks of `allowed`: 0 where allowed, `forbidden` (−∞ by default) elsewhere.
 * Returns flat arrays: start (K), end (K), transitions (K·K, row i = from tag i).
 */
export function transitionPenalties(allowed: AllowedTransitions, forbidden = -Infinity): { start: number[]; end: number[]; transitions: number[] } {
  const f = (ok: boolean) => (ok ? 0 : forbidden);
  return { start: allowed.start.map(f), end: allowed.end.map(f), transitions: allowed.transitions.flat().map(f) };
}

export interface ViterbiResult {
  /** Best tag index per token. (T) */
  path: number[];
  /** Its score, start + Σ emissions + Σ transitions + end; −∞ when every path is forbidden. */
  score: number;
}

/**
 * The highest-scoring tag path through per-token scores.
 *
 * Args:
 *   emissions: (T, K) row-major, e_t(j).
 *   transitions: (K, K) row-major, A(i, j) = score of tag j after tag i.
 *   start, end: (K) scores of opening and closing with each tag.
 * Returns: the path and its score (T = 0 gives an empty path with score 0).
 */
export function viterbi(emissions: ArrayLike<number>, T: number, K: number, transitions: ArrayLike<number>, start: ArrayLike<number>, end: ArrayLike<number>): ViterbiResult {
  if (emissions.length !== T * K || transitions.length !== K * K || start.length !== K || end.length !== K) {
    throw new ShapeError(`viterbi: received emissions of ${emissions.length} values for T=${T}, K=${K}, transitions of ${transitions.length}, start of ${start.length}, end of ${end.length}; expected T·K, K·K, K and K.`);
  }
  if (T === 0) return { path: [], score: 0 };
  let delta = new Float64Array(K); // (K) best score of a path ending in each tag
  for (let j = 0; j < K; j++) delta[j] = start[j] + emissions[j];
  const back = new Int32Array(T * K); // (T, K) best previous tag
  for (let t = 1; t < T; t++) {
    const next = new Float64Array(K);
    for (let j = 0; j < K; j++) {
      let best = -Infinity, arg = 0;
      for (let i = 0; i < K; i++) {
        const s = delta[i] + transitions[i * K + j];
        if (s > best) {
          best = s;
          arg = i;
        }
      }
      next[j] = best + emissions[t * K + j];
      back[t * K + j] = arg;
    }
    delta = next;
  }
  let score = -Infinity, last = 0;
  for (let j = 0; j < K; j++) {
    const s = delta[j] + end[j];
    if (s > score) {
      score = s;
      last = j;
    }
  }
  const path = new Array<number>(T);
  path[T - 1] = last;
  for (let t = T - 1; t > 0; t--) path[t - 1] = back[t * K + path[t]];
  return { path, score };
}
