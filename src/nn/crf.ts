/**
 * CRF: a linear-chain conditional random field output layer for sequence tagging (Lafferty et al.
 * 2001; as in Lample et al. 2016 and the pytorch-crf package: the same parameters and math).
 *
 * Letters: B batch, T time (tokens), K tags, L_b the length of sequence b (its mask's true count).
 *
 * A tag path y scores, for emissions e (B, T, K) from the tagger,
 *   s(y) = start[y_0] + Σ_{t<L} e_t(y_t) + Σ_{0<t<L} A[y_{t−1}, y_t] + end[y_{L−1}],
 * and p(y | e) = exp s(y) / Z with Z = Σ_{y'} exp s(y'). The loss is the negative log-likelihood
 *   NLL = log Z − s(gold),
 * where log Z comes from the forward algorithm, in the log domain:
 *   α_0(j) = start[j] + e_0(j),
 *   α_t(j) = logsumexp_i(α_{t−1}(i) + A[i, j]) + e_t(j)   (α_t = α_{t−1} where mask_t is false),
 *   log Z = logsumexp_j(α_{L−1}(j) + end[j]).
 * It is built from heed's differentiable ops, so backward gives every gradient.
 * decode() is Viterbi over the same scores (nn/tag-transitions.ts).
 *
 * Padding: mask (B, T) is true on real tokens; each row must be a prefix (true up to L_b, then false)
 * with mask[:, 0] true, as pytorch-crf requires.
 *
 * Constraints (optional): given the tag names and 'BIO' / 'BIOES', decode() never returns a sequence
 * the scheme forbids, and the loss adds −10⁴ to every forbidden start, end and transition score
 * (AllenNLP's choice: a finite penalty keeps the loss and its gradient finite).
 *
 *   const crf = new nn.CRF(5);
 *   const loss = crf.call(emissions, tags, { mask });   // emissions (B, T, 5), tags (B, T) int32 → scalar
 *   loss.backward();
 *   const best = crf.decode(emissions, { mask });       // number[][], one path of length L_b per row
 */
import { Tensor, empty } from '../tensor/tensor.js';
import { add, sub, mul } from '../ops/elementwise.js';
import { logsumexp, sum, mean } from '../ops/reduce.js';
import { narrow, reshape, unsqueeze } from '../ops/shape.js';
import { gather, indexSelect, where } from '../ops/indexing.js';
import { noGrad } from '../autograd/mode.js';
import { Module } from './module.js';
import { Parameter } from './parameter.js';
import { uniform } from './init.js';
import { checkPositiveInt } from './linear.js';
import { allowedTransitions, transitionPenalties, viterbi } from './tag-transitions.js';
import type { TransitionScheme } from './tag-transitions.js';
import { ConfigError, DTypeError, ShapeError, ValueError, fmtShape } from '../errors.js';

/** Score added to a forbidden transition in the loss (decode forbids it outright). */
export const CRF_FORBIDDEN_SCORE = -1e4;

export interface CRFConstraints {
  /** The K tag names, in emission column order. */
  labels: readonly string[];
  scheme: TransitionScheme;
}

export interface CRFOptions {
  /** Forbid the transitions a tagging scheme does not allow. */
  constraints?: CRFConstraints;
}

export interface CRFCallOptions {
  /** (B, T) bool, true on real tokens; default all true. */
  mask?: Tensor;
  /** 'mean' over the batch (default), 'sum', 'none' ((B) per sequence) or 'tokenMean' (sum / Σ L_b). */
  reduction?: 'mean' | 'sum' | 'none' | 'tokenMean';
}

/** The score tensors of a CRF: A (K, K), start (K), end (K), each already including any penalties. */
export interface CRFScores {
  transitions: Tensor;
  start: Tensor;
  end: Tensor;
}

