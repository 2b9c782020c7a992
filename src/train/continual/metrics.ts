/**
 * The standard continual-learning summary of an accuracy matrix R, where R[i][j] is the accuracy
 * on task j after training on tasks 0..i (Lopez-Paz & Ranzato 2017; Chaudhry et al. 2018):
 *
 *   average accuracy after task i   A_i = mean_{j ≤ i} R[i][j]
 *   backward transfer               BWT = mean_{j < T−1} (R[T−1][j] − R[j][j])       (< 0: forgetting)
 *   forgetting                      F   = mean_{j < T−1} max_{l < T−1} (R[l][j] − R[T−1][j])
 */
import { ValueError } from '../../errors.js';

export interface ContinualSummary {
  /** A_i for every i. */
  averageAccuracy: number[];
  /** A_{T−1}: the headline number. */
  finalAverageAccuracy: number;
  backwardTransfer: number;
  forgetting: number;
}

export function continualMetrics(R: readonly (readonly number[])[]): ContinualSummary {
  const T = R.length;
  if (T === 0 || R.some((row) => row.length !== T)) {
    throw new ValueError(`continualMetrics: the accuracy matrix must be square T × T with T ≥ 1, received ${R.map((r) => r.length).join(', ') || 'no rows'}.`);
  }
  const averageAccuracy = R.map((row, i) => row.slice(0, i + 1).reduce((a, b) => a + b, 0) / (i + 1));
  let bwt = 0, forgetting = 0;
  for (let j = 0; j < T - 1; j++) {
    bwt += R[T - 1][j] - R[j][j];
    let best = -Infinity;
    for (let l = 0; l < T - 1; l++) best = Math.max(best, R[l][j]);
    forgetting += best - R[T - 1][j];
  }
  const n = Math.max(T - 1, 1);
  return { averageAccuracy, finalAverageAccuracy: averageAccuracy[T - 1], backwardTransfer: T > 1 ? bwt / n : 0, forgetting: T > 1 ? forgetting / n : 0 };
}
