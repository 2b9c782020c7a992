/**
 * The greedy decoding loop shared by the sequence-to-sequence models: feed the last
 * token of every sequence, take the most probable next one, stop a sequence at EOS,
 * stop the loop when every sequence is done or after maxLen steps.
 *
 * Letters: B batch, V vocabulary.
 */

export interface GreedyResult {
  /** Generated ids per sequence, without BOS and EOS. */
  tokens: number[][];
  /** Sum of the chosen tokens' log-probabilities (EOS included). */
  scores: number[];
}

/**
 * Args:
 *   B, V: batch size and vocabulary size.
 *   step(last, t): log-probabilities (B, V), row-major, for the next token after `last` at step t.
 */
export function greedyLoop(B: number, V: number, bos: number, eos: number, maxLen: number,
  step: (last: number[], t: number) => ArrayLike<number>): GreedyResult {
  const tokens: number[][] = Array.from({ length: B }, () => []);
  const scores = new Array<number>(B).fill(0);
  const done = new Array<boolean>(B).fill(false);
  let last = new Array<number>(B).fill(bos);
  for (let t = 0; t < maxLen && done.some((d) => !d); t++) {
    const logp = step(last, t); // (B, V)
    last = last.map((_, b) => {
      if (done[b]) return eos;
      let best = 0;
      for (let v = 1; v < V; v++) if (logp[b * V + v] > logp[b * V + best]) best = v;
      scores[b] += logp[b * V + best];
      if (best === eos) done[b] = true; else tokens[b].push(best);
      return best;
    });
  }
  return { tokens, scores };
}