/** Sequence lengths from a prefix mask; checks shape and layout. */
function lengthsOf(op: string, mask: Tensor | undefined, B: number, T: number): number[] {
  if (mask === undefined) return new Array<number>(B).fill(T);
  if (mask.dtype !== 'bool') throw new DTypeError(`${op}: mask has dtype ${mask.dtype}, expected bool (true on real tokens). Fix: build it with { dtype: 'bool' }.`);
  if (mask.ndim !== 2 || mask.shape[0] !== B || mask.shape[1] !== T) {
    throw new ShapeError(`${op}: mask has shape ${fmtShape(mask.shape)}, expected [${B}, ${T}] (batch, time) like the emissions.`);
  }
  const lengths: number[] = [];
  for (let b = 0; b < B; b++) {
    let L = 0;
    while (L < T && mask.data[b * T + L]) L++;
    for (let t = L; t < T; t++) {
      if (mask.data[b * T + t]) throw new ValueError(`${op}: mask row ${b} has a true after a false (at t=${t}); expected padding only at the end of each sequence.`);
    }
    if (T > 0 && L === 0) throw new ValueError(`${op}: mask row ${b} is all false; every sequence needs at least one token (mask[:, 0] must be true).`);
    lengths.push(L);
  }
  return lengths;
}

function checkEmissions(op: string, emissions: Tensor, K: number): [number, number] {
  if (emissions.dtype !== 'float32' && emissions.dtype !== 'float64') throw new DTypeError(`${op}: emissions has dtype ${emissions.dtype}, expected float32 or float64.`);
  if (emissions.ndim !== 3 || emissions.shape[2] !== K) {
    throw new ShapeError(`${op}: emissions has shape ${fmtShape(emissions.shape)}, expected [B, T, ${K}] (batch, time, numTags).`);
  }
  if (emissions.shape[1] === 0) throw new ShapeError(`${op}: emissions has T = 0 tokens; expected at least one.`);
  return [emissions.shape[0], emissions.shape[1]];
}

/**
 * The CRF negative log-likelihood log Z − s(gold) of each sequence, reduced. The functional form of
 * CRF.forward (gradcheck runs it on float64 tensors).
 *
 * Args:
 *   emissions: (B, T, K) float.
 *   tags: (B, T) int32 gold tags (values at padded positions are ignored but must be in range).
 *   scores: the transition, start and end scores (K, K), (K), (K).
 * Returns: a scalar, or (B) with reduction 'none'.
 */
