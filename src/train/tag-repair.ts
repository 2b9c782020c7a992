/**
 * Strict BIO / BIOES output for taggers without a CRF, at decode time.
 *
 * A per-token argmax can emit sequences no scheme allows ('O I-PER', 'B-PER I-LOC'). Two remedies:
 *
 * - constrainedDecode: the best-scoring *valid* sequence, by Viterbi over the per-token scores with
 *   forbidden transitions at −∞ (rules in nn/tag-transitions.ts). With log-probabilities as scores
 *   this is the most probable valid sequence under the per-token model:
 *     ŷ = argmax_{y valid} Σ_t score_t(y_t).
 * - repairTags: a fixed sequence rewritten to the nearest reading conlleval would give it: the spans
 *   of seqeval's default (conlleval) mode (train/metrics/entity-spans.ts), re-written in the scheme.
 *   So an I-X that opens a span becomes B-X (BIOES: S-X or B-X … E-X), and the entity-level scores
 *   of the default mode are unchanged by the repair.
 *
 * A sequence that cannot be repaired (a tag that is not 'O' or P-TYPE, a needed tag missing from the
 * label list, or no valid sequence at all over the labels) is a ValueError naming the token.
 *
 *   repairTags(['O', 'I-PER', 'I-PER', 'B-LOC', 'I-ORG'], 'BIO');
 *   // ['O', 'B-PER', 'I-PER', 'B-LOC', 'B-ORG']
 */
import { ValueError, ShapeError } from '../errors.js';
import { Tensor } from '../tensor/tensor.js';
import { allowedTransitions, parseTag, transitionPenalties, viterbi } from '../nn/tag-transitions.js';
import type { TransitionScheme } from '../nn/tag-transitions.js';
import { getEntities } from './metrics/entity-spans.js';

export interface RepairOptions {
  /** The tags the model can emit; a repair that needs a tag outside this list is an error. */
  labels?: readonly string[];
}

/** Rewrites `tags` into a valid `scheme` sequence with the same conlleval entities. */
export function repairTags(tags: readonly string[], scheme: TransitionScheme, options: RepairOptions = {}): string[] {
  const bioes = scheme === 'BIOES' || scheme === 'IOBES';
  if (!bioes && scheme !== 'BIO' && scheme !== 'IOB2') throw new ValueError(`repairTags: scheme '${String(scheme)}' is unknown; expected BIO, IOB2, BIOES or IOBES.`);
  tags.forEach((t, i) => {
    try {
      parseTag(t, 'BIOES');
    } catch {
      throw new ValueError(`repairTags: token ${i} has tag ${JSON.stringify(t)}, which cannot be repaired; expected 'O' or B-TYPE, I-TYPE, E-TYPE, S-TYPE. Fix: map unknown labels to 'O' first.`);
    }
  });
  const out = new Array<string>(tags.length).fill('O');
  for (const e of getEntities([tags])) {
    for (let i = e.start; i <= e.end; i++) {
      let prefix = i === e.start ? 'B' : 'I';
      if (bioes && i === e.end) prefix = e.start === e.end ? 'S' : 'E';
      out[i] = `${prefix}-${e.type}`;
    }
  }
  if (options.labels) {
    const known = new Set(options.labels);
    out.forEach((t, i) => {
      if (!known.has(t)) {
        throw new ValueError(`repairTags: token ${i} ('${tags[i]}') cannot be repaired: the valid ${scheme} sequence needs '${t}' there, which is not among the labels [${options.labels!.join(', ')}]. Fix: add '${t}' to the label list, or decode with constrainedDecode over the labels.`);
      }
    });
  }
  return out;
}

/**
 * The highest-scoring valid `scheme` sequence over `labels`.
 *
 * Args:
 *   scores: (T, K) per-token scores (logits or log-probabilities), as rows or a 2-D Tensor.
 *   labels: the K tag names, in score column order.
 *   scheme: 'BIO' / 'IOB2' or 'BIOES' / 'IOBES'.
 * Returns: T tag names.
 */
export function constrainedDecode(scores: Tensor | readonly ArrayLike<number>[], labels: readonly string[], scheme: TransitionScheme): string[] {
  const K = labels.length;
  let T: number;
  let flat: Float64Array;
  if (scores instanceof Tensor) {
    if (scores.ndim !== 2 || scores.shape[1] !== K) {
      throw new ShapeError(`constrainedDecode: scores has shape [${scores.shape.join(', ')}], expected [T, ${K}] for ${K} labels.`);
    }
    T = scores.shape[0];
    flat = Float64Array.from(scores.data as ArrayLike<number>);
  } else {
    T = scores.length;
    flat = new Float64Array(T * K);
    scores.forEach((row, t) => {
      if (row.length !== K) throw new ShapeError(`constrainedDecode: scores row ${t} has ${row.length} values, expected ${K} (one per label).`);
      for (let k = 0; k < K; k++) flat[t * K + k] = row[k];
    });
  }
  const bad = flat.findIndex((x) => Number.isNaN(x) || x === Infinity);
  if (bad >= 0) throw new ValueError(`constrainedDecode: score at token ${Math.floor(bad / K)}, label '${labels[bad % K]}' is ${flat[bad]}; expected finite scores (or −Infinity to forbid a label).`);
  const p = transitionPenalties(allowedTransitions(labels, scheme));
  const { path, score } = viterbi(flat, T, K, p.transitions, p.start, p.end);
  if (score === -Infinity) {
    throw new ValueError(`constrainedDecode: no valid ${scheme} sequence of ${T} tokens exists over labels [${labels.join(', ')}] with these scores. Fix: include 'O' and the B- tags of every type in the labels.`);
  }
  return path.map((k) => labels[k]);
}
