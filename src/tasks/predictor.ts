/**
 * The contract between a trained model directory and everything that serves it
 * (heed predict, heed serve, heed viz). A task (g2p, spam, digits, ...) loads its
 * checkpoint directory into a Predictor; callers never touch the model directly.
 *
 * Layering: cli → serve → tasks → train → models → nn → ops.
 */

import type { AttentionMap } from '../nn/attention/recorder.js';

/** Defined beside the AttentionRecorder that produces it. */
export type { AttentionMap };

export interface Prediction {
  /** The input as received. */
  input: unknown;
  /** Task-specific answer: phonemes for g2p, a label for classifiers. */
  output: unknown;
  /** Alternatives with scores where the task has them (n-best for g2p, class probabilities for classifiers). */
  alternatives?: { output: unknown; score: number }[];
  /** Present when asked for with { attention: true }. */
  attention?: AttentionMap[];
}

export interface PredictOptions {
  attention?: boolean;
  /** Beam size / number of alternatives for sequence tasks. */
  nBest?: number;
}

export interface Predictor {
  /** The task name recorded in config.json ('g2p', 'spam', 'digits', ...). */
  readonly task: string;
  /** The model directory it was loaded from. */
  readonly dir: string;
  /** config.json as loaded (architecture, hyper-parameters, task settings). */
  readonly config: Readonly<Record<string, unknown>>;
  /** Throws a ValueError (naming the input and what is wrong) for inputs this task cannot take. */
  validateInput(input: unknown): void;
  /** Runs a batch of inputs in one forward pass where the task allows it. */
  predict(inputs: readonly unknown[], options?: PredictOptions): Prediction[];
}

/** The name of ensemble member k's attention map for a module: `member<k>.<module>`. */
export function ensembleMapName(k: number, name: string): string {
  return `member${k}.${name}`;
}