export function crfNegativeLogLikelihood(emissions: Tensor, tags: Tensor, scores: CRFScores, options: CRFCallOptions = {}): Tensor {
  const op = 'crfNegativeLogLikelihood';
  const K = scores.start.shape[0];
  const [B, T] = checkEmissions(op, emissions, K);
  if (tags.dtype !== 'int32' || tags.ndim !== 2 || tags.shape[0] !== B || tags.shape[1] !== T) {
    throw new ShapeError(`${op}: tags has shape ${fmtShape(tags.shape)} and dtype ${tags.dtype}, expected int32 [${B}, ${T}] like the emissions' batch and time.`);
  }
  for (let i = 0; i < tags.size; i++) {
    const v = tags.data[i];
    if (v < 0 || v >= K) throw new ValueError(`${op}: tags holds ${v} at (${Math.floor(i / T)}, ${i % T}), expected 0 ≤ tag < ${K} (numTags).`);
  }
  const lengths = lengthsOf(op, options.mask, B, T);
  const reduction = options.reduction ?? 'mean';
  const { transitions: A, start, end } = scores;

  // ---- log Z by the forward algorithm ----
  const emitAt = (t: number) => reshape(narrow(emissions, 1, t, 1), [B, K]); // (B, K)
  let alpha = add(unsqueeze(start, 0), emitAt(0)); // (B, K)
  const A3 = unsqueeze(A, 0); // (1, K, K)
  for (let t = 1; t < T; t++) {
    const paths = add(unsqueeze(alpha, 2), A3); // (B, K_from, K_to)
    const next = add(logsumexp(paths, 1), emitAt(t)); // (B, K)
    const active = lengths.filter((L) => L > t).length;
    if (active === B) {
      alpha = next;
    } else {
      // A finished sequence keeps its α: its later tokens are padding.
      const keep = empty([B, 1], 'bool'); // (B, 1)
      lengths.forEach((L, b) => (keep.data[b] = L > t ? 1 : 0));
      alpha = where(keep, next, alpha); // (B, K)
    }
  }
  const logZ = logsumexp(add(alpha, unsqueeze(end, 0)), 1); // (B)

  // ---- s(gold) ----
  const dtype = emissions.dtype;
  const maskF = empty([B, T], dtype); // (B, T) 1 on real tokens
  lengths.forEach((L, b) => maskF.data.fill(1, b * T, b * T + L));
  const goldIdx = reshape(tags, [B, T, 1]); // (B, T, 1)
  const emitGold = sum(mul(reshape(gather(emissions, 2, goldIdx), [B, T]), maskF), 1); // (B)
  const first = empty([B], 'int32');
  const last = empty([B], 'int32');
  lengths.forEach((L, b) => {
    first.data[b] = tags.data[b * T];
    last.data[b] = tags.data[b * T + L - 1];
  });
  let gold = add(add(emitGold, indexSelect(start, 0, first)), indexSelect(end, 0, last)); // (B)
  if (T > 1) {
    const pairs = empty([B * (T - 1)], 'int32'); // flat index y_{t−1}·K + y_t into A
    const pairMask = empty([B, T - 1], dtype);
    for (let b = 0; b < B; b++) {
      for (let t = 1; t < T; t++) {
        pairs.data[b * (T - 1) + t - 1] = tags.data[b * T + t - 1] * K + tags.data[b * T + t];
        pairMask.data[b * (T - 1) + t - 1] = t < lengths[b] ? 1 : 0;
      }
    }
    const transGold = reshape(indexSelect(reshape(A, [K * K]), 0, pairs), [B, T - 1]); // (B, T−1)
    gold = add(gold, sum(mul(transGold, pairMask), 1)); // (B)
  }

  const nll = sub(logZ, gold); // (B)
  switch (reduction) {
    case 'none': return nll;
    case 'sum': return sum(nll);
    case 'mean': return mean(nll);
    case 'tokenMean': return mul(sum(nll), 1 / lengths.reduce((a, b) => a + b, 0));
    default: throw new ValueError(`${op}: reduction '${String(reduction)}' is unknown; expected 'mean', 'sum', 'none' or 'tokenMean'.`);
  }
}

export class CRF extends Module {
  readonly numTags: number;
  readonly constraints: CRFConstraints | null;
  /** A[i, j]: score of tag j right after tag i. (K, K) */
  transitions: Parameter;
  /** Score of opening a sequence with each tag. (K) */
  startTransitions: Parameter;
  /** Score of closing a sequence with each tag. (K) */
  endTransitions: Parameter;
  /** Additive penalties from the constraints (0 or −10⁴), or null. */
  private readonly penalties: { transitions: Tensor; start: Tensor; end: Tensor } | null;
  /** decode()'s hard penalties (0 or −∞) from the constraints, or null: fixed with them, so made once. */
  private readonly hardPenalties: { transitions: number[]; start: number[]; end: number[] } | null;

  /**
   * Args:
   *   numTags: K.
   *   options.constraints: { labels, scheme } to forbid transitions a BIO / BIOES scheme does not allow.
   * Init as pytorch-crf: every score ~ U(−0.1, 0.1).
   */
  constructor(numTags: number, options: CRFOptions = {}) {
    super();
    checkPositiveInt('CRF', 'numTags', numTags);
    this.numTags = numTags;
    this.transitions = new Parameter(uniform(empty([numTags, numTags]), -0.1, 0.1)); // (K, K)
    this.startTransitions = new Parameter(uniform(empty([numTags]), -0.1, 0.1)); // (K)
    this.endTransitions = new Parameter(uniform(empty([numTags]), -0.1, 0.1)); // (K)
    this.constraints = options.constraints ?? null;
    if (this.constraints) {
      const { labels, scheme } = this.constraints;
      if (labels.length !== numTags) {
        throw new ConfigError(`CRF: constraints.labels has ${labels.length} tags but numTags=${numTags}; expected one label per tag.`);
      }
      const p = transitionPenalties(allowedTransitions(labels, scheme), CRF_FORBIDDEN_SCORE);
      const t = (values: number[], shape: number[]) => new Tensor(Float32Array.from(values), shape);
      this.penalties = { transitions: t(p.transitions, [numTags, numTags]), start: t(p.start, [numTags]), end: t(p.end, [numTags]) };
      this.hardPenalties = transitionPenalties(allowedTransitions(labels, scheme));
    } else {
      this.penalties = null;
      this.hardPenalties = null;
    }
  }

  /** The effective scores (parameters plus any constraint penalties), differentiable. */
  scores(): CRFScores {
    if (!this.penalties) return { transitions: this.transitions, start: this.startTransitions, end: this.endTransitions };
    const cast = (t: Tensor) => (this.transitions.dtype === 'float32' ? t : new Tensor(Float64Array.from(t.data as Float32Array), t.shape));
    return {
      transitions: add(this.transitions, cast(this.penalties.transitions)),
      start: add(this.startTransitions, cast(this.penalties.start)),
      end: add(this.endTransitions, cast(this.penalties.end)),
    };
  }

  /**
   * Negative log-likelihood of the gold tags.
   *
   * Call arguments:
   *   emissions: (B, T, K) per-token tag scores from the tagger.
   *   tags: (B, T) int32 gold tag indices.
   *   options.mask: (B, T) bool, true on real tokens (default all true).
   *   options.reduction: 'mean' (default), 'sum', 'none' or 'tokenMean'.
   * Returns: a scalar loss ((B) with 'none').
   */
  override forward(emissions: Tensor, tags: Tensor, options: CRFCallOptions = {}): Tensor {
    return crfNegativeLogLikelihood(emissions, tags, this.scores(), options);
  }

  /**
   * The best tag path of each sequence by Viterbi (respecting the constraints, if any).
   *
   * Args:
   *   emissions: (B, T, K).
   *   options.mask: (B, T) bool prefix mask.
   * Returns: B arrays of tag indices, row b of length L_b.
   */
  decode(emissions: Tensor, options: { mask?: Tensor } = {}): number[][] {
    return this.decodeWithScores(emissions, options).map((r) => r.path);
  }

  /** decode() plus the score s(ŷ) of each best path. */
  decodeWithScores(emissions: Tensor, options: { mask?: Tensor } = {}): { path: number[]; score: number }[] {
    const K = this.numTags;
    const [B, T] = checkEmissions('CRF.decode', emissions, K);
    const lengths = lengthsOf('CRF.decode', options.mask, B, T);
    return noGrad(() => {
      const A = Float64Array.from(this.transitions.data as ArrayLike<number>);
      const start = Float64Array.from(this.startTransitions.data as ArrayLike<number>);
      const end = Float64Array.from(this.endTransitions.data as ArrayLike<number>);
      const p = this.hardPenalties;
      if (p) {
        // Hard constraints here: a forbidden step is −∞, not the loss's finite penalty.
        p.transitions.forEach((v, i) => (A[i] += v));
        p.start.forEach((v, i) => (start[i] += v));
        p.end.forEach((v, i) => (end[i] += v));
      }
      const e = emissions.data as ArrayLike<number>;
      return lengths.map((L, b) => {
        const rows = new Float64Array(L * K);
        for (let i = 0; i < L * K; i++) rows[i] = e[b * T * K + i];
        const r = viterbi(rows, L, K, A, start, end);
        if (r.score === -Infinity) {
          throw new ValueError(`CRF.decode: sequence ${b} (length ${L}) has no path allowed by the ${this.constraints?.scheme} constraints over labels [${this.constraints?.labels.join(', ')}]. Fix: include 'O' and the B- tags of every type.`);
        }
        return r;
      });
    });
  }
}
